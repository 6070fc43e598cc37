"""Reading a GIFT file into a bank, the way Moodle's GIFT import splits and classifies questions.

No maintained Python library reads GIFT, so this is a small reader of our own: escaped characters
are set aside first, questions are split at blank lines, and each is classified by its answer block.
"""

import re

from app.exchange.banks.bank import Bank, BankError, Option, Question, Text

# Each escaped character stands in for itself in the text but never as syntax: a private-use
# placeholder keeps it out of the way until the text is finished.
_ESCAPES = {"\\": "\ue000", "~": "\ue001", "=": "\ue002", "#": "\ue003", "{": "\ue004", "}": "\ue005", ":": "\ue006"}
_NEWLINE = "\ue007"
_RESTORE = {placeholder: char for char, placeholder in _ESCAPES.items()} | {_NEWLINE: "\n"}
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.I)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_TAG = re.compile(r"\[tag:([^\]\x00-\x1f]+)\]")
_ID = re.compile(r"\[id:([^\]\x00-\x1f]+)\]")


def _protect(text: str) -> str:
    """Swap each escape sequence for its placeholder (`\\n` for a newline placeholder)."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            if following in _ESCAPES:
                out.append(_ESCAPES[following])
                index += 2
                continue
            if following == "n":
                out.append(_NEWLINE)
                index += 2
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(char, char) for char in text).strip()


def _text(raw: str, fmt: str) -> Text:
    return Text(_restore(raw), fmt)


def _split_answers(answers: str) -> list[tuple[str, str]]:
    """(mark, rest) for each answer beginning with = or ~ (text before the first mark is ignored, as Moodle does)."""
    found: list[tuple[str, str]] = []
    for piece in re.split(r"(?=[=~])", answers):
        if piece and piece[0] in "=~":
            found.append((piece[0], piece[1:]))
    return found


def _choice(question: Question, answers: str, fmt: str) -> None:
    question.kind = "choice"
    question.single = "=" in answers
    for mark, rest in _split_answers(answers):
        weight = _WEIGHT.match(rest.strip())
        body = rest.strip()[weight.end() :] if weight else rest
        fraction = float(weight.group(1)) if weight else (100.0 if mark == "=" else 0.0)
        text, _, feedback = body.partition("#")
        question.options.append(Option(_text(text, fmt), fraction, _text(feedback, fmt) if feedback.strip() else None))


def _matching(question: Question, answers: str, fmt: str) -> None:
    question.kind = "matching"
    for piece in answers.split("=")[1:]:
        if "->" not in piece:
            raise BankError(
                f"question '{question.name}' (line {question.line}): a matching pair needs '->' between its two sides"
            )
        left, _, right = piece.partition("->")
        question.pairs.append((_text(left, fmt), _restore(right)))


def _classify(question: Question, answers: str, fmt: str) -> None:
    """Fill the question from its answer block, classified as Moodle classifies it."""
    answers, _, general = answers.partition("####")
    if general.strip():
        question.general_feedback = _text(general, fmt)
    body = answers.strip()
    if not body:
        question.kind = "essay"
    elif body.startswith("#"):
        question.kind = "numerical"
    elif re.fullmatch(r"(T|F|TRUE|FALSE)(#.*)?", body, re.S):
        question.kind = "true/false"
    elif "->" in body and body.startswith("="):
        _matching(question, body, fmt)
    elif "~" in body:
        _choice(question, body, fmt)
    else:
        question.kind = "short answer"


def _question(block: str, line: int, tags: list[str], idnumber: str | None) -> Question:
    """One question from its block of text (escapes already protected)."""
    name = ""
    rest = block.strip()
    if rest.startswith("::"):
        end = rest.find("::", 2)
        if end < 0:
            raise BankError(f"line {line}: the question title opened with '::' is never closed with '::'")
        name, rest = _restore(rest[2:end]), rest[end + 2 :]
    fmt_match = _FORMAT.match(rest)
    fmt = fmt_match.group(1).lower() if fmt_match else "moodle"
    rest = rest[fmt_match.end() :] if fmt_match else rest
    question = Question(name=name, kind="description", stem=Text(""), line=line, idnumber=idnumber, tags=tags)
    start = rest.find("{")
    if start < 0:
        question.stem = _text(rest, fmt)
        return question
    end = rest.rfind("}")
    if end < start:
        raise BankError(
            f"line {line}: question '{name or rest[:40]}' opens its answers with '{{' but never closes them with '}}'"
        )
    after = rest[end + 1 :].strip()
    question.stem = _text(rest[:start], fmt)
    if after:
        question.kind = "missing word"  # text after the answers: a gap in the sentence
        return question
    _classify(question, rest[start + 1 : end], fmt)
    question.name = question.name or question.stem.text[:40]
    return question


def parse(text: str) -> Bank:
    """Every question and the first category of a GIFT file's text; raise BankError when it is not GIFT."""
    text = _protect(text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    bank = Bank(questions=[])
    lines, block, block_line, tags, idnumber = text.split("\n"), [], 0, [], None

    def finish() -> None:
        nonlocal block, tags, idnumber
        if block:
            joined = "\n".join(block)
            if joined.lstrip().startswith("$CATEGORY:"):
                if bank.category is None:
                    bank.category = _restore(joined.lstrip()[len("$CATEGORY:") :].splitlines()[0])
            else:
                bank.questions.append(_question(joined, block_line, tags, idnumber))
        block, tags, idnumber = [], [], None

    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            finish()
        elif stripped.startswith("//"):
            tags += [_restore(tag) for tag in _TAG.findall(stripped)]
            found_id = _ID.search(stripped)
            idnumber = _restore(found_id.group(1)) if found_id else idnumber
        else:
            if not block:
                block_line = number
            block.append(line)
    finish()
    if not bank.questions:
        raise BankError(
            "no GIFT questions found: a GIFT file holds questions like ::Title:: Question text {=right ~wrong}"
        )
    return bank


def read(data: bytes) -> Bank:
    """A GIFT file's bytes as a bank: UTF-8 text (a byte-order mark allowed) with at least one question."""
    if b"\x00" in data:
        raise BankError("this is not a GIFT file: it holds binary data, and GIFT is plain text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BankError(
            f"this is not a UTF-8 text file (byte {exc.start} cannot be read): save the GIFT file as UTF-8"
        ) from None
    return parse(text)
