"""A quiz as Moodle XML, the fields Moodle's question import reads for each type (docs/quiz-banks.md)."""

from lxml import etree

from app.content.catalog import Quiz
from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem
from app.exchange.banks import mapping


def _text(parent: etree._Element, tag: str | None, value: str, html: bool = True) -> etree._Element:
    """`<tag format="html"><text>value</text></tag>` (or the bare `<text>` in `parent` when tag is None)."""
    holder = parent if tag is None else etree.SubElement(parent, tag)
    if tag is not None and html:
        holder.set("format", "html")
    etree.SubElement(holder, "text").text = value.strip()
    return holder


def _flag(parent: etree._Element, tag: str, value: str) -> None:
    etree.SubElement(parent, tag).text = value


def _answer(parent, fraction: float | int, text_html: str, feedback_html: str = "") -> None:
    answer = etree.SubElement(parent, "answer", fraction=mapping.percent_text(fraction), format="html")
    _text(answer, None, text_html)
    _text(answer, "feedback", feedback_html)


def _head(quiz_xml, kind: str, item, stem: str, general_feedback: str) -> etree._Element:
    """The fields every question type shares: name, stem, general feedback, mark, id number."""
    question = etree.SubElement(quiz_xml, "question", type=kind)
    _text(question, "name", item.id, html=False)
    _text(question, "questiontext", stem)
    _text(question, "generalfeedback", general_feedback)
    _flag(question, "defaultgrade", mapping.percent_text(item.max_score))
    # No penalty for another try (interactive mode): Alliance grades the one answer given.
    _flag(question, "penalty", "0")
    _flag(question, "hidden", "0")
    _flag(question, "idnumber", item.id)
    return question


def _combined_feedback(question) -> None:
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text(question, tag, "")


def _tags(question, item) -> None:
    holder = etree.SubElement(question, "tags")
    for tag in mapping.tags(item):
        _text(etree.SubElement(holder, "tag"), None, tag)


def _choices(quiz_xml, item, single: bool, fractions: list[float], general_feedback: str) -> None:
    question = _head(quiz_xml, "multichoice", item, mapping.stem_html(item), general_feedback)
    _flag(question, "single", "true" if single else "false")
    # Alliance shows the options in the order written, so the bank does too.
    _flag(question, "shuffleanswers", "false")
    _flag(question, "answernumbering", "abc")
    _flag(question, "showstandardinstruction", "0")
    _combined_feedback(question)
    for option, fraction in zip(item.options, fractions, strict=True):
        _answer(question, fraction, option.text_html, option.feedback_html)
    _tags(question, item)


def _ordering(quiz_xml, item: OrderingItem) -> None:
    question = _head(quiz_xml, "ordering", item, mapping.stem_html(item), item.feedback_html)
    _flag(question, "layouttype", "VERTICAL")
    _flag(question, "selecttype", "ALL")
    _flag(question, "selectcount", str(len(item.steps_html)))
    # The nearest of Moodle's rules to Alliance's longest run in the right order (docs/quiz-banks.md).
    _flag(question, "gradingtype", "LONGEST_ORDERED_SUBSET")
    _flag(question, "showgrading", "SHOW")
    _combined_feedback(question)
    for position, step in enumerate(item.steps_html, start=1):
        # Moodle keeps the steps in the file's order as the right order and shuffles them for the learner.
        answer = etree.SubElement(question, "answer", fraction=str(position), format="html")
        _text(answer, None, step)
    _tags(question, item)


def _matching(quiz_xml, item: MatchingItem) -> None:
    question = _head(quiz_xml, "matching", item, mapping.stem_html(item), item.feedback_html)
    _flag(question, "shuffleanswers", "true")
    _combined_feedback(question)
    subquestions = [(pair.prompt_html, pair.answer) for pair in item.pairs]
    # A subquestion without text is a distractor: an answer that matches nothing.
    subquestions += [("", answer) for answer in mapping.distractors(item)]
    for prompt, answer in subquestions:
        sub = etree.SubElement(question, "subquestion", format="html")
        _text(sub, None, prompt)
        _text(etree.SubElement(sub, "answer"), None, answer)
    _tags(question, item)


def _comment(text: str) -> etree._Comment:
    """An XML comment (which may not hold two hyphens in a row)."""
    return etree.Comment(" " + text.replace("--", "- -") + " ")


def _category(quiz_xml, quiz: Quiz) -> None:
    question = etree.SubElement(quiz_xml, "question", type="category")
    title = " ".join(quiz.title.split()).replace("/", "//")
    _text(question, "category", f"$course$/top/Alliance/{title}", html=False)
    _text(question, "info", "")


def write(quiz: Quiz, harmful_penalty: float = mapping.DEFAULT_HARMFUL_PENALTY) -> bytes:
    """The whole quiz as a Moodle XML file, UTF-8."""
    root = etree.Element("quiz")
    kept, left_out = mapping.exportable(quiz)
    root.append(_comment(f"Alliance quiz: {quiz.id}. Moodle: Question bank > Import > Moodle XML format."))
    root.append(
        _comment(
            "Scenario replies: best 100%, acceptable partial, unhelpful 0%, "
            f"harmful {mapping.percent_text(-harmful_penalty)}% (Alliance scores harmful 0 and flags it)."
            " See docs/quiz-banks.md."
        )
    )
    if left_out:
        root.append(_comment("Left out (no Moodle question fits): " + ", ".join(i.id for i in left_out)))
    _category(root, quiz)
    for item in kept:
        if isinstance(item, ScenarioItem):
            fractions = [mapping.scenario_fraction(item, o, harmful_penalty) for o in item.options]
            _choices(root, item, True, fractions, "")
        elif isinstance(item, MultipleResponseItem):
            fractions = [mapping.response_fraction(item, o.is_correct) for o in item.options]
            _choices(root, item, False, fractions, item.feedback_html)
        elif isinstance(item, OrderingItem):
            _ordering(root, item)
        else:
            _matching(root, item)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
