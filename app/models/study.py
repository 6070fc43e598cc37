"""The learner's own study: private reflections and the spaced review queue."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

#: The longest reflection kept, in characters.
REFLECTION_MAX = 4000


class Reflection(db.Model):
    """A learner's private note on a module, quiz or conversation: one per subject, editable."""

    __tablename__ = "reflection"
    __table_args__ = (UniqueConstraint("user_id", "subject_ref", name="uq_reflection_learner_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: What it reflects on, as "module/<id>", "quiz/<id>" or "conversation/<id>".
    subject_ref: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewCard(db.Model):
    """One item in a learner's spaced review queue, with its scheduler state."""

    __tablename__ = "review_card"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_ref", "item_ref", name="uq_review_card_learner_item"),
        Index("ix_review_card_user_due", "user_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    quiz_ref: Mapped[str] = mapped_column(String(100))
    item_ref: Mapped[str] = mapped_column(String(100))
    #: The scheduler's card, as its own dictionary form (PyPI `fsrs`).
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
