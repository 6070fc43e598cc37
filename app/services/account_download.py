"""A person's download of everything stored about them: one JSON document, built whole or streamed a row at a time."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import (
    AnswerSummary,
    Assignment,
    Certificate,
    Cohort,
    CohortInvitation,
    CohortMember,
    CompetencyProgress,
    Course,
    ItemResponse,
    LearningEvent,
    LessonProgress,
    PasswordLink,
    QuizAttempt,
    QuizProgress,
    Reflection,
    ReviewCard,
    User,
)
from app.models.types import utcnow
from app.services import account_data_areas, password_links
from app.services.account_data import SECTIONS

FORMAT_VERSION = 1


def _when(value: datetime | date | None) -> str | None:
    """A timestamp as ISO 8601 in UTC (a date as ISO 8601), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "has_password": password_links.has_usable_password(user),
        "created_at": _when(user.created_at),
        "last_sign_in_at": _when(user.last_sign_in_at),
        # An address the person asked to change to and has not confirmed yet (None when there is none).
        "pending_email": user.pending_email,
    }


def _response(r: ItemResponse) -> dict[str, Any]:
    return {
        "position": r.position,
        "quiz_ref": r.quiz_ref,
        "item_ref": r.item_ref,
        "item_type": r.item_type,
        "item_version": r.item_version,
        "answer": r.answer,
        "grade": r.grade,
        "score": r.score,
        "max_score": r.max_score,
        "is_correct": r.is_correct,
        "confidence": r.confidence,
        "competency_refs": r.competency_refs,
        "answered_at": _when(r.answered_at),
    }


def _attempt(a: QuizAttempt, responses: list[ItemResponse]) -> dict[str, Any]:
    return {
        "id": a.id,
        "quiz_ref": a.quiz_ref,
        "module_ref": a.module_ref,
        "content_version": a.content_version,
        "mode": a.mode,
        "marking": a.marking,
        "item_refs": a.item_refs,
        "pass_mark": a.pass_mark,
        "max_score": a.max_score,
        "score": a.score,
        "is_passed": a.is_passed,
        "ending_ref": a.ending_ref,
        "started_at": _when(a.started_at),
        "submitted_at": _when(a.submitted_at),
        "abandoned_at": _when(a.abandoned_at),
        "responses": [_response(r) for r in responses],
    }


#: Rows fetched per round trip while the download is streamed.
FETCH_SIZE = 500


def _rows(model, user_id: int, *order) -> Iterator:
    """The person's rows of one table, in a stable order (one query, fetched a batch at a time)."""
    query = select(model).where(model.user_id == user_id).order_by(*order, model.id)
    return iter(db.session.scalars(query.execution_options(yield_per=FETCH_SIZE)))


def _attempts(user_id: int) -> Iterator[dict[str, Any]]:
    """Each attempt with its answers: two queries in the same order, read side by side a batch at a time."""
    attempts = _rows(QuizAttempt, user_id, QuizAttempt.started_at)
    responses = iter(
        db.session.scalars(
            select(ItemResponse)
            .join(QuizAttempt, QuizAttempt.id == ItemResponse.attempt_id)
            .where(ItemResponse.user_id == user_id, QuizAttempt.user_id == user_id)
            .order_by(QuizAttempt.started_at, QuizAttempt.id, ItemResponse.position, ItemResponse.id)
            .execution_options(yield_per=FETCH_SIZE)
        )
    )
    waiting = next(responses, None)
    for attempt in attempts:
        own = []
        while waiting is not None and waiting.attempt_id == attempt.id:
            own.append(waiting)
            waiting = next(responses, None)
        yield _attempt(attempt, own)


def _document(user: User) -> dict[str, Any]:
    """The download: its heading and account as data, and each list section as a function yielding its rows.

    A section runs its one query only when it is read, so a streamed download holds a batch of
    rows at a time (one query a section, whatever the person has done).
    """
    uid = user.id
    return {
        "format": f"alliance-personal-data/{FORMAT_VERSION}",
        "generated_at": _when(utcnow()),
        "about": {
            "summary": "Everything Alliance stores about you. Times are ISO 8601 in UTC. Content (modules, "
            "lessons, quizzes, items, competencies) is named by its id in the *_ref fields.",
            "sections": SECTIONS,
        },
        "account": _account(user),
        "lesson_progress": lambda: (
            {
                "module_ref": p.module_ref,
                "lesson_ref": p.lesson_ref,
                "content_version": p.content_version,
                "view_count": p.view_count,
                "first_viewed_at": _when(p.first_viewed_at),
                "last_viewed_at": _when(p.last_viewed_at),
                "completed_at": _when(p.completed_at),
            }
            for p in _rows(LessonProgress, uid, LessonProgress.first_viewed_at)
        ),
        "quiz_attempts": lambda: _attempts(uid),
        "quiz_progress": lambda: (
            {
                "quiz_ref": q.quiz_ref,
                "module_ref": q.module_ref,
                "attempt_count": q.attempt_count,
                "best_percent": q.best_percent,
                "last_percent": q.last_percent,
                "is_passed": q.is_passed,
                "first_passed_at": _when(q.first_passed_at),
                "last_submitted_at": _when(q.last_submitted_at),
            }
            for q in _rows(QuizProgress, uid, QuizProgress.quiz_ref)
        ),
        "competency_progress": lambda: (
            {
                "competency_ref": c.competency_ref,
                "answered_count": c.answered_count,
                "correct_count": c.correct_count,
                "harmful_count": c.harmful_count,
                "score": c.score,
                "max_score": c.max_score,
                "last_answered_at": _when(c.last_answered_at),
            }
            for c in _rows(CompetencyProgress, uid, CompetencyProgress.competency_ref)
        ),
        "answer_summaries": lambda: (
            {
                "competency_ref": a.competency_ref,
                "answered_count": a.answered_count,
                "correct_count": a.correct_count,
                "harmful_count": a.harmful_count,
                "recent": a.recent,
                "blocked_since": _when(a.blocked_since),
                "last_answered_at": _when(a.last_answered_at),
                **{f"level{n}_{k}": getattr(a, f"level{n}_{k}") for n in (1, 2, 3) for k in ("count", "correct")},
            }
            for a in _rows(AnswerSummary, uid, AnswerSummary.competency_ref)
        ),
        "learning_events": lambda: (
            {
                "verb": e.verb,
                "object_ref": e.object_ref,
                "content_version": e.content_version,
                "result": e.result,
                "attempt_id": e.attempt_id,
                "created_at": _when(e.created_at),
            }
            for e in _rows(LearningEvent, uid, LearningEvent.created_at)
        ),
        "reflections": lambda: (
            {
                "subject_ref": r.subject_ref,
                "body": r.body,
                "created_at": _when(r.created_at),
                "updated_at": _when(r.updated_at),
            }
            for r in _rows(Reflection, uid, Reflection.created_at)
        ),
        "review_cards": lambda: (
            {
                "quiz_ref": c.quiz_ref,
                "item_ref": c.item_ref,
                "due_at": _when(c.due_at),
                "review_count": c.review_count,
                "card": c.card,
                "created_at": _when(c.created_at),
                "last_reviewed_at": _when(c.last_reviewed_at),
            }
            for c in _rows(ReviewCard, uid, ReviewCard.created_at)
        ),
        "cohort_memberships": lambda: (
            {
                "cohort": name,
                "joined_via": "join code" if m.joined_via == "code" else "class list",
                "joined_at": _when(m.joined_at),
                "removed_at": _when(m.removed_at),
                "left_at": _when(m.left_at),
            }
            for m, name in db.session.execute(
                select(CohortMember, Cohort.name)
                .join(Cohort, Cohort.id == CohortMember.cohort_id)
                .where(CohortMember.user_id == uid)
                .order_by(CohortMember.joined_at, CohortMember.id)
            )
        ),
        "assignments": lambda: (
            {
                "course": title,
                "cohort": cohort_name,
                "starts_on": _when(a.starts_on),
                "due_on": _when(a.due_on),
                "assigned_at": _when(a.assigned_at),
            }
            for a, title, cohort_name in db.session.execute(
                select(Assignment, Course.title, Cohort.name)
                .join(Course, Course.id == Assignment.course_id)
                .join(Cohort, Cohort.id == Assignment.cohort_id)
                .join(CohortMember, CohortMember.cohort_id == Assignment.cohort_id)
                .where(CohortMember.user_id == uid)
                .order_by(Assignment.assigned_at, Assignment.id)
            )
        ),
        "cohort_invitations": lambda: (
            {
                "cohort": name,
                "invited_at": _when(invitation.created_at),
                "answer": invitation.state,
                "answered_at": _when(invitation.answered_at),
            }
            for invitation, name in db.session.execute(
                select(CohortInvitation, Cohort.name)
                .join(Cohort, Cohort.id == CohortInvitation.cohort_id)
                .where(CohortInvitation.user_id == uid)
                .order_by(CohortInvitation.created_at, CohortInvitation.id)
            )
        ),
        "password_links": lambda: (
            {
                "kind": link.kind,
                "created_at": _when(link.created_at),
                "expires_at": _when(link.expires_at),
                "used_at": _when(link.used_at),
            }
            for link in _rows(PasswordLink, uid, PasswordLink.created_at)
        ),
        "certificates": lambda: (
            {
                "public_id": c.public_id,
                "learner_name": c.learner_name,
                "course": c.course_title,
                "competency_refs": c.competency_refs,
                "station_competency_refs": c.station_competency_refs,
                "issuer": c.issuer_name,
                "issued_at": _when(c.issued_at),
                "revoked_at": _when(c.revoked_at),
                "revocation_reason": c.revocation_reason,
            }
            for c in _rows(Certificate, uid, Certificate.issued_at)
        ),
        **account_data_areas.sections(uid, _when),
    }


def export(user_id: int) -> dict[str, Any] | None:
    """Everything stored about the person, as JSON-ready data (a fixed number of queries); None if no account."""
    user = db.session.get(User, user_id)
    if user is None:
        return None
    return {key: list(value()) if callable(value) else value for key, value in _document(user).items()}


def _json(value: Any, indent: int) -> str:
    """`value` as JSON indented by two spaces a level, its lines after the first shifted `indent` spaces."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * indent)


def export_chunks(user_id: int) -> Iterator[str] | None:
    """The same download as JSON text written a row at a time, so no list is ever whole in memory; None if no account."""
    user = db.session.get(User, user_id)
    if user is None:
        return None
    return _chunks(_document(user))


def _chunks(document: dict[str, Any]) -> Iterator[str]:
    """Indented JSON of the document, reading each list section only as it is written."""
    yield "{"
    for position, (key, value) in enumerate(document.items()):
        yield ("\n  " if position == 0 else ",\n  ") + json.dumps(key) + ": "
        if not callable(value):
            yield _json(value, 2)
            continue
        empty = True
        for row in value():
            yield ("[\n    " if empty else ",\n    ") + _json(row, 4)
            empty = False
        yield "[]" if empty else "\n  ]"
    yield "\n}\n"

