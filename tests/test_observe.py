"""Observed stations end to end: rating as you go, release rules, self, peer and patient raters, the report,
"seen to do" on the skill map, xAPI statements and passed stations."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import given as given_data
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.content.observations import score
from app.models import LearningEvent, Observation, PatientLink, Station, User
from app.models.types import utcnow
from app.observe.services import access, ratings, results, stations
from app.records import Site, statements
from app.services import cohorts
from tests.conftest import PASSWORD

FORM = "first-consultation-observed"
FIELDS = ["mark-pauses-to-listen", "mark-names-feelings", "mark-nobody", "global", "comment-pauses-to-listen"]


@dataclass
class Class:
    teacher: User
    examiner: User
    ann: User
    ben: User
    outsider: User
    cohort: object
    station: Station


@pytest.fixture
def klass(auth, db, catalog) -> Class:
    teacher = auth.create("educator", "teacher@example.org", "Teacher Tan")
    examiner = auth.create("educator", "examiner@example.org", "Examiner Eze")
    ann = auth.create("student", "ann@example.org", "Ann Abbott")
    ben = auth.create("student", "ben@example.org", "Ben Brook")
    outsider = auth.create("student", "out@example.org", "Olu Outside")
    cohort = cohorts.create(teacher, "Ward 9")
    cohorts.add_members(cohort, [ann.id, ben.id], "roster")
    station = stations.create(cohort, catalog.observation(FORM), "Station 1", teacher)
    db.session.commit()
    return Class(teacher, examiner, ann, ben, outsider, cohort, station)


def form_data(form, marks: dict, global_rating: int | None, action: str, comments: dict | None = None) -> dict:
    data = {f"mark-{k}": str(v) for k, v in marks.items()} | {"action": action}
    data |= {f"comment-{k}": v for k, v in (comments or {}).items()}
    if global_rating is not None:
        data["global"] = str(global_rating)
    return data


def best(form) -> dict:
    return {item.id: item.scale.high for item in form.items}


def given(db, catalog, klass, student, rater, role, marks, global_rating):
    """A submitted rating made through the services."""
    form = catalog.observation(FORM)
    observation = ratings.start(klass.station, form, student.id, rater.id, role)
    ratings.save(observation, ratings.Entered(marks=marks, global_rating=global_rating))
    ratings.submit(observation, klass.station, form, stations.pass_total(klass.station, form))
    db.session.commit()
    return observation


def test_an_examiner_rates_as_they_go_and_the_student_sees_nothing_until_release(client, auth, db, catalog, klass):
    form = catalog.observation(FORM)
    auth.sign_in(klass.teacher.email)
    added = client.post(f"/observe/cohorts/{klass.cohort.id}/examiners", data={"email": klass.examiner.email})
    assert added.status_code == 302
    auth.sign_out()
    auth.sign_in(klass.examiner.email)
    rate_url = f"/observe/stations/{klass.station.id}/students/{klass.ann.id}/rate"
    page = client.get(rate_url)
    assert page.status_code == 200 and "<h1>Rate Ann Abbott</h1>" in page.text
    assert 'data-minutes="12"' in page.text  # the station's timer works from the form's minutes
    half = dict(list(best(form).items())[:3])
    saved = client.post(rate_url, data=form_data(form, half, None, "autosave", {"pauses-to-listen": "Waited well."}))
    assert saved.status_code == 200 and "saved_at" in saved.json
    draft = db.session.scalar(select(Observation).where(Observation.rater_id == klass.examiner.id))
    assert draft.marks == half and draft.comments == {"pauses-to-listen": "Waited well."} and draft.submitted_at is None
    # Submitting with items missing names what is left and keeps what was given.
    early = client.post(rate_url, data=form_data(form, half, 2, "submit"))
    assert early.status_code == 422 and "Still to rate" in early.text and "checked" in early.text
    # The page posts every field each time: the comment typed earlier travels with the submission.
    done = client.post(rate_url, data=form_data(form, best(form), 3, "submit", {"pauses-to-listen": "Waited well."}))
    assert done.status_code == 302
    again = client.post(rate_url, data=form_data(form, {}, 0, "autosave"))
    assert again.status_code == 409  # a submitted rating cannot change
    auth.sign_out()

    auth.sign_in(klass.ann.email)
    assert "not released yet" in client.get(f"/stations/{klass.station.id}").text
    progress = client.get("/learn/progress").text
    assert "of marks" not in progress  # no "seen to do" before release
    records = client.get("/learn/records.json").json
    assert not any("observation" in s["object"]["id"] for s in records)
    # Ann rates herself meanwhile, a little lower than the examiner did on listening.
    own = best(form) | {"pauses-to-listen": 1}
    assert client.post(f"/stations/{klass.station.id}/self", data=form_data(form, own, 2, "submit")).status_code == 302
    auth.sign_out()

    auth.sign_in(klass.teacher.email)
    assert client.post(f"/observe/stations/{klass.station.id}/release").status_code == 302
    auth.sign_out()
    auth.sign_in(klass.ann.email)
    view = client.get(f"/stations/{klass.station.id}")
    assert view.status_code == 200 and "Examiner: Examiner Eze" in view.text and "Waited well." in view.text
    assert "<strong>Passed</strong>" in view.text
    # The gap: on listening she gave herself 1 of 2 where the examiner gave 2.
    assert re.search(r"Active listening</th><td>\d+%</td><td>100%</td><td>−\d+ points", view.text)
    assert "of marks" in client.get("/learn/progress").text
    records = client.get("/learn/records.json").json
    observed = [s for s in records if s["verb"]["display"]["en-US"] == "observed"]
    assert {
        s["context"]["extensions"][next(k for k in s["context"]["extensions"] if k.endswith("rater-role"))]
        for s in observed
    } == {"examiner", "self"}


def test_self_rating_closes_at_release_and_the_student_never_sees_another_students_ratings(
    client, auth, db, catalog, klass
):
    given(db, catalog, klass, klass.ben, klass.teacher, "educator", best(catalog.observation(FORM)), 4)
    stations.release(klass.station)
    db.session.commit()
    auth.sign_in(klass.ann.email)
    assert client.get(f"/stations/{klass.station.id}/self").status_code == 404
    assert "Ben" not in client.get(f"/stations/{klass.station.id}").text
    assert client.get(f"/observe/stations/{klass.station.id}/students/{klass.ben.id}").status_code == 403
    auth.sign_out()
    auth.sign_in(klass.outsider.email)
    assert client.get(f"/stations/{klass.station.id}").status_code == 404  # not a member of the cohort


def test_peers_rate_only_where_the_educator_allows_it(client, auth, db, catalog, klass):
    form = catalog.observation(FORM)
    peer_url = f"/stations/{klass.station.id}/peers/{klass.ben.id}"
    auth.sign_in(klass.ann.email)
    assert client.get(peer_url).status_code == 404
    stations.set_peer(klass.station, True)
    db.session.commit()
    assert client.get(peer_url).status_code == 200
    assert client.get(f"/stations/{klass.station.id}/peers/{klass.ann.id}").status_code == 404  # not oneself
    assert client.get(f"/stations/{klass.station.id}/peers/{klass.outsider.id}").status_code == 404  # not a member
    assert client.post(peer_url, data=form_data(form, best(form), 3, "submit")).status_code == 302
    rating = db.session.scalar(select(Observation).where(Observation.rater_role == "peer"))
    assert (rating.student_id, rating.rater_id) == (klass.ben.id, klass.ann.id)
    stations.set_peer(klass.station, False)
    db.session.commit()
    assert client.get(peer_url).status_code == 404


def _patient_token(client, auth, klass) -> str:
    auth.sign_in(klass.teacher.email)
    page = client.post(f"/observe/stations/{klass.station.id}/students/{klass.ann.id}/patient-link")
    assert page.status_code == 200 and "<svg" in page.text and "QR code" in page.text
    token = re.search(r"/rate/([A-Za-z0-9_-]+)", page.text).group(1)
    auth.sign_out()
    return token


def test_a_patient_link_works_once_without_an_account_and_keeps_only_a_hash(client, auth, db, catalog, klass):
    form = catalog.observation(FORM)
    token = _patient_token(client, auth, klass)
    assert db.session.scalar(select(func.count()).where(PatientLink.token_hash == token)) == 0
    page = client.get(f"/rate/{token}")
    assert page.status_code == 200 and form.patient_items[0].text in page.text and "Ann" in page.text
    missing = client.post(f"/rate/{token}", data={"mark-listened": "2"})
    assert missing.status_code == 422 and "Please answer every question" in missing.text
    answers = {f"mark-{item.id}": "2" for item in form.patient_items} | {"comment": "Kind and clear."}
    thanks = client.post(f"/rate/{token}", data=answers)
    assert thanks.status_code == 200 and "<h1>Thank you</h1>" in thanks.text
    assert client.get(f"/rate/{token}").status_code == 410
    assert client.post(f"/rate/{token}", data=answers).status_code == 410
    patient = db.session.scalar(select(Observation).where(Observation.rater_role == "patient"))
    assert patient.rater_id is None and patient.comment == "Kind and clear." and patient.submitted_at


def test_a_patient_link_expires_and_an_unknown_one_is_not_found(client, auth, db, klass):
    token = _patient_token(client, auth, klass)
    link = db.session.scalar(select(PatientLink))
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = client.get(f"/rate/{token}")
    assert expired.status_code == 410 and "expired" in expired.text
    assert client.get("/rate/not-a-real-token-at-all-xyz").status_code == 404
    assert client.get("/rate/%3Cscript%3E").status_code == 404


def test_the_report_shows_the_regression_agreement_gaps_and_a_safe_csv(client, auth, db, catalog, klass):
    form = catalog.observation(FORM)
    order = [item.id for item in form.items]

    def marks(total: int) -> dict:
        """Marks summing to `total`: each critical item "partly" first (never "not done"), then the rest in order."""
        found = {item.id: item.scale.low + (1 if item.is_critical else 0) for item in form.items}
        left = total - len(form.critical_items)
        for item in form.items:
            point = min(item.scale.high - found[item.id], left)
            found[item.id] += point
            left -= point
        return found

    extra = [auth.create("student", f"s{n}@example.org", f"Student {n}") for n in range(3)]
    cohorts.add_members(klass.cohort, [u.id for u in extra], "roster")
    db.session.commit()
    people = [klass.ann, klass.ben, *extra]
    for person, (g, total) in zip(people, [(0, 6), (1, 10), (2, 14), (3, 18), (4, 22)], strict=True):
        given(db, catalog, klass, person, klass.teacher, "educator", marks(total), g)
    auth.create("educator", "second@example.org", "Second Rater")
    second = db.session.scalar(select(User).where(User.email == "second@example.org"))
    for person, g in zip(people[:3], [0, 2, 2], strict=True):
        given(db, catalog, klass, person, second, "educator", marks(12), g)
    given(db, catalog, klass, klass.ann, klass.ann, "self", marks(20), 3)
    klass.ann.display_name = "=HYPERLINK(1)"
    db.session.commit()
    totals = [score(form, marks(t)).total for t in (6, 10, 14, 18, 22)]
    assert totals == [6, 10, 14, 18, 22] and order

    auth.sign_in(klass.teacher.email)
    page = client.get(f"/observe/stations/{klass.station.id}/report")
    assert page.status_code == 200
    # Eight staff ratings: (0,6) (1,10) (2,14) (3,18) (4,22) (0,12) (2,12) (2,12).
    # By hand: mean x 14/8, mean y 106/8; Sxx 13.5; Sxy 42.5 -> slope 42.5/13.5 = 3.148, borderline 10.889.
    fit = results_fit(page.text)
    assert fit["slope"] == pytest.approx(42.5 / 13.5, abs=0.005)
    assert fit["borderline"] == pytest.approx(106 / 8 - 42.5 / 13.5 * (14 / 8 - 1), abs=0.005)
    assert "Agreement between raters" in page.text and "<td>3</td>" in page.text  # three students rated twice
    assert "Active listening" in page.text  # the self-vs-staff gap for Ann
    assert "<svg" in page.text and "The numbers in" in page.text  # the chart and its table
    adopted = client.post(f"/observe/stations/{klass.station.id}/pass-mark")
    assert adopted.status_code == 302
    db.session.refresh(klass.station)
    assert klass.station.pass_total == pytest.approx(fit["borderline"], abs=0.01)
    csv = client.get(f"/observe/stations/{klass.station.id}/report.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.data.decode("utf-8-sig")
    assert '"\'=HYPERLINK(1)"' in body and "=HYPERLINK" not in body.replace("'=HYPERLINK", "")
    assert body.count("\r\n") == 1 + 9  # header and nine submitted ratings


def results_fit(html: str) -> dict:
    """The slope and predicted borderline total as the report prints them."""
    slope = re.search(r"Slope \(points per global grade\)</th><td>([-\d.]+)", html).group(1)
    borderline = re.search(r"Predicted total at borderline</th><td>([-\d.]+)", html).group(1)
    return {"slope": float(slope), "borderline": float(borderline)}


def test_passed_stations_counts_released_staff_passes_only(db, catalog, klass):
    form = catalog.observation(FORM)
    given(db, catalog, klass, klass.ann, klass.teacher, "educator", best(form), 4)
    critical = form.critical_items[0]
    given(db, catalog, klass, klass.ben, klass.teacher, "educator", best(form) | {critical.id: critical.scale.low}, 2)
    given(db, catalog, klass, klass.ben, klass.ben, "self", best(form), 4)  # a self-rating never passes a station
    assert results.passed_stations(klass.ann.id, klass.cohort.id, catalog) == []  # not released yet
    stations.release(klass.station)
    db.session.commit()
    assert [s.id for s in results.passed_stations(klass.ann.id, klass.cohort.id, catalog)] == [klass.station.id]
    assert results.passed_stations(klass.ben.id, klass.cohort.id, catalog) == []


def test_the_observed_statement_names_the_form_and_the_raters_role(db, catalog, klass):
    form = catalog.observation(FORM)
    given(db, catalog, klass, klass.ann, klass.teacher, "educator", best(form), 3)
    ratings.record_events(ratings.submitted_for_station(klass.station.id), form)
    db.session.commit()
    event = db.session.scalar(select(LearningEvent).where(LearningEvent.verb == "observed"))
    site = Site("https://alliance.example.org", "https://alliance.example.org/xapi/activities/")
    statement = statements.build(site, catalog, event)
    assert statement["verb"]["id"] == "https://alliance.example.org/xapi/verbs/observed"
    assert statement["object"]["definition"]["name"]["en"] == form.title
    assert statement["context"]["extensions"]["https://alliance.example.org/xapi/extensions/rater-role"] == "educator"
    assert statement["result"]["score"]["raw"] == form.max_score and statement["result"]["success"] is True


def test_students_and_strangers_cannot_reach_the_rating_pages(client, auth, db, klass):
    auth.sign_in(klass.ann.email)
    assert client.get(f"/observe/cohorts/{klass.cohort.id}/stations").status_code == 403
    auth.sign_out()
    auth.create("educator", "stranger@example.org", "Stranger")
    client.post("/auth/sign-in", data={"email": "stranger@example.org", "password": PASSWORD})
    assert client.get(f"/observe/stations/{klass.station.id}").status_code == 404
    assert client.get(f"/observe/stations/{klass.station.id}/students/{klass.ann.id}/rate").status_code == 404


def test_an_examiner_rates_but_cannot_change_the_cohorts_stations(client, auth, db, catalog, klass):
    access.add_examiner(klass.cohort, klass.examiner.email, klass.teacher)
    db.session.commit()
    auth.sign_in(klass.examiner.email)
    listed = client.get("/observe/")
    assert "Cohorts you examine" in listed.text and f"Stations: {klass.cohort.name}" in listed.text
    page = client.get(f"/observe/cohorts/{klass.cohort.id}/stations")
    assert page.status_code == 200 and "Set a station" not in page.text and "Station 1" in page.text
    assert client.post(f"/observe/cohorts/{klass.cohort.id}/stations", data={"form_ref": FORM}).status_code == 403
    assert client.post(f"/observe/stations/{klass.station.id}/release").status_code == 403
    assert client.get(f"/observe/stations/{klass.station.id}/report").status_code == 200
    # A student's account can never be made an examiner.
    with pytest.raises(access.ExaminerError, match="examiners need an educator account"):
        access.add_examiner(klass.cohort, klass.outsider.email, klass.teacher)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given_data(st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=12), max_size=8))
def test_any_form_data_is_read_into_points_of_the_scales_or_a_clear_problem(catalog, data):
    form = catalog.observation(FORM)
    entered = ratings.read(form, "educator", data)
    for item_id, value in entered.marks.items():
        assert form.item(item_id).scale.accepts(value)
    assert entered.global_rating is None or 0 <= entered.global_rating <= 4
    for key, value in data.items():
        # A field for an item the form does not have is ignored; a real item's unreadable mark is reported.
        if key.startswith("mark-") and form.item(key[5:]) and value.strip() and key[5:] not in entered.marks:
            assert any("not on its scale" in p for p in entered.problems)


def observed_at_a_station(db, catalog, student: User) -> None:
    """A released station where an educator rated the student: their records hold an "observed" statement."""
    from app.services import accounts

    educator = accounts.create_user(f"observer{student.id}@example.org", "Observer", PASSWORD, "educator")
    cohort = cohorts.create(educator, "Observed")
    cohorts.add_members(cohort, [student.id], "roster")
    form = catalog.observation(FORM)
    station = stations.create(cohort, form, "Station", educator)
    observation = ratings.start(station, form, student.id, educator.id, "educator")
    ratings.save(observation, ratings.Entered(marks=best(form), global_rating=3))
    ratings.submit(observation, station, form, stations.pass_total(station, form))
    stations.release(station)
    ratings.record_events(ratings.submitted_for_station(station.id), form)


def test_bad_station_and_examiner_forms_get_clear_messages(client, auth, db, klass):
    auth.sign_in(klass.teacher.email)
    url = f"/observe/cohorts/{klass.cohort.id}/stations"
    forged = client.post(url, data={"form_ref": "no-such-form"})
    assert forged.status_code == 422 and "There is no such observation form" in forged.text
    assert client.post(url, data={}).status_code == 422
    bad = client.post(f"/observe/cohorts/{klass.cohort.id}/examiners", data={"email": klass.ann.email})
    assert bad.status_code == 422 and "examiners need an educator account" in bad.text
    nobody = client.post(f"/observe/cohorts/{klass.cohort.id}/examiners", data={"email": "nobody@example.org"})
    assert nobody.status_code == 422 and "no active account" in nobody.text
    assert client.post(f"/observe/stations/{klass.station.id}/students/{klass.outsider.id}/rate").status_code == 404


def test_the_cohort_skill_map_shows_knows_beside_seen_to_do(client, auth, db, catalog, klass):
    form = catalog.observation(FORM)
    listening = [i for i in form.items if "comm.active-listening" in i.competencies]
    half = best(form) | {item.id: item.scale.low + 1 for item in listening}  # "partly" on every listening item
    given(db, catalog, klass, klass.ann, klass.teacher, "educator", half, 2)
    auth.sign_in(klass.teacher.email)
    page = client.get(f"/teach/cohorts/{klass.cohort.id}/competencies")
    assert page.status_code == 200 and "Knows and seen to do" in page.text
    name = catalog.competency("comm.active-listening").name
    row = re.search(rf"<th scope=\"row\">{re.escape(name)}</th><td>(.*?)</td><td>(.*?)</td><td>(\d+)</td>", page.text)
    assert row and row.group(2) == "50%" and row.group(3) == "1"  # seen to do, one student; knows stays apart
