"""A station's life after it is set: a rater reopens a submitted rating before release, an educator deletes a
station (after a confirmation page that says what goes with it), and releasing the ratings issues a certificate
that waited only for the station, in the same transaction as the release."""

import pytest
from sqlalchemy import select

from app.credentials import issuing
from app.models import Certificate, LearningEvent, Observation, PatientLink, Station
from app.observe.services import access, patients, ratings, stations
from app.services import cohorts
from tests.helpers import rows
from tests.test_credentials import certificates, complete, course_world
from tests.test_observe import FORM, best, form_data


def _rate(db, catalog, station, student, rater, role, marks, global_rating=3):
    """A submitted rating made through the services (committed)."""
    form = catalog.observation(FORM)
    observation = ratings.start(station, form, student.id, rater.id, role)
    ratings.save(observation, ratings.Entered(marks=marks, global_rating=global_rating))
    ratings.submit(observation, station, form, stations.pass_total(station, form))
    db.session.commit()
    return observation


@pytest.fixture
def station_world(auth, db, catalog):
    """The credentials' course world (a student in a cohort with a published course assigned) plus a station there."""
    world = course_world(auth, db, catalog)
    station = stations.create(world.cohort, catalog.observation(FORM), "Station 1", world.educator)
    db.session.commit()
    return world, station


# --- a certificate that waits for a station is issued with the release


def test_releasing_the_last_needed_station_issues_the_certificate_then_and_there(
    app, client, auth, db, catalog, station_world
):
    world, station = station_world
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 1
    complete(db, world)
    assert certificates(db, world.student.id) == []  # the course is complete; the station is not yet passed
    _rate(db, catalog, station, world.student, world.educator, "educator", best(catalog.observation(FORM)))
    assert certificates(db, world.student.id) == []  # rated, but not released: it counts for nothing yet
    auth.sign_in(world.educator.email)
    assert client.post(f"/observe/stations/{station.id}/release").status_code == 302
    issued = certificates(db, world.student.id)
    assert [c.course_id for c in issued] == [world.course.id] and issued[0].cohort_id == world.cohort.id
    auth.sign_out()
    auth.sign_in(world.student.email)
    assert world.course.title in client.get("/certificates/").text


def test_a_failed_station_issues_nothing_at_release(app, db, catalog, station_world):
    world, station = station_world
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 1
    complete(db, world)
    form = catalog.observation(FORM)
    critical = form.critical_items[0]
    _rate(
        db, catalog, station, world.student, world.educator, "educator", best(form) | {critical.id: critical.scale.low}
    )
    stations.release(station)
    db.session.commit()
    assert certificates(db, world.student.id) == []


def test_a_staff_rating_submitted_after_release_issues_the_certificate(app, client, auth, db, catalog, station_world):
    world, station = station_world
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 1
    complete(db, world)
    stations.release(station)
    db.session.commit()
    form = catalog.observation(FORM)
    auth.sign_in(world.educator.email)
    url = f"/observe/stations/{station.id}/students/{world.student.id}/rate"
    assert client.post(url, data=form_data(form, best(form), 3, "submit")).status_code == 302
    assert len(certificates(db, world.student.id)) == 1


def test_a_release_that_fails_issues_no_certificate(app, db, catalog, station_world, monkeypatch):
    """Same transaction: when the release is rolled back, so is the certificate it issued."""
    world, station = station_world
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 1
    complete(db, world)
    _rate(db, catalog, station, world.student, world.educator, "educator", best(catalog.observation(FORM)))
    stations.release(station)
    assert db.session.scalar(select(Certificate.id).where(Certificate.user_id == world.student.id)) is not None
    db.session.rollback()
    assert certificates(db, world.student.id) == []
    assert db.session.get(Station, station.id).released_at is None


def test_a_course_assigned_through_two_cohorts_counts_the_stations_of_either(app, auth, db, catalog, station_world):
    world, _station = station_world
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 1
    later = cohorts.create(world.educator, "Second cohort")  # a higher id: tried after the world's cohort
    cohorts.add_member(later, world.student.id, "code")
    cohorts.assign(later, world.course, world.educator, None, None)
    station = stations.create(later, catalog.observation(FORM), "Station in the second cohort", world.educator)
    db.session.commit()
    _rate(db, catalog, station, world.student, world.educator, "educator", best(catalog.observation(FORM)))
    stations.release(station)
    db.session.commit()
    complete(db, world)  # the course completed last: the lesson's hook must count the second cohort's station
    issued = certificates(db, world.student.id)
    assert len(issued) == 1 and issued[0].cohort_id == later.id


# --- reopening a submitted rating


def test_a_rater_reopens_a_submitted_rating_before_release_but_not_after(client, auth, db, catalog, station_world):
    world, station = station_world
    form = catalog.observation(FORM)
    url = f"/observe/stations/{station.id}/students/{world.student.id}/rate"
    auth.sign_in(world.educator.email)
    assert client.post(url, data=form_data(form, best(form), 3, "submit")).status_code == 302
    shown = client.get(url).text
    assert "Reopen to change it" in shown
    reopened = client.post(url, data={"action": "reopen"}, follow_redirects=True)
    assert reopened.status_code == 200 and "is a draft again" in reopened.text
    draft = db.session.scalar(select(Observation).where(Observation.rater_id == world.educator.id))
    db.session.refresh(draft)
    assert draft.submitted_at is None and draft.total is None and draft.marks == best(form)  # the marks are kept
    lower = best(form) | {form.items[0].id: form.items[0].scale.low}
    assert client.post(url, data=form_data(form, lower, 1, "submit")).status_code == 302
    db.session.refresh(draft)
    assert draft.submitted_at is not None and draft.global_rating == 1 and draft.total < form.max_score

    assert client.post(f"/observe/stations/{station.id}/release").status_code == 302
    assert "Reopen to change it" not in client.get(url).text
    refused = client.post(url, data={"action": "reopen"}, follow_redirects=True)
    assert "can no longer be changed" in refused.text
    db.session.refresh(draft)
    assert draft.submitted_at is not None


def test_a_student_reopens_their_own_rating_and_another_raters_reopen_touches_nothing_of_theirs(
    client, auth, db, catalog, station_world
):
    world, station = station_world
    form = catalog.observation(FORM)
    staff = _rate(db, catalog, station, world.student, world.educator, "educator", best(form))
    auth.sign_in(world.student.email)
    url = f"/stations/{station.id}/self"
    assert client.post(url, data=form_data(form, best(form), 4, "submit")).status_code == 302
    assert "See or change your rating" in client.get("/stations/").text
    assert (
        "Your rating of yourself is a draft again"
        in client.post(url, data={"action": "reopen"}, follow_redirects=True).text
    )
    own = ratings.find(station.id, world.student.id, world.student.id)
    db.session.refresh(staff)
    assert own.submitted_at is None and staff.submitted_at is not None  # only the rater's own rating reopens


def test_a_patients_answers_cannot_be_reopened(db, catalog, station_world):
    world, station = station_world
    form = catalog.observation(FORM)
    token = patients.make(station, world.student.id, world.educator)
    answers = {f"mark-{item.id}": "2" for item in form.patient_items}
    found = patients.use(patients.find(token), form, ratings.read(form, "patient", answers))
    db.session.commit()
    with pytest.raises(ratings.RatingError, match="link works once"):
        ratings.reopen(found, station)


# --- deleting a station


def test_deleting_a_station_asks_first_then_removes_its_ratings_and_links(client, auth, db, catalog, station_world):
    world, station = station_world
    form = catalog.observation(FORM)
    _rate(db, catalog, station, world.student, world.educator, "educator", best(form))
    ratings.start(station, form, world.student.id, world.student.id, "self")  # a draft
    patients.make(station, world.student.id, world.educator)
    stations.release(station)
    ratings.record_events(ratings.submitted_for_station(station.id), form)
    db.session.commit()
    auth.sign_in(world.educator.email)
    assert "Delete this station" in client.get(f"/observe/stations/{station.id}").text
    ask = client.get(f"/observe/stations/{station.id}/delete")
    assert ask.status_code == 200 and "<h1>Delete “Station 1”?</h1>" in ask.text
    assert "1 submitted rating and 1 unfinished draft, of 1 student, are deleted" in ask.text
    assert "1 patient link stops working" in ask.text and "students no longer see them" in ask.text
    assert rows(db, Station) == 1  # asking deleted nothing
    done = client.post(f"/observe/stations/{station.id}/delete")
    assert done.status_code == 302 and done.headers["Location"] == f"/observe/cohorts/{world.cohort.id}/stations"
    assert rows(db, Station) == 0 and rows(db, Observation) == 0 and rows(db, PatientLink) == 0
    assert rows(db, LearningEvent, verb="observed") == 1  # what was recorded at release stays
    assert "was deleted" in client.get(done.headers["Location"]).text
    assert client.get(f"/observe/stations/{station.id}").status_code == 404
    auth.sign_out()
    auth.sign_in(world.student.email)
    assert client.get(f"/stations/{station.id}").status_code == 404


def test_an_examiner_cannot_delete_a_station(client, auth, db, catalog, station_world):
    world, station = station_world
    examiner = auth.create("educator", "examiner@example.org", "Examiner Eze")
    access.add_examiner(world.cohort, examiner.email, world.educator)
    db.session.commit()
    auth.sign_in(examiner.email)
    assert client.get(f"/observe/stations/{station.id}/delete").status_code == 403
    assert client.post(f"/observe/stations/{station.id}/delete").status_code == 403
    assert rows(db, Station) == 1


def test_deleting_a_station_keeps_a_certificate_already_issued(app, db, catalog, station_world):
    world, station = station_world
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 1
    complete(db, world)
    _rate(db, catalog, station, world.student, world.educator, "educator", best(catalog.observation(FORM)))
    stations.release(station)
    db.session.commit()
    stations.delete(station)
    db.session.commit()
    assert len(certificates(db, world.student.id)) == 1
    assert issuing.issue_missing() == 0


# --- found while reviewing: digits that are not ASCII


@pytest.mark.parametrize("raw", ["¹", "²", "٣", "-¹", "１"])
def test_a_mark_in_other_digits_is_a_clear_problem_not_a_crash(client, auth, db, catalog, station_world, raw):
    world, station = station_world
    form = catalog.observation(FORM)
    entered = ratings.read(form, "educator", {f"mark-{form.items[0].id}": raw, "global": raw})
    assert entered.marks == {} and entered.global_rating is None and len(entered.problems) == 2
    auth.sign_in(world.educator.email)
    url = f"/observe/stations/{station.id}/students/{world.student.id}/rate"
    page = client.post(url, data={f"mark-{form.items[0].id}": raw, "action": "save"})
    assert page.status_code == 422 and "not on its scale" in page.text
