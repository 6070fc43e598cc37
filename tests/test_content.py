"""The content loader: each bad file is reported with its file and line; good content builds a safe, frozen catalog."""

import copy
import dataclasses
import os
import re
from pathlib import Path

import pytest
import yaml

from app.content import ContentError, Problem, content_dirs
from app.content.items import REGISTRY, AnswerError, field_name
from app.content.loader import COMPETENCIES_FILE, build_catalog, load_competencies

# The project's curriculum, kept in the repository so the suite runs on a fresh clone alone.
CURRICULUM = Path(__file__).resolve().parents[1] / "docs" / "curriculum.md"

MODULE = {
    "id": "mod-a",
    "title": "Agreeing goals",
    "summary": "A short module about agreeing goals with a patient.",
    "minutes": 20,
    "objectives": ["Agree a goal with a patient in their own words."],
    "lessons": [
        {
            "id": "first",
            "title": "Why goals matter",
            "file": "01-first.md",
            "minutes": 10,
            "key_points": ["Agreed goals raise adherence.", "Bordin named goals first."],
        },
        {
            "id": "second",
            "title": "The bond",
            "file": "02-second.md",
            "minutes": 10,
            "key_points": ["Warmth builds the bond.", "So does skill."],
        },
    ],
    "references": [
        {"id": "bordin1979", "text": "Bordin E. The working alliance. Psychotherapy. 1979;16(3):252-260"},
        {"id": "martin2000", "text": "Martin D, Garske J, Davis M. Alliance and outcome. J Consult Clin Psychol. 2000"},
    ],
}

FIRST_LESSON = """\
An introduction to goals [@bordin1979].

## Why agree on goals?
<!-- competencies: bordin.goals, pcc.sharing-power -->

Agreed goals raise adherence [@martin2000]. Bordin named them first [@bordin1979].

## Why agree on goals?
<!-- competencies: bordin.goals -->

The same heading twice still gets its own anchor.
"""

SECOND_LESSON = """\
## The *bond*

<!-- competencies: bordin.bond -->

Warmth and skill build the bond.
"""


def _option(option_id: str, grade: str, competency: str = "bordin.goals") -> dict:
    """One valid scenario option with the given id and grade."""
    return {
        "id": option_id,
        "text": f"Option {option_id}: what you would say.",
        "grade": grade,
        "competencies": [competency],
        "feedback": f"Feedback for option {option_id}: it serves or breaks a competency, and why.",
    }


QUIZ = {
    "id": "mod-a-quiz",
    "title": "Goals in practice",
    "module": "mod-a",
    "pass_mark": 70,
    "intro": "Choose what you would say.",
    "items": [
        {
            "id": "first-item",
            "type": "scenario",
            "vignette": {
                "patient": "Mr Lee, 62, retired bus driver",
                "setting": "First physiotherapy assessment",
                "says": "I just want the pain gone.",
            },
            "prompt": "What do you say next?",
            "options": [_option("a", "best"), _option("b", "acceptable"), _option("c", "harmful", "bordin.bond")],
        }
    ],
}


class Tree:
    """A valid content folder (one module with two lessons, and its quiz) that a test breaks one thing at a time."""

    def __init__(self, root: Path, module_id: str = "mod-a", quiz: bool = True):
        """Start from the valid module, lessons and quiz, not yet written under `root`."""
        self.root = root
        self.folder = module_id
        self.module = copy.deepcopy(MODULE)
        self.module["id"] = module_id
        self.lessons = {"01-first.md": FIRST_LESSON, "02-second.md": SECOND_LESSON}
        self.quiz = copy.deepcopy(QUIZ) if quiz else None
        if self.quiz is not None:
            self.quiz["id"] = f"{module_id}-quiz"
            self.quiz["module"] = module_id

    @property
    def module_file(self) -> Path:
        """The module.yaml path."""
        return self.root / "modules" / self.folder / "module.yaml"

    @property
    def quiz_file(self) -> Path:
        """The quiz file path."""
        return self.root / "quizzes" / f"{self.folder}-quiz.yaml"

    def lesson(self, name: str) -> Path:
        """The path of a lesson file of the module."""
        return self.module_file.parent / name

    def options(self) -> list[dict]:
        """The options of the quiz's first item, to change before writing."""
        return self.quiz["items"][0]["options"]

    def write(self) -> "Tree":
        """Write every file of the tree to disk."""
        self.module_file.parent.mkdir(parents=True, exist_ok=True)
        self.module_file.write_text(_dump(self.module), encoding="utf-8")
        for name, text in self.lessons.items():
            self.lesson(name).write_text(text, encoding="utf-8")
        if self.quiz is not None:
            self.quiz_file.parent.mkdir(parents=True, exist_ok=True)
            self.quiz_file.write_text(_dump(self.quiz), encoding="utf-8")
        return self


def _dump(data: dict) -> str:
    """YAML as an author would write it, keys in the given order."""
    return yaml.safe_dump(data, sort_keys=False, width=1000, allow_unicode=True)


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """The number of the line of `path` holding `text` for the `occurrence`-th time."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{text!r} (occurrence {occurrence}) is not in {path}")


def problems_in(*roots: Path) -> list[Problem]:
    """Every problem build_catalog reports for these folders; it must refuse them."""
    with pytest.raises(ContentError) as info:
        build_catalog(list(roots))
    return info.value.problems


def same_file(reported: str, path: Path) -> bool:
    """Whether a problem's file names `path`."""
    return Path(reported).resolve() == path.resolve()


def _listing(problems: list[Problem]) -> str:
    """The problems as the report shows them, for assertion messages."""
    return "\n".join(str(p) for p in problems)


def find(problems: list[Problem], path: Path, fragment: str) -> Problem:
    """The single problem in `path` whose message contains `fragment`."""
    matches = [p for p in problems if same_file(p.file, path) and fragment in p.message]
    assert len(matches) == 1, f"expected one problem in {path} containing {fragment!r}, got:\n{_listing(problems)}"
    return matches[0]


def only_problem(tree: Tree) -> Problem:
    """Write the tree and return its one and only problem."""
    tree.write()
    problems = problems_in(tree.root)
    assert len(problems) == 1, f"expected exactly one problem, got:\n{_listing(problems)}"
    return problems[0]


@pytest.fixture
def tree(tmp_path) -> Tree:
    """A valid, not yet written, content folder."""
    return Tree(tmp_path / "content")


# --- the good path ------------------------------------------------------------------------


def test_valid_tree_builds(tree):
    catalog = build_catalog([tree.write().root])
    assert [m.id for m in catalog.modules] == ["mod-a"]
    assert [q.id for q in catalog.quizzes] == ["mod-a-quiz"]
    module = catalog.module("mod-a")
    assert module.title == "Agreeing goals"
    assert module.minutes == 20
    assert module.objectives == ("Agree a goal with a patient in their own words.",)
    assert catalog.quiz("mod-a-quiz").pass_mark == 70
    assert catalog.quizzes_for("mod-a") == (catalog.quiz("mod-a-quiz"),)


def test_modules_are_ordered_by_order_then_title(tmp_path):
    root = tmp_path / "content"
    modules = [("mod-a", "Zeta", 2), ("mod-b", "Beta", 1), ("mod-c", "Alpha", 2), ("mod-d", "Aardvark", None)]
    for module_id, title, order in modules:
        tree = Tree(root, module_id)
        tree.module["title"] = title
        if order is not None:
            tree.module["order"] = order
        tree.write()
    catalog = build_catalog([root])
    assert [m.id for m in catalog.modules] == ["mod-b", "mod-c", "mod-a", "mod-d"]
    assert [q.module_id for q in catalog.quizzes] == ["mod-b", "mod-c", "mod-a", "mod-d"]


def test_lessons_keep_the_order_of_module_yaml(tree):
    tree.module["lessons"].reverse()
    module = build_catalog([tree.write().root]).module("mod-a")
    assert [(lesson.id, lesson.position) for lesson in module.lessons] == [("second", 1), ("first", 2)]
    assert module.lesson("first").title == "Why goals matter"
    assert module.lesson("first").minutes == 10
    assert module.lesson("nope") is None


def test_sections_have_titles_anchors_and_competencies(tree):
    module = build_catalog([tree.write().root]).module("mod-a")
    first, second = module.lesson("first"), module.lesson("second")
    assert [s.anchor for s in first.sections] == ["why-agree-on-goals", "why-agree-on-goals-2"]
    assert [s.competencies for s in first.sections] == [("bordin.goals", "pcc.sharing-power"), ("bordin.goals",)]
    assert first.competencies == ("bordin.goals", "pcc.sharing-power")
    assert "An introduction to goals" in first.intro_html
    # A blank line between heading and tag is allowed; inline Markdown in a heading is rendered.
    assert second.sections[0].title_html == "The <em>bond</em>"
    assert second.sections[0].competencies == ("bordin.bond",)
    # The tag is an instruction to the app, not text for the learner.
    assert all("competencies:" not in s.html for s in first.sections + second.sections)
    catalog = build_catalog([tree.root])
    assert catalog.lessons_teaching("bordin.bond") == (second,)


def test_citations_become_numbered_links_to_the_reference_list(tree):
    module = build_catalog([tree.write().root]).module("mod-a")
    assert [(r.id, r.number) for r in module.references] == [("bordin1979", 1), ("martin2000", 2)]
    lesson = module.lesson("first")
    html = lesson.sections[0].html
    assert '<a href="#ref-martin2000" aria-label="reference 2">[2]</a>' in html
    assert '<a href="#ref-bordin1979" aria-label="reference 1">[1]</a>' in html
    assert "[@" not in html and "[@" not in lesson.intro_html
    assert '<a href="#ref-bordin1979" aria-label="reference 1">[1]</a>' in lesson.intro_html
    assert lesson.cited == ("bordin1979", "martin2000")


def test_raw_html_and_scripts_in_markdown_never_reach_the_page(tree):
    hostile = (
        '<script>alert("lesson")</script>\n\n'
        '<img src="x" onerror="alert(1)">\n\n'
        '[click me](javascript:alert(1)) and <b onclick="steal()">bold</b>\n'
    )
    tree.lessons["02-second.md"] = SECOND_LESSON + "\n" + hostile
    tree.quiz["intro"] = '<script>alert("intro")</script>'
    tree.options()[0]["text"] = '<script>alert("option")</script> Ask what matters'
    tree.options()[0]["feedback"] = '<iframe src="https://evil.example"></iframe> Serves goals.'
    catalog = build_catalog([tree.write().root])
    lesson_html = catalog.module("mod-a").lesson("second").sections[0].html
    item = catalog.quiz("mod-a-quiz").items[0]
    intro_html = catalog.quiz("mod-a-quiz").intro_html
    rendered = [lesson_html, intro_html, item.options[0].text_html, item.options[0].feedback_html]
    for html in rendered:
        assert "<script" not in html.lower()
        assert "<iframe" not in html.lower()
        assert "<img" not in html.lower()
        assert "<b " not in html.lower()
        assert 'href="javascript' not in html.lower()
    assert "Warmth and skill build the bond." in lesson_html
    assert "Ask what matters" in item.options[0].text_html


def test_content_version_changes_only_when_a_lesson_changes(tree):
    tree.write()
    before = build_catalog([tree.root]).module("mod-a")
    os.utime(tree.lesson("02-second.md"), (1, 1))  # touched, not changed
    same = build_catalog([tree.root]).module("mod-a")
    assert same.version == before.version
    assert [lesson.version for lesson in same.lessons] == [lesson.version for lesson in before.lessons]

    tree.lesson("02-second.md").write_text(SECOND_LESSON + "\nOne more sentence.\n", encoding="utf-8")
    after = build_catalog([tree.root]).module("mod-a")
    assert after.version != before.version
    assert after.lesson("second").version != before.lesson("second").version
    assert after.lesson("first").version == before.lesson("first").version


def test_catalog_objects_are_immutable(tree):
    catalog = build_catalog([tree.write().root])
    module = catalog.modules[0]
    lesson = module.lessons[0]
    quiz = catalog.quizzes[0]
    item = quiz.items[0]
    targets = [
        (catalog, "modules", ()),
        (module, "title", "Changed"),
        (lesson, "minutes", 99),
        (lesson.sections[0], "html", "<p>changed</p>"),
        (module.references[0], "number", 7),
        (quiz, "pass_mark", 1),
        (item, "max_score", 100),
        (item.options[0], "grade", "harmful"),
        (catalog.competencies[0], "id", "changed"),
    ]
    for obj, attribute, value in targets:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, attribute, value)
    assert isinstance(catalog.modules, tuple) and isinstance(module.lessons, tuple)
    assert isinstance(lesson.sections, tuple) and isinstance(item.options, tuple)
    assert module.title == "Agreeing goals" and quiz.pass_mark == 70


# --- module.yaml problems -----------------------------------------------------------------


def test_broken_yaml_is_reported_at_the_line_of_the_error(tree):
    tree.write()
    text = tree.module_file.read_text(encoding="utf-8").replace("minutes: 20\n", "minutes: 20\n  oops: [unclosed\n", 1)
    tree.module_file.write_text(text, encoding="utf-8")
    problems = problems_in(tree.root)
    assert len(problems) == 1, _listing(problems)
    problem = problems[0]
    assert same_file(problem.file, tree.module_file)
    assert problem.message.startswith("broken YAML")
    assert problem.line == line_of(tree.module_file, "oops:")


def test_a_key_written_twice_is_reported_at_its_second_line(tree):
    tree.write()
    text = tree.module_file.read_text(encoding="utf-8") + "title: Again\n"
    tree.module_file.write_text(text, encoding="utf-8")
    problem = problems_in(tree.root)[0]
    assert same_file(problem.file, tree.module_file)
    assert "the key 'title' appears twice" in problem.message
    assert problem.line == line_of(tree.module_file, "title: Again")


def test_module_file_that_is_a_list_is_reported(tree):
    tree.write()
    tree.module_file.write_text("- id: mod-a\n- title: Agreeing goals\n", encoding="utf-8")
    problems = problems_in(tree.root)
    assert len(problems) == 1, _listing(problems)
    problem = problems[0]
    assert same_file(problem.file, tree.module_file)
    assert problem.line == 1
    assert problem.message == "a module file must be a mapping of keys to values"


@pytest.mark.parametrize("key", ["title", "summary", "minutes", "objectives", "lessons"])
def test_missing_required_module_field(tree, key):
    del tree.module[key]
    problem = only_problem(tree)
    assert same_file(problem.file, tree.module_file)
    assert problem.message == f"the module is missing '{key}'"
    assert problem.line == 1


@pytest.mark.parametrize("key", ["objectives", "lessons"])
def test_empty_objectives_or_lessons(tree, key):
    tree.module[key] = []
    problem = only_problem(tree)
    assert problem.message == f"the module: '{key}' has 0 entries; it needs at least 1"
    assert problem.line == line_of(tree.module_file, f"{key}:")


@pytest.mark.parametrize("minutes", ["twenty", 20.5, 0, True])
def test_minutes_must_be_a_whole_number(tree, minutes):
    tree.module["minutes"] = minutes
    problem = only_problem(tree)
    assert same_file(problem.file, tree.module_file)
    assert "'minutes' must be a whole number" in problem.message
    assert problem.line == line_of(tree.module_file, "minutes:")


@pytest.mark.parametrize("bad_id", ["Mod-A", "mod_a", "2-mod", "mod--a", "-mod"])
def test_module_id_must_be_a_slug(tree, bad_id):
    tree.module["id"] = bad_id
    tree.quiz = None
    problem = only_problem(tree)
    assert same_file(problem.file, tree.module_file)
    assert f"'id' is '{bad_id}'; use lower-case letters, digits and single hyphens" in problem.message
    assert problem.line == 1


def test_lesson_id_must_be_a_slug(tree):
    tree.module["lessons"][1]["id"] = "Second Lesson"
    problem = only_problem(tree)
    assert problem.message.startswith("lesson 2: 'id' is 'Second Lesson'")
    assert problem.line == line_of(tree.module_file, "id: Second Lesson")


def test_unknown_key_is_reported_as_a_typo_with_the_expected_keys(tree):
    tree.module["sumary"] = tree.module.pop("summary")
    tree.write()
    problems = problems_in(tree.root)
    typo = find(problems, tree.module_file, "unknown key 'sumary'")
    assert typo.line == line_of(tree.module_file, "sumary:")
    assert "summary" in typo.message  # names the keys it expected
    missing = find(problems, tree.module_file, "missing 'summary'")
    assert missing.line == 1
    assert len(problems) == 2, _listing(problems)


def test_unknown_key_in_a_lesson_entry(tree):
    tree.module["lessons"][0]["minuts"] = 5
    problem = only_problem(tree)
    assert problem.message.startswith("lesson 1 has an unknown key 'minuts'")
    assert problem.line == line_of(tree.module_file, "minuts:")


def test_lesson_naming_a_missing_file(tree):
    tree.module["lessons"][1]["file"] = "03-missing.md"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.module_file)
    assert problem.message == "lesson 2 names the file '03-missing.md', which does not exist"
    assert problem.line == line_of(tree.module_file, "file: 03-missing.md")


def test_lesson_file_outside_the_module_folder(tree):
    tree.module["lessons"][0]["file"] = "../x.md"
    tree.write()
    (tree.module_file.parent.parent / "x.md").write_text(FIRST_LESSON, encoding="utf-8")  # it exists, but outside
    problems = problems_in(tree.root)
    assert len(problems) == 1, _listing(problems)
    problem = problems[0]
    assert same_file(problem.file, tree.module_file)
    assert problem.message == "lesson 1: the file '../x.md' must be inside the module's folder"
    assert problem.line == line_of(tree.module_file, "file: ../x.md")


def test_lesson_file_by_absolute_path_is_refused(tree, tmp_path):
    outside = tmp_path / "elsewhere.md"
    outside.write_text(FIRST_LESSON, encoding="utf-8")
    tree.module["lessons"][0]["file"] = str(outside)
    problem = only_problem(tree)
    assert "must be inside the module's folder" in problem.message


def test_duplicate_lesson_ids(tree):
    tree.module["lessons"][1]["id"] = "first"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.module_file)
    assert problem.message == "two lessons have the id 'first'"
    assert problem.line == line_of(tree.module_file, "- id: first", occurrence=2)


def test_duplicate_reference_ids(tree):
    tree.module["references"][1]["id"] = "bordin1979"
    tree.lessons["01-first.md"] = FIRST_LESSON.replace("[@martin2000]", "")
    problem = only_problem(tree)
    assert problem.message == "two references have the id 'bordin1979'"
    assert problem.line == line_of(tree.module_file, "- id: bordin1979", occurrence=2)


def test_duplicate_module_ids_across_two_folders(tmp_path):
    first = Tree(tmp_path / "shipped").write()
    second = Tree(tmp_path / "institution", quiz=False).write()
    problems = problems_in(first.root, second.root)
    assert len(problems) == 1, _listing(problems)
    problem = problems[0]
    assert same_file(problem.file, second.module_file)
    assert problem.line == 1
    assert problem.message.startswith("the module id 'mod-a' is also used by ")
    assert problem.message.endswith(str(Path("shipped", "modules", "mod-a", "module.yaml")))


def test_non_utf8_module_file(tree):
    tree.write()
    tree.module_file.write_bytes(tree.module_file.read_bytes().replace(b"Agreeing goals", b"Caf\xe9 goals"))
    problems = problems_in(tree.root)
    assert len(problems) == 1, _listing(problems)
    assert same_file(problems[0].file, tree.module_file)
    assert problems[0].message == "the file is not UTF-8 text"


# --- lesson Markdown problems -------------------------------------------------------------


def test_lesson_with_a_level_one_heading(tree):
    tree.lessons["02-second.md"] = "# The bond\n\n" + SECOND_LESSON
    problem = only_problem(tree)
    assert same_file(problem.file, tree.lesson("02-second.md"))
    assert problem.line == 1
    assert "must not have a level-1 heading" in problem.message


def test_lesson_with_only_a_level_one_heading_and_prose(tree):
    # An author's first draft: "# Title" and prose, no sections. Both mistakes must be reported.
    tree.lessons["02-second.md"] = "# The bond\n\nWarmth and skill build the bond.\n"
    tree.write()
    problems = problems_in(tree.root)
    lesson = tree.lesson("02-second.md")
    assert find(problems, lesson, "level-1 heading").line == 1
    assert find(problems, lesson, "the lesson has no sections").line is None
    assert len(problems) == 2, _listing(problems)


def test_a_hash_line_inside_a_code_block_is_not_a_heading(tree):
    tree.lessons["02-second.md"] = SECOND_LESSON + "\n```\n# a shell comment\n## not a section\n```\n"
    lesson = build_catalog([tree.write().root]).module("mod-a").lesson("second")
    assert len(lesson.sections) == 1
    assert "# a shell comment" in lesson.sections[0].html


def test_section_without_a_competencies_tag(tree):
    tree.lessons["02-second.md"] = SECOND_LESSON + "\n## Untagged section\n\nSome prose.\n"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.lesson("02-second.md"))
    assert problem.line == line_of(tree.lesson("02-second.md"), "## Untagged section")
    assert problem.message.startswith("section 'Untagged section' has no competencies tag")


def test_lesson_without_any_section(tree):
    tree.lessons["02-second.md"] = "Only an introduction, no section.\n"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.lesson("02-second.md"))
    assert "the lesson has no sections" in problem.message


def test_unknown_competency_in_a_section_tag(tree):
    tree.lessons["01-first.md"] = FIRST_LESSON.replace("pcc.sharing-power", "pcc.sharing-powr")
    problem = only_problem(tree)
    assert same_file(problem.file, tree.lesson("01-first.md"))
    assert problem.line == line_of(tree.lesson("01-first.md"), "pcc.sharing-powr")
    assert problem.message == "section 'Why agree on goals?': unknown competency id 'pcc.sharing-powr'"


def test_empty_competencies_tag(tree):
    tree.lessons["02-second.md"] = SECOND_LESSON.replace("bordin.bond", " ")
    problem = only_problem(tree)
    assert problem.line == line_of(tree.lesson("02-second.md"), "<!-- competencies:")
    assert "names no competency" in problem.message


def test_citation_not_in_the_references(tree):
    tree.lessons["02-second.md"] = SECOND_LESSON + "\nAs one study showed [@nope].\n"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.lesson("02-second.md"))
    assert problem.line == line_of(tree.lesson("02-second.md"), "[@nope]")
    assert problem.message == "cites [@nope], which is not in the module's references"


def test_non_utf8_lesson_file(tree):
    tree.write()
    tree.lesson("02-second.md").write_bytes(SECOND_LESSON.encode("utf-8") + b"\nCaf\xe9 au lait.\n")
    problems = problems_in(tree.root)
    assert len(problems) == 1, _listing(problems)
    assert same_file(problems[0].file, tree.lesson("02-second.md"))
    assert problems[0].message == "the file is not UTF-8 text"


# --- quiz problems ------------------------------------------------------------------------


def test_duplicate_quiz_ids(tree):
    tree.write()
    copy_file = tree.quiz_file.with_name("zz-copy.yaml")
    copy_file.write_text(tree.quiz_file.read_text(encoding="utf-8"), encoding="utf-8")
    problems = problems_in(tree.root)
    assert len(problems) == 1, _listing(problems)
    problem = problems[0]
    assert same_file(problem.file, copy_file)
    assert problem.line == 1
    assert problem.message.startswith("the quiz id 'mod-a-quiz' is also used by ")
    assert problem.message.endswith("mod-a-quiz.yaml")


def test_quiz_missing_pass_mark(tree):
    del tree.quiz["pass_mark"]
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == "the quiz is missing 'pass_mark'"
    assert problem.line == 1


@pytest.mark.parametrize("pass_mark", [0, 101, "seventy", -5, 70.5])
def test_pass_mark_must_be_1_to_100(tree, pass_mark):
    tree.quiz["pass_mark"] = pass_mark
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == f"the quiz: 'pass_mark' must be a whole number from 1 to 100, not {pass_mark!r}"
    assert problem.line == line_of(tree.quiz_file, "pass_mark:")


@pytest.mark.parametrize("pass_mark", [1, 100])
def test_pass_mark_bounds_are_accepted(tree, pass_mark):
    tree.quiz["pass_mark"] = pass_mark
    assert build_catalog([tree.write().root]).quiz("mod-a-quiz").pass_mark == pass_mark


@pytest.mark.parametrize("marking", ["by-vibes", 3, ["certainty"]])
def test_marking_must_be_standard_or_certainty(tree, marking):
    tree.quiz["marking"] = marking
    problem = only_problem(tree)
    assert problem.message == f"the quiz: 'marking' must be 'standard' or 'certainty', not {marking!r}"
    assert problem.line == line_of(tree.quiz_file, "marking:")


@pytest.mark.parametrize("marking", ["standard", "certainty"])
def test_marking_is_read(tree, marking):
    tree.quiz["marking"] = marking
    assert build_catalog([tree.write().root]).quiz("mod-a-quiz").marking == marking


def test_quiz_pairing_with_a_module_that_does_not_exist(tree):
    tree.quiz["module"] = "mod-z"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == "the quiz pairs with the module 'mod-z', which does not exist"
    assert problem.line == line_of(tree.quiz_file, "module: mod-z")


def test_quiz_of_a_broken_module_is_not_called_orphaned(tree):
    del tree.module["title"]
    problem = only_problem(tree)  # only the module's own problem, no "does not exist" for the quiz
    assert same_file(problem.file, tree.module_file)


def test_unknown_quiz_key(tree):
    tree.quiz["passmark"] = 70
    problem = only_problem(tree)
    assert problem.message.startswith("the quiz has an unknown key 'passmark'")
    assert problem.line == line_of(tree.quiz_file, "passmark:")


def test_unknown_item_type(tree):
    tree.quiz["items"][0]["type"] = "essay"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert (
        problem.message == "item 1: unknown item type 'essay' (known: matching, multiple_response, ordering, scenario)"
    )
    assert problem.line == line_of(tree.quiz_file, "type: essay")


def test_duplicate_item_ids(tree):
    tree.quiz["items"].append(copy.deepcopy(tree.quiz["items"][0]))
    problem = only_problem(tree)
    assert problem.message == "two items have the id 'first-item'"
    assert problem.line == line_of(tree.quiz_file, "- id: first-item", occurrence=2)


@pytest.mark.parametrize("count", [2, 6])
def test_scenario_needs_3_to_5_options(tree, count):
    options = [_option("a", "best")] + [_option(f"x{n}", "unhelpful") for n in range(1, count)]
    tree.quiz["items"][0]["options"] = options
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == f"item 'first-item': 'options' has {count} entries; it needs 3 to 5"
    assert problem.line == line_of(tree.quiz_file, "options:")


@pytest.mark.parametrize("count", [3, 5])
def test_scenario_with_3_or_5_options_is_accepted(tree, count):
    tree.quiz["items"][0]["options"] = [_option("a", "best")] + [_option(f"x{n}", "unhelpful") for n in range(1, count)]
    item = build_catalog([tree.write().root]).quiz("mod-a-quiz").items[0]
    assert len(item.options) == count


@pytest.mark.parametrize("feedback", [None, "   "])
def test_option_without_feedback(tree, feedback):
    if feedback is None:
        del tree.options()[1]["feedback"]
    else:
        tree.options()[1]["feedback"] = feedback
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message.startswith("item 'first-item', option 2 has no feedback")
    assert problem.line == line_of(tree.quiz_file, "- id: b")


def test_option_with_an_unknown_grade(tree):
    tree.options()[1]["grade"] = "great"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == (
        "item 'first-item', option 2: 'grade' must be one of best, acceptable, unhelpful, harmful (not 'great')"
    )
    assert problem.line == line_of(tree.quiz_file, "grade: great")


@pytest.mark.parametrize("grade", [["best"], {"x": 1}])
def test_a_grade_that_is_a_list_or_mapping_is_reported_not_a_crash(tree, grade):
    tree.options()[1]["grade"] = grade
    problem = only_problem(tree)
    assert "'grade' must be one of best, acceptable, unhelpful, harmful" in problem.message


def test_a_dangling_link_in_quizzes_is_reported(tree):
    tree.write()
    (tree.quiz_file.parent / "old.yaml").symlink_to(tree.quiz_file.parent / "gone.yaml")
    problems = problems_in(tree.root)
    assert [p.message for p in problems if p.file.endswith("old.yaml")] == [
        "the file cannot be read: No such file or directory"
    ]


def test_option_without_competencies(tree):
    del tree.options()[2]["competencies"]
    problem = only_problem(tree)
    assert problem.message == "item 'first-item', option 3 is missing 'competencies'"
    assert problem.line == line_of(tree.quiz_file, "- id: c")


def test_unknown_competency_in_a_quiz_option(tree):
    tree.options()[2]["competencies"] = ["bordin.bond", "comm.telepathy"]
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == "item 'first-item', option 3: unknown competency id 'comm.telepathy'"
    assert problem.line == line_of(tree.quiz_file, "competencies:", occurrence=3)


@pytest.mark.parametrize(
    ("grades", "best_count"), [(["best", "best", "harmful"], 2), (["acceptable", "unhelpful", "harmful"], 0)]
)
def test_exactly_one_option_must_be_best(tree, grades, best_count):
    for option, grade in zip(tree.options(), grades, strict=True):
        option["grade"] = grade
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == f"item 'first-item' needs exactly one option graded 'best', not {best_count}"
    assert problem.line == line_of(tree.quiz_file, "options:")


def test_duplicate_option_ids(tree):
    tree.options()[2]["id"] = "a"
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == "item 'first-item': two options have the id 'a'"
    assert problem.line == line_of(tree.quiz_file, "- id: a", occurrence=2)


@pytest.mark.parametrize("field", ["patient", "setting", "says"])
def test_vignette_missing_a_field(tree, field):
    del tree.quiz["items"][0]["vignette"][field]
    problem = only_problem(tree)
    assert same_file(problem.file, tree.quiz_file)
    assert problem.message == f"item 'first-item': vignette is missing '{field}'"
    vignette_line = line_of(tree.quiz_file, "vignette:")
    assert problem.line in (vignette_line, vignette_line + 1)


def test_scenario_without_a_vignette(tree):
    del tree.quiz["items"][0]["vignette"]
    problem = only_problem(tree)
    assert problem.message == "item 'first-item': 'vignette' must be a mapping of keys to values"
    assert problem.line == line_of(tree.quiz_file, "- id: first-item")


# --- every problem at once ----------------------------------------------------------------


def test_all_problems_of_a_file_are_reported_at_once(tree):
    del tree.module["title"]
    tree.module["minutes"] = "lots"
    tree.module["colour"] = "blue"
    tree.module["lessons"][0]["file"] = "01-missing.md"
    tree.module["lessons"][1]["id"] = "Second"
    tree.write()
    problems = problems_in(tree.root)
    mf = tree.module_file
    assert find(problems, mf, "missing 'title'").line == 1
    assert find(problems, mf, "'minutes' must be a whole number").line == line_of(mf, "minutes: lots")
    assert find(problems, mf, "unknown key 'colour'").line == line_of(mf, "colour:")
    assert find(problems, mf, "'01-missing.md', which does not exist").line == line_of(mf, "01-missing.md")
    assert find(problems, mf, "'id' is 'Second'").line == line_of(mf, "id: Second")
    assert len(problems) == 5, _listing(problems)


def test_problems_in_every_file_are_reported_together(tree):
    first_text = FIRST_LESSON.replace("pcc.sharing-power", "pcc.nope")
    tree.lessons["01-first.md"] = "# Title\n\n" + first_text + "\nSee [@nope].\n"
    tree.lessons["02-second.md"] = "## No tag here\n\nProse.\n"
    tree.quiz["pass_mark"] = 0
    tree.options()[1]["grade"] = "great"
    del tree.options()[2]["feedback"]
    tree.write()
    problems = problems_in(tree.root)
    first, second = tree.lesson("01-first.md"), tree.lesson("02-second.md")
    find(problems, first, "level-1 heading")
    find(problems, first, "unknown competency id 'pcc.nope'")
    find(problems, first, "cites [@nope]")
    find(problems, second, "has no competencies tag")
    find(problems, tree.quiz_file, "'pass_mark'")
    find(problems, tree.quiz_file, "'grade' must be one of")
    find(problems, tree.quiz_file, "option 3 has no feedback")
    assert len(problems) == 7, _listing(problems)


def test_report_lists_file_line_message_and_a_count(tree):
    tree.quiz["pass_mark"] = 0
    tree.module["minutes"] = "lots"
    tree.write()
    with pytest.raises(ContentError) as info:
        build_catalog([tree.root])
    lines = info.value.report().splitlines()
    assert f"{tree.module_file}:{line_of(tree.module_file, 'minutes:')}: the module: 'minutes' must be" in lines[0]
    assert lines[1].startswith(f"{tree.quiz_file}:{line_of(tree.quiz_file, 'pass_mark:')}: ")
    assert lines[-1] == "2 problems found in the content."


def test_a_missing_folder_is_a_problem(tmp_path):
    problems = problems_in(tmp_path / "nowhere")
    assert [(p.line, p.message) for p in problems] == [(None, "no such folder")]
    assert same_file(problems[0].file, tmp_path / "nowhere")


# --- the item registry --------------------------------------------------------------------


@pytest.fixture
def item(tree):
    """The valid tree's scenario item: a is best, b acceptable, c harmful."""
    tree.options().append(_option("d", "unhelpful"))
    return build_catalog([tree.write().root]).quiz("mod-a-quiz").items[0]


def test_scenario_best_option_scores_full_marks(item):
    grade = item.handler.grade(item, "a")
    assert (grade.score, grade.max_score, grade.is_correct, grade.grade) == (2, 2, True, "best")
    assert grade.answer == "a"
    # The item assesses its best reply's competency; the harmful distractor's tag earns nothing.
    assert item.competencies == ("bordin.goals",)
    assert grade.competency_refs == ("bordin.goals",)


def test_a_harmful_choice_counts_against_the_competency_it_breaks(item):
    grade = item.handler.grade(item, "c")
    assert grade.competency_refs == ("bordin.goals", "bordin.bond")
    assert not grade.is_correct


@pytest.mark.parametrize(
    ("answer", "score", "label"), [("b", 1, "acceptable"), ("c", 0, "harmful"), ("d", 0, "unhelpful")]
)
def test_scenario_other_options_score_by_grade(item, answer, score, label):
    grade = item.handler.grade(item, answer)
    assert (grade.score, grade.max_score, grade.is_correct, grade.grade) == (score, 2, False, label)


def test_scenario_grading_is_pure(item):
    first = item.handler.grade(item, "c")
    again = item.handler.grade(item, "c")
    assert first == again
    assert item.handler.grade(item, "a").grade == "best"
    assert [o.grade for o in item.options] == ["best", "acceptable", "harmful", "unhelpful"]


def test_grading_an_option_not_in_the_item_raises(item):
    with pytest.raises(AnswerError):
        item.handler.grade(item, "z")


def test_answer_from_form(item):
    handler = REGISTRY["scenario"]
    assert item.handler is handler
    name = field_name(item)
    assert handler.answer_from_form(item, {}) is None
    assert handler.answer_from_form(item, {name: ""}) is None
    assert handler.answer_from_form(item, {"item-other": "a"}) is None
    assert handler.answer_from_form(item, {name: "b"}) == "b"
    with pytest.raises(AnswerError):
        handler.answer_from_form(item, {name: "forged"})


# --- the shipped content ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    """The catalog of the content shipped in modules/ and quizzes/."""
    return build_catalog(content_dirs())


def test_shipped_content_is_valid(shipped):
    assert shipped.modules, "no module is shipped"
    assert shipped.quizzes, "no quiz is shipped"
    for module in shipped.modules:
        assert module.lessons
        assert all(lesson.sections for lesson in module.lessons)


def test_every_shipped_module_has_a_quiz(shipped):
    assert [m.id for m in shipped.modules if not shipped.quizzes_for(m.id)] == []


def test_every_shipped_quiz_has_at_least_10_items_mostly_scenarios(shipped):
    for quiz in shipped.quizzes:
        scenarios = [item for item in quiz.items if item.type == "scenario"]
        assert len(quiz.items) >= 10, f"{quiz.id} has {len(quiz.items)} items"
        assert len(scenarios) >= len(quiz.items) / 2, f"{quiz.id} has {len(scenarios)} scenario items"


def test_shipped_content_uses_only_framework_competencies(shipped):
    framework = {c.id for c in load_competencies()}
    assert len(framework) == 36
    used = set()
    for module in shipped.modules:
        for lesson in module.lessons:
            for section in lesson.sections:
                assert section.competencies, f"{module.id}/{lesson.id}: '{section.anchor}' teaches nothing"
                used.update(section.competencies)
    for quiz in shipped.quizzes:
        for item in quiz.items:
            assert item.competencies, f"{quiz.id}/{item.id} has no competency tags"
            used.update(item.competencies)
            for option in getattr(item, "options", ()):
                used.update(getattr(option, "competencies", ()))
    assert used, "the shipped content names no competency"
    assert used <= framework, f"unknown ids: {sorted(used - framework)}"


def test_shipped_html_has_no_script(shipped):
    for module in shipped.modules:
        for lesson in module.lessons:
            for html in [lesson.intro_html, *(s.html for s in lesson.sections)]:
                assert "<script" not in html.lower()
                assert "[@" not in html, f"{module.id}/{lesson.id} shows a raw citation"


def _curriculum_ids() -> list[str]:
    """The competency ids of the table under '## Competencies' in docs/curriculum.md."""
    assert CURRICULUM.is_file(), f"{CURRICULUM} is missing: the framework cannot be checked against the curriculum"
    ids, in_table = [], False
    for line in CURRICULUM.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            in_table = line.strip() == "## Competencies"
            continue
        match = re.match(r"^\|\s*`([^`]+)`\s*\|", line)
        if in_table and match:
            ids.append(match.group(1))
    return ids


def test_competency_framework_matches_the_curriculum():
    curriculum = _curriculum_ids()
    framework = [c.id for c in load_competencies(COMPETENCIES_FILE)]
    assert len(curriculum) == 36
    assert len(framework) == len(set(framework)), "an id appears twice in competencies.yaml"
    assert sorted(framework) == sorted(curriculum)
    assert all(c.name.strip() and c.description.strip() for c in load_competencies())


def test_reviewer_comments_are_left_out_and_underlined_headings_refused(tmp_path):
    """Authors' HTML comments never reach the page; a setext level-1 heading is a problem."""
    from app.content.loader import build_catalog as build

    root = tmp_path / "c"
    lesson_dir = root / "modules" / "m"
    lesson_dir.mkdir(parents=True)
    (lesson_dir / "module.yaml").write_text(
        "id: m\ntitle: M\nsummary: S\nminutes: 5\nobjectives: [Do it]\n"
        "lessons:\n  - {id: l, title: L, file: l.md, minutes: 5, key_points: [One, Two]}\n"
    )
    (lesson_dir / "l.md").write_text(
        "## Part\n<!-- competencies: comm.empathy -->\n\nSeen.\n<!-- check this with Sam -->\n"
    )
    lesson = build([root]).module("m").lessons[0]
    assert "Sam" not in lesson.sections[0].html and "Seen." in lesson.sections[0].html
    (lesson_dir / "l.md").write_text("Title\n=====\n\n## Part\n<!-- competencies: comm.empathy -->\n\nText.\n")
    from app.content import ContentError

    with pytest.raises(ContentError) as raised:
        build([root])
    assert any(p.line == 2 and "level-1 heading" in p.message for p in raised.value.problems)


def test_an_empty_table_corner_is_not_rendered_as_a_header_cell():
    from app.content import markdown

    html = markdown.render("| | AL | SL |\n|---|---|---|\n| Pain | 1.83 | 1.03 |\n")
    assert "<th></th>" not in html and "<td></td>" in html and "<th>AL</th>" in html


def test_a_chart_value_must_be_a_finite_number_and_a_chart_is_placed_once(tree):
    tree.module["charts"] = [
        {
            "id": "groups",
            "title": "Group sizes",
            "description": "How many people were in each group.",
            "axis": "People",
            "study": "bordin1979",
            "bars": [{"label": "A", "value": "nan"}, {"label": "B", "value": "30"}],
        }
    ]
    tree.lessons["01-first.md"] += "\n{{chart: groups}}\n\n{{chart: groups}}\n"
    tree.write()
    problems = problems_in(tree.root)
    assert find(problems, tree.module_file, "'value' must be a number, not 'nan'")
    assert find(problems, tree.lesson("01-first.md"), "places the chart 'groups' a second time")
