"""One-time links for a patient to rate a student without an account.

As with password links (app/services/password_links.py), the token travels only in the link and
the database keeps its SHA-256. A link works once: the rating is claimed with a conditional UPDATE,
so two submissions racing cannot both count. It expires after `LIFETIME`.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from app.content.observations import ObservationForm
from app.extensions import db
from app.models import Observation, PatientLink, Station, User
from app.models.types import utcnow
from app.observe.services.ratings import Entered
from app.services import password_links

#: Long enough for a station day or a clinic session; short enough that a lost card is soon dead.
LIFETIME = timedelta(hours=24)
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")
PROBLEMS = {
    "unknown": "This link is not one we know. Check that all of it was copied, or ask the person who gave it to you.",
    "used": "This link has been used already: thank you, your answers were received. Each link works once.",
    "expired": "This link has expired. Ask the person who gave it to you for a new one.",
}


class PatientLinkError(ValueError):
    """The link cannot be used; `reason` is a key of PROBLEMS."""

    def __init__(self, reason: str):
        super().__init__(PROBLEMS[reason])
        self.reason = reason


@dataclass(frozen=True)
class Found:
    """A usable link, its station and the student it rates."""

    link: PatientLink
    station: Station
    student: User


def make(station: Station, student_id: int, by: User) -> str:
    """A new link for a patient to rate this student here; the token (shown once); flushes."""
    token = secrets.token_urlsafe(24)
    now = utcnow()
    db.session.add(
        PatientLink(
            station_id=station.id,
            student_id=student_id,
            token_hash=password_links.token_hash(token),
            created_by_id=by.id,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    db.session.flush()
    return token


def find(token: str) -> Found:
    """The usable link for a token, or PatientLinkError saying why not."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise PatientLinkError("unknown")
    row = db.session.execute(
        select(PatientLink, Station, User)
        .join(Station, Station.id == PatientLink.station_id)
        .join(User, User.id == PatientLink.student_id)
        .where(PatientLink.token_hash == password_links.token_hash(token))
    ).first()
    if row is None:
        raise PatientLinkError("unknown")
    link, station, student = row
    if link.used_at is not None:
        raise PatientLinkError("used")
    if link.expires_at <= utcnow():
        raise PatientLinkError("expired")
    return Found(link, station, student)


def use(found: Found, form: ObservationForm, entered: Entered) -> Observation:
    """Record the patient's rating through the link, once; flushes."""
    gaps = [item for item in form.patient_items if entered.marks.get(item.id) is None]
    if gaps:
        raise ValueError("Please answer every question: " + "; ".join(f"“{item.text}”" for item in gaps) + ".")
    now = utcnow()
    claimed = db.session.execute(
        update(PatientLink)
        .where(PatientLink.id == found.link.id, PatientLink.used_at.is_(None), PatientLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise PatientLinkError("used")
    observation = Observation(
        station_id=found.station.id,
        student_id=found.student.id,
        rater_id=None,
        rater_role="patient",
        patient_link_id=found.link.id,
        form_version=form.version,
        marks=dict(entered.marks),
        comments=dict(entered.comments),
        comment=entered.comment,
        started_at=now,
        updated_at=now,
        submitted_at=now,
    )
    db.session.add(observation)
    db.session.flush()
    return observation
