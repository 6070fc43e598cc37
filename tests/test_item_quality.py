"""Item-quality rules: the cues that give the best reply away are found, measured against chance and reported."""

import re
from math import comb
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from app.cli import content_check
from app.content import ContentError, content_dirs, load_once, quality, quality_banks
from app.content.loader import build_catalog, check_dirs, load_content
from app.content.problems import Problem, display_path
from tests.helpers import MINIMAL_LESSON, minimal_module

MODULE = minimal_module("quality-mod", "quizzes")
LESSON = MINIMAL_LESSON
#: Five words of one length: options built from them are equally long unless a test pads one.
WORDS = ["Amber", "Birch", "Cedar", "Delta", "Ember"]
WRONG = ["acceptable", "unhelpful", "harmful", "unhelpful"]
NO_NAME = "A roofer of fifty with back pain"
SAYS = "My back has been sore since the winter."


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=1000, allow_unicode=True)


def option(index: int, grade: str, text: str | None = None) -> dict:
    """A valid option; by default its text is one of WORDS and 'choice', as long as any other default."""
    return {
        "id": "abcde"[index],
        "text": text or f"{WORDS[index]} choice",
        "grade": grade,
        "competencies": ["bordin.goals"],
        "feedback": "Why this reply serves or breaks agreement on goals.",
    }


def item(
    number: int,
    best: int | None = None,
    k: int = 4,
    texts: dict[int, str] | None = None,
    unhelpful: str | None = None,
    even: bool = True,
    **vignette,
) -> dict:
    """A scenario item with k options and no cue, unless `texts` (by position) or `unhelpful` (the
    unhelpful option's text) adds one; the best option stands at `best` (by default the positions
    take turns, so none is favoured). With `even`, every text is padded with middle dots (which Markdown leaves alone) to one length,
    so that only the cue under test tells the options apart."""
    best = number % k if best is None else best
    wrong = iter(WRONG)
    grades = ["best" if i == best else next(wrong) for i in range(k)]
    texts = {i: f"{WORDS[i]} choice" for i in range(k)} | (texts or {})
    if unhelpful:
        texts[grades.index("unhelpful")] = unhelpful
    if even:
        width = max(len(text) for text in texts.values())
        texts = {i: text.ljust(width, "·") for i, text in texts.items()}
    return {
        "id": f"item-{number}",
        "type": "scenario",
        "vignette": {"patient": NO_NAME, "setting": "A clinic", "says": SAYS} | vignette,
        "prompt": "What do you say?",
        "options": [option(i, grade, texts[i]) for i, grade in enumerate(grades)],
    }


def quiz(items: list[dict], quiz_id: str = "quality-quiz") -> dict:
    return {"id": quiz_id, "title": "Quality", "module": "quality-mod", "pass_mark": 70, "items": items}


def longest(number: int, **extra) -> dict:
    """An item whose best option is the longest."""
    best = number % 4
    return item(number, texts={best: f"{WORDS[best]} choice, said slowly"}, even=False, **extra)


def shortest(number: int) -> dict:
    """An item whose best option is the shortest."""
    best = number % 4
    return item(number, texts={i: f"{WORDS[i]} choice, said slowly" for i in range(4) if i != best}, even=False)


def reply(index: int, grade: str, to: str, text: str | None = None) -> dict:
    return option(index, grade, text) | {"next": to}


def conversation(nodes: int, best_text=None, patient: str = NO_NAME, talk_id: str = "quality-talk") -> dict:
    """A chain of nodes with three replies each; every reply leads on, the last node to an ending.
    `best_text(n)` gives the best reply's text at node n (by default as long as the others)."""
    chain = []
    for n in range(nodes):
        last = n == nodes - 1
        best = n % 3
        wrong = iter(["acceptable", "unhelpful"])
        replies = []
        for i in range(3):
            grade = "best" if i == best else next(wrong)
            to = ("good-end" if grade == "best" else "poor-end") if last else f"node-{n + 1}"
            replies.append(reply(i, grade, to, best_text(n) if best_text and grade == "best" else None))
        chain.append({"id": f"node-{n}", "patient": SAYS, "replies": replies})
    return {
        "id": talk_id,
        "type": "conversation",
        "title": "Quality talk",
        "module": "quality-mod",
        "pass_mark": 70,
        "patient": patient,
        "setting": "A clinic",
        "counters": [{"id": "trust", "label": "Trust"}],
        "start": "node-0",
        "nodes": chain,
        "endings": [
            {"id": "good-end", "title": "Good", "outcome": "good", "debrief": "What went well."},
            {"id": "poor-end", "title": "Poor", "outcome": "poor", "debrief": "What to try next time."},
        ],
    }


def write(root: Path, *files: dict) -> Path:
    """The module and these quizzes or conversations (each in a file named by its id) under `root`."""
    module_dir = root / "modules" / "quality-mod"
    module_dir.mkdir(parents=True, exist_ok=True)
    (module_dir / "module.yaml").write_text(_dump(MODULE), encoding="utf-8")
    (module_dir / "01-only.md").write_text(LESSON, encoding="utf-8")
    (root / "quizzes").mkdir(exist_ok=True)
    for data in files:
        (root / "quizzes" / f"{data['id']}.yaml").write_text(_dump(data), encoding="utf-8")
    return root


def rules(root: Path) -> list[Problem]:
    """What the item-quality rules find under `root`, at each rule's own severity (ENFORCE aside)."""
    loaded = load_content([root])
    # Every file written is valid content otherwise: each was read into a bank for the rules.
    written = {path.stem for path in (root / "quizzes").glob("*.yaml")}
    assert {bank.id for bank in loaded.banks} == written, [str(p) for p in loaded.problems]
    return quality.review(loaded.banks)


def where(root: Path, file_id: str, text: str) -> tuple[str, int]:
    """The file of a quiz under `root` as problems name it, and the line of its first `text`."""
    path = root / "quizzes" / f"{file_id}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    return display_path(path), next(n for n, line in enumerate(lines, start=1) if text in line)


def error(root: Path, message: str, file_id: str = "quality-quiz", at: str = "items:") -> Problem:
    return Problem(*where(root, file_id, at), message)


def warning(root: Path, message: str, file_id: str = "quality-quiz", at: str = "items:") -> Problem:
    return Problem(*where(root, file_id, at), message, is_warning=True)


# --- the statistics


def test_the_tail_of_a_binomial_is_exact():
    # 9 or more of 10 at a chance of 1/4, worked by hand: C(10,9) (1/4)^9 (3/4) + (1/4)^10.
    expected = comb(10, 9) * 0.25**9 * 0.75 + 0.25**10
    assert quality.upper_tail([0.25] * 10, 9) == pytest.approx(expected, rel=1e-12)
    assert quality.p_text(expected) == "p = 0.00003"
    assert quality.upper_tail([0.25] * 10, 0) == 1.0


def test_mixed_chances_are_a_poisson_binomial():
    # Items with 2, 3 and 4 options: P(at least 2 hits) counted over all eight outcomes.
    chances = [1 / 2, 1 / 3, 1 / 4]
    by_hand = 0.0
    for hits in range(8):
        flags = [(hits >> i) & 1 for i in range(3)]
        weight = 1.0
        for flag, chance in zip(flags, chances, strict=True):
            weight *= chance if flag else 1 - chance
        by_hand += weight if sum(flags) >= 2 else 0.0
    assert quality.upper_tail(chances, 2) == pytest.approx(by_hand, rel=1e-12)


# --- rule 1: the best option is the longest or the shortest


def test_a_best_option_that_is_nearly_always_the_longest_is_an_error(tmp_path):
    root = write(tmp_path, quiz([longest(n) for n in range(9)] + [item(9)]))
    assert rules(root) == [
        error(
            root,
            "the best option is the longest in 9 of 10 items (chance would give about 2.5; p = 0.00003); "
            "shorten some best replies, or lengthen other options",
        )
    ]


def test_a_best_option_that_is_often_the_shortest_is_a_warning(tmp_path):
    # 6 of 10 at 1/4: p = 0.020, between the two thresholds; 5 of 10 (p = 0.078) would pass.
    root = write(tmp_path, quiz([shortest(n) for n in range(6)] + [item(n) for n in range(6, 10)]))
    assert rules(root) == [
        warning(
            root,
            "the best option is the shortest in 6 of 10 items (chance would give about 2.5; p = 0.02); "
            "lengthen some best replies, or shorten other options",
        )
    ]
    root = write(tmp_path / "five", quiz([shortest(n) for n in range(5)] + [item(n) for n in range(5, 10)]))
    assert rules(root) == []


def test_a_tie_for_longest_is_not_the_longest(tmp_path):
    # The best option and one other share the greatest length: no cue, since length does not pick it out.
    items = [
        item(
            n,
            texts={
                n % 4: f"{WORDS[n % 4]} choice, said slowly",
                (n + 1) % 4: f"{WORDS[(n + 1) % 4]} choice, said gently",
            },
            even=False,
        )
        for n in range(8)
    ]
    root = write(tmp_path, quiz(items))
    assert rules(root) == []


def test_a_conversation_whose_best_replies_are_the_longest_is_an_error_at_its_nodes(tmp_path):
    root = write(tmp_path, conversation(6, best_text=lambda n: f"{WORDS[n % 3]} choice, said slowly"))
    assert rules(root) == [
        error(
            root,
            "the best option is the longest in 6 of 6 nodes (chance would give about 2.0; p = 0.0014); "
            "shorten some best replies, or lengthen other options",
            file_id="quality-talk",
            at="nodes:",
        )
    ]


# --- rule 2: the best option's position


def test_a_best_option_always_in_one_position_is_an_error(tmp_path):
    root = write(tmp_path, quiz([item(n, best=0) for n in range(10)]))
    assert rules(root) == [
        error(
            root,
            "the best option is option 1 in 10 of 10 items (chance would give about 2.5; p < 0.000001); "
            "the best option by position (1 to 4): 10, 0, 0, 0; move some best replies to other positions",
        )
    ]


def test_with_mixed_option_counts_each_item_has_its_own_chance(tmp_path):
    # Option 5 exists only in the 5-option items: 4 of those 4 (p = 0.2^4 = 0.0016), although 4 of
    # all 10 items at 1 in 5 would look like chance (p = 0.12).
    items = [item(n, best=4, k=5) for n in range(4)] + [item(n, k=3) for n in range(4, 10)]
    root = write(tmp_path, quiz(items))
    assert rules(root) == [
        error(
            root,
            "the best option is option 5 in 4 of 10 items (chance would give about 0.8; p = 0.0016); "
            "the best option by position (1 to 5): 2, 2, 2, 0, 4; move some best replies to other positions",
        )
    ]


# --- rule 3: only the best option carries a cue


def test_only_the_best_option_asking_a_question_is_an_error(tmp_path):
    items = [item(n, texts={n % 4: f"{WORDS[n % 4]} choice?"}) for n in range(5)] + [item(n) for n in range(5, 8)]
    root = write(tmp_path, quiz(items))
    assert rules(root) == [
        error(
            root,
            "only one option asks a question in 5 items, and it is the best option in 5 of them "
            "(chance would give about 1.2; p = 0.00098); let some other options ask a question too",
        )
    ]


def test_a_question_cue_in_three_items_is_a_warning_and_one_shared_by_a_wrong_option_is_none(tmp_path):
    items = [item(n, texts={n % 4: f"{WORDS[n % 4]} choice?"}) for n in range(3)]
    root = write(tmp_path, quiz(items))
    assert rules(root) == [
        warning(
            root,
            "only one option asks a question in 3 items, and it is the best option in 3 of them "
            "(chance would give about 0.8; p = 0.016); let some other options ask a question too",
        )
    ]
    # When a wrong option asks a question as well, the question gives nothing away.
    both = [
        item(n, texts={n % 4: f"{WORDS[n % 4]} choice?", (n + 1) % 4: f"{WORDS[(n + 1) % 4]} choice?"})
        for n in range(8)
    ]
    assert rules(write(tmp_path / "both", quiz(both))) == []


def test_only_the_best_option_echoing_the_patient_is_an_error(tmp_path):
    says = "I just miss my Saturday walks with my sister."
    items = [item(n, texts={n % 4: f"{WORDS[n % 4]}: so you miss those Saturday walks."}, says=says) for n in range(5)]
    root = write(tmp_path, quiz(items))
    assert rules(root) == [
        error(
            root,
            "only one option echoes the patient's words in 5 items, and it is the best option in 5 of them "
            "(chance would give about 1.2; p = 0.00098); let some other options echo the patient's words too",
        )
    ]
    # Words another option shares with the patient too, or a single shared word, are no echo.
    shared = [
        item(n, texts={n % 4: "So you miss those Saturday walks.", (n + 1) % 4: "Saturday walks can wait."}, says=says)
        for n in range(5)
    ]
    one_word = [item(n, texts={n % 4: "So those Saturday plans matter."}, says=says) for n in range(5)]
    assert rules(write(tmp_path / "echo-shared", quiz(shared))) == []
    assert rules(write(tmp_path / "one", quiz(one_word))) == []


def test_only_the_best_option_naming_the_patient_is_an_error(tmp_path):
    surnames = ["Oduya", "Quill", "Farrow", "Hendry", "Marsh"]
    items = [
        item(n, texts={n % 4: f"Mrs {name}, tell me more."}, patient=f"Mrs {name}, 58, baker")
        for n, name in enumerate(surnames)
    ]
    root = write(tmp_path, quiz(items))
    assert rules(root) == [
        error(
            root,
            "only one option names the patient in 5 items, and it is the best option in 5 of them "
            "(chance would give about 1.2; p = 0.00098); let some other options name the patient too",
        )
    ]


def test_a_conversation_whose_best_replies_name_its_patient_is_an_error(tmp_path):
    talk = conversation(6, best_text=lambda n: "Well, Mrs Adeyemi.", patient="Mrs Adeyemi, 71, retired teacher")
    root = write(tmp_path, talk)
    found = [p for p in rules(root) if "names the patient" in p.message]
    assert found == [
        error(
            root,
            "only one option names the patient in 6 nodes, and it is the best option in 6 of them "
            "(chance would give about 2.0; p = 0.0014); let some other options name the patient too",
            file_id="quality-talk",
            at="nodes:",
        )
    ]


# --- rule 4: absolute words in wrong options only; options that say the same thing


def _absolute_items(count: int, in_best: bool = False) -> list[dict]:
    """Ten items, the first `count` with 'always' in their unhelpful option."""
    items = [item(n, unhelpful=f"You always say that, number {n}.") for n in range(count)]
    items += [item(n) for n in range(count, 10)]
    if in_best:
        items[-1] = item(9, texts={1: "Never mind the choice."})
    return items


def test_absolute_words_in_four_wrong_options_only_is_an_error(tmp_path):
    root = write(tmp_path, quiz(_absolute_items(4)))
    assert rules(root) == [
        error(
            root,
            "absolute words (always) appear only in wrong options: 4 unhelpful or harmful options use them "
            "(item 'item-0' option 'c', item 'item-1' option 'c', item 'item-2' option 'b', item 'item-3' option 'b') "
            "and no best or acceptable option does; reword some wrong options, or let a right reply use one where it is true",
        )
    ]


def test_absolute_words_in_two_wrong_options_is_a_warning_and_none_when_a_right_option_has_one(tmp_path):
    root = write(tmp_path, quiz(_absolute_items(2)))
    assert rules(root) == [
        warning(
            root,
            "absolute words (always) appear only in wrong options: 2 unhelpful or harmful options use them "
            "(item 'item-0' option 'c', item 'item-1' option 'c') and no best or acceptable option does; "
            "reword some wrong options, or let a right reply use one where it is true",
        )
    ]
    assert rules(write(tmp_path / "right", quiz(_absolute_items(4, in_best=True)))) == []
    assert rules(write(tmp_path / "one", quiz(_absolute_items(1)))) == []


def test_an_option_contained_in_another_is_an_error_naming_both(tmp_path):
    items = [item(0, texts={2: "Amber choice, and a walk"})] + [item(n) for n in range(1, 4)]
    root = write(tmp_path, quiz(items))
    assert rules(root) == [
        Problem(
            *where(root, "quality-quiz", "id: item-0"),
            "item 'item-0': options 'a' and 'c' say nearly the same thing (option 'a' is contained in option 'c'); "
            "make each option a different thing a clinician might do",
        )
    ]


def test_options_sharing_most_of_their_words_are_an_error(tmp_path):
    texts = {1: "Let us agree a plan for your walking today.", 3: "Today, let us agree a plan for walking."}
    root = write(tmp_path, quiz([item(0, texts=texts)] + [item(n) for n in range(1, 4)]))
    assert rules(root) == [
        Problem(
            *where(root, "quality-quiz", "id: item-0"),
            "item 'item-0': options 'b' and 'd' say nearly the same thing (they share 89% of their words); "
            "make each option a different thing a clinician might do",
        )
    ]


# --- rule 5: one name, two patients


def test_a_patient_name_used_twice_in_the_package_is_a_warning(tmp_path):
    first = quiz([item(0, patient="Mrs Lee, 62, retired bus driver"), item(1, patient="Sarah Jones, 40, nurse")])
    talk = conversation(2, patient="Mr Lee, 70, retired teacher")
    second = quiz([item(0, patient="Tom Jones, 33, chef"), item(1, patient="Mrs Jones, 58, baker")], "second-quiz")
    root = write(tmp_path, first, talk, second)
    quiz_file, lee_line = where(root, "quality-quiz", "Mrs Lee")
    _, jones_line = where(root, "quality-quiz", "Sarah Jones")
    # Tom Jones and Sarah Jones are two people, each named in full; Mrs Jones may be either.
    assert [p for p in rules(root) if "patient name" in p.message] == [
        Problem(
            *where(root, "quality-talk", "patient: Mr Lee"),
            f"the conversation: the patient name 'Mr Lee' is also used by {quiz_file}:{lee_line} "
            "(item 'item-0', 'Mrs Lee'); give each patient a name of their own so learners do not mix them up",
            is_warning=True,
        ),
        Problem(
            *where(root, "second-quiz", "Mrs Jones"),
            f"item 'item-1': the patient name 'Mrs Jones' is also used by {quiz_file}:{jones_line} "
            "(item 'item-1', 'Sarah Jones'); give each patient a name of their own so learners do not mix them up",
            is_warning=True,
        ),
    ]


@pytest.mark.parametrize(
    ("description", "name"),
    [
        ("Mrs Ellis, 66, retired school cook", ("Mrs Ellis", None, "Ellis")),
        ("Sarah Jones, 45, nurse", ("Sarah Jones", "Sarah", "Jones")),
        ("Dr Ana Silva; knee pain", ("Dr Ana Silva", "Ana", "Silva")),
        ("Adults with chronic low back pain attending a hospital service", None),
        ("A roofer, 50", None),
    ],
)
def test_a_patient_name_is_read_from_the_description(description, name):
    assert quality_banks.patient_name(description) == name


# --- wiring: errors stop the app only when enforced; warnings never do


def test_until_enforced_rule_errors_are_marked_warnings_and_the_content_loads(tmp_path, monkeypatch):
    root = write(tmp_path, quiz([item(n, best=0) for n in range(10)]))
    monkeypatch.setattr(quality, "ENFORCE", False)
    assert build_catalog([root]).quiz("quality-quiz") is not None
    assert load_once([root]).quiz("quality-quiz") is not None  # as the app loads it at start
    assert check_dirs([root]) == []
    (problem,) = load_content([root]).problems
    assert problem.is_warning and problem.message.endswith(
        "move some best replies to other positions (not yet enforced)"
    )
    assert str(problem).startswith(f"{problem.file}:{problem.line}: warning: the best option is option 1 in 10 of 10")


def test_when_enforced_rule_errors_refuse_the_content(tmp_path, monkeypatch):
    root = write(tmp_path, quiz([item(n, best=0) for n in range(10)]))
    monkeypatch.setattr(quality, "ENFORCE", True)
    with pytest.raises(ContentError) as raised:
        build_catalog([root])
    (problem,) = raised.value.problems
    assert not problem.is_warning and problem.message.startswith("the best option is option 1 in 10 of 10 items")
    assert check_dirs([root]) == [problem]


def test_a_warning_alone_never_refuses_the_content(tmp_path, monkeypatch):
    # Two patients named Lee: a warning, whatever ENFORCE says.
    monkeypatch.setattr(quality, "ENFORCE", True)
    root = write(tmp_path, quiz([item(0, patient="Mr Lee, 62, driver"), item(1, patient="Mrs Lee, 60, cook")]))
    assert build_catalog([root]).quiz("quality-quiz") is not None
    assert check_dirs([root]) == []
    assert [p.is_warning for p in load_content([root]).problems] == [True]


# --- alliance content check


def _check(*args: str):
    return CliRunner().invoke(content_check, list(args))


def test_content_check_prints_warnings_with_a_count_and_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "ENFORCE", False)
    root = write(tmp_path, quiz([item(n, best=0) for n in range(10)]))
    result = _check(str(root))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    problem_file, line = where(root, "quality-quiz", "items:")
    assert f"{problem_file}:{line}: warning: the best option is option 1 in 10 of 10 items" in result.stdout
    count = sum(": warning: " in line for line in lines)
    assert lines[-2:] == [f"{count} warning{'s' if count != 1 else ''}.", "Content is valid."]
    assert result.stderr == ""


def test_content_check_prints_errors_then_warnings_and_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "ENFORCE", True)
    names = {0: "Mr Lee, 50, driver", 1: "Mrs Lee, 48, cook"}
    root = write(tmp_path, quiz([item(n, best=0, patient=names.get(n, NO_NAME)) for n in range(10)]))
    (root / "quizzes" / "broken.yaml").write_text("id: broken\n", encoding="utf-8")
    result = _check(str(root))
    assert result.exit_code == 1
    quiz_file, items_line = where(root, "quality-quiz", "items:")
    _, mrs_lee_line = where(root, "quality-quiz", "Mrs Lee")
    assert f"{quiz_file}:{items_line}: the best option is option 1 in 10 of 10 items" in result.stderr
    assert f"{quiz_file}:{mrs_lee_line}: warning: item 'item-1': the patient name 'Mrs Lee'" in result.stdout
    assert "(not yet enforced)" not in result.output
    assert result.stderr.splitlines()[-1].endswith("problems found in the content.")
    assert re.search(r"^\d+ warnings?\.$", result.stdout, re.M)
    assert "Content is valid." not in result.stdout
    # Problems first, then warnings.
    assert result.output.index("problems found in the content.") < result.output.index(": warning: ")


def test_content_check_stats_shows_every_quiz_and_conversation_at_a_glance(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "ENFORCE", False)
    root = write(
        tmp_path,
        quiz([longest(n) for n in range(9)] + [item(9)]),
        conversation(3, best_text=lambda n: "Short."),
    )
    result = _check("--stats", str(root))
    assert result.exit_code == 0, result.output
    table = result.stdout.split("\n\n")[-2].splitlines()
    header = table[0].split("  ")
    assert [h.strip() for h in header if h.strip()] == [
        "quiz or conversation",
        "items",
        "best longest",
        "best shortest",
        "chance",
        "best at 1/2/3/4/5",
        "best/acceptable/unhelpful/harmful",
    ]
    rows = {line.split()[0]: line.split() for line in table[2:]}
    assert rows["quality-quiz"] == ["quality-quiz", "10", "9", "(90%)", "0", "(0%)", "25%", "3/3/2/2/-", "10/10/10/10"]
    assert rows["quality-talk"] == ["quality-talk", "3", "0", "(0%)", "3", "(100%)", "33%", "1/1/1/-/-", "3/3/3/0"]
    # The same content without --stats: the same exit code and no table.
    plain = _check(str(root))
    assert plain.exit_code == 0 and "best longest" not in plain.stdout


# --- the shipped content


def test_the_shipped_content_passes_every_item_quality_rule():
    loaded = load_content(content_dirs())
    errors = [str(p) for p in quality.review(loaded.banks) if not p.is_warning]
    assert errors == [], "\n".join(errors)
