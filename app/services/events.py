"""Appending learning events."""

from typing import Any

from sqlalchemy import insert

from app.extensions import db
from app.models import LearningEvent
from app.models.types import utcnow


def lesson_ref(module_id: str, lesson_id: str) -> str:
    """The object ref of a lesson in learning events."""
    return f"module/{module_id}/lesson/{lesson_id}"


def quiz_ref(quiz_id: str, item_id: str | None = None) -> str:
    """The object ref of a quiz, or of one of its items, in learning events."""
    return f"quiz/{quiz_id}" + (f"/item/{item_id}" if item_id else "")


def record(
    user_id: int,
    verb: str,
    object_ref: str,
    content_version: str,
    result: dict[str, Any] | None = None,
    attempt_id: int | None = None,
    at=None,
) -> LearningEvent:
    """Append one learning event (never updated afterwards)."""
    event = LearningEvent(
        user_id=user_id,
        verb=verb,
        object_ref=object_ref,
        content_version=content_version,
        result=result,
        attempt_id=attempt_id,
        created_at=at or utcnow(),
    )
    db.session.add(event)
    return event


def record_many(rows: list[dict[str, Any]]) -> None:
    """Append several events in one executemany (no ids are needed back, so nothing per row)."""
    if rows:
        db.session.execute(insert(LearningEvent), rows)


def row(
    user_id: int, verb: str, object_ref: str, content_version: str, at, result=None, attempt_id=None
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
