"""`alliance credentials ...`: issue certificates already earned, verify an Open Badge file."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("credentials")
def credentials() -> None:
    """Certificates and Open Badges for completed assigned courses."""


@credentials.command("issue")
@click.option("--missing", is_flag=True, help="Issue every certificate already earned but not yet issued.")
@with_appcontext
def issue(missing: bool) -> None:
    """Issue certificates learners have earned (for courses completed before certificates existed)."""
    from app.credentials import issuing
    from app.extensions import db

    if not missing:
        raise click.UsageError("Say what to issue: --missing issues every certificate already earned.")
    count = issuing.issue_missing()
    db.session.commit()
    click.echo(f"Issued {count} certificate{'' if count == 1 else 's'}.")


@credentials.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path, allow_dash=True))
@with_appcontext
def verify(file: Path) -> None:
    """Check an Open Badge file (.jwt, or - for standard input): exit 0 if valid, 1 if not or revoked."""
    from app.credentials import badges

    try:
        data = (
            sys.stdin.buffer.read(badges.MAX_TOKEN_BYTES + 1)
            if str(file) == "-"
            else file.read_bytes()[: badges.MAX_TOKEN_BYTES + 1]
        )
    except OSError as exc:
        raise click.FileError(str(file), exc.strerror) from None
    verdict = badges.verify(badges.read_upload(data))
    click.echo(verdict.message)
    if verdict.certificate is not None:
        c = verdict.certificate
        click.echo(
            f"Learner: {c.learner_name}\nCourse: {c.course_title}\nIssued: {c.issued_at:%Y-%m-%d}\nIssuer: {c.issuer_name}"
        )
        if c.is_revoked:
            click.echo(f"Revoked: {c.revoked_at:%Y-%m-%d}: {c.revocation_reason}")
    sys.exit(0 if verdict.is_valid else 1)
