"""The SCORM package's JavaScript grader (run in Node) scores every answer as the server's Python grader does.

Hypothesis makes quizzes from the catalog's items of every type, under both markings, and answers them;
the same answers go to `app.services.quizzes` and to `assets/grader.js`, and every figure must be equal,
to the last bit: each item's score, grade and rightness, the quiz's score, weight, percentage, verdict,
range and scaled score.
"""

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.content import content_dirs, load_once
from app.content.items import AnswerError
from app.exchange.scorm import grading
from app.services import quizzes

GRADER = Path(__file__).resolve().parents[1] / "app" / "exchange" / "scorm" / "assets" / "grader.js"
CATALOG = load_once(content_dirs())
ITEMS = [item for quiz in CATALOG.quizzes for item in quiz.items]
TYPES = sorted({item.type for item in ITEMS})

# One Node process answers every example: a line of JSON in, a line of JSON out.
_RUNNER = """
const grader = require(process.argv[1]);
const lines = require('readline').createInterface({input: process.stdin});
lines.on('line', line => {
  const job = JSON.parse(line);
  let out;
  try {
    if (job.kind === 'sum') out = {sum: grader.pySum(job.values, job.mode)};
    else if (job.kind === 'round') out = {rounded: job.values.map(v => grader.pyRound(v, job.digits))};
    else if (job.kind === 'bookmark') {
      const text = grader.Bookmark.encode(job.quiz, job.lessons, job.state);
      out = {text, back: grader.Bookmark.decode(job.quiz, job.lessons, text)};
    } else out = grader.gradeQuiz(job.quiz, job.answers, job.confidence);
  } catch (e) {
    out = {error: e.name, message: e.message};
  }
  process.stdout.write(JSON.stringify(out) + '\\n');
});
"""


class Node:
    """A Node process running the package's grader."""

    def __init__(self):
        self.process = subprocess.Popen(
            ["node", "-e", _RUNNER, str(GRADER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, job: dict) -> dict:
        """Send one job, return the grader's answer."""
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the Node grader stopped"
        return json.loads(line)

    def close(self) -> None:
        """Stop the process."""
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def node():
    runner = Node()
    yield runner
    runner.close()


def answer_strategy(item) -> st.SearchStrategy:
    """Any answer a learner could give the item through its form."""
    if item.type == "scenario":
        return st.sampled_from([o.id for o in item.options])
    if item.type == "ordering":
        return st.permutations(list(range(1, len(item.steps_html) + 1)))
    if item.type == "matching":
        return st.lists(st.sampled_from(item.choices), min_size=len(item.pairs), max_size=len(item.pairs))
    if item.type == "multiple_response":
        return st.lists(st.sampled_from([o.id for o in item.options]), unique=True).map(
            lambda ticked: [o.id for o in item.options if o.id in ticked]
        )
    raise AssertionError(f"no strategy for {item.type}")


@st.composite
def attempts(draw):
    """A quiz made of catalog items (every type can appear), a marking and pass mark, and answers to it."""
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=14, unique_by=lambda i: i.id))
    quiz = dataclasses.replace(
        CATALOG.quizzes[0],
        items=tuple(items),
        marking=draw(st.sampled_from(["standard", "certainty"])),
        pass_mark=draw(st.integers(1, 100)),
    )
    answers = {item.id: list(a) if isinstance(a, tuple) else a for item in items for a in [draw(answer_strategy(item))]}
    confidence = {item.id: level for item in items if (level := draw(st.sampled_from([None, 1, 2, 3]))) is not None}
    return quiz, answers, confidence


def server_result(quiz, answers, confidence) -> dict:
    """What the server records for these answers: quizzes.grade, marked_score, the verdict and the scaled score."""
    graded = quizzes.grade(quiz, answers)
    score, weight = quizzes.marked_score(quiz.marking, [(g, confidence.get(item.id)) for item, g in graded])
    percent = 100.0 * score / weight if weight else 0.0  # as submit_attempt works it out
    low, high = quizzes.score_range(quiz.marking, weight)
    return {
        "items": [
            {"score": g.score, "max_score": g.max_score, "is_correct": g.is_correct, "grade": g.grade}
            for _, g in graded
        ],
        "score": score,
        "max_score": weight,
        "percent": percent,
        "is_passed": percent >= quiz.pass_mark,
        "min": low,
        "max": high,
        "scaled": quizzes.scaled(score, low, high),
    }


def package_result(node, quiz, answers, confidence) -> dict:
    """What the package's grader makes of the same answers."""
    return node.ask({"quiz": grading.quiz_data(quiz), "answers": answers, "confidence": confidence})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(attempts())
def test_the_package_grades_every_item_type_and_marking_as_the_server_does(node, attempt):
    quiz, answers, confidence = attempt
    expected = server_result(quiz, answers, confidence)
    assert package_result(node, quiz, answers, confidence) == expected


@pytest.mark.parametrize("quiz", CATALOG.quizzes, ids=[q.id for q in CATALOG.quizzes])
@pytest.mark.parametrize("kind", ["right", "wrong"])
def test_every_shipped_quiz_scores_the_same_for_its_key_and_its_wrong_answers(node, quiz, kind):
    answers = {
        item.id: item.handler.right_answer(item) if kind == "right" else item.handler.wrong_answer(item)
        for item in quiz.items
    }
    for confidence in ({}, {item.id: 3 for item in quiz.items}):
        expected = server_result(quiz, answers, confidence)
        assert package_result(node, quiz, answers, confidence) == expected
        assert expected["is_passed"] is (kind == "right")


def test_every_item_type_of_the_catalog_is_in_the_comparison():
    # The Hypothesis test draws from ITEMS: every type the server grades must be among them.
    from app.content.items import REGISTRY

    assert set(TYPES) == set(REGISTRY)


@pytest.mark.parametrize("item", [next(i for i in ITEMS if i.type == t) for t in TYPES], ids=TYPES)
def test_answers_the_server_refuses_the_package_refuses_too(node, item):
    wrong_shapes = {
        "scenario": "no-such-option",
        "ordering": [1] * len(getattr(item, "steps_html", ())),
        "matching": ["only one"],
        "multiple_response": ["no-such-option"],
    }
    answer = wrong_shapes[item.type]
    with pytest.raises(AnswerError):
        item.handler.grade(item, answer)
    quiz = dataclasses.replace(CATALOG.quizzes[0], items=(item,))
    assert package_result(node, quiz, {item.id: answer}, {})["error"] == "AnswerError"


# --- the arithmetic under the grades: Python's round() and sum()

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(finite | st.integers(-(10**6), 10**6).map(lambda n: n / 32)), st.integers(0, 6))
def test_round_matches_pythons_round_even_on_exact_ties(node, values, digits):
    # Values such as k/32 are exact ties at four decimals: Python rounds them to even.
    assert node.ask({"kind": "round", "values": values, "digits": digits})["rounded"] == [
        round(v, digits) for v in values
    ]


def neumaier(values: list[float]) -> float:
    """CPython 3.12's sum() of floats, written out (this interpreter may be older and add left to right)."""
    if not values:
        return 0
    total, compensation = 0 + values[0], 0.0
    for x in values[1:]:
        t = total + x
        compensation += (total - t) + x if abs(total) >= abs(x) else (x - t) + total
        total = t
    if compensation and math.isfinite(compensation):
        total += compensation
    return total


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, max_size=30))
def test_sums_add_up_as_this_python_adds_them(node, values):
    mode = grading.summation()
    assert node.ask({"kind": "sum", "values": values, "mode": mode})["sum"] == sum(values)
    assert node.ask({"kind": "sum", "values": values, "mode": "compensated"})["sum"] == neumaier(values)
    if sys.version_info >= (3, 12):
        assert neumaier(values) == sum(values)
