"""Quiz attempts: opening, resuming, setting aside and finding them; grading and recording live beside it.

Grading and marking are in app/services/grading.py (pure), recording a finished attempt in
app/services/submission.py; their names are importable from here too, as callers have always
named them (`quizzes.submit_attempt`, `quizzes.summarise`, ...).
"""

from typing import Any

from sqlalchemy import bindparam, select, text, update

from app.content import Quiz
from app.content.conversations import Conversation
from app.extensions import db
from app.models import QuizAttempt
from app.models.tracking import OPEN_ATTEMPT
from app.models.types import MAX_ID, utcnow
from app.services import events, sql
from app.services.answers import Answers, Issue, confidence_field, read_answers  # noqa: F401  (named here too)
from app.services.grading import (  # noqa: F401  (named here too)
    AttemptSummary,
    answered_result,
    as_grade,
    cbm_score,
    grade,
    items_as_answered,
    marked_score,
    scaled,
    score_range,
    score_result,
    summarise,
)
from app.services.submission import (  # noqa: F401  (named here too)
    Abandoned,
    AlreadySubmitted,
    ContentChanged,
    claim,
    response_row,
    submit_attempt,
    update_competency_summaries,
    update_quiz_summary,
)


def open_attempt(user_id: int, quiz_id: str, mode: str = "assessed") -> QuizAttempt | None:
    """The learner's unsubmitted attempt at a quiz (or practice set) in this mode, if any."""
    return db.session.scalar(
        select(QuizAttempt)
        .where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_ref == quiz_id,
            QuizAttempt.mode == mode,
            QuizAttempt.is_open(),
        )
        .execution_options(populate_existing=True)
    )


_create_attempt = sql.InsertIfAbsent(QuizAttempt, conflict=["user_id", "quiz_ref", "mode"], where=text(OPEN_ATTEMPT))


def start_attempt(user_id: int, quiz: Quiz | Conversation, mode: str = "assessed") -> QuizAttempt:
    """Resume the learner's open attempt at a quiz or conversation, or begin one that snapshots its pass mark and version."""
    return open_or_begin(
        user_id,
        quiz.id,
        mode,
        quiz.version,
        {
            "module_ref": quiz.module_id,
            "pass_mark": quiz.pass_mark,
            "max_score": quiz.max_score,
            "marking": quiz.marking,
            "item_refs": [f"{quiz.id}/{item.id}" for item in quiz.items]
            if mode == "practice" and quiz.kind == "quiz"
            else None,
        },
        events.activity_ref(quiz),
    )


def open_or_begin(
    user_id: int, set_ref: str, mode: str, version: str, snapshot: dict[str, Any], object_ref: str
) -> QuizAttempt:
    """The learner's open attempt at this quiz or set and mode on this version, else a new one with `snapshot`.

    An open attempt on another version is set aside (kept, never deleted) first.
    """
    attempt = open_attempt(user_id, set_ref, mode)
    if attempt is not None and attempt.content_version == version:
        return attempt
    now = utcnow()
    if attempt is not None:
        # Begun on an older version of the quiz: set aside (never deleted) and start afresh.
        set_aside(attempt, now)
    # The partial unique index allows one open attempt: a parallel "Start" inserts nothing here.
    inserted = _create_attempt(
        {
            "user_id": user_id,
            "quiz_ref": set_ref,
            "mode": mode,
            "content_version": version,
            "started_at": now,
            **snapshot,
        }
    )
    attempt = open_attempt(user_id, set_ref, mode)
    if inserted:
        events.record(user_id, "attempted", object_ref, version, attempt_id=attempt.id, at=now)
    return attempt


def set_aside(attempt: QuizAttempt, now=None) -> None:
    """Close an open attempt without a result; it stays on record with the events that name it."""
    db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.is_open())
        .values(abandoned_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def can_resume(user_id: int, quiz: Quiz | Conversation, mode: str = "assessed") -> bool:
    """Whether the learner has an open attempt in this mode on the quiz as it is now (an older one is replaced)."""
    attempt = open_attempt(user_id, quiz.id, mode)
    return attempt is not None and attempt.content_version == quiz.version


def attempt_history(user_id: int, quiz_id: str) -> list[QuizAttempt]:
    """The learner's submitted attempts at a quiz, newest first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.quiz_ref == quiz_id,
                QuizAttempt.mode == "assessed",
                QuizAttempt.submitted_at.is_not(None),
            )
            .order_by(QuizAttempt.submitted_at.desc())
        )
    )


def practice_history(user_id: int, set_ref: str, limit: int = 10) -> list[QuizAttempt]:
    """The learner's latest practice attempts at a quiz, conversation or set (open ones too), newest first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.quiz_ref == set_ref,
                QuizAttempt.mode == "practice",
                QuizAttempt.abandoned_at.is_(None),
            )
            .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
            .limit(limit)
        )
    )


_OWN_ATTEMPT = select(QuizAttempt).where(
    QuizAttempt.id == bindparam("attempt_id"), QuizAttempt.user_id == bindparam("user_id")
)


def get_own_attempt(user_id: int, attempt_id: int) -> QuizAttempt | None:
    """An attempt, only if it belongs to this learner (an id out of range matches nothing)."""
    if not 0 < attempt_id <= MAX_ID:
        return None
    return db.session.scalar(_OWN_ATTEMPT, {"attempt_id": attempt_id, "user_id": user_id})
