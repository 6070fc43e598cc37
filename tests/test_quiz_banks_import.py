"""Banks read back into quiz YAML: round trips, a foreign bank with what cannot come across, and bad files."""

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import app.exchange.banks.commands  # noqa: F401,I001  (adds the commands to the groups)
from app.content import content_dirs
from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem
from app.content.loader import load_competencies, load_content
from app.exchange.banks import export, gift_reader, importing, moodle_reader
from app.exchange.banks.bank import MAX_BYTES
from app.exchange.cli import export as export_group
from app.exchange.cli import import_ as import_group

KNOWN = frozenset(c.id for c in load_competencies())
READERS = {"gift": gift_reader.read, "moodle-xml": moodle_reader.read}
ALLIANCE = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "alliance"


def _load(folder: Path):
    loaded = load_content(content_dirs([folder]), explicit=frozenset([folder]))
    assert not loaded.errors, "\n".join(str(p) for p in loaded.errors)
    return loaded.catalog


def _same(original, imported) -> None:
    """What a learner sees and how it is graded: the same for every item."""
    assert [i.type for i in imported.items] == [i.type for i in original.items]
    for old, new in zip(original.items, imported.items, strict=True):
        assert (new.id, new.prompt_html) == (old.id, old.prompt_html)
        if isinstance(old, ScenarioItem):
            assert new.vignette == old.vignette
            assert [(o.text_html, o.grade, o.score, o.feedback_html) for o in new.options] == [
                (o.text_html, o.grade, o.score, o.feedback_html) for o in old.options
            ]
        elif isinstance(old, MultipleResponseItem):
            assert [(o.text_html, o.is_correct, o.feedback_html) for o in new.options] == [
                (o.text_html, o.is_correct, o.feedback_html) for o in old.options
            ]
            assert new.feedback_html == old.feedback_html
        elif isinstance(old, OrderingItem):
            assert (new.steps_html, new.feedback_html) == (old.steps_html, old.feedback_html)
        else:
            assert isinstance(old, MatchingItem)
            assert (new.pairs, new.choices, new.feedback_html) == (old.pairs, old.choices, old.feedback_html)
        assert new.competencies == old.competencies


@pytest.mark.parametrize("format_name", ["gift", "moodle-xml"])
def test_every_quiz_exported_then_imported_gives_the_same_stems_options_and_grades(catalog, tmp_path, format_name):
    folder = tmp_path / "content" / "quizzes"
    folder.mkdir(parents=True)
    pairs = []
    for quiz in catalog.quizzes:
        bank = READERS[format_name](export(quiz, format_name))
        result = importing.convert(bank, f"copy-of-{quiz.id}", None, quiz.module_id, [], KNOWN)
        assert (result.skipped, result.to_fill) == ([], [])
        (folder / f"copy-of-{quiz.id}.yaml").write_text(result.yaml_text, encoding="utf-8")
        pairs.append((quiz, f"copy-of-{quiz.id}"))
    imported = _load(folder.parent)
    for quiz, copy_id in pairs:
        copy = imported.quiz(copy_id)
        assert copy.title == quiz.title
        _same(quiz, copy)


FOREIGN = """// A bank from another course, nothing to do with Alliance
$CATEGORY: $course$/top/Back pain basics

::Red flags::Which finding needs urgent referral?{
=Saddle anaesthesia#Cauda equina must be ruled out today.
~%50%Night pain#Worth asking about, not urgent alone.
~Stiffness in the morning#Common and benign.
~%-100%Reassure and discharge#Misses a red flag.
}

::Two options only::Is exercise helpful?{=Yes ~No}

::Short::Name the nerve root of the big toe.{=L5}

::Truth::Imaging is needed for most back pain.{F}

::Tick all::[html]Which are <em>yellow</em> flags?{
~%50%Fear of movement#Yes
~%50%Low mood#Yes
~%-50%Fever#No: that is a red flag.
}

::Match::Match each test{
=Slump test -> neural tension
=Straight leg raise -> sciatic nerve
=FABER -> sacroiliac joint
####These are the usual readings.
}
"""


def test_a_foreign_bank_maps_what_it_can_and_lists_the_rest_with_why(tmp_path):
    runner = CliRunner()
    (tmp_path / "bank.gift").write_text(FOREIGN, encoding="utf-8")
    out = tmp_path / "content" / "quizzes" / "back-pain-basics.yaml"
    result = runner.invoke(import_group, ["quiz", str(tmp_path / "bank.gift"), "--format", "gift", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 items" in result.output
    assert (
        "'Two options only' (line 11): a single-answer question becomes a scenario item, which has 3 to 5 replies; this one has 2"
        in result.output
    )
    assert "'Short' (line 13): a short answer question has no Alliance item type" in result.output
    assert "'Truth' (line 15): a true/false question has no Alliance item type" in result.output
    assert "the quiz: module" in result.output and "item 'red-flags': the vignette" in result.output
    assert "item 'red-flags': competencies" in result.output
    text = out.read_text(encoding="utf-8")
    assert "title: Back pain basics" in text and "# Fill in: item 'match': competencies" in text
    # The check names each gap; filled in, the quiz is valid.
    problems = load_content(content_dirs([out.parent.parent]), explicit=frozenset([out.parent.parent])).errors
    assert any("'patient' must be non-empty text" in p.message for p in problems)
    filled = text.replace("module: ''", "module: communication-skills").replace(
        "competencies: []", "competencies: [comm.empathy]"
    )
    filled = filled.replace("patient: ''", "patient: Mr Okoro, 45, builder").replace("setting: ''", "setting: Clinic")
    filled = filled.replace("says: ''", "says: My back went yesterday.")
    out.write_text(filled, encoding="utf-8")
    quiz = _load(out.parent.parent).quiz("back-pain-basics")
    red, tick, match = quiz.items
    assert [o.grade for o in red.options] == ["best", "acceptable", "unhelpful", "harmful"]
    assert red.prompt_html == "Which finding needs urgent referral?"
    assert [o.is_correct for o in tick.options] == [
        True,
        True,
        False,
    ] and tick.prompt_html == "Which are <em>yellow</em> flags?"
    assert [p.answer for p in match.pairs] == ["neural tension", "sciatic nerve", "sacroiliac joint"]


def test_default_competencies_and_module_leave_nothing_to_fill_but_the_vignette(tmp_path):
    (tmp_path / "bank.gift").write_text(FOREIGN, encoding="utf-8")
    out = tmp_path / "quizzes" / "bank-quiz.yaml"
    args = ["quiz", str(tmp_path / "bank.gift"), "--format", "gift", "-o", str(out), "--module", "communication-skills"]
    result = CliRunner().invoke(import_group, [*args, "--competency", "comm.empathy", "--title", "Back pain"])
    assert result.exit_code == 0
    fill = [line for line in result.output.split("Fill in before")[1].splitlines() if line.startswith("  - ")]
    assert fill == ["  - item 'red-flags': the vignette (patient, setting, what the patient says)"]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<quiz><question type="multichoice"><name><text>&lol3;</text></name></question></quiz>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]><quiz>&x;</quiz>"""


@pytest.mark.parametrize(
    ("format_name", "content", "message"),
    [
        ("gift", b"\x89PNG\r\n\x1a\n\x00\x00", "this is not a GIFT file: it holds binary data"),
        ("gift", b"Just a paragraph of notes.\n", "could become an Alliance item, so nothing was written"),
        ("gift", b"::Q:: What? {=yes ~no ~maybe\n", "never closes them with '}'"),
        ("gift", b"\xff\xfe bad", "not a UTF-8 text file"),
        ("moodle-xml", b"<quiz><question type='multichoice'>", "not well-formed XML"),
        ("moodle-xml", b"<html><body/></html>", "its root element is <html>, not <quiz>"),
        ("moodle-xml", BOMB, "declares a DOCTYPE"),
        ("moodle-xml", EXTERNAL, "declares a DOCTYPE"),
        ("moodle-xml", b"<quiz/>", "holds no questions"),
    ],
)
def test_a_bad_bank_gets_a_clear_message_and_a_failing_status(tmp_path, format_name, content, message):
    bank = tmp_path / "bank.in"
    bank.write_bytes(content)
    out = tmp_path / "quizzes" / "new-quiz.yaml"
    result = CliRunner().invoke(import_group, ["quiz", str(bank), "--format", format_name, "-o", str(out)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    bank = tmp_path / "huge.gift"
    with bank.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    result = CliRunner().invoke(import_group, ["quiz", str(bank), "--format", "gift", "-o", str(tmp_path / "q.yaml")])
    assert result.exit_code == 1 and "a bank file may be at most 5 MB" in result.output


def test_the_installed_command_reports_a_broken_bank_without_a_traceback(tmp_path):
    (tmp_path / "broken.xml").write_text("<quiz><question>", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "ALLIANCE_"))}
    env["ALLIANCE_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'a.sqlite'}"
    done = subprocess.run(
        [str(ALLIANCE), "import", "quiz", "broken.xml", "--format", "moodle-xml", "-o", "quizzes/x.yaml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert "broken.xml: this is not well-formed XML" in done.stderr


def test_export_names_the_quizzes_when_the_id_is_unknown_and_refuses_a_penalty_moodle_would_reject(catalog):
    result = CliRunner().invoke(export_group, ["quiz", "no-such-quiz", "--format", "gift"])
    assert (
        result.exit_code == 1
        and f"there is no quiz 'no-such-quiz'. The quizzes are: {catalog.quizzes[0].id}" in result.output
    )
    result = CliRunner().invoke(
        export_group, ["quiz", catalog.quizzes[0].id, "--format", "gift", "--harmful-penalty", "42"]
    )
    assert result.exit_code == 2 and "use one of the fractions Moodle accepts" in result.output


def test_export_writes_the_file_asked_for(catalog, tmp_path):
    quiz = catalog.quizzes[0]
    out = tmp_path / "bank.xml"
    result = CliRunner().invoke(export_group, ["quiz", quiz.id, "--format", "moodle-xml", "-o", str(out)])
    assert result.exit_code == 0 and out.read_bytes() == export(quiz, "moodle-xml")
    assert f"Wrote {len(quiz.items)} questions of '{quiz.title}' as Moodle XML to {out}." in result.output
