"""Reading a Moodle XML file into a bank: the fields Moodle's own import reads, and nothing fetched or expanded.

lxml is imported when a file is read, not when the app is built (the authoring pages import this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.exchange.banks.bank import Bank, BankError, Option, Question, Text

if TYPE_CHECKING:
    from lxml import etree

#: Moodle's names for its text formats, as ours.
_FORMATS = {"html": "html", "moodle_auto_format": "moodle", "plain_text": "plain", "markdown": "markdown"}


def _parser() -> etree.XMLParser:
    from lxml import etree

    # No entity is expanded, no DTD loaded and nothing fetched: a bank is data, never instructions.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def _text_of(element: etree._Element | None, default_format: str = "html") -> Text | None:
    """The `<text>` inside an element, with the element's format; None when absent or empty."""
    if element is None:
        return None
    value = element.findtext("text")
    if value is None or not value.strip():
        return None
    return Text(value.strip(), _FORMATS.get((element.get("format") or default_format).strip(), "html"))


def _fraction(answer: etree._Element, name: str) -> float:
    raw = answer.get("fraction", "0")
    try:
        return float(raw)
    except ValueError:
        raise BankError(f"question '{name}' (line {answer.sourceline}): the fraction '{raw}' is not a number") from None


def _question(element: etree._Element) -> Question:
    kind = (element.get("type") or "").strip()
    name = (element.findtext("name/text") or "").strip()
    stem = _text_of(element.find("questiontext")) or Text("")
    question = Question(name=name or stem.text[:40], kind=kind, stem=stem, line=element.sourceline)
    question.idnumber = (element.findtext("idnumber") or "").strip() or None
    question.general_feedback = _text_of(element.find("generalfeedback"), stem.format)
    question.tags = [t.strip() for t in element.xpath("tags/tag/text/text()") if t.strip()]
    if kind == "multichoice":
        question.kind = "choice"
        single = (element.findtext("single") or "true").strip().lower()
        question.single = single not in ("false", "0", "")
        for answer in element.findall("answer"):
            text = _text_of(answer, stem.format) or Text("", stem.format)
            question.options.append(
                Option(text, _fraction(answer, name), _text_of(answer.find("feedback"), stem.format))
            )
    elif kind == "matching":
        for sub in element.findall("subquestion"):
            prompt = _text_of(sub, stem.format) or Text("", stem.format)
            question.pairs.append((prompt, (sub.findtext("answer/text") or "").strip()))
    elif kind == "ordering":
        # Moodle keeps the steps in the file's order as the right order.
        question.steps = [_text_of(a, stem.format) or Text("", stem.format) for a in element.findall("answer")]
    return question


def read(data: bytes) -> Bank:
    """A Moodle XML file's bytes as a bank; raise BankError, saying why, for anything else."""
    from lxml import etree

    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise BankError(
            f"this is not well-formed XML ({exc.msg}): a Moodle XML file is the XML Moodle's export writes"
        ) from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise BankError("this XML file declares a DOCTYPE: Moodle XML has none, and entity declarations are refused")
    if root.tag != "quiz":
        raise BankError(f"this is not Moodle XML: its root element is <{root.tag}>, not <quiz>")
    bank = Bank(questions=[])
    for element in root.findall("question"):
        if element.get("type") == "category":
            if bank.category is None:
                bank.category = (element.findtext("category/text") or "").strip() or None
            continue
        bank.questions.append(_question(element))
    if not bank.questions:
        raise BankError("this Moodle XML file holds no questions")
    return bank
