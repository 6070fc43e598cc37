"""Each assignment says how many passed observed stations its certificate needs (issue 15).

The educator chooses it when assigning a course to a cohort and changes it on the assignment's certificate
page; lowering it issues what is now earned in that request, raising it revokes nothing. The site's setting
(ALLIANCE_CERTIFICATE_OBSERVED_STATIONS) is the default of new assignments and of those that never chose.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Assignment, Certificate
from app.observe.services import stations
from app.services import cohorts, courses
from tests.helpers import rows
from tests.test_credentials import (  # noqa: F401  (fixtures)
    app_settings,
    certificates,
    complete,
    course_world,
    credential_key_file,
)
from tests.test_observe import FORM, best
from tests.test_observe_lifecycle import _rate

STATIONS_MESSAGE = "Enter how many observed stations the certificate needs as a whole number from 0 (none) to 20."


def _url(world) -> str:
    return f"/teach/certificates/cohorts/{world.cohort.id}/courses/{world.course.id}"


def _asked(db, world) -> int | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Assignment.observed_stations).where(
            Assignment.cohort_id == world.cohort.id, Assignment.course_id == world.course.id
        )
    )


def _as(auth, email: str) -> None:
    """Sign in as this person (signing out whoever was)."""
    auth.sign_out()
    auth.sign_in(email)


def _require(client, auth, world, value: str):
    """The educator sets what the certificate needs on the assignment's certificate page (signed in as them)."""
    _as(auth, world.educator.email)
    return client.post(_url(world), data={"observed_stations": value}, follow_redirects=True)


def _passed_and_released(db, catalog, world, client=None, auth=None, name="Station 1"):
    """A station of the world's cohort the student passed on the educator's rating, released (through the page
    when a client is given, so the certificate is issued in that request)."""
    station = stations.create(world.cohort, catalog.observation(FORM), name, world.educator)
    db.session.commit()
    _rate(db, catalog, station, world.student, world.educator, "educator", best(catalog.observation(FORM)))
    if client is None:
        stations.release(station)
        db.session.commit()
    else:
        _as(auth, world.educator.email)
        assert client.post(f"/observe/stations/{station.id}/release").status_code == 302
    return station


def test_a_certificate_needing_one_station_waits_for_its_release_then_is_issued_once(client, auth, db, catalog):
    world = course_world(auth, db, catalog)
    assert "needs 1 passed observed station besides the course" in _require(client, auth, world, "1").text
    assert _asked(db, world) == 1
    complete(db, world)
    assert certificates(db, world.student.id) == []  # the course is complete; the station is not

    _as(auth, world.student.email)
    page = client.get(f"/learn/courses/{world.course.id}").text
    assert "1 observed station to pass: 0 passed." in page and "Your certificate for this course" not in page

    station = _passed_and_released(db, catalog, world, client, auth)
    [certificate] = certificates(db, world.student.id)
    assert certificate.cohort_id == world.cohort.id
    # Another staff rating at the released station announces the station again: still one certificate.
    _rate(
        db,
        catalog,
        station,
        world.student,
        auth.create("educator", email="examiner@example.org"),
        "examiner",
        best(catalog.observation(FORM)),
    )
    assert rows(db, Certificate) == 1

    _as(auth, world.student.email)
    page = client.get(f"/learn/courses/{world.course.id}").text
    assert "Your certificate for this course" in page and "observed station to pass" not in page


def test_the_course_page_counts_the_stations_passed_so_far(client, auth, db, catalog):
    world = course_world(auth, db, catalog)
    _require(client, auth, world, "2")
    complete(db, world)
    _passed_and_released(db, catalog, world)
    _as(auth, world.student.email)
    page = client.get(f"/learn/courses/{world.course.id}").text
    assert f"observed stations passed in {escape(world.cohort.name)}" in page
    assert "2 observed stations to pass: 1 passed." in page
    assert certificates(db, world.student.id) == []


def test_an_assignment_asking_for_none_issues_on_completion_whatever_the_sites_default(app, client, auth, db, catalog):
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 2
    world = course_world(auth, db, catalog)  # assigned without a choice: the site's 2
    _require(client, auth, world, "0")
    assert _asked(db, world) == 0
    complete(db, world)
    assert len(certificates(db, world.student.id)) == 1


def test_an_assignment_that_never_chose_follows_the_sites_setting(app, auth, db, catalog):
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 1
    world = course_world(auth, db, catalog)
    assert _asked(db, world) is None
    complete(db, world)
    assert certificates(db, world.student.id) == []
    _passed_and_released(db, catalog, world)
    assert len(certificates(db, world.student.id)) == 1


def test_lowering_the_requirement_issues_the_certificates_now_earned_in_that_request(client, auth, db, catalog):
    world = course_world(auth, db, catalog)
    waiting = auth.create("student", email="second@example.org", name="Grace Hopper")
    cohorts.add_member(world.cohort, waiting.id, "code")
    db.session.commit()
    _require(client, auth, world, "2")
    complete(db, world)
    _passed_and_released(db, catalog, world)
    assert certificates(db, world.student.id) == []

    page = _require(client, auth, world, "1").text
    assert "1 certificate now earned was issued." in page
    [certificate] = certificates(db, world.student.id)
    assert certificate.revoked_at is None and certificate.cohort_id == world.cohort.id
    assert certificates(db, waiting.id) == []  # has not completed the course: nothing is due to them


def test_raising_the_requirement_revokes_nothing_already_issued(client, auth, db, catalog):
    world = course_world(auth, db, catalog)
    _require(client, auth, world, "0")
    complete(db, world)
    [issued] = certificates(db, world.student.id)
    page = client.get(_url(world)).text
    assert "never takes back a certificate already issued" in page
    _require(client, auth, world, "3")
    assert _asked(db, world) == 3
    [kept] = certificates(db, world.student.id)
    assert kept.public_id == issued.public_id and kept.revoked_at is None


@pytest.mark.parametrize("value", ["-1", "21", "1000", "two", "1.5", "²", "", " "])
def test_a_bad_number_on_the_requirement_page_gets_a_message_and_changes_nothing(client, auth, db, catalog, value):
    world = course_world(auth, db, catalog)
    _require(client, auth, world, "2")
    response = client.post(_url(world), data={"observed_stations": value})
    assert response.status_code == 422
    assert str(escape(STATIONS_MESSAGE)) in response.text and "<title>Error:" in response.text
    assert _asked(db, world) == 2


@pytest.fixture
def signed_in_world(client, auth, db, catalog):
    """The course world, with its educator signed in (Hypothesis runs a test's body many times in it)."""
    world = course_world(auth, db, catalog)
    auth.sign_in(world.educator.email)
    return world


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=30))
def test_any_text_on_the_requirement_page_is_kept_only_when_it_is_a_number_in_range(client, db, signed_in_world, value):
    world = signed_in_world
    before = _asked(db, world)
    response = client.post(_url(world), data={"observed_stations": value})
    kept = _asked(db, world)
    if response.status_code == 302:
        assert kept is not None and 0 <= kept <= 20 and kept == int(value.strip())
    elif response.status_code == 400:  # a NUL, refused for every form on PostgreSQL (app.errors)
        assert "\x00" in value and "a character that is not allowed" in response.text and kept == before
    else:
        assert response.status_code == 422 and str(escape(STATIONS_MESSAGE)) in response.text
        assert kept == before


def _assignment_id(db, world) -> int:
    return db.session.scalar(
        select(Assignment.id).where(Assignment.cohort_id == world.cohort.id, Assignment.course_id == world.course.id)
    )


def test_the_database_refuses_a_requirement_out_of_range(auth, db, catalog):
    world = course_world(auth, db, catalog)
    assignment = db.session.get(Assignment, _assignment_id(db, world))
    assignment.observed_stations = 21
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- the assign form


def _assign_form(course, stations: str, **dates) -> dict:
    return {"course": str(course.id), "starts_on": "", "due_on": "", "observed_stations": stations} | dates


def test_assigning_a_course_chooses_its_stations_starting_from_the_sites_default(app, client, auth, db, catalog):
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 3
    world = course_world(auth, db, catalog)
    other = courses.create(world.educator, "Second course", "")
    courses.add_items(catalog, other, [f"quiz:{world.quiz.id}"])
    courses.set_published(other, True)
    db.session.commit()
    auth.sign_in(world.educator.email)
    page = client.get(f"/teach/cohorts/{world.cohort.id}").text
    assert 'name="observed_stations"' in page and 'value="3"' in page
    assert "Course and 3 observed stations" in page  # the world's assignment follows the site's 3

    response = client.post(f"/teach/cohorts/{world.cohort.id}/assignments", data=_assign_form(other, "1"))
    assert response.status_code == 302
    asked = db.session.scalar(select(Assignment.observed_stations).where(Assignment.course_id == other.id))
    assert asked == 1
    assert "Course and 1 observed station ·" in client.get(f"/teach/cohorts/{world.cohort.id}").text


def test_assigning_again_changes_the_dates_and_says_the_requirement_is_changed_on_its_own_page(
    client, auth, db, catalog
):
    world = course_world(auth, db, catalog)
    _require(client, auth, world, "2")
    form = _assign_form(world.course, "0", due_on="2099-01-31")
    page = client.post(f"/teach/cohorts/{world.cohort.id}/assignments", data=form, follow_redirects=True).text
    assert "Its certificate still asks for 2 passed observed stations" in page
    assert _asked(db, world) == 2


@pytest.mark.parametrize("value", ["-1", "1000", "two"])
def test_a_bad_number_on_the_assign_form_gets_a_message_and_keeps_what_was_entered(client, auth, db, catalog, value):
    world = course_world(auth, db, catalog)
    other = courses.create(world.educator, "Second course", "")
    courses.add_items(catalog, other, [f"quiz:{world.quiz.id}"])
    courses.set_published(other, True)
    db.session.commit()
    auth.sign_in(world.educator.email)
    form = _assign_form(other, value, due_on="2099-01-31")
    response = client.post(f"/teach/cohorts/{world.cohort.id}/assignments", data=form)
    assert response.status_code == 422 and str(escape(STATIONS_MESSAGE)) in response.text
    assert 'value="2099-01-31"' in response.text and f'<option selected value="{other.id}">' in response.text
    assert db.session.scalar(select(Assignment.id).where(Assignment.course_id == other.id)) is None
