"""`alliance export scorm MODULE_ID --version 1.2|2004 [-o FILE.zip]`: a module as a SCORM package."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.content import catalog
from app.exchange.cli import export
from app.exchange.scorm import package


@export.command("scorm")
@click.argument("module_id")
@click.option(
    "--version",
    "version",
    type=click.Choice(package.VERSIONS),
    required=True,
    help="SCORM 1.2 (the most widely imported) or SCORM 2004 4th edition.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The zip file to write [default: MODULE_ID-scorm-12.zip or -2004.zip here].",
)
@with_appcontext
def scorm(module_id: str, version: str, output: Path | None) -> None:
    """Write a module's lessons and quiz as a SCORM package a learning platform can import."""
    try:
        data = package.build(catalog(), module_id, version)
    except package.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    target = output or Path(package.filename(module_id, version))
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {target}: {exc.strerror or exc}.") from None
    module = catalog().module(module_id)
    quiz = catalog().first_quiz_for(module_id)
    what = f"{len(module.lessons)} lessons" + (f" and the quiz “{quiz.title}”" if quiz else "")
    click.echo(f"Wrote {target} ({len(data) // 1024} KB): SCORM {version} package of “{module.title}”, {what}.")
