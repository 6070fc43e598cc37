"""`alliance mail`: send the mail waiting in the outbox once, list what waits or was refused, forget a message."""

import sys

import click
from flask.cli import with_appcontext

from app.extensions import db


@click.group("mail")
def mail_commands() -> None:
    """The mail outbox: messages the mail server did not take at once (`alliance worker` retries them)."""


@mail_commands.command("send")
@with_appcontext
def send() -> None:
    """Send the mail that is due, once; exits 1 if some was left for a later try, 2 with no mail server."""
    from flask import current_app

    from app import mail
    from app.services import mail_outbox

    reason = mail.drainer_enabled(current_app)
    if reason is not None:
        click.echo(f"Nothing can be sent: {reason}", err=True)
        sys.exit(2)
    summary = mail_outbox.send_due()
    click.echo(summary.line())
    if summary.failed:
        sys.exit(1)


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@mail_commands.command("list")
@click.option("--refused", "which", flag_value="refused", help="Only messages refused for good.")
@click.option("--waiting", "which", flag_value="waiting", help="Only messages waiting to be sent.")
@click.option(
    "--limit",
    type=click.IntRange(1, 10000),
    default=50,
    show_default=True,
    help="Show at most this many, oldest first.",
)
@with_appcontext
def list_mail(which: str | None, limit: int) -> None:
    """What waits in the outbox and what was refused: id, purpose, address, tries and the last error (no bodies)."""
    from app.services import mail_outbox

    waiting, refused = mail_outbox.counts()
    click.echo(f"{waiting} waiting, {refused} refused for good.")
    rows = mail_outbox.listing(None if which is None else which == "refused", limit)
    for row in rows:
        if row.refused_at:
            state = f"refused {_when(row.refused_at)}"
        else:
            state = f"next try {_when(row.next_attempt_at)}"
            if row.expires_at:
                state += f", dropped at {_when(row.expires_at)}"
        click.echo(
            f"{row.id}\t{row.purpose}\t{row.recipient}\tqueued {_when(row.created_at)}\t"
            f"{row.attempts} tries\t{state}\t{row.last_error or ''}".rstrip()
        )


@mail_commands.command("forget")
@click.argument("mail_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def forget(mail_id: int) -> None:
    """Delete message ID (from `alliance mail list`), waiting or refused, so it is never sent."""
    from app.services import mail_outbox

    if not mail_outbox.forget(mail_id):
        db.session.rollback()
        raise click.BadParameter(
            f"no message {mail_id} is in the outbox (or a sender is sending it right now); see `alliance mail list`.",
            param_hint="ID",
        )
    db.session.commit()
    click.echo(f"Message {mail_id} is deleted; it will not be sent.")
