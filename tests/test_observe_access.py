"""Who may open what in the observed-stations area: every route for every role, the patient's link included.

The world: a cohort taught by the educator (for other roles, by a colleague; admins see every cohort) with the
role's own account as a student (a visitor's and staff's worlds use another student, "Owner"), a second student
("Member Student"), an examiner, and a station on the first-consultation form where peers may rate.
"""

import pytest

from app.observe.services import access, patients, stations
from app.services import cohorts
from tests import worlds
from tests.test_access import (
    NOT_ALLOWED,
    NOT_FOUND,
    ROLES,
    SIGN_IN,
    Case,
    assert_outcome,
    become,
    by_role,
    everyone,
    fill,
    mine,
    page,
    redirect_like,
    redirect_to,
)

COHORT = "Ward 7 class"
STATION = "Station 1"
MEMBER = "Member Student"


def _members_only(outcome) -> dict:
    """A station page of the learner's own cohort: only the world's student (a member) reaches it."""
    return by_role(SIGN_IN, NOT_FOUND) | {"student": outcome}


def _patient_answers(_w) -> dict:
    return {
        "mark-listened": "2",
        "mark-understood": "1",
        "mark-explained": "2",
        "mark-planned-together": "2",
        "mark-would-return": "2",
    }


CASES = [
    # --- the rating staff: the cohorts they teach or examine, a cohort's stations and examiners
    Case("/observe/", "GET", {**mine(page(lambda w: "Stations")), "other educator": page(lambda w: "Stations")}),
    Case("/observe/cohorts/<int:cohort_id>/stations", "GET", mine(page(lambda w: f"Stations: {COHORT}"))),
    Case(
        "/observe/cohorts/<int:cohort_id>/stations",
        "POST",
        mine(redirect_like(r"/observe/stations/\d+")),
        data=lambda w: {"form_ref": "shared-decision-observed", "title": ""},
    ),
    Case("/observe/cohorts/<int:cohort_id>/examiners", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/observe/cohorts/<int:cohort_id>/examiners",
        "POST",
        mine(redirect_to(lambda w: f"/observe/cohorts/{w['cohort_id']}/stations#examiners")),
        data=lambda w: {"email": "colleague@example.org"},
    ),
    Case("/observe/cohorts/<int:cohort_id>/examiners/<int:user_id>/remove", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/observe/cohorts/<int:cohort_id>/examiners/<int:user_id>/remove",
        "POST",
        mine(redirect_to(lambda w: f"/observe/cohorts/{w['cohort_id']}/stations#examiners")),
    ),
    # --- a station
    Case("/observe/stations/<int:station_id>", "GET", mine(page(lambda w: STATION))),
    Case("/observe/stations/<int:station_id>/settings", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/observe/stations/<int:station_id>/settings",
        "POST",
        mine(redirect_to(lambda w: f"/observe/stations/{w['station_id']}")),
        data=lambda w: {"peer": "on"},
    ),
    Case("/observe/stations/<int:station_id>/release", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/observe/stations/<int:station_id>/release",
        "POST",
        mine(redirect_to(lambda w: f"/observe/stations/{w['station_id']}")),
    ),
    Case("/observe/stations/<int:station_id>/delete", "GET", mine(page(lambda w: f"Delete “{STATION}”?"))),
    Case(
        "/observe/stations/<int:station_id>/delete",
        "POST",
        mine(redirect_to(lambda w: f"/observe/cohorts/{w['cohort_id']}/stations")),
    ),
    Case(
        "/observe/stations/<int:station_id>/students/<int:user_id>/rate",
        "GET",
        mine(page(lambda w: f"Rate {MEMBER}")),
    ),
    Case(
        "/observe/stations/<int:station_id>/students/<int:user_id>/rate",
        "POST",  # "Save": the draft is kept and the page shown again
        mine(redirect_to(lambda w: f"/observe/stations/{w['station_id']}/students/{w['user_id']}/rate")),
        data=lambda w: {"mark-gathers-information": "2", "action": "save"},
    ),
    Case(
        "/observe/stations/<int:station_id>/students/<int:user_id>",
        "GET",
        mine(page(lambda w: f"Ratings of {MEMBER}: {STATION}")),
    ),
    Case("/observe/stations/<int:station_id>/students/<int:user_id>/patient-link", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/observe/stations/<int:station_id>/students/<int:user_id>/patient-link",
        "POST",
        mine(page(lambda w: f"Patient link for {MEMBER}")),
    ),
    Case("/observe/stations/<int:station_id>/report", "GET", mine(page(lambda w: f"Station report: {STATION}"))),
    Case("/observe/stations/<int:station_id>/report.csv", "GET", mine(("csv", None))),
    Case("/observe/stations/<int:station_id>/pass-mark", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/observe/stations/<int:station_id>/pass-mark",
        "POST",  # too few ratings for a regression: the report says so
        mine(redirect_to(lambda w: f"/observe/stations/{w['station_id']}/report")),
    ),
    # --- learners: their stations, rating themselves and a peer, their released ratings
    Case("/stations/", "GET", by_role(SIGN_IN, page(lambda w: "My stations"))),
    Case("/stations/<int:station_id>", "GET", _members_only(page(lambda w: STATION))),
    Case("/stations/<int:station_id>/self", "GET", _members_only(page(lambda w: f"Rate yourself: {STATION}"))),
    Case(
        "/stations/<int:station_id>/self",
        "POST",
        _members_only(redirect_to(lambda w: f"/stations/{w['station_id']}/self")),
        data=lambda w: {"mark-gathers-information": "1", "action": "save"},
    ),
    Case("/stations/<int:station_id>/peers/<int:user_id>", "GET", _members_only(page(lambda w: f"Rate {MEMBER}"))),
    Case(
        "/stations/<int:station_id>/peers/<int:user_id>",
        "POST",
        _members_only(redirect_to(lambda w: f"/stations/{w['station_id']}/peers/{w['user_id']}")),
        data=lambda w: {"mark-gathers-information": "2", "action": "save"},
    ),
    # --- a patient, with a one-time link and no account
    Case("/rate/<token>", "GET", everyone(page(lambda w: "A few questions about your appointment"))),
    Case("/rate/<token>", "POST", everyone(page(lambda w: "Thank you")), data=_patient_answers),
]


def build_world(role: str, auth, db, catalog) -> tuple:
    """Become `role`; set a station in a cohort with the role's account as a student (when it is one)."""
    user = become(role, auth)
    teacher = user if role == "educator" else auth.create("educator", email="teacher@example.org", name="Teacher")
    owner = user if role == "student" else auth.create("student", email="owner@example.org", name="Owner")
    member = auth.create("student", email="member@example.org", name=MEMBER)
    auth.create("educator", email="colleague@example.org", name="Colleague")
    examiner = auth.create("educator", email="examiner@example.org", name="Examiner")
    cohort = cohorts.create(teacher, COHORT)
    cohorts.add_members(cohort, [owner.id, member.id], "roster")
    access.add_examiner(cohort, examiner.email, teacher)
    station = stations.create(cohort, catalog.observation("first-consultation-observed"), STATION, teacher)
    stations.set_peer(station, True)
    token = patients.make(station, member.id, teacher)
    db.session.commit()
    world = {
        "cohort_id": cohort.id,
        "station_id": station.id,
        "user_id": member.id,
        "examiner_id": examiner.id,
        "token": token,
    }
    return user, world


def path_for(case: Case, world: dict) -> str:
    """The rule with its placeholders filled from the world (removing an examiner names the examiner)."""
    values = dict(world)
    if "/examiners/" in case.rule:
        values["user_id"] = world["examiner_id"]
    return fill(case.rule, values)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_observe_route_answers_each_role_as_expected(app, client, db, auth, catalog, case, role):
    user, world = worlds.once(("observe", role), app, client, lambda: build_world(role, auth, db, catalog))
    path = path_for(case, world)
    response = client.open(path, method=case.method, data=case.data(world) if case.data else None)
    kind, value = case.expect[role]
    assert assert_outcome(response, kind, value, world, user, path), f"no check for outcome {kind!r}"
    if kind == "csv":  # the sheets open in Excel: UTF-8 with its byte order mark
        assert response.data.startswith(b"\xef\xbb\xbf")
