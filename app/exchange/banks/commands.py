"""`alliance export quiz` and `alliance import quiz`: quiz banks on the command line."""

import os
import re
import sys
from pathlib import Path

import click

from app.config import content_dirs_from_env
from app.content import ContentError, content_dirs, load_once
from app.content.loader import load_competencies
from app.exchange.banks import export as export_bank
from app.exchange.banks import formats, gift_reader, importing, mapping, moodle_reader
from app.exchange.banks.bank import BankError, read_limited
from app.exchange.cli import export, import_

_READERS = {"gift": gift_reader.read, "moodle-xml": moodle_reader.read}


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _penalty(_ctx, _param, value: float) -> float:
    if value < 0 or not mapping.is_moodle_grade(value):
        allowed = ", ".join(mapping.percent_text(g) for g in mapping.MOODLE_GRADES)
        raise click.BadParameter(f"use one of the fractions Moodle accepts: {allowed}")
    return value


@export.command("quiz")
@click.argument("quiz_id")
@click.option("--format", "format_name", type=click.Choice(["gift", "moodle-xml", "qti21"]), required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write; standard output when left out.",
)
@click.option(
    "--harmful-penalty",
    type=float,
    default=mapping.DEFAULT_HARMFUL_PENALTY,
    show_default=True,
    callback=_penalty,
    help="Percent of an item's mark a harmful reply takes away; 0 grades exactly as Alliance does.",
)
def export_quiz(quiz_id: str, format_name: str, output: Path | None, harmful_penalty: float) -> None:
    """Write quiz QUIZ_ID as a question bank: GIFT, Moodle XML or a QTI 2.1 package (docs/quiz-banks.md)."""
    try:
        catalog = load_once(content_dirs(content_dirs_from_env(os.environ.get("ALLIANCE_CONTENT_DIRS"))))
    except ContentError as exc:
        _fail(f"the content has problems, so nothing was exported:\n{exc.report()}")
    quiz = catalog.quiz(quiz_id)
    if quiz is None:
        known = ", ".join(q.id for q in catalog.quizzes)
        _fail(f"there is no quiz '{quiz_id}'. The quizzes are: {known}")
    data = export_bank(quiz, format_name, harmful_penalty)
    _kept, left_out = mapping.exportable(quiz)
    for item in left_out:
        click.echo(f"Left out item '{item.id}': {item.type} items have no question type in {format_name}.", err=True)
    if output is None:
        if format_name == "qti21" and sys.stdout.isatty():
            _fail("a QTI package is a zip file: give -o FILE.zip to write it")
        sys.stdout.buffer.write(data)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    label = formats()[format_name].label
    click.echo(f"Wrote {len(quiz.items) - len(left_out)} questions of '{quiz.title}' as {label} to {output}.", err=True)


@import_.command("quiz")
@click.argument("bank_file", type=click.Path(path_type=Path))
@click.option("--format", "format_name", type=click.Choice(["gift", "moodle-xml"]), required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The quiz YAML to write: quizzes/NEW-ID.yaml.",
)
@click.option("--title", help="The quiz's title [default: the bank's category, or the file's name].")
@click.option("--module", "module_id", help="The id of the module the quiz pairs with (else left for you to fill in).")
@click.option(
    "--competency",
    "competencies",
    multiple=True,
    help="A competency id for questions whose tags name none (repeatable).",
)
@click.option("--pass-mark", type=click.IntRange(1, 100), default=importing.DEFAULT_PASS_MARK, show_default=True)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def import_quiz(
    bank_file: Path, format_name: str, output: Path, title: str | None, module_id: str | None,
    competencies: tuple[str, ...], pass_mark: int, force: bool,
) -> None:  # fmt: skip
    """Turn a GIFT or Moodle XML bank of multiple-choice questions into quiz YAML, listing what did not come across."""
    quiz_id = output.stem
    if not re.fullmatch(r"[a-z][a-z0-9-]*", quiz_id):
        _fail(
            f"the output's name gives the quiz id, '{quiz_id}', which must be lower-case letters, digits and hyphens, starting with a letter"
        )
    if output.suffix not in (".yaml", ".yml"):
        _fail(f"write the quiz to a .yaml file, not {output.name}")
    if output.exists() and not force:
        _fail(f"{output} exists already; choose another name, or add --force to replace it")
    known = frozenset(c.id for c in load_competencies())
    unknown = [c for c in competencies if c not in known]
    if unknown:
        _fail(f"unknown competency id {', '.join(unknown)}: the ids are in app/content/competencies.yaml")
    try:
        bank = _READERS[format_name](read_limited(bank_file))
    except BankError as exc:
        _fail(f"{bank_file}: {exc}")
    result = importing.convert(bank, quiz_id, title, module_id, list(competencies), known, pass_mark)
    if not result.items:
        _report(result)
        _fail(f"no question in {bank_file} could become an Alliance item, so nothing was written")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(result.yaml_text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"Wrote {result.items} item{'s' if result.items != 1 else ''} to {output}.")
    _report(result)
    if result.to_fill:
        click.echo(f"Then run: alliance content check {output.parent}")


def _report(result: importing.Imported) -> None:
    """Say what did not come across, what changed, and what the author must fill in."""
    if result.skipped:
        click.echo(f"Not imported ({len(result.skipped)}):")
        for name, why in result.skipped:
            click.echo(f"  - {name}: {why}")
    if result.notes:
        click.echo("Grading changes:")
        for note in result.notes:
            click.echo(f"  - {note}")
    if result.to_fill:
        click.echo("Fill in before `alliance content check` passes:")
        for what in result.to_fill:
            click.echo(f"  - {what}")
