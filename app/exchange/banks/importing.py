"""A bank's questions as quiz YAML: what maps, what the author must fill in, and what cannot come across.

lxml and markdownify (with BeautifulSoup) are imported when a bank is converted, not when the app is
built: the authoring pages import this module, and most requests never convert anything.
"""

import re
from dataclasses import dataclass, field
from html import escape

from app.exchange.banks import mapping
from app.exchange.banks.bank import Bank, Question, Text

_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
_ORDERING_HINT = "Match each step to its place in the order"
DEFAULT_PASS_MARK = 70


@dataclass
class Imported:
    """The quiz as YAML text, and the notes the author needs: skipped questions, fields to fill, grading changes."""

    yaml_text: str
    items: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    to_fill: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _html(text: Text) -> str:
    if text.format == "plain":
        return escape(text.text).replace("\n", "<br>")
    if text.format == "markdown":
        return text.text
    return text.text


def to_markdown(text: Text | None, inline: bool = False) -> str:
    """The text as our Markdown (one line when `inline`); Markdown from the bank is kept as written."""
    if text is None or not text.text.strip():
        return ""
    from markdownify import markdownify

    source = (
        text.text if text.format == "markdown" else markdownify(_html(text), heading_style="ATX", bullets="-").strip()
    )
    if inline:
        return " ".join(source.split())
    return re.sub(r"\n{3,}", "\n\n", source).strip()


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug if slug and slug[0].isalpha() else f"q-{slug}" if slug else ""


def _vignette(stem: Text) -> tuple[dict | None, Text]:
    """The vignette our export writes at the top of a stem, and the stem left after it (the prompt)."""
    if stem.format not in ("html", "moodle") or not stem.text.strip():
        return None, stem
    import lxml.etree
    import lxml.html

    try:
        parts = lxml.html.fragments_fromstring(stem.text)
    except (lxml.etree.ParserError, ValueError):
        return None, stem
    elements = [p for p in parts if not isinstance(p, str)]
    if len(elements) < 4 or any(isinstance(p, str) and p.strip() for p in parts):
        return None, stem
    found = {}
    for (key, label), element in zip(mapping.VIGNETTE_LABELS, elements[:3], strict=True):
        content = element.text_content().strip()
        if element.tag != "p" or not content.startswith(f"{label}:"):
            return None, stem
        found[key] = content[len(label) + 1 :].strip()
    rest = "".join(lxml.html.tostring(e, encoding="unicode") for e in elements[3:])
    return found, Text(rest, "html")


def _strip_ordering_hint(stem: Text) -> Text:
    """Our export adds a line saying how to match steps to positions; it is no part of the prompt."""
    return Text(re.sub(rf"<p>{_ORDERING_HINT}[^<]*</p>\s*$", "", stem.text.strip()), stem.format)


class _Builder:
    """Turns questions into item mappings, collecting what the author must fill and what was skipped."""

    def __init__(self, competencies: list[str], known: frozenset[str]):
        self.default_competencies = competencies
        self.known = known
        self.ids: set[str] = set()
        self.result = Imported("", 0)

    def item_id(self, question: Question, number: int) -> str:
        candidates = [question.idnumber or "", _slug(question.name), f"question-{number}"]
        base = next(c for c in candidates if c and _SLUG.match(c))
        item_id, suffix = base, 2
        while item_id in self.ids:
            item_id, suffix = f"{base}-{suffix}", suffix + 1
        self.ids.add(item_id)
        return item_id

    def competencies(self, question: Question, item_id: str) -> list[str]:
        found = [tag for tag in question.tags if tag in self.known]
        if found:
            return found
        if self.default_competencies:
            return list(self.default_competencies)
        self.result.to_fill.append(
            f"item '{item_id}': competencies (competency ids from app/content/competencies.yaml)"
        )
        return []

    def feedback(self, text: Text | None, item_id: str, what: str) -> str | None:
        value = to_markdown(text)
        if not value:
            self.result.to_fill.append(f"item '{item_id}': feedback for {what}")
        return value or None

    def scenario(self, question: Question, item_id: str) -> dict | str:
        count = len(question.options)
        if not 3 <= count <= 5:
            return f"a single-answer question becomes a scenario item, which has 3 to 5 replies; this one has {count}"
        best = [o for o in question.options if o.fraction >= 99.99999]
        if len(best) != 1:
            return f"a scenario item needs exactly one fully right reply (100%); this question has {len(best)}"
        vignette, prompt = _vignette(question.stem)
        if vignette is None:
            vignette = {"patient": "", "setting": "", "says": ""}
            self.result.to_fill.append(f"item '{item_id}': the vignette (patient, setting, what the patient says)")
        competencies = self.competencies(question, item_id)
        options = []
        for index, option in enumerate(question.options):
            grade = (
                "best"
                if option is best[0]
                else "acceptable"
                if option.fraction > 0
                else "unhelpful"
                if option.fraction == 0
                else "harmful"
            )
            if grade == "acceptable" and abs(option.fraction - 50) > 0.001:
                self.result.notes.append(
                    f"item '{item_id}': a reply worth {option.fraction:g}% becomes acceptable, worth 50% here"
                )
            entry = {"id": chr(ord("a") + index), "text": to_markdown(option.text, inline=True), "grade": grade}
            entry["competencies"] = list(competencies)
            feedback = self.feedback(option.feedback, item_id, f"reply {entry['id']}")
            options.append(entry | ({"feedback": feedback} if feedback else {}))
        return {
            "id": item_id,
            "type": "scenario",
            "vignette": vignette,
            "prompt": to_markdown(prompt, inline=True),
            "options": options,
        }

    def multiple_response(self, question: Question, item_id: str) -> dict | str:
        count, right = len(question.options), sum(o.fraction > 0 for o in question.options)
        if not 3 <= count <= 8:
            return f"a multiple-response item has 3 to 8 options; this question has {count}"
        if right == 0 or right == count:
            return "a multiple-response item needs at least one right option and one wrong one"
        expected = 100.0 / right
        if any(abs(abs(o.fraction) - expected) > 0.01 for o in question.options):
            self.result.notes.append(
                f"item '{item_id}': graded by Alliance's rule (each right tick +1/{right}, each wrong tick -1/{right}), not the bank's fractions"
            )
        item = {"id": item_id, "type": "multiple_response", "prompt": to_markdown(question.stem, inline=True)}
        item["competencies"] = self.competencies(question, item_id)
        options = []
        for index, option in enumerate(question.options):
            entry = {
                "id": chr(ord("a") + index),
                "text": to_markdown(option.text, inline=True),
                "correct": option.fraction > 0,
            }
            feedback = self.feedback(option.feedback, item_id, f"option {entry['id']}")
            options.append(entry | ({"feedback": feedback} if feedback else {}))
        item["options"] = options
        general = to_markdown(question.general_feedback)
        return item | ({"feedback": general} if general else {})

    def ordering(self, question: Question, item_id: str, steps: list[Text]) -> dict | str:
        if not 3 <= len(steps) <= 8:
            return f"an ordering item has 3 to 8 steps; this question has {len(steps)}"
        item = {
            "id": item_id,
            "type": "ordering",
            "prompt": to_markdown(_strip_ordering_hint(question.stem), inline=True),
        }
        item["competencies"] = self.competencies(question, item_id)
        item["steps"] = [to_markdown(step, inline=True) for step in steps]
        feedback = self.feedback(question.general_feedback, item_id, "the whole item")
        return item | ({"feedback": feedback} if feedback else {})

    def matching(self, question: Question, item_id: str) -> dict | str:
        pairs = [(p, a) for p, a in question.pairs if p.text.strip()]
        extra = [a for p, a in question.pairs if not p.text.strip() and a]
        answers = [a for _p, a in pairs]
        if sorted(answers) == [str(n) for n in range(1, len(answers) + 1)] and not extra:
            # Our GIFT export writes an ordering item as steps matched to their positions.
            ordered = sorted(pairs, key=lambda pair: int(pair[1]))
            return self.ordering(question, item_id, [p for p, _a in ordered])
        if not 3 <= len(pairs) <= 8:
            return f"a matching item has 3 to 8 pairs; this question has {len(pairs)}"
        item = {"id": item_id, "type": "matching", "prompt": to_markdown(question.stem, inline=True)}
        item["competencies"] = self.competencies(question, item_id)
        item["pairs"] = [{"prompt": to_markdown(p, inline=True), "answer": " ".join(a.split())} for p, a in pairs]
        if extra:
            item["distractors"] = list(dict.fromkeys(" ".join(a.split()) for a in extra))
        feedback = self.feedback(question.general_feedback, item_id, "the whole item")
        return item | ({"feedback": feedback} if feedback else {})

    def item(self, question: Question, number: int) -> dict | str:
        """The question as an item mapping, or why it cannot be one."""
        if question.kind not in ("choice", "matching", "ordering"):
            return f"a {question.kind} question has no Alliance item type"
        item_id = self.item_id(question, number)
        if question.kind == "matching":
            made = self.matching(question, item_id)
        elif question.kind == "ordering":
            made = self.ordering(question, item_id, question.steps)
        elif question.single:
            made = self.scenario(question, item_id)
        else:
            made = self.multiple_response(question, item_id)
        if isinstance(made, str):
            self.ids.discard(item_id)
        return made


def convert(bank: Bank, quiz_id: str, title: str | None, module: str | None, competencies: list[str],
            known_competencies: frozenset[str], pass_mark: int = DEFAULT_PASS_MARK) -> Imported:  # fmt: skip
    """The bank as quiz YAML, with every question that could not come across listed with the reason."""
    builder = _Builder(competencies, known_competencies)
    items = []
    for number, question in enumerate(bank.questions, start=1):
        made = builder.item(question, number)
        if isinstance(made, str):
            where = f" (line {question.line})" if question.line else ""
            builder.result.skipped.append((f"'{question.name}'{where}", made))
        else:
            items.append(made)
    result = builder.result
    if not module:
        result.to_fill.insert(0, "the quiz: module (the id of the module the quiz pairs with)")
    category_title = bank.category.rstrip("/").rsplit("/", 1)[-1].strip() if bank.category else ""
    quiz = {
        "id": quiz_id,
        "title": title or category_title or quiz_id.replace("-", " ").capitalize(),
        "module": module or "",
        "pass_mark": pass_mark,
        "items": items,
    }
    header = ["# Imported from a question bank by `alliance import quiz`."]
    header += [f"# Fill in: {what}" for what in result.to_fill]
    header += ["# Then check it: alliance content check <this folder>"]
    import yaml  # imported by the one request or command that converts a bank (app/content/yamlfile.py)

    body = yaml.safe_dump(quiz, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    result.yaml_text = "\n".join(header) + "\n" + body
    result.items = len(items)
    return result
