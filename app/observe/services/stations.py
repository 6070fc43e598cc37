"""Stations: an observation form set for a cohort, and who may see or rate at it."""

from dataclasses import dataclass

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, select

from app.content.observations import ObservationForm, default_pass_total
from app.extensions import db
from app.models import Cohort, CohortMember, Observation, PatientLink, Station, User
from app.models.observation import STAFF_ROLES
from app.models.types import MAX_ID, utcnow
from app.observe.services import access
from app.services import cohorts, hooks


class StationError(ValueError):
    """A change to a station that cannot be made; the message says why."""


def create(cohort: Cohort, form: ObservationForm, title: str, by: User) -> Station:
    """A new station of the cohort on this form; flushes."""
    station = Station(cohort_id=cohort.id, form_ref=form.id, title=title.strip() or form.title, created_by_id=by.id)
    db.session.add(station)
    db.session.flush()
    return station


def for_cohort(cohort_id: int) -> list[Station]:
    """The cohort's stations, newest first."""
    return list(db.session.scalars(select(Station).where(Station.cohort_id == cohort_id).order_by(Station.id.desc())))


def for_staff(user: User, station_id: int) -> tuple[Station, Cohort, str] | None:
    """A station, its cohort and the person's role there ("educator" or "examiner"); None if they may not rate."""
    if not 0 < station_id <= MAX_ID:
        return None
    found = db.session.execute(
        select(Station, Cohort).join(Cohort, Cohort.id == Station.cohort_id).where(Station.id == station_id)
    ).first()
    if found is None:
        return None
    role = access.staff_role(user, found[1].id)
    return (found[0], found[1], role) if role else None


def is_member(cohort_id: int, user_id: int) -> bool:
    """Whether the person is a current student of the cohort."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    CohortMember.cohort_id == cohort_id,
                    CohortMember.user_id == user_id,
                    CohortMember.removed_at.is_(None),
                )
            )
        )
    )


def for_learner(user_id: int, station_id: int) -> tuple[Station, Cohort] | None:
    """A station of a cohort the learner is a current student of; None for any other."""
    if not 0 < station_id <= MAX_ID:
        return None
    found = db.session.execute(
        select(Station, Cohort)
        .join(Cohort, Cohort.id == Station.cohort_id)
        .where(Station.id == station_id, Station.cohort_id.in_(_member_of(user_id)))
    ).first()
    return (found[0], found[1]) if found else None


def _member_of(user_id: int):
    return select(CohortMember.cohort_id).where(CohortMember.user_id == user_id, CohortMember.removed_at.is_(None))


def learner_stations(user_id: int) -> list[tuple[Station, Cohort]]:
    """Every station of the learner's current cohorts, by cohort then newest first."""
    return [
        (station, cohort)
        for station, cohort in db.session.execute(
            select(Station, Cohort)
            .join(Cohort, Cohort.id == Station.cohort_id)
            .where(Station.cohort_id.in_(_member_of(user_id)))
            .order_by(Cohort.name, Station.id.desc())
        )
    ]


def students(cohort: Cohort) -> list[User]:
    """The cohort's current students, by name."""
    return [user for _member, user in cohorts.members(cohort)]


def set_peer(station: Station, allowed: bool) -> None:
    """Let the cohort's students rate one another at this station, or stop them; flushes."""
    station.is_peer_allowed = allowed
    db.session.flush()


def release(station: Station) -> bool:
    """Show the station's ratings to the students rated; False if already released; flushes.

    Each student with a submitted staff rating here is announced as progress (kind "station"), in this
    transaction: a certificate waiting only for this station is issued with the release.
    """
    if station.released_at is not None:
        return False
    station.released_at = utcnow()
    db.session.flush()
    announce(station, staff_rated(station.id))
    return True


def staff_rated(station_id: int) -> list[int]:
    """The students with at least one submitted educator's or examiner's rating at the station."""
    return list(
        db.session.scalars(
            select(Observation.student_id)
            .where(
                Observation.station_id == station_id,
                Observation.rater_role.in_(STAFF_ROLES),
                Observation.submitted_at.is_not(None),
            )
            .distinct()
            .order_by(Observation.student_id)
        )
    )


def announce(station: Station, student_ids: list[int]) -> None:
    """Tell other areas (credentials) that these students' results at a released station may have changed."""
    if station.released_at is None:
        return  # an unreleased station counts for nothing yet
    for student_id in student_ids:
        hooks.progress_made(hooks.Progress(student_id, "station", str(station.id)))


@dataclass(frozen=True)
class Holdings:
    """What deleting a station deletes with it, counted for the confirmation page."""

    submitted: int
    drafts: int
    students: int
    patient_links: int


def holdings(station: Station) -> Holdings:
    """Count the station's ratings (submitted and drafts), the students rated and its patients' links."""
    submitted, drafts, students = db.session.execute(
        select(
            func.count(Observation.submitted_at),
            func.count() - func.count(Observation.submitted_at),
            func.count(Observation.student_id.distinct()),
        ).where(Observation.station_id == station.id)
    ).one()
    links = db.session.scalar(select(func.count()).where(PatientLink.station_id == station.id))
    return Holdings(submitted or 0, drafts or 0, students or 0, links or 0)


def delete(station: Station) -> None:
    """Delete the station with every rating given at it and its patients' links; flushes.

    Learning events ("observed") already recorded at release stay in the learners' records, and
    certificates already issued stay valid: deleting a station does not undo what it evidenced.
    """
    db.session.execute(sql_delete(Observation).where(Observation.station_id == station.id))
    db.session.execute(sql_delete(PatientLink).where(PatientLink.station_id == station.id))
    db.session.delete(station)
    db.session.flush()


def pass_total(station: Station, form: ObservationForm) -> float:
    """The station's pass mark as a checklist total: set by borderline regression, else the form's percentage."""
    return station.pass_total if station.pass_total is not None else default_pass_total(form)


def set_pass_total(station: Station, value: float, form: ObservationForm) -> None:
    """Adopt a pass mark (a checklist total within the form's range); flushes."""
    if not 0 <= value <= form.max_score:
        raise StationError(f"A pass mark must lie between 0 and {form.max_score}, the form's highest total.")
    station.pass_total = round(value, 2)
    db.session.flush()
    announce(station, staff_rated(station.id))  # a lower pass mark may pass a student at a released station
