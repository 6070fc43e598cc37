"""Learning records: statements for a learner, a cohort or everyone, and the outbox that forwards them to an LRS.

Reading streams: the events come in one query (joined with their attempts; a statement needs
only the user's id, never the user row), fetched in batches, in time order.

Forwarding: `record_many` (app.services.events) queues an outbox row with every event when an
LRS is configured. A sender claims due rows with a lease (an UPDATE that only touches rows no
other sender holds), commits, posts them, then marks them sent, refused, or failed with a later
`next_attempt_at`. A row is deleted only with its event. Statement ids are derived from event
ids, so a row sent twice (a sender killed after the LRS stored it but before it was marked)
is stored once by the LRS.
"""

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, func, insert, literal, or_, select, update

from app.content import Catalog
from app.extensions import db
from app.models import LearningEvent, QuizAttempt, StatementOutbox
from app.models.types import UTCDateTime, utcnow
from app.records import Site, UnknownEvent, build
from app.records.lrs import DUPLICATE, REFUSED, RETRY, SENT, Answer, Client
from app.services import outbox
from app.services.cohorts import member_ids
from app.services.reports.scope import assigned_work

#: Events fetched per round trip while streaming.
FETCH_SIZE = 500


def _events_with_attempts():
    """SQL: every event with its attempt (or None), oldest first."""
    return (
        select(LearningEvent, QuizAttempt)
        .outerjoin(QuizAttempt, QuizAttempt.id == LearningEvent.attempt_id)
        .order_by(LearningEvent.created_at, LearningEvent.id)
    )


def _forms(catalog: Catalog):
    """Observation forms as they were at the version a rating was made on: one lookup per form and version,
    however many ratings a stream of statements holds."""
    from app.observe.services.versions import form_at  # the observation area, loaded when a statement needs it

    return functools.cache(lambda form_ref, version: form_at(catalog, form_ref, version))


def statements(
    catalog: Catalog, site: Site, *, user_id: int | None = None, cohort_id: int | None = None
) -> Iterator[dict[str, Any]]:
    """The statements of one learner, of a cohort's current students' assigned work, or (neither given) of
    everyone, oldest first."""
    query = _events_with_attempts()
    if user_id is not None:
        query = query.where(LearningEvent.user_id == user_id)
    if cohort_id is not None:
        # A cohort's educators get only the statements of its assigned work (see reports/scope.py).
        query = query.where(LearningEvent.user_id.in_(member_ids(cohort_id)), assigned_work(cohort_id).events())
    forms = _forms(catalog)
    for event, attempt in db.session.execute(query.execution_options(yield_per=FETCH_SIZE)):
        yield build(site, catalog, event, attempt, forms)


def json_chunks(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array written piece by piece, one statement per line."""
    yield "["
    for position, item in enumerate(items):
        yield ("\n" if position == 0 else ",\n") + json.dumps(item, ensure_ascii=False, sort_keys=True)
    yield "\n]\n"


# --- the outbox


def _due(now: datetime):
    """SQL: the outbox rows a sender may claim now."""
    return and_(
        StatementOutbox.sent_at.is_(None),
        StatementOutbox.rejected_at.is_(None),
        StatementOutbox.next_attempt_at <= now,
        or_(StatementOutbox.lease_until.is_(None), StatementOutbox.lease_until < now),
    )


def claim(limit: int, lease: timedelta, now: datetime) -> str:
    """Lease up to `limit` due rows to a new token (returned); the caller commits at once."""
    return outbox.claim(StatementOutbox, _due(now), limit, lease, now)


@dataclass
class Claimed:
    """One leased outbox row with what its statement is built from."""

    outbox_id: int
    attempts: int
    event: LearningEvent
    attempt: QuizAttempt | None


def claimed(token: str) -> list[Claimed]:
    """The rows leased to `token`, with their events and attempts, in one query."""
    rows = db.session.execute(
        select(StatementOutbox.id, StatementOutbox.attempts, LearningEvent, QuizAttempt)
        .join(LearningEvent, LearningEvent.id == StatementOutbox.event_id)
        .outerjoin(QuizAttempt, QuizAttempt.id == LearningEvent.attempt_id)
        .where(StatementOutbox.lease_token == token)
        .order_by(StatementOutbox.id)
    )
    return [Claimed(*row) for row in rows]


def _settle(token: str, ids: list[int], **values: Any) -> None:
    """Update rows this sender still holds, and let go of them."""
    if not ids:
        return
    db.session.execute(
        update(StatementOutbox)
        .where(StatementOutbox.id.in_(ids), StatementOutbox.lease_token == token)
        .values(lease_token=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(token: str, ids: list[int], now: datetime, note: str | None = None) -> None:
    """The LRS has these statements."""
    if ids:
        _settle(token, ids, sent_at=now, last_error=note)


def mark_refused(token: str, ids: list[int], now: datetime, error: str) -> None:
    """The LRS refused these statements for good: keep and flag them for a person to look at."""
    if ids:
        _settle(token, ids, rejected_at=now, last_error=error)


def backoff(attempts: int, base: int, cap: int) -> timedelta:
    """The wait before the next try after `attempts` earlier failures: base, doubled per failure, capped."""
    return timedelta(seconds=min(cap, base * 2 ** min(attempts, 30)))


def mark_failed(token: str, rows: list[Claimed], now: datetime, error: str, base: int, cap: int) -> None:
    """Count a failed try and put each row back for later, waiting longer the more it has failed."""
    by_attempts: dict[int, list[int]] = {}
    for row in rows:
        by_attempts.setdefault(row.attempts, []).append(row.outbox_id)
    for attempts, ids in by_attempts.items():
        _settle(
            token,
            ids,
            attempts=StatementOutbox.attempts + 1,
            next_attempt_at=now + backoff(attempts, base, cap),
            last_error=error,
        )


def requeue_refused(now: datetime) -> int:
    """Put every statement the LRS refused back in the queue (after the LRS or its settings were fixed)."""
    return db.session.execute(
        update(StatementOutbox)
        .where(StatementOutbox.rejected_at.is_not(None), StatementOutbox.sent_at.is_(None))
        .values(rejected_at=None, attempts=0, next_attempt_at=now, lease_token=None, lease_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def backfill(now: datetime) -> int:
    """Queue every event that has no outbox row yet (for events kept before forwarding was set up)."""
    missing = select(
        LearningEvent.id, literal(now, UTCDateTime()), literal(now, UTCDateTime()), literal(0, Integer())
    ).where(~select(StatementOutbox.id).where(StatementOutbox.event_id == LearningEvent.id).exists())
    # Counted from what the insert returns: PostgreSQL's driver reports -1 as the rowcount of INSERT .. SELECT.
    queued = db.session.execute(
        insert(StatementOutbox)
        .from_select(["event_id", "created_at", "next_attempt_at", "attempts"], missing)
        .returning(StatementOutbox.id)
    )
    return sum(1 for _ in queued)


@dataclass(frozen=True)
class OutboxStatus:
    """How many rows wait, were sent or were refused, and the errors of the rows still waiting."""

    waiting: int
    sent: int
    refused: int
    failing: int
    errors: list[str]


def status(limit: int = 5) -> OutboxStatus:
    """The outbox at a glance."""
    counts = db.session.execute(
        select(
            func.count().filter(StatementOutbox.sent_at.is_(None), StatementOutbox.rejected_at.is_(None)),
            func.count().filter(StatementOutbox.sent_at.is_not(None)),
            func.count().filter(StatementOutbox.rejected_at.is_not(None)),
            func.count().filter(StatementOutbox.sent_at.is_(None), StatementOutbox.attempts > 0),
        )
    ).one()
    errors = db.session.scalars(
        select(StatementOutbox.last_error)
        .where(StatementOutbox.last_error.is_not(None), StatementOutbox.sent_at.is_(None))
        .group_by(StatementOutbox.last_error)
        .order_by(func.max(StatementOutbox.id).desc())
        .limit(limit)
    ).all()
    return OutboxStatus(*counts, errors=list(errors))


# --- sending


@dataclass
class SendSummary:
    """What one sending pass did."""

    sent: int = 0
    duplicates: int = 0
    refused: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for an operator."""
        text = f"Sent {self.sent} statements ({self.duplicates} already in the LRS); refused {self.refused}; {self.failed} to retry later."
        return text + (f" Last error: {self.errors[-1]}" if self.errors else "")


@dataclass(frozen=True)
class Sender:
    """Everything a sending pass needs: content, site, LRS client and the outbox settings."""

    catalog: Catalog
    site: Site
    client: Client
    batch_size: int = 100
    lease: timedelta = timedelta(seconds=120)
    retry_base: int = 30
    retry_max: int = 3600

    @classmethod
    def from_config(cls, catalog: Catalog, config) -> "Sender":
        """A sender for the app's configured LRS."""
        client = Client(config["LRS_ENDPOINT"], config["LRS_KEY"], config["LRS_SECRET"], config["LRS_TIMEOUT"])
        return cls(
            catalog,
            Site.from_config(config),
            client,
            batch_size=config["LRS_BATCH_SIZE"],
            # The lease outlasts the slowest pass over one batch (the batch, then each statement
            # alone after a refusal, each up to the timeout), so no second sender claims it meanwhile.
            lease=timedelta(
                seconds=max(config["LRS_LEASE_SECONDS"], (config["LRS_BATCH_SIZE"] + 1) * config["LRS_TIMEOUT"])
            ),
            retry_base=config["LRS_RETRY_BASE"],
            retry_max=config["LRS_RETRY_MAX"],
        )

    def send_due(self, clock: Callable[[], datetime] = utcnow, should_stop: Callable[[], bool] = lambda: False):
        """Send every due row in batches until none is left, the LRS fails, or `should_stop()`; commits as it goes.

        Never called from a request: a page never waits on the LRS.
        """
        summary = SendSummary()
        while not should_stop():
            db.session.commit()  # the claim must open its own transaction (SQLite takes the write lock there)
            token = claim(self.batch_size, self.lease, clock())
            db.session.commit()
            rows = claimed(token)
            db.session.commit()
            if not rows:
                break
            failed_before = summary.failed
            self._send_batch(token, rows, summary, clock)
            db.session.commit()
            if summary.failed > failed_before:
                break  # the LRS is down or refusing us: leave the rest for the next pass
        return summary

    def _send_batch(self, token: str, rows: list[Claimed], summary: SendSummary, clock) -> None:
        """Build and post one batch; a batch the LRS refuses as a whole is retried one statement at a time."""
        built: list[tuple[Claimed, dict]] = []
        forms = _forms(self.catalog)
        for row in rows:
            try:
                built.append((row, build(self.site, self.catalog, row.event, row.attempt, forms)))
            except UnknownEvent as exc:
                mark_refused(token, [row.outbox_id], clock(), f"not sent: {exc}")
                summary.refused += 1
                summary.errors.append(str(exc))
        if not built:
            return
        answer = self.client.post([statement for _, statement in built])
        if answer.kind in (DUPLICATE, REFUSED) and len(built) > 1:
            # The LRS takes or refuses a batch whole: find which statements it objects to.
            for index, (row, statement) in enumerate(built):
                single = self.client.post([statement])
                self._settle(token, [row], single, summary, clock)
                if single.kind == RETRY:
                    # Untried: let go of them at once, without counting a failure against them.
                    _settle(token, [later.outbox_id for later, _ in built[index + 1 :]])
                    break
            return
        self._settle(token, [row for row, _ in built], answer, summary, clock)

    def _settle(self, token: str, rows: list[Claimed], answer: Answer, summary: SendSummary, clock) -> None:
        """Record the LRS's answer on the rows."""
        ids = [row.outbox_id for row in rows]
        now = clock()
        if answer.kind == SENT:
            mark_sent(token, ids, now)
            summary.sent += len(ids)
        elif answer.kind == DUPLICATE:
            mark_sent(token, ids, now, note=f"already in the LRS ({answer.detail})")
            summary.sent += len(ids)
            summary.duplicates += len(ids)
        elif answer.kind == REFUSED:
            mark_refused(token, ids, now, answer.detail)
            summary.refused += len(ids)
            summary.errors.append(answer.detail)
        else:
            mark_failed(token, rows, now, answer.detail, self.retry_base, self.retry_max)
            summary.failed += len(ids)
            summary.errors.append(answer.detail)
