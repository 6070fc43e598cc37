"""What a certificate needs besides a completed course: passed observed stations, as its assignment asks.

Each assignment of a course to a cohort says how many observed stations (OSCE-style observed consultations,
app/observe) the learner must have passed in that cohort before the course's certificate is issued
(`Assignment.observed_stations`: 0 for none, at most MAX_OBSERVED_STATIONS). An assignment that says nothing
(every one made before the choice existed) follows the site's default, ALLIANCE_CERTIFICATE_OBSERVED_STATIONS
(CERTIFICATE_OBSERVED_STATIONS; default 0), which also fills in the assign form. The observations area
answers through `app.observe.services.results.passed_stations(user_id, cohort_id, catalog)` (released
stations the learner passed on staff ratings); this module is the one seam between the two areas. A station
passed after the course was completed issues the certificate when its ratings are released (or when a staff
rating lands at, or a lower pass mark is adopted for, a released station): the observations area announces
progress of kind "station" (ref: the station id) in that transaction, and `issuing.on_station` answers it.
"""

import importlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.content import Catalog, catalog
from app.extensions import db
from app.models.teaching import MAX_OBSERVED_STATIONS


class StationsUnavailable(RuntimeError):
    """Stations are required but this installation cannot tell which were passed."""


def site_default() -> int:
    """The site's default number of passed observed stations a certificate needs (0: none)."""
    return int(current_app.config.get("CERTIFICATE_OBSERVED_STATIONS") or 0)


def needed(observed_stations: int | None) -> int:
    """What an assignment asks for: its own number, or the site's default when it has none."""
    return site_default() if observed_stations is None else observed_stations


def form_default() -> int:
    """The number the assign form starts with: the site's default, within what an assignment may ask."""
    return min(site_default(), MAX_OBSERVED_STATIONS)


def _passed_stations():
    """The observations area's `passed_stations(user_id, cohort_id, catalog)`, or None where it is not installed."""
    try:
        module = importlib.import_module("app.observe.services.results")
    except ImportError:
        return None
    return getattr(module, "passed_stations", None)


def available() -> bool:
    """Whether this installation can count passed observed stations."""
    return _passed_stations() is not None


def check_available(stations: int) -> None:
    """Refuse a setting asking for stations when nothing can count them (StationsUnavailable, with advice)."""
    if stations and not available():
        raise StationsUnavailable(
            "ALLIANCE_CERTIFICATE_OBSERVED_STATIONS asks for passed observed stations, but this installation has "
            "no observations (app.observe.services.results.passed_stations). Unset it, or set it to 0."
        )


def passed(user_id: int, cohort_id: int, found: Catalog | None = None) -> list:
    """The released stations of the cohort the learner passed (none where observations are not installed)."""
    passed_stations = _passed_stations()
    return [] if passed_stations is None else list(passed_stations(user_id, cohort_id, found or catalog()))


def seen_at_stations(stations: list, found: Catalog) -> list[str]:
    """Competency ids the stations' forms observe, in station order: what staff saw a learner do at those passed.

    A pass needs every item rated by every staff rater (app.observe.services.results.outcome), so at a passed
    station each of its form's competencies was seen.
    """
    refs: list[str] = []
    for station in stations:
        form = found.observation(station.form_ref)
        if form is not None:
            refs += form.competencies
    return list(dict.fromkeys(refs))


@dataclass(frozen=True)
class Waiting:
    """A completed course whose certificate waits for observed stations in a cohort: how many, how many passed."""

    cohort_name: str
    needed: int
    passed: int


def waiting(user_id: int, course_id: int) -> list[Waiting]:
    """For a learner's completed course without a certificate: each of their cohorts assigning it that asks for stations."""
    from app.models import Assignment, Cohort, CohortMember

    rows = db.session.execute(
        select(Cohort.id, Cohort.name, Assignment.observed_stations)
        .join(Assignment, Assignment.cohort_id == Cohort.id)
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .where(Assignment.course_id == course_id, CohortMember.user_id == user_id, CohortMember.removed_at.is_(None))
        .order_by(Cohort.id)
    ).all()
    found = []
    for cohort_id, name, stations in rows:
        if count := needed(stations):
            found.append(Waiting(name, count, min(len(passed(user_id, cohort_id)), count)))
    return found


def assignment_of(cohort_id: int, course_id: int):
    """The assignment of a course to a cohort (with its course), or None."""
    from sqlalchemy.orm import joinedload

    from app.models import Assignment

    return db.session.scalar(
        select(Assignment)
        .options(joinedload(Assignment.course))
        .where(Assignment.cohort_id == cohort_id, Assignment.course_id == course_id)
    )


def stations_in(cohort_id: int) -> int:
    """How many observed stations the cohort has so far."""
    from sqlalchemy import func

    from app.models import Station

    return db.session.scalar(select(func.count(Station.id)).where(Station.cohort_id == cohort_id)) or 0


def cohort_of_station(ref: str) -> int | None:
    """The cohort of the station a "station" progress step names (its id as text); None if there is none."""
    from app.models import Station

    if not (ref.isascii() and ref.isdigit()) or len(ref) > 18:
        return None
    return db.session.scalar(select(Station.cohort_id).where(Station.id == int(ref)))
