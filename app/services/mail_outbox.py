"""The mail outbox: every message is queued (app.models.mail), tried at once, and retried by `alliance worker`.

`app.mail.send` stores the message in a short transaction of its own, already leased to the process
asking, then hands it to the mail server straight away: a site without a worker still sends promptly.
Sent, the row is deleted (the body may hold a one-time link). Refused for good by the recipient's
server (an SMTP 5xx for the address), it is kept without its body, never tried again, for
`alliance mail list` to show. Otherwise it waits, longer after each failure (MAIL_RETRY_BASE doubled
up to MAIL_RETRY_MAX seconds), until the worker's mail drainer (or `alliance mail send`) claims it
with `app.services.outbox.claim`, so any number of senders send each message once. A message whose
link has expired (`expires_at`) is dropped unsent.
"""

import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, insert, or_, select, update

from app.extensions import db
from app.models import OutgoingMail
from app.models.types import utcnow
from app.services import outbox
from app.services.records import backoff

SENT, REFUSED, FAILED = "sent", "refused", "failed"


def _settings() -> dict:
    config = current_app.config
    return {
        "batch": config.get("MAIL_BATCH_SIZE", 20),
        # Longer than a batch can take at MAIL_TIMEOUT per message, so no lease runs out mid-batch.
        "lease": timedelta(seconds=config.get("MAIL_LEASE_SECONDS", 300)),
        "base": config.get("MAIL_RETRY_BASE", 60),
        "cap": config.get("MAIL_RETRY_MAX", 3600),
    }


def _mailman():
    """Flask-Mailman bound to the app (bound here when the mail server was configured after the app was built)."""
    from flask_mailman import Mail

    if "mailman" not in current_app.extensions:
        Mail().init_app(current_app)
    return current_app.extensions["mailman"]


def _message(recipient: str, subject: str, body: str, connection=None):
    from flask_mailman import EmailMessage

    _mailman()
    return EmailMessage(subject=subject, body=body, to=[recipient], connection=connection)


def outcome_of(exc: BaseException) -> tuple[str, str]:
    """REFUSED when the recipient's server refused the address for good (SMTP 5xx), else FAILED; and the error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, said = next(iter(exc.recipients.values()))
        said = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        if all(500 <= answer[0] < 600 for answer in exc.recipients.values()):
            return REFUSED, f"The recipient's mail server refused the address ({code} {said})."[:500]
        return FAILED, f"The recipient's mail server asked to try later ({code} {said})."[:500]
    return FAILED, f"{type(exc).__name__}: {exc}".rstrip(": ")[:500]


def _settlement(mail_id: int, token: str, outcome: str, error: str | None, attempts: int, now: datetime, retry: bool):
    """The statement recording one try of a leased row: deleted when sent, refused for good, or put back for later."""
    settings = _settings()
    mine = and_(OutgoingMail.id == mail_id, OutgoingMail.lease_token == token)
    if outcome == SENT or (outcome == FAILED and not retry):
        return delete(OutgoingMail).where(mine)
    done = {"lease_token": None, "lease_until": None, "attempts": OutgoingMail.attempts + 1, "last_error": error}
    if outcome == REFUSED:
        done |= {"refused_at": now, "body": ""}  # nobody will send it: the link inside need not stay
    else:
        done["next_attempt_at"] = now + backoff(attempts, settings["base"], settings["cap"])
    return update(OutgoingMail).where(mine).values(**done).execution_options(synchronize_session=False)


# --- sending now, from a request (or a thread it started)


def queue(
    recipient: str, subject: str, body: str, *, user_id: int, purpose: str, valid_for: timedelta | None, now: datetime
) -> tuple[int, str]:
    """Store a message leased to this process, in a transaction of its own; (its id, the lease token).

    Mail of the same purpose still waiting for the same account and address is replaced: its link
    has been replaced too (a second reset link ends the first), so it must not arrive later.
    """
    token = secrets.token_hex(16)
    with db.engine.begin() as conn:
        conn.execute(
            delete(OutgoingMail).where(
                OutgoingMail.user_id == user_id,
                OutgoingMail.purpose == purpose,
                OutgoingMail.recipient == recipient,
                or_(OutgoingMail.lease_until.is_(None), OutgoingMail.lease_until < now),
            )
        )
        inserted = conn.execute(
            insert(OutgoingMail).values(
                user_id=user_id,
                recipient=recipient,
                subject=subject,
                body=body,
                purpose=purpose,
                created_at=now,
                expires_at=now + valid_for if valid_for else None,
                attempts=0,
                next_attempt_at=now,
                lease_token=token,
                lease_until=now + _settings()["lease"],
            )
        )
        return inserted.inserted_primary_key[0], token


def send_now(
    recipient: str,
    subject: str,
    body: str,
    *,
    user_id: int,
    purpose: str,
    valid_for: timedelta | None = None,
    retry: bool = True,
) -> None:
    """Queue a message and send it at once; raises what the mail server raised, the row kept for a retry if `retry`."""
    mail_id, token = queue(
        recipient, subject, body, user_id=user_id, purpose=purpose, valid_for=valid_for, now=utcnow()
    )
    try:
        _message(recipient, subject, body).send()
    except Exception as exc:
        outcome, error = outcome_of(exc)
        current_app.logger.warning("Mail %s (%s) not sent: %s", mail_id, purpose, error)
        with db.engine.begin() as conn:
            conn.execute(_settlement(mail_id, token, outcome, error, 0, utcnow(), retry))
        raise
    with db.engine.begin() as conn:
        conn.execute(_settlement(mail_id, token, SENT, None, 0, utcnow(), retry))


# --- draining, for `alliance worker` and `alliance mail send`


@dataclass
class Sent:
    """What one sending pass did."""

    sent: int = 0
    refused: int = 0
    failed: int = 0
    expired: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for an operator."""
        text = f"Sent {self.sent} emails; refused {self.refused}; {self.failed} to retry later."
        if self.expired:
            text += f" Dropped {self.expired} whose link had expired."
        return text + (f" Last error: {self.errors[-1]}" if self.errors else "")


def _due(now: datetime):
    return and_(
        OutgoingMail.refused_at.is_(None),
        OutgoingMail.next_attempt_at <= now,
        or_(OutgoingMail.lease_until.is_(None), OutgoingMail.lease_until < now),
        or_(OutgoingMail.expires_at.is_(None), OutgoingMail.expires_at > now),
    )


def drop_expired(now: datetime) -> int:
    """Delete waiting messages whose link no longer works (flush only); how many."""
    gone = db.session.execute(
        delete(OutgoingMail).where(
            OutgoingMail.refused_at.is_(None),
            OutgoingMail.expires_at <= now,
            or_(OutgoingMail.lease_until.is_(None), OutgoingMail.lease_until < now),
        )
    )
    return gone.rowcount or 0


def _release(token: str, ids: list[int]) -> None:
    """Give back leased rows not tried (the mail server went away mid-batch): due again at once."""
    if ids:
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(ids), OutgoingMail.lease_token == token)
            .values(lease_token=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def send_due(clock: Callable[[], datetime] = utcnow, should_stop: Callable[[], bool] = lambda: False) -> Sent:
    """Send every due message, a leased batch at a time, until none is left or `should_stop()`; commits as it goes.

    A failure that is not about one address (the server down) ends the pass: the rest of the batch
    is given back untried, for the next pass.
    """
    settings, summary = _settings(), Sent()
    summary.expired = drop_expired(clock())
    db.session.commit()
    while not should_stop() and not summary.failed:
        token = outbox.claim(OutgoingMail, _due(clock()), settings["batch"], settings["lease"], clock())
        db.session.commit()
        rows = db.session.execute(
            select(OutgoingMail.id, OutgoingMail.recipient, OutgoingMail.subject, OutgoingMail.body)
            .add_columns(OutgoingMail.attempts)
            .where(OutgoingMail.lease_token == token)
            .order_by(OutgoingMail.id)
        ).all()
        if not rows:
            break
        connection = _mailman().get_connection(fail_silently=False)
        try:
            for index, (mail_id, recipient, subject, body, attempts) in enumerate(rows):
                about_the_address = False
                try:
                    if connection.connection is None:
                        connection.open()
                    _message(recipient, subject, body, connection).send()
                    outcome, error = SENT, None
                except Exception as exc:
                    outcome, error = outcome_of(exc)
                    about_the_address = isinstance(exc, smtplib.SMTPRecipientsRefused)
                    summary.errors.append(error)
                db.session.execute(_settlement(mail_id, token, outcome, error, attempts, clock(), True))
                setattr(summary, outcome, getattr(summary, outcome) + 1)
                if outcome == FAILED and not about_the_address:
                    _release(token, [row[0] for row in rows[index + 1 :]])
                    db.session.commit()
                    break
                db.session.commit()
        finally:
            try:
                connection.close()
            except Exception:  # closing a connection the server already dropped: nothing left to do
                pass
    return summary


# --- what waits, for operators


@dataclass(frozen=True)
class Waiting:
    """A message in the outbox, without its body."""

    id: int
    purpose: str
    recipient: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    expires_at: datetime | None
    refused_at: datetime | None
    last_error: str | None


def listing(refused: bool | None = None, limit: int = 50) -> list[Waiting]:
    """Messages waiting (refused False), refused (True) or both (None), oldest first; never their bodies."""
    query = select(
        OutgoingMail.id,
        OutgoingMail.purpose,
        OutgoingMail.recipient,
        OutgoingMail.created_at,
        OutgoingMail.attempts,
        OutgoingMail.next_attempt_at,
        OutgoingMail.expires_at,
        OutgoingMail.refused_at,
        OutgoingMail.last_error,
    ).order_by(OutgoingMail.id)
    if refused is not None:
        query = query.where(OutgoingMail.refused_at.isnot(None) if refused else OutgoingMail.refused_at.is_(None))
    return [Waiting(*row) for row in db.session.execute(query.limit(limit))]


def counts() -> tuple[int, int]:
    """(messages waiting, messages refused for good)."""
    refused = OutgoingMail.refused_at.isnot(None)
    row = db.session.execute(
        select(func.count(OutgoingMail.id).filter(~refused), func.count(OutgoingMail.id).filter(refused))
    ).one()
    return row[0], row[1]


def forget(mail_id: int) -> bool:
    """Delete one message, waiting or refused, unless a sender holds it now (flush only); whether it was deleted."""
    now = utcnow()
    gone = db.session.execute(
        delete(OutgoingMail).where(
            OutgoingMail.id == mail_id, or_(OutgoingMail.lease_until.is_(None), OutgoingMail.lease_until < now)
        )
    )
    return bool(gone.rowcount)
