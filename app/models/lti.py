"""LTI 1.3: the platforms (Moodle, Canvas...) registered with Alliance, and what their launches leave behind.

A person who arrives from a platform is known by (issuer, `sub`), never by email (`LtiAccount`).
A platform's course (its "context") is an Alliance cohort (`LtiContext`), and each placement of an
Alliance item in it a `LtiLink` (with the grade column, the "line item", when the item is graded).
Grades wait in `LtiScore`, an outbox with one row per (link, learner, attempt): sent by
`alliance lti send` with back-off, never lost and never twice. `LtiState` keeps short-lived protocol
values (the nonces of logins in progress, deep linking launches, registration links).
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.indexes import partial_index
from app.models.types import UTCDateTime, utcnow

#: What a link can open: the teaching kinds, and a whole course.
LINK_KINDS = ("module", "quiz", "conversation", "course")
#: Kinds that have a grade (a line item on the platform).
GRADED_KINDS = ("quiz", "conversation", "course")

# Scores a sender may still have to send: the partial index covers only these, so it stays small.
PENDING = "sent_at IS NULL AND rejected_at IS NULL"


class LtiPlatform(db.Model):
    """One registration of Alliance in a platform: its issuer, our client id there, and its endpoints."""

    __tablename__ = "lti_platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_platform_registration"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    keyset_url: Mapped[str] = mapped_column(String(1000))
    #: The audience of our token requests when the platform wants another than its token URL (Brightspace).
    auth_audience: Mapped[str | None] = mapped_column(String(1000))
    #: Origins (space-separated) that may frame Alliance besides the issuer's and the login URL's.
    frame_origins: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiDeployment(db.Model):
    """A deployment of the tool in a platform (a whole site, or one course): launches must name a known one."""

    __tablename__ = "lti_deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id", name="uq_lti_deployment_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))


class LtiAccount(db.Model):
    """The Alliance account of a platform's user: matched by (issuer, sub), the only identity a launch proves."""

    __tablename__ = "lti_account"
    __table_args__ = (UniqueConstraint("issuer", "sub", name="uq_lti_account_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: The address the platform gave, for people to read; never used to find an account.
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiContext(db.Model):
    """A platform's course, taught in Alliance as a cohort; the roster service's address when the platform gave one."""

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id", "context_id", name="uq_lti_context_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200), default="")
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), unique=True)
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_roster_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiLink(db.Model):
    """One placement of an Alliance item in a platform's course, with its grade column when it is graded."""

    __tablename__ = "lti_link"
    __table_args__ = (
        UniqueConstraint("platform_id", "deployment_id", "resource_link_id", name="uq_lti_link_once"),
        CheckConstraint("kind IN ('module', 'quiz', 'conversation', 'course')", name="kind"),
        Index("ix_lti_link_item", "kind", "item_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The module, quiz or conversation id, or the course's id as text.
    item_ref: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    #: The line item (grade column) scores go to; None for a module, or when the platform gave none.
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    #: The grade service's scopes the platform granted for this link, space-separated.
    ags_scopes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiScore(db.Model):
    """A score waiting for (or sent to) a link's line item: one row per (link, learner, attempt), so never twice.

    `attempt_key` is the quiz or conversation attempt's id, 0 for a course's completion. A sender leases
    rows (a token and an expiry) like the statement outbox; a failure keeps the row with a later time.
    """

    __tablename__ = "lti_score"
    __table_args__ = (
        UniqueConstraint("link_id", "user_id", "attempt_key", name="uq_lti_score_once"),
        partial_index("ix_lti_score_due", "next_attempt_at", where=PENDING),
        CheckConstraint("score_maximum > 0 AND score_given >= 0", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_link.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    attempt_key: Mapped[int]
    score_given: Mapped[float]
    score_maximum: Mapped[float]
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    #: When the learner finished: the score's timestamp, so the platform keeps the latest.
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the platform refused the score itself (a 4xx no retry can fix); kept for a person to look at.
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class LtiState(db.Model):
    """A short-lived protocol value by key: a login's nonce (used once), a deep linking launch, a registration link."""

    __tablename__ = "lti_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
