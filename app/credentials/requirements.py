"""What a certificate needs besides a completed course: passed observed stations, when the site asks for them.

The setting ALLIANCE_CERTIFICATE_OBSERVED_STATIONS (CERTIFICATE_OBSERVED_STATIONS; default 0, none) is the
number of observed stations (OSCE-style observed consultations, app/observe) a learner must have passed in
the cohort the course is assigned through before its certificate is issued. The observations area
answers through `app.observe.services.results.passed_stations(user_id, cohort_id, catalog)` (released
stations the learner passed on staff ratings); this module is the one seam between the two areas. A station
passed after the course was completed issues the certificate when its ratings are released (or when a staff
rating lands at, or a lower pass mark is adopted for, a released station): the observations area announces
progress of kind "station" (ref: the station id) in that transaction, and `issuing.on_station` answers it.
"""

import importlib

from flask import current_app
from sqlalchemy import select

from app.content import catalog
from app.extensions import db


class StationsUnavailable(RuntimeError):
    """Stations are required but this installation cannot tell which were passed."""


def required() -> int:
    """How many passed observed stations a certificate needs (0: none)."""
    return int(current_app.config.get("CERTIFICATE_OBSERVED_STATIONS") or 0)


def _passed_stations():
    """The observations area's `passed_stations(user_id, cohort_id, catalog)`, or None where it is not installed."""
    try:
        module = importlib.import_module("app.observe.services.results")
    except ImportError:
        return None
    return getattr(module, "passed_stations", None)


def check_available(stations: int) -> None:
    """Refuse a setting asking for stations when nothing can count them (StationsUnavailable, with advice)."""
    if stations and _passed_stations() is None:
        raise StationsUnavailable(
            "ALLIANCE_CERTIFICATE_OBSERVED_STATIONS asks for passed observed stations, but this installation has "
            "no observations (app.observe.services.results.passed_stations). Unset it, or set it to 0."
        )


def stations_met(user_id: int, cohort_id: int) -> bool:
    """Whether the learner has passed as many observed stations as the site asks for, in this cohort."""
    needed = required()
    if not needed:
        return True
    passed_stations = _passed_stations()
    return passed_stations is not None and len(passed_stations(user_id, cohort_id, catalog())) >= needed


def cohort_of_station(ref: str) -> int | None:
    """The cohort of the station a "station" progress step names (its id as text); None if there is none."""
    from app.models import Station

    if not (ref.isascii() and ref.isdigit()) or len(ref) > 18:
        return None
    return db.session.scalar(select(Station.cohort_id).where(Station.id == int(ref)))
