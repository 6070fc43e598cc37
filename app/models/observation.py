"""Observed consultations: stations of a cohort, the ratings given at them, examiners and patients' links.

A station is one observation form (content, by `form_ref`) set for one cohort. Each rating
(`Observation`) is one rater's marks for one student at one station: an educator, an examiner,
the student themself, a peer, or a patient through a one-time link (no account: `rater_id` empty).
Nothing of a rating reaches the student before the station is released (`Station.released_at`).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

#: Who rated: staff (educator, examiner), the student (self), another student (peer), a patient.
RATER_ROLES = ("educator", "examiner", "self", "peer", "patient")
#: The roles whose ratings count for passing a station and for "seen to do".
STAFF_ROLES = ("educator", "examiner")


def _user_fk(ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey("user.id", ondelete=ondelete)


class CohortExaminer(db.Model):
    """An educator account added to a cohort to rate at its stations, and to see nothing else of it."""

    __tablename__ = "cohort_examiner"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Station(db.Model):
    """An observation form set for a cohort: who may rate, its pass mark, and whether ratings are released."""

    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    form_ref: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    #: Whether students of the cohort may rate one another here.
    is_peer_allowed: Mapped[bool] = mapped_column(default=False)
    #: The pass mark as a checklist total once set by borderline regression; empty: the form's percentage.
    pass_total: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Until set, no student sees any rating of them at this station.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PatientLink(db.Model):
    """A one-time link for a patient to rate one student at one station, without an account (only its hash kept)."""

    __tablename__ = "patient_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(_user_fk())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Observation(db.Model):
    """One rater's marks for one student at one station; a draft until submitted."""

    __tablename__ = "observation"
    __table_args__ = (
        # One rating per rater, student and station (patients, without an account, one per link).
        UniqueConstraint("station_id", "student_id", "rater_id", name="uq_observation_once"),
        Index("ix_observation_student", "student_id"),
        CheckConstraint("rater_role IN ('educator', 'examiner', 'self', 'peer', 'patient')", name="rater_role"),
        # Patients have no account; self and peer ratings always name their rater. A staff rating names its
        # rater until that account is deleted: the rating stays for the student's result (account_data.delete).
        CheckConstraint("rater_role <> 'patient' OR rater_id IS NULL", name="patient_has_no_account"),
        CheckConstraint("rater_role NOT IN ('self', 'peer') OR rater_id IS NOT NULL", name="student_raters_named"),
        CheckConstraint("(rater_role = 'patient') = (patient_link_id IS NOT NULL)", name="patient_has_link"),
        CheckConstraint("rater_role <> 'self' OR rater_id = student_id", name="self_is_student"),
        CheckConstraint("rater_role IN ('self', 'patient') OR rater_id <> student_id", name="others_are_others"),
        CheckConstraint("global_rating IS NULL OR global_rating BETWEEN 0 AND 4", name="global_rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(_user_fk())
    #: Cleared (SET NULL) when a staff rater's account is deleted; their self and peer ratings are deleted.
    rater_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    rater_role: Mapped[str] = mapped_column(String(16))
    patient_link_id: Mapped[int | None] = mapped_column(ForeignKey("patient_link.id", ondelete="CASCADE"), unique=True)
    form_version: Mapped[str] = mapped_column(String(64))
    #: {item id: point} and {item id: comment}, as the rater left them.
    marks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Index into GLOBAL_RATINGS (0 clear fail .. 4 excellent); patients give none.
    global_rating: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The checklist total and the result, fixed at submission.
    total: Mapped[int | None]
    is_passed: Mapped[bool | None]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
