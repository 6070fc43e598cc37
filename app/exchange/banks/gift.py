"""A quiz as GIFT, the plain-text format Moodle's question import reads (docs/quiz-banks.md)."""

import re

from app.content.catalog import Quiz
from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem
from app.exchange.banks import mapping

#: GIFT's special characters; each is written with a backslash before it.
SPECIAL = "~=#{}:"
_UNESCAPE = re.compile(r"\\(.)", re.S)


def escape(text: str) -> str:
    """Text made safe to stand anywhere in a GIFT question: specials and backslashes escaped, newlines as \\n."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for char in text:
        if char == "\\" or char in SPECIAL:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        else:
            out.append(char)
    return "".join(out)


def unescape(text: str) -> str:
    """The inverse of `escape`: `\\n` a newline, any other escaped character itself."""
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def html_text(html: str) -> str:
    """HTML as GIFT text, on one line, with nothing in it GIFT could take for syntax.

    Besides the escaped characters, an arrow '->' is written '-&gt;' (else the question reads as
    matching) and a leading '%' as '&#37;' (else it reads as a weight): GIFT has no escape for either.
    """
    html = html.strip().replace("->", "-&gt;")
    if html.startswith("%"):
        html = "&#37;" + html[1:]
    return escape(html)


def _weight(percent: float) -> str:
    return f"%{mapping.percent_text(percent)}%"


def _answer(mark: str, text_html: str, feedback_html: str | None) -> str:
    line = f"{mark}{html_text(text_html)}"
    return line + (f"#{html_text(feedback_html)}" if feedback_html and feedback_html.strip() else "")


def _scenario(item: ScenarioItem, harmful_penalty: float) -> list[str]:
    lines = []
    for option in item.options:
        fraction = mapping.scenario_fraction(item, option, harmful_penalty)
        mark = "=" if fraction == 100 else ("~" if fraction == 0 else f"~{_weight(fraction)}")
        lines.append(_answer(mark, option.text_html, option.feedback_html))
    return lines


def _multiple_response(item: MultipleResponseItem) -> list[str]:
    lines = []
    for option in item.options:
        weight = _weight(mapping.response_fraction(item, option.is_correct))
        lines.append(_answer(f"~{weight}", option.text_html, option.feedback_html))
    if item.feedback_html.strip():
        lines.append(f"####{html_text(item.feedback_html)}")
    return lines


def _ordering(item: OrderingItem) -> list[str]:
    # GIFT has no ordering question: each step is matched to its position, in the order Alliance shows them.
    lines = [f"={html_text(step)} -> {position}" for position, step in mapping.shown_steps(item)]
    return lines + [f"####{html_text(item.feedback_html)}"]


def _matching(item: MatchingItem) -> list[str]:
    lines = [f"={html_text(pair.prompt_html)} -> {escape(pair.answer)}" for pair in item.pairs]
    # A pair with no prompt is a distractor: an answer that matches nothing.
    lines += [f"= -> {escape(answer)}" for answer in mapping.distractors(item)]
    return lines + [f"####{html_text(item.feedback_html)}"]


def question(item, harmful_penalty: float = mapping.DEFAULT_HARMFUL_PENALTY) -> str:
    """One item as a GIFT question, with its id and competency tags in the comment line before it."""
    stem = mapping.stem_html(item)
    if isinstance(item, OrderingItem):
        stem += mapping.ordering_instruction(item)
        answers = _ordering(item)
    elif isinstance(item, ScenarioItem):
        answers = _scenario(item, harmful_penalty)
    elif isinstance(item, MultipleResponseItem):
        answers = _multiple_response(item)
    else:
        answers = _matching(item)
    marks = " ".join([f"[id:{item.id}]"] + [f"[tag:{tag}]" for tag in mapping.tags(item)])
    head = f"// {marks}\n::{escape(item.id)}::[html]{html_text(stem)}{{"
    return "\n".join([head, *answers, "}"])


def category(quiz: Quiz) -> str:
    """The category line that files the questions under the quiz's title ('/' doubled, as Moodle reads it)."""
    title = " ".join(quiz.title.split()).replace("/", "//")
    return f"$CATEGORY: $course$/top/Alliance/{title}"


def write(quiz: Quiz, harmful_penalty: float = mapping.DEFAULT_HARMFUL_PENALTY) -> bytes:
    """The whole quiz as a GIFT file, UTF-8."""
    header = [
        f"// Alliance quiz: {' '.join(quiz.title.split())} ({quiz.id}). Import it in Moodle: Question bank > Import > GIFT.",
        "// Scenario replies: best 100%, acceptable 50%, unhelpful 0%, "
        f"harmful {mapping.percent_text(-harmful_penalty)}%. See docs/quiz-banks.md.",
    ]
    kept, left_out = mapping.exportable(quiz)
    if left_out:
        header.append("// Left out (no GIFT question fits): " + ", ".join(item.id for item in left_out))
    blocks = ["\n".join(header), category(quiz)] + [question(item, harmful_penalty) for item in kept]
    return ("\n\n".join(blocks) + "\n").encode()
