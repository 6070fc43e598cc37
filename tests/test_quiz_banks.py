"""Quiz banks written for other platforms: GIFT read by an independent parser, Moodle XML read as Moodle reads it.

GIFT is parsed by the npm package gift-pegjs (run with node); Moodle XML is checked field by field against what
Moodle's importer (question/format/xml/format.php and the ordering type's import_from_xml) reads.
"""

import json
import shutil
import subprocess
from html import escape, unescape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem
from app.exchange.banks import export, gift, gift_reader, mapping, moodle_xml

ROOT = Path(__file__).resolve().parent.parent
GIFT_PEGJS = ROOT / "node_modules" / "gift-pegjs" / "pegjs-gift.js"
_PARSE = (
    "const p=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{"
    "try{process.stdout.write(JSON.stringify(p.parse(s)))}catch(e){process.stdout.write(JSON.stringify({error:e.message}))}})"
)


def gift_pegjs(text: str) -> list[dict]:
    """The questions gift-pegjs finds in a GIFT text (fails the test if it cannot parse it)."""
    node = shutil.which("node")
    assert node and GIFT_PEGJS.is_file(), "node and node_modules/gift-pegjs are needed: run npm ci"
    done = subprocess.run(
        [node, "-e", _PARSE, str(GIFT_PEGJS)], input=text, capture_output=True, text=True, check=True, timeout=60
    )
    parsed = json.loads(done.stdout)
    assert not isinstance(parsed, dict), f"gift-pegjs could not parse the export: {parsed['error']}"
    return parsed


def _html(text_html: str) -> str:
    return text_html.strip()


#: gift-pegjs 1.0.2 leaves an escaped character in a matching answer as its own internal code ("\\:" as
#: "&&058;"); Moodle's importer turns it back into the character. Undone here, and only here.
_PEGJS_CODES = {
    "&&092;": "\\",
    "&&058;": ":",
    "&&035;": "#",
    "&&061;": "=",
    "&&123;": "{",
    "&&125;": "}",
    "&&126;": "~",
}


def _subanswer(text: str) -> str:
    for code, char in _PEGJS_CODES.items():
        text = text.replace(code, char)
    return text


def test_every_quiz_exported_as_gift_is_read_by_gift_pegjs_with_our_stems_answers_and_fractions(catalog):
    text = "\n".join(export(quiz, "gift").decode() for quiz in catalog.quizzes)
    questions = [q for q in gift_pegjs(text) if q["type"] != "Category"]
    items = [item for quiz in catalog.quizzes for item in quiz.items]
    assert [q["title"] for q in questions] == [item.id for item in items]
    for question, item in zip(questions, items, strict=True):
        assert question["id"] == item.id and question["tags"] == list(item.competencies)
        assert question["stem"]["format"] == "html"
        stem = mapping.stem_html(item) + (mapping.ordering_instruction(item) if isinstance(item, OrderingItem) else "")
        assert question["stem"]["text"] == stem
        if isinstance(item, ScenarioItem):
            assert question["type"] == "MC"
            expected = [
                (
                    _html(o.text_html),
                    {"best": 100, "acceptable": 50, "unhelpful": 0, "harmful": -50}[o.grade],
                    _html(o.feedback_html),
                )
                for o in item.options
            ]
            got = [
                (
                    c["text"]["text"],
                    c["weight"] if c["weight"] is not None else (100 if c["isCorrect"] else 0),
                    c["feedback"]["text"],
                )
                for c in question["choices"]
            ]
            assert got == expected
        elif isinstance(item, MultipleResponseItem):
            assert question["type"] == "MC" and not any(c["isCorrect"] for c in question["choices"])
            share = 100 / len(item.correct_ids)
            assert [c["text"]["text"] for c in question["choices"]] == [_html(o.text_html) for o in item.options]
            assert [c["weight"] for c in question["choices"]] == pytest.approx(
                [share if o.is_correct else -share for o in item.options], abs=1e-4
            )
        elif isinstance(item, OrderingItem):
            assert question["type"] == "Matching"
            pairs = [(p["subquestion"]["text"], p["subanswer"]) for p in question["matchPairs"]]
            assert pairs == [(item.steps_html[i], str(i + 1)) for i in item.shown]
            assert pairs != sorted(pairs, key=lambda pair: int(pair[1])), "steps listed in the right order give it away"
        else:
            assert isinstance(item, MatchingItem) and question["type"] == "Matching"
            pairs = [(p["subquestion"]["text"], _subanswer(p["subanswer"])) for p in question["matchPairs"]]
            assert pairs == [(p.prompt_html, p.answer) for p in item.pairs] + [
                ("", d) for d in mapping.distractors(item)
            ]


def test_the_fractions_grade_every_answer_as_alliance_does_when_harmful_replies_cost_nothing(catalog):
    for quiz in catalog.quizzes:
        questions = [q for q in gift_reader.parse(export(quiz, "gift", harmful_penalty=0).decode()).questions]
        for question, item in zip(questions, quiz.items, strict=True):
            handler = item.handler
            if isinstance(item, ScenarioItem):
                for option, bank_option in zip(item.options, question.options, strict=True):
                    assert bank_option.fraction / 100 * item.max_score == pytest.approx(
                        handler.grade(item, option.id).score, abs=1e-4
                    )
            elif isinstance(item, MultipleResponseItem):
                # Moodle adds the fractions of the ticks and never goes below zero: every set of ticks scores as ours.
                for mask in range(1, 2 ** len(item.options)):
                    ticked = [o.id for n, o in enumerate(item.options) if mask >> n & 1]
                    fraction = max(
                        0.0,
                        sum(b.fraction for o, b in zip(item.options, question.options, strict=True) if o.id in ticked),
                    )
                    assert min(fraction, 100) / 100 * 2 == pytest.approx(handler.grade(item, ticked).score, abs=1e-3)


def test_a_harmful_reply_costs_the_penalty_chosen(quiz):
    item = next(i for i in quiz.items if isinstance(i, ScenarioItem) and any(o.grade == "harmful" for o in i.options))
    harmful = next(index for index, o in enumerate(item.options) if o.grade == "harmful")
    for penalty, written in ((50, "~%-50%"), (33.33333, "~%-33.33333%"), (0, "~")):
        lines = gift.question(item, penalty).splitlines()
        assert lines[2 + harmful].startswith(written) and not lines[2 + harmful].startswith(written + "%")


NASTY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60)


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


@given(NASTY)
@settings(max_examples=300, deadline=None)
def test_any_text_escaped_for_gift_unescapes_to_itself(text):
    escaped = gift.escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert gift.unescape(escaped) == text.replace("\r\n", "\n").replace("\r", "\n")


@given(NASTY)
@settings(max_examples=300, deadline=None)
def test_any_text_written_into_a_gift_question_reads_back_whole(text):
    # As the writer writes it (HTML), in the stem, an answer and its feedback: nothing taken for syntax.
    written = gift.html_text(escape(text))
    bank = gift_reader.parse(f"::t::[html]Q {written}{{\n={written}#{written}\n~x\n~y\n}}\n")
    question = bank.questions[0]
    assert question.kind == "choice" and len(question.options) == 3
    # The writer trims the text's ends, as Moodle does when it reads it.
    assert unescape(question.stem.text) == f"Q {_normal(text)}".strip()
    assert unescape(question.options[0].text.text) == _normal(text)
    feedback = question.options[0].feedback
    assert (unescape(feedback.text) if feedback else "") == _normal(text)
    assert question.options[0].fraction == 100


def test_gift_pegjs_reads_every_special_character_back_as_written():
    samples = [
        "a ~ b = c # d { e } f : g \\ h",
        "2 \\n 3 \\\\n",
        "::not a title::",
        "-> arrow",
        "line one\nline two",
        "%50% weight",
    ]
    written = [gift.html_text(escape(sample)) for sample in samples]
    text = "\n\n".join(f"::q{n}::[html]{w}{{\n={w}#{w}\n~other\n~third\n}}" for n, w in enumerate(written))
    parsed = gift_pegjs(text)
    for sample, question in zip(samples, parsed, strict=True):
        assert question["type"] == "MC"
        assert unescape(question["stem"]["text"]) == sample
        assert unescape(question["choices"][0]["text"]["text"]) == sample and question["choices"][0]["weight"] is None
        assert unescape(question["choices"][0]["feedback"]["text"]) == sample


# --- Moodle XML, field by field as Moodle's importer reads it


def _text(element, path: str) -> str:
    found = element.find(path)
    assert found is not None, f"{path} missing"
    return found.findtext("text").strip()


def test_every_quiz_as_moodle_xml_has_the_fields_moodles_import_reads(catalog):
    for quiz in catalog.quizzes:
        root = etree.fromstring(moodle_xml.write(quiz))
        assert root.tag == "quiz"
        category, *questions = root.findall("question")
        assert category.get("type") == "category" and category.findtext("category/text").endswith(quiz.title)
        assert len(questions) == len(quiz.items)
        for question, item in zip(questions, quiz.items, strict=True):
            assert _text(question, "name") == item.id and question.findtext("idnumber") == item.id
            assert question.find("questiontext").get("format") == "html"
            assert float(question.findtext("defaultgrade")) == item.max_score
            assert question.xpath("tags/tag/text/text()") == list(item.competencies)
            answers = question.findall("answer")
            if isinstance(item, (ScenarioItem, MultipleResponseItem)):
                assert question.get("type") == "multichoice"
                assert question.findtext("single") == ("true" if isinstance(item, ScenarioItem) else "false")
                assert [_text(a, ".") for a in answers] == [o.text_html for o in item.options]
                assert [_text(a, "feedback") for a in answers] == [o.feedback_html.strip() for o in item.options]
                for answer in answers:  # Moodle's importer refuses any fraction outside its list
                    assert mapping.is_moodle_grade(float(answer.get("fraction")))
                positive = sum(max(0.0, float(a.get("fraction"))) for a in answers)
                assert positive == pytest.approx(
                    100 if isinstance(item, MultipleResponseItem) else 150, abs=1e-3
                ) or isinstance(item, ScenarioItem)
            elif isinstance(item, OrderingItem):
                assert question.get("type") == "ordering"
                assert (
                    question.findtext("gradingtype") == "LONGEST_ORDERED_SUBSET"
                    and question.findtext("selecttype") == "ALL"
                )
                assert question.findtext("selectcount") == str(len(item.steps_html))
                assert [_text(a, ".") for a in answers] == list(item.steps_html)  # the file's order is the right order
            else:
                assert question.get("type") == "matching"
                subs = [(_text(s, "."), s.findtext("answer/text")) for s in question.findall("subquestion")]
                prompts = [(p.prompt_html, p.answer) for p in item.pairs]
                assert subs == prompts + [("", d) for d in mapping.distractors(item)]
