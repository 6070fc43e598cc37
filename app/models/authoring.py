"""Quizzes and branching conversations written in the browser (app/author): a draft each, immutable published versions, co-editors.

A published version holds the quiz in exactly the shape of a file in `quizzes/` (the YAML as a
mapping), so the catalog builds it with the same loader as file content. The one-row
`content_revision` counter goes up at every publish; each process rebuilds its catalog when it
sees a new value (app/content/authored.py).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AuthoredQuiz(db.Model):
    """A quiz an educator writes in the browser: its working draft, owner, and who may use it."""

    __tablename__ = "authored_quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The quiz's content id (`a-<id>-<slug>`): fixed at creation, since attempts and courses name it.
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    #: None once the owner's account is deleted: the quiz, its versions and learners' attempts stay.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    #: The draft, shaped as a quiz file's YAML (id, title, module, pass_mark, marking, intro, items).
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The number the next new item's id takes (`i<n>`), so a deleted item's id is never reused.
    next_item: Mapped[int] = mapped_column(default=1)
    #: Offered in every educator's course builder (set by an admin); otherwise only to owner and co-editors.
    is_site_wide: Mapped[bool] = mapped_column(default=False)
    #: Set when its owner or an admin withdrew it: no new attempts, gone from course builders; history kept.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner = relationship("User", foreign_keys=[owner_id])
    versions = relationship(
        "AuthoredVersion", back_populates="quiz", order_by="AuthoredVersion.number", passive_deletes=True
    )
    co_editors = relationship("AuthoredCoEditor", back_populates="quiz", passive_deletes=True)

    @property
    def title(self) -> str:
        """The draft's title (or a placeholder while it has none)."""
        return str(self.draft.get("title") or f"Untitled {self.kind}")

    @property
    def is_conversation(self) -> bool:
        """Whether this is a branching conversation (its draft is a conversation file's mapping) rather than a quiz."""
        return self.draft.get("type") == "conversation"

    @property
    def is_observation(self) -> bool:
        """Whether this is an observation form (its draft is a `type: observation` file's mapping)."""
        return self.draft.get("type") == "observation"

    @property
    def kind(self) -> str:
        """What it is, in words: 'quiz', 'conversation' or 'observation form'."""
        return "conversation" if self.is_conversation else "observation form" if self.is_observation else "quiz"

    @property
    def latest(self) -> "AuthoredVersion | None":
        """The newest published version, if any."""
        return self.versions[-1] if self.versions else None


class AuthoredCoEditor(db.Model):
    """An educator the owner shared a quiz with: they may edit and publish it, not share it on."""

    __tablename__ = "authored_co_editor"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id", name="uq_authored_co_editor_quiz_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("authored_quiz.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    quiz = relationship("AuthoredQuiz", back_populates="co_editors")
    user = relationship("User")


class AuthoredVersion(db.Model):
    """One published version of an authored quiz: written once, never changed."""

    __tablename__ = "authored_version"
    __table_args__ = (
        UniqueConstraint("quiz_id", "number", name="uq_authored_version_quiz_number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("authored_quiz.id", ondelete="CASCADE"))
    number: Mapped[int]
    #: The quiz as a file's YAML mapping, exactly as published.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The catalog's content version of the quiz (what attempts record in `content_version`).
    content_version: Mapped[str] = mapped_column(String(64))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    quiz = relationship("AuthoredQuiz", back_populates="versions")
    published_by = relationship("User")


@event.listens_for(AuthoredVersion, "before_update")
def _versions_are_immutable(_mapper, _connection, target: AuthoredVersion) -> None:
    """A published version is history: changing it would change what past attempts were taken on."""
    raise ValueError(f"published version {target.number} of an authored quiz cannot be changed")


class ContentRevision(db.Model):
    """The one row counting changes to published authored content; every process polls it."""

    __tablename__ = "content_revision"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
