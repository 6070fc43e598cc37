"""Ordering, matching and multiple-response items: grading by the documented rules, reading forms, and checking files.

docs/authoring.md gives each rule; every expected score here is worked out by hand from it.
"""

import copy
from pathlib import Path

import pytest
import yaml
from werkzeug.datastructures import MultiDict

from app.content import ContentError, Problem
from app.content.items import REGISTRY, AnswerError, field_name
from app.content.loader import build_catalog
from tests.helpers import MINIMAL_LESSON, minimal_module

MODULE = minimal_module("mod-a", "the quiz")
LESSON = MINIMAL_LESSON

#: The right order of the ordering item's five steps.
STEPS = [
    "Check what the patient already knows",
    "List the options",
    "Describe the options",
    "Weigh harms and benefits",
    "Summarise",
]


def ordering_item(item_id: str = "option-order", steps: list[str] | None = None) -> dict:
    """A valid ordering item."""
    return {
        "id": item_id,
        "type": "ordering",
        "prompt": "Put the steps of option talk in order.",
        "competencies": ["sdm.option.check-knowledge", "sdm.option.list-options"],
        "steps": list(steps or STEPS),
        "feedback": "Knowledge first, then the options, then what they mean for the patient.",
    }


#: The matching item's pairs: answers repeat, and one distractor matches nothing.
PAIRS = [
    ("There is more than one way we could manage this.", "Choice talk"),
    ("Here are the options we have.", "Option talk"),
    ("What matters most to you about this?", "Decision talk"),
    ("Surgery or exercise both help; let me say how.", "Option talk"),
]


def matching_item(item_id: str = "elwyn-match") -> dict:
    """A valid matching item with four pairs and one distractor."""
    return {
        "id": item_id,
        "type": "matching",
        "prompt": "Match each thing the physiotherapist says to its step.",
        "competencies": ["sdm.choice.offer-choice", "sdm.option.list-options"],
        "pairs": [{"prompt": prompt, "answer": answer} for prompt, answer in PAIRS],
        "distractors": ["Review talk"],
        "feedback": "Each sentence does the work of one step of the model.",
    }


def mr_option(option_id: str, correct: bool) -> dict:
    """One multiple-response option with its feedback."""
    return {
        "id": option_id,
        "text": f"Behaviour {option_id}",
        "correct": correct,
        "feedback": f"Behaviour {option_id} {'was' if correct else 'was not'} linked with a stronger alliance.",
    }


def multiple_response_item(item_id: str = "raised-alliance") -> dict:
    """A valid multiple-response item: a, b and c are right; d and e are not."""
    return {
        "id": item_id,
        "type": "multiple_response",
        "prompt": "Which behaviours went with a stronger alliance? Choose all that apply.",
        "competencies": ["comm.active-listening"],
        "options": [mr_option("a", True), mr_option("b", True), mr_option("c", True)]
        + [mr_option("d", False), mr_option("e", False)],
    }


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=1000, allow_unicode=True)


def write_tree(root: Path, items: list[dict]) -> Path:
    """Write the module and a quiz holding `items` under `root`; return the quiz file."""
    module_dir = root / "modules" / "mod-a"
    module_dir.mkdir(parents=True, exist_ok=True)
    (module_dir / "module.yaml").write_text(_dump(MODULE), encoding="utf-8")
    (module_dir / "01-only.md").write_text(LESSON, encoding="utf-8")
    quiz = {"id": "mod-a-quiz", "title": "Goals in practice", "module": "mod-a", "pass_mark": 70, "items": items}
    quiz_file = root / "quizzes" / "mod-a-quiz.yaml"
    quiz_file.parent.mkdir(parents=True, exist_ok=True)
    quiz_file.write_text(_dump(quiz), encoding="utf-8")
    return quiz_file


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """The number of the line of `path` holding `text` for the `occurrence`-th time."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{text!r} (occurrence {occurrence}) is not in {path}")


def _listing(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def only_problem(root: Path, item: dict) -> tuple[Problem, Path]:
    """Write a quiz holding only `item`; return its one and only problem, and the quiz file."""
    quiz_file = write_tree(root, [item])
    with pytest.raises(ContentError) as info:
        build_catalog([root])
    problems = info.value.problems
    assert len(problems) == 1, f"expected exactly one problem, got:\n{_listing(problems)}"
    assert Path(problems[0].file).resolve() == quiz_file.resolve()
    return problems[0], quiz_file


@pytest.fixture
def items(tmp_path):
    """The three valid items, built through the loader, by type."""
    root = tmp_path / "content"
    write_tree(root, [ordering_item(), matching_item(), multiple_response_item()])
    quiz = build_catalog([root]).quiz("mod-a-quiz")
    return {item.type: item for item in quiz.items}


@pytest.fixture
def ordering(items):
    return items["ordering"]


@pytest.fixture
def matching(items):
    return items["matching"]


@pytest.fixture
def multiple(items):
    return items["multiple_response"]


def grade_of(item, answer) -> tuple[float, float, bool, str]:
    grade = item.handler.grade(item, answer)
    return grade.score, grade.max_score, grade.is_correct, grade.grade


# --- the registry and the answer keys -------------------------------------------------------


def test_each_type_is_registered_and_builds(items):
    assert set(items) == {"ordering", "matching", "multiple_response"}
    for name, item in items.items():
        assert item.handler is REGISTRY[name]
        assert item.max_score == 2


@pytest.mark.parametrize("kind", ["ordering", "matching", "multiple_response"])
def test_the_answer_key_scores_full_marks_and_the_wrong_answer_nothing(items, kind):
    item = items[kind]
    handler = item.handler
    right = handler.grade(item, handler.right_answer(item))
    assert (right.score, right.max_score, right.is_correct, right.grade) == (2, 2, True, "correct")
    assert right.competency_refs == item.competencies
    wrong = handler.grade(item, handler.wrong_answer(item))
    assert (wrong.score, wrong.max_score, wrong.is_correct, wrong.grade) == (0, 2, False, "incorrect")


@pytest.mark.parametrize("kind", ["ordering", "matching", "multiple_response"])
def test_form_data_reads_back_as_the_same_answer(items, kind):
    item = items[kind]
    handler = item.handler
    for answer in (handler.right_answer(item), handler.wrong_answer(item)):
        data = handler.form_data(item, answer)
        form = MultiDict(
            [(k, v) for k, values in data.items() for v in ([values] if isinstance(values, str) else values)]
        )
        assert handler.answer_from_form(item, form) == answer
        assert handler.answer_from_form(item, data) == answer


def test_items_carry_their_own_competencies(items):
    assert items["ordering"].competencies == ("sdm.option.check-knowledge", "sdm.option.list-options")
    assert items["matching"].competencies == ("sdm.choice.offer-choice", "sdm.option.list-options")
    assert items["multiple_response"].competencies == ("comm.active-listening",)


# --- ordering ---------------------------------------------------------------------------------


def test_ordering_answer_key_is_every_step_at_its_own_position(ordering):
    assert ordering.handler.right_answer(ordering) == [1, 2, 3, 4, 5]
    assert ordering.handler.wrong_answer(ordering) == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("positions", "longest", "why"),
    [
        ([2, 3, 4, 5, 1], 4, "the last step moved to the front"),
        ([1, 2, 3, 5, 4], 4, "two neighbours swapped"),
        ([1, 3, 4, 5, 2], 4, "the second step moved to the end"),
        ([3, 2, 1, 4, 5], 3, "the first three reversed"),
        ([1, 3, 5, 2, 4], 3, "steps 1, 2, 4 (or 1, 3, 4) still in relative order"),
        ([5, 4, 3, 1, 2], 2, "only the last two in order"),
        ([5, 4, 3, 2, 1], 1, "fully reversed"),
    ],
)
def test_ordering_partial_credit_is_the_longest_run_beyond_the_first(ordering, positions, longest, why):
    # positions[i] is where the learner put step i; score = 2 * (longest - 1) / (steps - 1), steps = 5.
    score, max_score, is_correct, label = grade_of(ordering, positions)
    assert score == pytest.approx(2 * (longest - 1) / 4), why
    assert max_score == 2
    assert is_correct is False, why
    assert label == ("incorrect" if longest == 1 else "partial")


def test_ordering_one_step_out_of_place_loses_one_steps_share(ordering):
    # Five steps: each step beyond the first is worth 2/4 = 0.5.
    assert grade_of(ordering, [2, 3, 4, 5, 1])[0] == 1.5
    assert grade_of(ordering, [1, 2, 3, 4, 5])[0] == 2


def test_ordering_partial_credit_with_four_steps(tmp_path):
    root = tmp_path / "content"
    write_tree(root, [ordering_item(steps=STEPS[:4])])
    item = build_catalog([root]).quiz("mod-a-quiz").items[0]
    # One step moved: longest run 3 of 4, so 2 * 2 / 3.
    score, _, is_correct, label = grade_of(item, [2, 3, 4, 1])
    assert score == pytest.approx(4 / 3, abs=1e-4)
    assert (is_correct, label) == (False, "partial")
    assert grade_of(item, [2, 1, 4, 3])[0] == pytest.approx(2 / 3, abs=1e-4)


@pytest.mark.parametrize("answer", [[1, 2, 3, 4], [1, 1, 2, 3, 4], [0, 1, 2, 3, 4], "12345", None])
def test_grading_an_answer_that_is_no_order_of_the_steps_raises(ordering, answer):
    with pytest.raises(AnswerError):
        ordering.handler.grade(ordering, answer)


def test_ordering_unanswered_form_is_none(ordering):
    handler = ordering.handler
    assert handler.answer_from_form(ordering, {}) is None
    assert handler.answer_from_form(ordering, MultiDict()) is None
    blank = {field_name(ordering, index): "" for index in range(5)}
    assert handler.answer_from_form(ordering, blank) is None
    assert handler.answer_from_form(ordering, {"item-other-0": "1"}) is None


def test_ordering_form_reads_positions_in_the_steps_own_order(ordering):
    form = MultiDict([(field_name(ordering, i), str(p)) for i, p in enumerate([2, 3, 4, 5, 1])])
    assert ordering.handler.answer_from_form(ordering, form) == [2, 3, 4, 5, 1]


def test_half_filled_ordering_keeps_what_was_entered_and_says_what_to_fix(ordering):
    form = {field_name(ordering, 0): "2", field_name(ordering, 1): "1", field_name(ordering, 3): "5"}
    with pytest.raises(AnswerError) as info:
        ordering.handler.answer_from_form(ordering, form)
    assert info.value.kept == [2, 1, None, 5, None]
    assert info.value.message == "Give every step a position from 1 to 5."
    assert str(info.value) == info.value.message


def test_ordering_with_two_steps_at_one_position_is_refused(ordering):
    form = {field_name(ordering, i): str(p) for i, p in enumerate([1, 2, 2, 4, 5])}
    with pytest.raises(AnswerError) as info:
        ordering.handler.answer_from_form(ordering, form)
    assert info.value.kept == [1, 2, 2, 4, 5]
    assert info.value.message == "Use each position once: two steps have the same position."


@pytest.mark.parametrize("forged", ["0", "6", "-1", "two", "1.5", "99999999999999999999"])
def test_ordering_with_a_forged_position_is_refused(ordering, forged):
    form = {field_name(ordering, i): str(p) for i, p in enumerate([1, 2, 3, 4, 5])}
    form[field_name(ordering, 2)] = forged
    with pytest.raises(AnswerError) as info:
        ordering.handler.answer_from_form(ordering, form)
    assert info.value.message == "A position must be a number from 1 to 5."


def test_ordering_is_shown_in_a_fixed_shuffle(tmp_path, ordering):
    assert sorted(ordering.shown) == [0, 1, 2, 3, 4]
    assert list(ordering.shown) != [0, 1, 2, 3, 4], "the steps are shown in the right order"
    # Another load, from another folder, shows the same page.
    again_root = tmp_path / "again"
    write_tree(again_root, [ordering_item()])
    again = build_catalog([again_root]).quiz("mod-a-quiz").items[0]
    assert again.shown == ordering.shown
    assert again.steps_html == ordering.steps_html


def test_ordering_is_never_shown_in_the_right_order(tmp_path):
    # Among twelve three-step items some shuffles come out in the right order by chance;
    # each must still be shown out of order.
    root = tmp_path / "content"
    write_tree(root, [ordering_item(f"order-{n}", STEPS[:3]) for n in range(12)])
    quiz = build_catalog([root]).quiz("mod-a-quiz")
    shown = {item.id: item.shown for item in quiz.items}
    assert all(sorted(order) == [0, 1, 2] for order in shown.values())
    assert [item_id for item_id, order in shown.items() if order == (0, 1, 2)] == []
    assert len(set(shown.values())) > 1, "every item is shown in the same order"


# --- matching ---------------------------------------------------------------------------------


def test_matching_choices_are_the_answers_and_distractors_once_each(matching):
    assert matching.choices == ("Choice talk", "Decision talk", "Option talk", "Review talk")
    assert matching.handler.right_answer(matching) == [answer for _, answer in PAIRS]
    assert all(
        given != answer for given, (_, answer) in zip(matching.handler.wrong_answer(matching), PAIRS, strict=True)
    )


@pytest.mark.parametrize(
    ("answer", "right"),
    [
        (["Choice talk", "Option talk", "Decision talk", "Review talk"], 3),
        (["Choice talk", "Option talk", "Option talk", "Decision talk"], 2),
        (["Option talk", "Choice talk", "Decision talk", "Choice talk"], 1),
        (["Review talk", "Review talk", "Review talk", "Review talk"], 0),
    ],
)
def test_matching_partial_credit_is_an_equal_share_per_right_pair(matching, answer, right):
    score, max_score, is_correct, label = grade_of(matching, answer)
    assert score == pytest.approx(2 * right / 4)
    assert (max_score, is_correct) == (2, False)
    assert label == ("partial" if right else "incorrect")


@pytest.mark.parametrize("answer", [["Choice talk"], [], "Choice talk", None])
def test_grading_a_matching_answer_of_the_wrong_shape_raises(matching, answer):
    with pytest.raises(AnswerError):
        matching.handler.grade(matching, answer)


def test_matching_unanswered_form_is_none(matching):
    assert matching.handler.answer_from_form(matching, {}) is None
    blank = {field_name(matching, index): "" for index in range(4)}
    assert matching.handler.answer_from_form(matching, blank) is None


def test_half_filled_matching_keeps_what_was_entered_and_says_what_to_fix(matching):
    form = MultiDict([(field_name(matching, 0), "Choice talk"), (field_name(matching, 2), "Decision talk")])
    with pytest.raises(AnswerError) as info:
        matching.handler.answer_from_form(matching, form)
    assert info.value.kept == ["Choice talk", None, "Decision talk", None]
    assert info.value.message == "Choose an answer for every one of the item's prompts."


@pytest.mark.parametrize("forged", ["Telepathy", "choice talk", "Choice  talk"])
def test_matching_with_a_forged_answer_is_refused(matching, forged):
    form = {field_name(matching, i): answer for i, (_, answer) in enumerate(PAIRS)}
    form[field_name(matching, 1)] = forged
    with pytest.raises(AnswerError) as info:
        matching.handler.answer_from_form(matching, form)
    assert "not one of this item's answers" in info.value.message


# --- multiple response ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticked", "expected", "why"),
    [
        (["a", "b"], 2 * 2 / 3, "two of three right, none wrong"),
        (["a"], 2 * 1 / 3, "one of three right"),
        (["a", "b", "c", "d"], 2 * 2 / 3, "all right, one wrong takes a share back"),
        (["a", "b", "d"], 2 * 1 / 3, "two right, one wrong"),
        (["a", "d"], 0, "one right, one wrong"),
        (["a", "d", "e"], 0, "more wrong than right: never below zero"),
        (["d", "e"], 0, "only wrong"),
        (["a", "b", "c", "d", "e"], 2 * 1 / 3, "everything ticked"),
    ],
)
def test_multiple_response_partial_credit(multiple, ticked, expected, why):
    score, max_score, is_correct, label = grade_of(multiple, ticked)
    assert score == pytest.approx(expected, abs=1e-4), why
    assert score >= 0
    assert (max_score, is_correct) == (2, False)
    assert label == ("partial" if expected else "incorrect")


def test_multiple_response_is_correct_only_for_exactly_the_right_set(multiple):
    assert grade_of(multiple, ["a", "b", "c"]) == (2, 2, True, "correct")
    assert grade_of(multiple, ["c", "a", "b"]) == (2, 2, True, "correct")
    assert multiple.handler.right_answer(multiple) == ["a", "b", "c"]
    assert multiple.handler.wrong_answer(multiple) == ["d", "e"]


@pytest.mark.parametrize("answer", [["a", "z"], "a", None])
def test_grading_a_multiple_response_answer_with_unknown_options_raises(multiple, answer):
    with pytest.raises(AnswerError):
        multiple.handler.grade(multiple, answer)


def test_ticking_nothing_leaves_multiple_response_unanswered(multiple):
    name = field_name(multiple)
    assert multiple.handler.answer_from_form(multiple, {}) is None
    assert multiple.handler.answer_from_form(multiple, MultiDict()) is None
    assert multiple.handler.answer_from_form(multiple, MultiDict([(name, "")])) is None
    assert multiple.handler.answer_from_form(multiple, {name: []}) is None


def test_multiple_response_form_reads_every_tick_in_the_options_order(multiple):
    name = field_name(multiple)
    form = MultiDict([(name, "d"), (name, "a"), (name, "b")])
    assert multiple.handler.answer_from_form(multiple, form) == ["a", "b", "d"]


def test_multiple_response_with_a_forged_option_is_refused(multiple):
    name = field_name(multiple)
    with pytest.raises(AnswerError) as info:
        multiple.handler.answer_from_form(multiple, MultiDict([(name, "a"), (name, "z")]))
    assert "not one of this item's options" in info.value.message


# --- bad item files: each problem with its message and line ----------------------------------


@pytest.mark.parametrize("count", [2, 9])
def test_ordering_needs_3_to_8_steps(tmp_path, count):
    steps = [f"Step number {n}" for n in range(1, count + 1)]
    problem, quiz_file = only_problem(tmp_path / "c", ordering_item(steps=steps))
    assert problem.message == f"item 'option-order': 'steps' has {count} entries; it needs 3 to 8"
    assert problem.line == line_of(quiz_file, "steps:")


def test_ordering_with_two_steps_of_the_same_text(tmp_path):
    steps = [STEPS[0], STEPS[1], STEPS[0].replace(" ", "  "), STEPS[3]]  # same text, spaced differently
    problem, quiz_file = only_problem(tmp_path / "c", ordering_item(steps=steps))
    assert problem.message == "item 'option-order': two steps have the same text"
    assert problem.line == line_of(quiz_file, "steps:")


def test_matching_distractor_that_is_also_an_answer(tmp_path):
    item = matching_item()
    item["distractors"] = ["Review talk", "Option talk"]
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == "item 'elwyn-match': the distractor 'Option talk' is also a right answer"
    assert problem.line == line_of(quiz_file, "distractors:")


@pytest.mark.parametrize("count", [2, 9])
def test_matching_needs_3_to_8_pairs(tmp_path, count):
    item = matching_item()
    item["pairs"] = [{"prompt": f"Sentence {n}", "answer": "Option talk"} for n in range(count)]
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == f"item 'elwyn-match': 'pairs' has {count} entries; it needs 3 to 8"
    assert problem.line == line_of(quiz_file, "pairs:")


@pytest.mark.parametrize("correct", [True, False])
def test_multiple_response_needs_a_right_and_a_wrong_option(tmp_path, correct):
    item = multiple_response_item()
    for option in item["options"]:
        option["correct"] = correct
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == "item 'raised-alliance' needs at least one right option and one wrong one"
    assert problem.line == line_of(quiz_file, "options:")


def test_multiple_response_option_without_feedback(tmp_path):
    item = multiple_response_item()
    del item["options"][1]["feedback"]
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == "item 'raised-alliance', option 2 has no feedback: say why it is or is not right"
    assert problem.line == line_of(quiz_file, "- id: b")


def test_multiple_response_option_with_blank_feedback(tmp_path):
    item = multiple_response_item()
    item["options"][3]["feedback"] = "   "
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == "item 'raised-alliance', option 4: 'feedback' must be non-empty text"
    assert problem.line == line_of(quiz_file, "feedback: '   '")


@pytest.mark.parametrize("make", [ordering_item, matching_item])
def test_ordering_and_matching_need_feedback(tmp_path, make):
    item = make()
    del item["feedback"]
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == (
        f"item '{item['id']}' has no feedback: explain the right answer and the competency it shows"
    )
    assert problem.line == line_of(quiz_file, f"- id: {item['id']}")


def test_multiple_response_feedback_on_the_whole_item_is_optional(tmp_path):
    root = tmp_path / "c"
    write_tree(root, [multiple_response_item()])
    item = build_catalog([root]).quiz("mod-a-quiz").items[0]
    assert item.feedback_html == ""
    assert [o.id for o in item.options if o.is_correct] == ["a", "b", "c"]


@pytest.mark.parametrize("make", [ordering_item, matching_item, multiple_response_item])
def test_an_item_without_competencies(tmp_path, make):
    item = make()
    del item["competencies"]
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == f"item '{item['id']}' is missing 'competencies'"
    assert problem.line == line_of(quiz_file, f"- id: {item['id']}")


@pytest.mark.parametrize("make", [ordering_item, matching_item, multiple_response_item])
def test_an_item_with_an_unknown_competency(tmp_path, make):
    item = make()
    item["competencies"] = ["comm.telepathy"]
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == f"item '{item['id']}': unknown competency id 'comm.telepathy'"
    assert problem.line == line_of(quiz_file, "competencies:")


@pytest.mark.parametrize("make", [ordering_item, matching_item, multiple_response_item])
def test_a_competency_id_written_in_the_item_feedback(tmp_path, make):
    item = make()
    item["feedback"] = "This shows sdm.option.list-options at work."
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == (
        f"item '{item['id']}': the feedback writes the competency id 'sdm.option.list-options'; "
        "name the competency in words (its tags already link it)"
    )
    assert problem.line == line_of(quiz_file, "feedback: This shows")


def test_a_competency_id_written_in_an_option_feedback(tmp_path):
    item = multiple_response_item()
    item["options"][2]["feedback"] = "Repeating words back is comm.active-listening."
    problem, quiz_file = only_problem(tmp_path / "c", item)
    assert problem.message == (
        "item 'raised-alliance', option 3: the feedback writes the competency id 'comm.active-listening'; "
        "name the competency in words (its tags already link it)"
    )
    assert problem.line == line_of(quiz_file, "feedback: Repeating words")


def test_every_bad_item_in_a_file_is_reported_at_once(tmp_path):
    root = tmp_path / "c"
    short = ordering_item("short-order", STEPS[:2])
    clash = matching_item()
    clash["distractors"] = ["Choice talk"]
    no_right = multiple_response_item()
    for option in no_right["options"]:
        option["correct"] = False
    good = copy.deepcopy(ordering_item("good-order"))
    quiz_file = write_tree(root, [short, clash, good, no_right])
    with pytest.raises(ContentError) as info:
        build_catalog([root])
    found = {(p.line, p.message) for p in info.value.problems}
    assert found == {
        (line_of(quiz_file, "steps:"), "item 'short-order': 'steps' has 2 entries; it needs 3 to 8"),
        (line_of(quiz_file, "distractors:"), "item 'elwyn-match': the distractor 'Choice talk' is also a right answer"),
        (line_of(quiz_file, "options:"), "item 'raised-alliance' needs at least one right option and one wrong one"),
    }, _listing(info.value.problems)
