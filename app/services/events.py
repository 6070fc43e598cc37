"""Appending learning events."""

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, insert

from app.models import LearningEvent, StatementOutbox
from app.services.prebuilt import Prebuilt, PrebuiltMany


def lesson_ref(module_id: str, lesson_id: str) -> str:
    """The object ref of a lesson in learning events."""
    return f"module/{module_id}/lesson/{lesson_id}"


def quiz_ref(quiz_id: str, item_id: str | None = None) -> str:
    """The object ref of a quiz, or of one of its items, in learning events."""
    return f"quiz/{quiz_id}" + (f"/item/{item_id}" if item_id else "")


#: The ref of a review session's practice set.
REVIEW_SET = "practice/review"
_COMPETENCY_SET = "practice/competency/"


def competency_set_ref(competency_id: str) -> str:
    """The ref of a practice set drawn for one competency."""
    return _COMPETENCY_SET + competency_id


def competency_of_set(ref: str) -> str | None:
    """The competency a practice set was drawn for, if the ref names one."""
    return ref.removeprefix(_COMPETENCY_SET) if ref.startswith(_COMPETENCY_SET) else None


def is_practice_set(ref: str) -> bool:
    """Whether a ref names a practice set (items drawn from several quizzes), not a quiz or conversation."""
    return ref == REVIEW_SET or competency_of_set(ref) is not None


def activity_ref(activity: Any, part_id: str | None = None) -> str:
    """The object ref of a quiz or conversation, or of one item or node of it."""
    if activity.kind == "conversation":
        return f"conversation/{activity.id}" + (f"/node/{part_id}" if part_id else "")
    return quiz_ref(activity.id, part_id)


def row(
    user_id: int,
    verb: str,
    object_ref: str,
    content_version: str,
    *,
    at: datetime,
    result: dict[str, Any] | None = None,
    attempt_id: int | None = None,
) -> dict[str, Any]:
    """One event as a row for `record_many`."""
    return {
        "user_id": user_id,
        "verb": verb,
        "object_ref": object_ref,
        "content_version": content_version,
        "result": result,
        "attempt_id": attempt_id,
        "created_at": at,
    }


_ROW_KEYS = tuple(row(0, "", "", "", at=None))
_EVENTS = LearningEvent.__table__
#: Core inserts of the tables, compiled once (an ORM bulk insert costs twice as much, and no objects are wanted).
_INSERT_EVENTS = Prebuilt(lambda _dialect: insert(_EVENTS), _ROW_KEYS)
_INSERT_EVENTS_RETURNING_IDS = PrebuiltMany(
    lambda _dialect, count: (
        insert(_EVENTS)
        .values([{key: bindparam(f"{key}_{n}", type_=_EVENTS.c[key].type) for key in _ROW_KEYS} for n in range(count)])
        .returning(_EVENTS.c.id)
    ),
    _ROW_KEYS,
)
_OUTBOX_KEYS = ("event_id", "created_at", "next_attempt_at", "attempts")
_INSERT_OUTBOX = Prebuilt(lambda _dialect: insert(StatementOutbox.__table__), _OUTBOX_KEYS)


def record_many(rows: list[dict[str, Any]]) -> None:
    """Append events (never updated afterwards) in one statement.

    With forwarding to an LRS configured, each event also gets an outbox row in the same
    transaction, so a statement is queued exactly when its event is kept; without, nothing more
    is written (no ids are needed back).
    """
    if not rows:
        return
    if not current_app.config.get("LRS_ENDPOINT"):
        _INSERT_EVENTS.run_many(rows)  # the session's transaction, without its ORM layer
        return
    ids = [event_id for (event_id,) in _INSERT_EVENTS_RETURNING_IDS.run(rows)]
    at = rows[0]["created_at"]
    # Every column with a default is given (0 attempts, as the model's default says): a prebuilt insert skips none.
    _INSERT_OUTBOX.run_many(
        [{"event_id": event_id, "created_at": at, "next_attempt_at": at, "attempts": 0} for event_id in ids]
    )


def record(*args: Any, **kwargs: Any) -> None:
    """Append one event; takes the arguments of `row`."""
    record_many([row(*args, **kwargs)])
