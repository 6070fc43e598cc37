"""Teaching: courses built from catalog content, cohorts of students, and assignments between them.

Courses reference content by id (`item_ref`), never by foreign key, like the tracker does.
Removing a student from a cohort ends the membership (`removed_at`); their records stay.
Nobody's work is opened to an educator without consent: a class list invites existing accounts
(`CohortInvitation`) rather than enrolling them, and sharing a cohort invites the colleague
(`CohortEducator.accepted_at` stays empty until they accept).
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ITEM_KINDS = ("module", "quiz", "conversation")
#: The most passed observed stations an assignment's certificate may ask for.
MAX_OBSERVED_STATIONS = 20


def _user_fk(ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey("user.id", ondelete=ondelete)


class Course(db.Model):
    """An ordered choice of modules, quizzes and conversations an educator assigns to cohorts."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list["CourseItem"]] = relationship(
        back_populates="course", order_by="CourseItem.position", cascade="all, delete-orphan"
    )


class CourseItem(db.Model):
    """One module, quiz or conversation of a course, in its place, required or optional."""

    __tablename__ = "course_item"
    __table_args__ = (
        UniqueConstraint("course_id", "kind", "item_ref", name="uq_course_item_once"),
        UniqueConstraint("course_id", "position", name="uq_course_item_position"),
        CheckConstraint("kind IN ('module', 'quiz', 'conversation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    item_ref: Mapped[str] = mapped_column(String(100))
    is_required: Mapped[bool] = mapped_column(default=True)

    course: Mapped[Course] = relationship(back_populates="items")


class Cohort(db.Model):
    """A class of students that educators teach together."""

    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    is_join_open: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CohortEducator(db.Model):
    """An educator who may see and run a cohort (its owner, or a co-educator who accepted the invitation)."""

    __tablename__ = "cohort_educator"
    __table_args__ = (CheckConstraint("NOT is_owner OR accepted_at IS NOT NULL", name="owner_accepted"),)

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), primary_key=True, index=True)
    is_owner: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Empty while the colleague has not accepted: until then they see nothing of the cohort.
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))


class CohortMember(db.Model):
    """A student's membership of a cohort; ended, never deleted, when they are removed."""

    __tablename__ = "cohort_member"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id", name="uq_cohort_member_once"),
        Index("ix_cohort_member_user", "user_id"),
        CheckConstraint("joined_via IN ('code', 'roster')", name="joined_via"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(_user_fk())
    joined_via: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set with removed_at when the learner left by themselves: they may join again with the code,
    #: and no class list adds them back without a new invitation they accept.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


INVITATION_STATES = ("pending", "accepted", "declined")


class CohortInvitation(db.Model):
    """An invitation for an existing account to join a cohort, made by a class list; the learner answers it.

    Until it is accepted the educator sees only the name and the state, never the learner's work.
    """

    __tablename__ = "cohort_invitation"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id", name="uq_cohort_invitation_once"),
        Index("ix_cohort_invitation_user", "user_id", "state"),
        CheckConstraint("state IN ('pending', 'accepted', 'declined')", name="state"),
        CheckConstraint("(state = 'pending') = (answered_at IS NULL)", name="answered_when_not_pending"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(_user_fk())
    invited_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Assignment(db.Model):
    """A course assigned to a cohort, with optional start and due dates."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("cohort_id", "course_id", name="uq_assignment_once"),
        CheckConstraint("due_on IS NULL OR starts_on IS NULL OR due_on >= starts_on", name="dates_in_order"),
        CheckConstraint(
            f"observed_stations IS NULL OR observed_stations BETWEEN 0 AND {MAX_OBSERVED_STATIONS}",
            name="observed_stations_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Passed observed stations (app/observe) in the cohort its certificate also needs, besides the completed
    #: course: 0 for none; empty for the site's default (ALLIANCE_CERTIFICATE_OBSERVED_STATIONS), as every
    #: assignment made before the choice existed. See app/credentials/requirements.py.
    observed_stations: Mapped[int | None] = mapped_column()

    course: Mapped[Course] = relationship()


#: What a password link is for: the account's first password ("set": made from a class list or by an
#: admin), a new one an admin or educator issued ("reset"), or one the person asked for by email ("forgot").
PASSWORD_LINK_KINDS = ("set", "reset", "forgot")


class PasswordLink(db.Model):
    """A one-time link to set or reset a password (only its hash is kept)."""

    __tablename__ = "password_link"
    __table_args__ = (
        CheckConstraint("kind IN ('set', 'reset', 'forgot')", name="kind"),
        CheckConstraint("role IN ('student', 'educator', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="set")
    #: The account's role when the link was made: the link works only while it still has that role, so a
    #: link an educator made for a student can never take over the account once it is an admin's.
    role: Mapped[str] = mapped_column(String(16), default="student")
    created_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
