"""Grades for platforms (Assignment and Grade Services): queued with the learner's progress, sent later.

When a learner submits a quiz, finishes a conversation or completes a course that a platform's link
opens, the progress listener adds one `lti_score` row per (link, learner, attempt) in the request's own
transaction, so the grade is saved with the progress or not at all, and a second row for the same
attempt is impossible. `alliance lti send` (or `alliance worker`) sends what is due: it leases rows like
the statement outbox, fetches a token with a client-credentials assertion (pylti1p3), posts the score
to the link's line item, and marks the row sent, refused (the platform said no: kept for a person), or
failed with a later try (doubling from LTI_RETRY_BASE seconds up to LTI_RETRY_MAX). Queueing needs
no pylti1p3; sending imports it (and requests) when it runs (app/lti/protocol.py).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update

from app.content import catalog
from app.extensions import db
from app.lti.tool import SCOPES, registration_for
from app.models import CohortMember, Course, LtiAccount, LtiContext, LtiLink, LtiPlatform, LtiScore, QuizAttempt
from app.models.types import utcnow
from app.services import courses, hooks, outbox, sql
from app.services.prebuilt import Prebuilt
from app.services.records import backoff

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
_insert_score = sql.InsertIfAbsent(LtiScore, conflict=["link_id", "user_id", "attempt_key"])


def _settings() -> dict:
    config = current_app.config
    return {
        "batch": config.get("LTI_BATCH_SIZE", 50),
        "timeout": config.get("LTI_TIMEOUT", 10),
        "lease": timedelta(seconds=config.get("LTI_LEASE_SECONDS", 300)),
        "base": config.get("LTI_RETRY_BASE", 30),
        "cap": config.get("LTI_RETRY_MAX", 3600),
    }


# --- queueing, inside the learner's transaction


class _Link(NamedTuple):
    """What queueing a score needs of a graded link."""

    id: int
    kind: str
    item_ref: str


#: The graded links a step of progress may concern, compiled once per dialect and run as driver SQL
#: (app/services/prebuilt.py): every submission runs it, usually to find nothing.
_LINKS_FOR = Prebuilt(
    lambda _dialect: (
        select(LtiLink.id, LtiLink.kind, LtiLink.item_ref)
        .join(LtiContext, LtiContext.id == LtiLink.context_id)
        .join(
            CohortMember,
            and_(CohortMember.cohort_id == LtiContext.cohort_id, CohortMember.user_id == bindparam("links_user")),
        )
        .join(LtiPlatform, LtiPlatform.id == LtiLink.platform_id)
        .join(LtiAccount, and_(LtiAccount.issuer == LtiPlatform.issuer, LtiAccount.user_id == bindparam("links_user")))
        .where(
            CohortMember.removed_at.is_(None),
            or_(
                and_(LtiLink.kind == bindparam("links_kind"), LtiLink.item_ref == bindparam("links_ref")),
                LtiLink.kind == "course",
            ),
        )
    )
)


def _links_for(user_id: int, kind: str, ref: str) -> list[_Link]:
    """The graded links this progress may concern: same item, or any course, in a cohort the learner is in."""
    db.session.flush()  # as an ORM query would: memberships and links added in this transaction count
    return [_Link(*row) for row in _LINKS_FOR.fetch({"links_user": user_id, "links_kind": kind, "links_ref": ref})]


def queue_for_progress(progress: hooks.Progress) -> None:
    """The progress listener: queue a score for every platform link the step completes (flush only)."""
    if progress.kind not in ("lesson", "quiz", "conversation"):
        return
    links = _links_for(progress.user_id, progress.kind, progress.ref)
    if not links:
        return
    now = utcnow()
    attempt = db.session.get(QuizAttempt, progress.attempt_id) if progress.attempt_id else None
    for link in links:
        if link.kind == "course":
            _queue_course(link, progress.user_id, now)
        elif attempt is not None and attempt.mode == "assessed" and attempt.score is not None and attempt.max_score > 0:
            _queue(link, progress.user_id, attempt.id, attempt.score, attempt.max_score, "Submitted", now)


def _queue_course(link: _Link, user_id: int, now: datetime) -> None:
    """A course's grade, once, when its last required item is done: the share of required items done."""
    course = db.session.get(Course, int(link.item_ref))
    if course is None:
        return
    status = courses.status(user_id, course, catalog())
    if status.is_complete:
        required = len(status.required) or 1
        _queue(link, user_id, 0, float(required), float(required), "Completed", now)


def _queue(link: _Link, user_id: int, key: int, given: float, maximum: float, activity: str, now: datetime) -> None:
    _insert_score(
        {
            "link_id": link.id,
            "user_id": user_id,
            "attempt_key": key,
            "score_given": float(given),
            "score_maximum": float(maximum),
            "activity_progress": activity,
            "grading_progress": "FullyGraded",
            "finished_at": now,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        }
    )


def register() -> None:
    """Listen to the learners' progress (called once when the LTI package is imported)."""
    hooks.on_progress("lti", queue_for_progress)


# --- sending


def connector(platform: LtiPlatform, timeout: float = 10):
    """A service connector for a platform's registration (an app.lti.protocol.Connector)."""
    from app.lti.protocol import Connector, TimedSession

    return Connector(registration_for(platform), TimedSession(timeout))


@dataclass
class Sent:
    """What one sending pass did."""

    sent: int = 0
    refused: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for an operator."""
        text = f"Sent {self.sent} grades; refused {self.refused}; {self.failed} to retry later."
        return text + (f" Last error: {self.errors[-1]}" if self.errors else "")


def _due(now: datetime):
    return and_(
        LtiScore.sent_at.is_(None),
        LtiScore.rejected_at.is_(None),
        LtiScore.next_attempt_at <= now,
        or_(LtiScore.lease_until.is_(None), LtiScore.lease_until < now),
    )


def claim(limit: int, lease: timedelta, now: datetime) -> str:
    """Lease up to `limit` due rows to a new token (returned); the caller commits at once."""
    return outbox.claim(LtiScore, _due(now), limit, lease, now)


def _settle(token: str, score_id: int, **values) -> None:
    db.session.execute(
        update(LtiScore)
        .where(LtiScore.id == score_id, LtiScore.lease_token == token)
        .values(lease_token=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )


def _grade(score: LtiScore, sub: str):
    from pylti1p3.grade import Grade

    return (
        Grade()
        .set_score_given(score.score_given)
        .set_score_maximum(score.score_maximum)
        .set_activity_progress(score.activity_progress)
        .set_grading_progress(score.grading_progress)
        .set_timestamp(score.finished_at.isoformat(timespec="milliseconds"))
        .set_user_id(sub)
    )


def _post(score: LtiScore, link: LtiLink, platform: LtiPlatform, sub: str, timeout: float) -> tuple[str, str | None]:
    """Post one score; ("sent" | "refused" | "failed", error)."""
    import requests
    from pylti1p3.assignments_grades import AssignmentsGradesService
    from pylti1p3.exception import LtiException, LtiServiceException

    if not link.lineitem_url:
        return "failed", f"“{link.title}” has no grade column (line item) yet: it comes with the link's next launch."
    scopes = link.ags_scopes.split() or list(SCOPES)
    if SCORE_SCOPE not in scopes:
        return "refused", f"{platform.name} does not let Alliance post scores for “{link.title}” (no score scope)."
    service = AssignmentsGradesService(connector(platform, timeout), {"scope": scopes, "lineitem": link.lineitem_url})
    try:
        service.put_grade(_grade(score, sub))
    except LtiServiceException as exc:
        status = exc.response.status_code
        if "access token" in str(exc):
            return "failed", f"{platform.name} gave no token ({status}): check the registration (client id, keys)."
        if status == 409:  # the platform holds this score or a later one already
            return "sent", f"{platform.name} already had this score or a later one."
        if 400 <= status < 500 and status not in (408, 429):
            return "refused", f"{platform.name} refused the score ({status})."
        return "failed", f"{platform.name} answered {status}."
    except (requests.RequestException, LtiException) as exc:
        return "failed", f"{platform.name} could not be reached: {type(exc).__name__}: {exc}"[:500]
    return "sent", None


def send_due(clock: Callable[[], datetime] = utcnow, should_stop: Callable[[], bool] = lambda: False) -> Sent:
    """Send every due score, a leased batch at a time, until none is left or `should_stop()`; commits as it goes."""
    settings, summary = _settings(), Sent()
    while not should_stop():
        db.session.commit()
        token = claim(settings["batch"], settings["lease"], clock())
        db.session.commit()
        rows = db.session.execute(
            select(LtiScore, LtiLink, LtiPlatform, LtiAccount.sub)
            .join(LtiLink, LtiLink.id == LtiScore.link_id)
            .join(LtiPlatform, LtiPlatform.id == LtiLink.platform_id)
            .join(LtiAccount, and_(LtiAccount.issuer == LtiPlatform.issuer, LtiAccount.user_id == LtiScore.user_id))
            .where(LtiScore.lease_token == token)
            .order_by(LtiScore.id)
        ).all()
        if not rows:
            break
        for score, link, platform, sub in rows:
            outcome, error = _post(score, link, platform, sub, settings["timeout"])
            now = clock()
            if outcome == "sent":
                _settle(token, score.id, sent_at=now, last_error=error)
                summary.sent += 1
            elif outcome == "refused":
                _settle(token, score.id, rejected_at=now, last_error=error)
                summary.refused += 1
            else:
                wait = backoff(score.attempts, settings["base"], settings["cap"])
                _settle(token, score.id, attempts=LtiScore.attempts + 1, next_attempt_at=now + wait, last_error=error)
                summary.failed += 1
            if error and outcome != "sent":
                summary.errors.append(error)
            db.session.commit()
        if summary.failed:
            break  # a platform is failing: leave the rest for the next pass
    return summary


def drain(should_stop: Callable[[], bool]):
    """The worker's drainer for grades (see app.worker)."""
    from app.lti.tool import forget_expired
    from app.worker import Drained

    summary = send_due(should_stop=should_stop)
    forget_expired()  # logins never finished, pickers abandoned
    db.session.commit()
    return Drained(summary.sent, summary.refused, summary.failed, summary.errors[-1] if summary.errors else None)
