"""The tracker: append-only learning events plus summary rows the pages read.

Content (modules, lessons, quizzes, items, competencies) is referenced by its string id in
`*_ref` columns, never by foreign key: content lives in files and may be rewritten, while a
learner's history must survive that.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.indexes import partial_index
from app.models.types import UTCDateTime, utcnow

_user_fk = lambda: ForeignKey("user.id", ondelete="CASCADE")  # noqa: E731


class LearningEvent(db.Model):
    """One thing a learner did, appended and never updated (the source of learning records)."""

    __tablename__ = "learning_event"
    # Ids are never reused (statement ids derive from them), even after an account is deleted.
    __table_args__ = (Index("ix_learning_event_user_created", "user_id", "created_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk())
    verb: Mapped[str] = mapped_column(String(32))
    object_ref: Mapped[str] = mapped_column(String(300))
    content_version: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonProgress(db.Model):
    """Summary of one learner's progress in one lesson."""

    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "module_ref", "lesson_ref", name="uq_lesson_progress_learner_lesson"),
        # Covers the progress report's lessons-completed counts per module and student (reports/matrix_queries.py).
        Index("ix_lesson_progress_module_user_done", "module_ref", "user_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    module_ref: Mapped[str] = mapped_column(String(100))
    lesson_ref: Mapped[str] = mapped_column(String(100))
    content_version: Mapped[str] = mapped_column(String(64))
    view_count: Mapped[int] = mapped_column(default=0)
    first_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_completed(self) -> bool:
        """Whether the learner has completed the lesson."""
        return self.completed_at is not None


#: How an attempt counts: an assessed attempt counts towards grades and courses; a practice one
#: (unlimited, feedback after every item) only towards the learner's own mastery and review queue.
MODES = ("assessed", "practice")
#: How an attempt is scored: by the items' points, or by certainty-based marking.
MARKINGS = ("standard", "certainty")

# An attempt is open until submitted or set aside. The partial unique index and the ON CONFLICT
# target that relies on it must name this predicate identically, so both use this one text.
OPEN_ATTEMPT = "submitted_at IS NULL AND abandoned_at IS NULL"


class QuizAttempt(db.Model):
    """One attempt at a quiz or conversation, snapshotting the pass mark and content version it was taken on."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (
        Index("ix_quiz_attempt_user_quiz", "user_id", "quiz_ref"),
        # At most one open attempt per learner, quiz and mode: a double click on "Start" cannot fork.
        partial_index("uq_quiz_attempt_one_open", "user_id", "quiz_ref", "mode", unique=True, where=OPEN_ATTEMPT),
        CheckConstraint("pass_mark BETWEEN 1 AND 100", name="pass_mark_range"),
        CheckConstraint("mode IN ('assessed', 'practice')", name="mode"),
        CheckConstraint("marking IN ('standard', 'certainty')", name="marking"),
        CheckConstraint("mode = 'practice' OR pass_mark IS NOT NULL", name="assessed_has_pass_mark"),
        # Ids are never reused (a statement's registration derives from them).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk())
    #: The quiz or conversation; for a practice set drawn from several quizzes, the set's ref
    #: (`practice/competency/<id>`, `practice/review`) and its items are listed in `item_refs`.
    quiz_ref: Mapped[str] = mapped_column(String(100))
    module_ref: Mapped[str] = mapped_column(String(100))
    content_version: Mapped[str] = mapped_column(String(64))
    #: None for practice, which has no pass mark.
    pass_mark: Mapped[int | None]
    max_score: Mapped[float]
    score: Mapped[float | None]
    is_passed: Mapped[bool | None]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an open attempt is replaced (the quiz changed before it was submitted). The row
    # stays, so the learning events that name it stay too: the log is append-only.
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: For a branching conversation: the ending the learner's path reached.
    ending_ref: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(16), default="assessed")
    marking: Mapped[str] = mapped_column(String(16), default="standard")
    #: The items of a practice attempt, in order, as "quiz_id/item_id" (a snapshot of the set).
    item_refs: Mapped[list[str] | None] = mapped_column(JSON)

    responses: Mapped[list["ItemResponse"]] = relationship(
        back_populates="attempt", order_by="ItemResponse.position", cascade="all, delete-orphan"
    )

    @classmethod
    def is_open(cls):
        """SQL: the attempt is neither submitted nor set aside."""
        return and_(cls.submitted_at.is_(None), cls.abandoned_at.is_(None))

    @property
    def is_practice(self) -> bool:
        """Whether this attempt was practice, which never counts towards grades."""
        return self.mode == "practice"

    @property
    def percent(self) -> float | None:
        """The score as a percentage of the maximum, once submitted."""
        if self.score is None or not self.max_score:
            return None
        return 100.0 * self.score / self.max_score


class ItemResponse(db.Model):
    """The learner's answer to one item within an attempt, as graded."""

    __tablename__ = "item_response"
    # One response per step: a conversation may pass the same node twice, a double submission may not
    # record the same step twice.
    __table_args__ = (
        UniqueConstraint("attempt_id", "position", name="uq_item_response_attempt_position"),
        CheckConstraint("confidence BETWEEN 1 AND 3", name="confidence_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    #: The quiz or conversation the item belongs to (a practice set may draw on several).
    quiz_ref: Mapped[str] = mapped_column(String(100))
    item_ref: Mapped[str] = mapped_column(String(100))
    item_type: Mapped[str] = mapped_column(String(32))
    item_version: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    answer: Mapped[Any] = mapped_column(JSON)
    grade: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float]
    max_score: Mapped[float]
    is_correct: Mapped[bool]
    competency_refs: Mapped[list[str]] = mapped_column(JSON)
    #: How sure the learner said they were: 1 not sure, 2 fairly sure, 3 very sure (None: not asked).
    confidence: Mapped[int | None]
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attempt: Mapped[QuizAttempt] = relationship(back_populates="responses")


class DraftAnswer(db.Model):
    """What the learner has entered so far for one item of an open quiz attempt, saved as they go.

    Nothing here is graded or counted: the row is a working copy of the form, put back when the
    learner returns and deleted when the attempt is submitted (or with the attempt).
    """

    __tablename__ = "draft_answer"
    __table_args__ = (
        # The whole form is saved each time: one row per item, replaced in place.
        UniqueConstraint("attempt_id", "item_ref", name="uq_draft_answer_attempt_item"),
        CheckConstraint("confidence BETWEEN 1 AND 3", name="confidence_level"),
        CheckConstraint("answer IS NOT NULL OR confidence IS NOT NULL", name="holds_something"),
        CheckConstraint("answer IS NOT NULL OR NOT is_complete", name="complete_has_answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    item_ref: Mapped[str] = mapped_column(String(100))
    #: The item's version when saved: after the quiz changes, only answers to unchanged items come back.
    item_version: Mapped[str] = mapped_column(String(64))
    #: The answer as the item type reads it from the form: whole, or as far as the learner got.
    answer: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    #: Whether `answer` is a whole answer that can be graded (a half-ordered list is not).
    is_complete: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[int | None]
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizProgress(db.Model):
    """Summary of one learner's attempts at one quiz."""

    __tablename__ = "quiz_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_ref", name="uq_quiz_progress_learner_quiz"),
        # Covers the progress report's passed counts per activity (reports/matrix_queries.py).
        Index("ix_quiz_progress_quiz_user_passed", "quiz_ref", "user_id", "is_passed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    quiz_ref: Mapped[str] = mapped_column(String(100))
    module_ref: Mapped[str] = mapped_column(String(100))
    attempt_count: Mapped[int] = mapped_column(default=0)
    best_percent: Mapped[float] = mapped_column(default=0.0)
    last_percent: Mapped[float] = mapped_column(default=0.0)
    is_passed: Mapped[bool] = mapped_column(default=False)
    first_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CompetencyProgress(db.Model):
    """Summary of one learner's graded answers on items tagged with one competency."""

    __tablename__ = "competency_progress"
    __table_args__ = (UniqueConstraint("user_id", "competency_ref", name="uq_competency_progress_learner_competency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    competency_ref: Mapped[str] = mapped_column(String(100))
    answered_count: Mapped[int] = mapped_column(default=0)
    correct_count: Mapped[int] = mapped_column(default=0)
    harmful_count: Mapped[int] = mapped_column(default=0)
    score: Mapped[float] = mapped_column(default=0.0)
    max_score: Mapped[float] = mapped_column(default=0.0)
    last_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
