"""The `alliance` command: Flask's CLI over the app factory, plus content and user commands."""

import csv
import io
import json
import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.config import ConfigError, content_dirs_from_env
from app.content import ContentError, Problem, content_dirs
from app.content.loader import build_catalog, load_content
from app.credentials.cli import credentials as credentials_commands
from app.errors import startup_failure
from app.exchange.cli import register as register_exchange
from app.lti.cli import lti as lti_commands
from app.mail_cli import mail_commands
from app.models import ROLES
from app.worker import worker_command


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
    "Start with `alliance db upgrade`, then `alliance serve` (the production server) or `alliance run` "
    "(the development server).",
)


@cli.command("serve", with_appcontext=False)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets other machines on the network in (a class on the same Wi-Fi).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes, each serving one request at a time [default: two per core and one more, at most 12].",
)
@click.option(
    "--access-log",
    default="-",
    show_default=True,
    help="Where each request is logged: '-' for standard output, a file, or 'off'.",
)
@click.option(
    "--timeout",
    type=click.IntRange(5, 3600),
    default=60,
    show_default=True,
    help="Seconds a request may take before its worker is restarted.",
)
def serve(host: str, port: int, workers: int | None, access_log: str, timeout: int) -> None:
    """Run the production server (gunicorn): the app built once, then workers that share it.

    Stop it with TERM: requests in progress finish first (30 s at most); Ctrl-C stops at once.
    HUP replaces the workers gracefully (code and content changes need a restart). Invalid content or
    settings stop it before it listens, with the report and exit status 3. `alliance run` is the
    development server.
    """
    from app.serve import build_app, default_workers, run, settings

    app = build_app()
    options = settings(
        app,
        host=host,
        port=port,
        workers=workers or default_workers(),
        access_log=None if access_log.strip().lower() == "off" else access_log,
        timeout=timeout,
    )
    run(app, options)


@cli.group()
def content() -> None:
    """Check lesson modules and quizzes."""


def _folders(dirs: tuple[Path, ...]) -> list[Path]:
    """The shipped content plus DIRS, or plus ALLIANCE_CONTENT_DIRS when no DIRS are given: as the app loads it."""
    extra = list(dirs) if dirs else content_dirs_from_env(os.environ.get("ALLIANCE_CONTENT_DIRS"))
    return content_dirs(extra)


@content.command("check", with_appcontext=False)
@click.option(
    "--stats",
    is_flag=True,
    help="Also print, per quiz and conversation, how often the best option is the longest or shortest, "
    "where it stands, and the grades.",
)
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path))
def content_check(stats: bool, dirs: tuple[Path, ...]) -> None:
    """Validate content and print every problem, then every warning; exit 1 when there is any problem.

    With DIRS, checks those folders beside the shipped content, as the app would load them;
    without, the shipped content and ALLIANCE_CONTENT_DIRS. Warnings (such as item-quality rules
    not yet enforced) are printed but fail nothing.
    """
    loaded = load_content(_folders(dirs), explicit=frozenset(dirs))
    if loaded.errors:
        click.echo(ContentError(loaded.errors).report(), err=True)
    warnings = sorted((p for p in loaded.problems if p.is_warning), key=Problem.sort_key)
    if warnings:
        click.echo("\n".join(str(p) for p in warnings))
        click.echo(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}.")
    if stats:
        from app.content.quality_stats import stats_table  # only here: not in every command's start

        click.echo(f"\n{stats_table(loaded.banks)}")
    if loaded.errors:
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
    from email_validator import EmailNotValidError, validate_email
    from flask import current_app

    from app.extensions import db
    from app.services.accounts import AccountError, create_user, password_problem

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
    if problem := password_problem(password, email, display_name):
        raise click.ClickException(problem)
    try:
        user = create_user(email, display_name, password, role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@cli.group()
def records() -> None:
    """Learning records (xAPI statements): export them, forward them to a Learning Record Store."""


def _write_json(chunks) -> None:
    """Write text chunks to standard output as UTF-8, whatever the terminal's locale."""
    out = click.get_binary_stream("stdout")
    for chunk in chunks:
        out.write(chunk.encode())
    out.flush()


@records.command("export")
@click.option("--learner", metavar="EMAIL", help="Only this learner's statements.")
@click.option("--cohort", metavar="ID", help="Only the statements of this cohort's current students.")
def records_export(learner: str | None, cohort: str | None) -> None:
    """Write statements as a JSON array to standard output: one learner's, one cohort's, or (neither given) all."""
    from flask import current_app

    from app.content import catalog
    from app.extensions import db
    from app.models import Cohort
    from app.models.types import MAX_ID
    from app.records import Site
    from app.services import accounts
    from app.services import records as record_service

    if learner is not None and cohort is not None:
        raise click.UsageError("Give --learner or --cohort, not both.")
    user_id = cohort_id = None
    if learner is not None:
        user = accounts.find_by_email(learner)
        if user is None:
            raise click.BadParameter(f"there is no account with the email {learner!r}.", param_hint="--learner")
        user_id = user.id
    if cohort is not None:
        try:
            cohort_id = int(cohort.strip())
        except ValueError:
            raise click.BadParameter(f"a cohort id is a whole number, not {cohort!r}.", param_hint="--cohort") from None
        if not 0 < cohort_id <= MAX_ID or db.session.get(Cohort, cohort_id) is None:
            raise click.BadParameter(f"there is no cohort with the id {cohort_id}.", param_hint="--cohort")
    site = Site.from_config(current_app.config)
    _write_json(
        record_service.json_chunks(record_service.statements(catalog(), site, user_id=user_id, cohort_id=cohort_id))
    )


def _sender():
    """The configured LRS sender, or a clear refusal (exit 2) when forwarding is not configured."""
    from flask import current_app

    from app.content import catalog
    from app.services import records as record_service

    if not current_app.config.get("LRS_ENDPOINT"):
        click.echo(
            "Forwarding is off: set ALLIANCE_LRS_ENDPOINT (and ALLIANCE_LRS_KEY, ALLIANCE_LRS_SECRET).", err=True
        )
        sys.exit(2)
    if not current_app.config.get("SITE_URL_IS_SET"):
        # Every id sent derives from the site's address: sending under the placeholder would give
        # the LRS ids that change the day the real address is set.
        click.echo(
            "Set ALLIANCE_SITE_URL to the site's public address before forwarding: every statement, person and "
            "activity id sent to the LRS is derived from it.",
            err=True,
        )
        sys.exit(2)
    return record_service.Sender.from_config(catalog(), current_app.config)


@records.command("send")
def records_send() -> None:
    """Send the statements waiting in the outbox to the LRS, in batches, once; print what happened.

    Exits 1 if some had to be left for a later try (the LRS was unreachable or failing).
    """
    summary = _sender().send_due()
    click.echo(summary.line())
    if summary.failed:
        sys.exit(1)


@records.command("worker")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1, max=86400),
    default=10.0,
    show_default=True,
    help="Seconds to wait between passes.",
)
def records_worker(interval: float) -> None:
    """Keep sending: a pass every INTERVAL seconds, until SIGTERM or SIGINT (a batch in flight is finished first).

    `alliance worker` does this and drains every other outbox too.
    """
    from flask import current_app

    from app.worker import DRAINERS, serve_until_stopped

    sender = _sender()
    click.echo(f"Sending learning records to {sender.client.url} every {interval:g} s; stop with SIGTERM or Ctrl-C.")
    serve_until_stopped(current_app._get_current_object(), [DRAINERS["statements"]], interval, max(interval, 300))


@records.command("backfill")
def records_backfill() -> None:
    """Queue for sending every event kept before forwarding was configured (events already queued are skipped)."""
    from app.extensions import db
    from app.models.types import utcnow
    from app.services import records as record_service

    _sender()
    queued = record_service.backfill(utcnow())
    db.session.commit()
    click.echo(f"Queued {queued} statements.")


@records.command("requeue")
def records_requeue() -> None:
    """Send again the statements the LRS refused (after fixing what made it refuse them)."""
    from app.extensions import db
    from app.models.types import utcnow
    from app.services import records as record_service

    _sender()
    queued = record_service.requeue_refused(utcnow())
    db.session.commit()
    click.echo(f"Queued {queued} refused statements to be sent again.")


@records.command("status")
def records_status() -> None:
    """How many statements wait, were sent or were refused, with the latest errors."""
    from app.services import records as record_service

    state = record_service.status()
    click.echo(
        f"Waiting: {state.waiting} ({state.failing} after a failed try). Sent: {state.sent}. Refused: {state.refused}."
    )
    for error in state.errors:
        click.echo(f"  {error}")


register_exchange(cli)
cli.add_command(credentials_commands)  # alliance credentials issue / verify
cli.add_command(worker_command)
cli.add_command(lti_commands)  # alliance lti platforms add|list|remove, config, send, rotate-key
cli.add_command(mail_commands)  # alliance mail send|list|forget


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
