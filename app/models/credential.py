"""Credentials: the certificate a learner earns by completing an assigned course.

A certificate keeps what it says (the learner's name, the course's title, the competencies evidenced,
the issuer) as written on the day it was issued, so the PDF, the Open Badge and the public verification
page say the same thing for good, whatever is renamed later. Its public id is random (192 bits) and is the
only way to reach it without an account. Its row id is its place in the published revocation list, so ids
are never reused (a deleted certificate's place must not pass to another).
"""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Certificate(db.Model):
    """A learner's certificate for one course: issued once, revocable with a reason, never re-issued."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", name="uq_certificate_once"),
        CheckConstraint("(revoked_at IS NULL) = (revocation_reason IS NULL)", name="revoked_with_reason"),
        CheckConstraint("revocation_reason IS NULL OR length(revocation_reason) > 0", name="reason_not_empty"),
        Index("ix_certificate_cohort", "cohort_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unguessable id in the verification address (secrets.token_urlsafe(24): 192 bits).
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: The course completed; kept empty if the course is deleted later (the certificate still says its title).
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))
    #: The cohort whose assignment of the course was completed: its educators may revoke the certificate.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    learner_name: Mapped[str] = mapped_column(String(100))
    course_title: Mapped[str] = mapped_column(String(200))
    course_description: Mapped[str] = mapped_column(Text, default="")
    #: Competency ids of the course's items the learner completed, in course order (named from the curriculum
    #: when shown). Certificates issued before 2026-12 hold every item's of the course.
    competency_refs: Mapped[list] = mapped_column(JSON, default=list)
    #: Competency ids staff saw the learner do at the observed stations they passed (released ones), kept
    #: apart from what the course evidences: knowing and being seen to do are never one list.
    station_competency_refs: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    issuer_name: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def is_revoked(self) -> bool:
        """Whether the certificate has been revoked."""
        return self.revoked_at is not None
