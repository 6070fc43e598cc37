"""The `alliance` command: Flask's CLI over the app factory, plus content and user commands."""

import csv
import io
import json
import os
import sys
from pathlib import Path

import click
from email_validator import EmailNotValidError, validate_email
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.config import ConfigError, content_dirs_from_env
from app.content import ContentError, check_dirs, content_dirs
from app.content.loader import build_catalog
from app.errors import startup_failure
from app.models import ROLES


class AllianceGroup(FlaskGroup):
    """Flask's command group, reporting invalid content plainly when it lists the commands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands; with invalid content, the report and the commands that need no app."""
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except (ContentError, ConfigError) as exc:
            click.echo(f"{startup_failure(exc)}\n", err=True)
            self._load_plugin_commands()
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


cli = AllianceGroup(
    create_app=create_app,
    help="Alliance: e-learning for building a therapeutic alliance.\n\n"
    "Start with `alliance db upgrade` and `alliance run`.",
)


@cli.group()
def content() -> None:
    """Check lesson modules and quizzes."""


def _folders(dirs: tuple[Path, ...]) -> list[Path]:
    """The shipped content plus DIRS, or plus ALLIANCE_CONTENT_DIRS when no DIRS are given: as the app loads it."""
    extra = list(dirs) if dirs else content_dirs_from_env(os.environ.get("ALLIANCE_CONTENT_DIRS"))
    return content_dirs(extra)


@content.command("check", with_appcontext=False)
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path))
def content_check(dirs: tuple[Path, ...]) -> None:
    """Validate content and print every problem; exit 1 when there is any.

    With DIRS, checks those folders beside the shipped content, as the app would load them;
    without, the shipped content and ALLIANCE_CONTENT_DIRS.
    """
    problems = check_dirs(_folders(dirs), explicit=frozenset(dirs))
    if problems:
        click.echo(ContentError(problems).report(), err=True)
        sys.exit(1)
    click.echo("Content is valid.")


@content.command("figures", with_appcontext=False)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path))
def content_figures(fmt: str, dirs: tuple[Path, ...]) -> None:
    """List every figure the modules quote, with what it measures and its study, for checking against sources."""
    try:
        catalog = build_catalog(_folders(dirs), explicit=frozenset(dirs))
    except ContentError as exc:
        click.echo(exc.report(), err=True)
        sys.exit(1)
    records = [
        {
            "module": module.id,
            "value": figure.value,
            "measures": figure.measures,
            "study": figure.study,
            "reference": module.reference(figure.study).text,
        }
        for module in catalog.modules
        for figure in module.figures
    ]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["module", "value", "measures", "study", "reference"])
    writer.writeheader()
    writer.writerows(records)
    click.echo(out.getvalue(), nl=False)


@cli.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.option("--email", required=True, help="The sign-in email.")
@click.option("--name", "display_name", required=True, help="The name shown in the app.")
@click.option("--role", type=click.Choice(ROLES), default="student", show_default=True)
@click.option(
    "--password-file",
    type=click.File("r"),
    help="Read the password from this file's first line ('-' for standard input) instead of a prompt.",
)
def users_create(email: str, display_name: str, role: str, password_file) -> None:
    """Create an account (admins and educators are made this way)."""
    from flask import current_app

    from app.extensions import db
    from app.services.accounts import AccountError, create_user

    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="--email") from None
    if not display_name.strip():
        raise click.BadParameter("must not be blank", param_hint="--name")
    if len(display_name.strip()) > 100:
        raise click.BadParameter("must be at most 100 characters", param_hint="--name")
    if any(ord(ch) < 32 for ch in email + display_name):
        raise click.BadParameter("must not contain control characters", param_hint="--email/--name")
    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise click.ClickException(f"The password must have at least {minimum} characters.")
    try:
        user = create_user(email, display_name, password, role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


def main() -> None:
    """Entry point of the `alliance` console script."""
    try:
        cli.main(prog_name="alliance")
    except (ContentError, ConfigError) as exc:
        # The app refuses to start on invalid content or settings: say why, not a traceback.
        click.echo(startup_failure(exc), err=True)
        sys.exit(1)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        click.echo(
            f"The database could not be used: {reason}\n"
            "Check DATABASE_URL, and run `alliance db upgrade` to create or upgrade the tables.",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
