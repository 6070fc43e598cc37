"""Certificates: issued once when an assigned course is completed, listed for the learner, revoked by its cohort's educators.

The helpers here (a shared signing key, a course world) are used by the other tests/test_credentials*.py files.
"""

import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from markupsafe import escape
from sqlalchemy import select

from app.cli import cli
from app.credentials import issuing
from app.models import Certificate, Cohort, Course, User
from app.services import cohorts, courses, hooks, progress, quizzes
from tests.conftest import PASSWORD
from tests.helpers import answers_by_grade, given_answers, rows


@pytest.fixture(scope="session")
def credential_key_file(tmp_path_factory):
    """One RSA signing key for the whole test session (making one per test would cost a quarter second each)."""
    path = tmp_path_factory.mktemp("credential-key") / "key.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


@pytest.fixture
def app_settings(app_settings, credential_key_file):
    """The usual settings with the session's signing key and a public address of our own."""
    return {**app_settings, "CREDENTIAL_KEY_FILE": str(credential_key_file), "SITE_URL": "https://alliance.example.org"}


@dataclass
class CourseWorld:
    """A cohort taught by an educator, with a student in it and a published course (a module and a quiz) assigned."""

    educator: User
    student: User
    cohort: Cohort
    course: Course
    module: object
    quiz: object


def course_world(
    auth, db, catalog, student_email: str = "learner@example.org", name: str = "Ada Lovelace"
) -> CourseWorld:
    """Build the world (committed)."""
    educator = auth.create("educator", email="teacher@example.org", name="Teacher")
    student = auth.create("student", email=student_email, name=name)
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    cohort = cohorts.create(educator, "Ward 7 class")
    course = courses.create(educator, "Alliance on placement", "Building the alliance with patients on placement.")
    courses.add_items(catalog, course, [f"module:{module.id}", f"quiz:{quiz.id}"])
    courses.set_published(course, True)
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, course, educator, None, None)
    db.session.commit()
    return CourseWorld(educator, student, cohort, course, module, quiz)


def pass_quiz(db, user_id: int, quiz) -> None:
    """Take the quiz with the best answers (committed)."""
    attempt = quizzes.start_attempt(user_id, quiz)
    quizzes.submit_attempt(user_id, attempt, quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
    db.session.commit()


def read_module(db, user_id: int, module) -> None:
    """Complete every lesson of the module (committed)."""
    for lesson in module.lessons:
        progress.complete_lesson(user_id, module, lesson)
    db.session.commit()


def complete(db, world: CourseWorld, user_id: int | None = None) -> None:
    """Complete the world's course: the quiz, then every lesson."""
    user_id = user_id or world.student.id
    pass_quiz(db, user_id, world.quiz)
    read_module(db, user_id, world.module)


def certificates(db, user_id: int) -> list[Certificate]:
    """The learner's certificates, fresh from the database."""
    db.session.expire_all()
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)))


# --- issuing


def test_a_learner_who_has_not_completed_the_course_gets_nothing(db, auth, catalog):
    world = course_world(auth, db, catalog)
    pass_quiz(db, world.student.id, world.quiz)
    module = world.module
    for lesson in module.lessons[:-1]:  # every lesson but the last
        progress.complete_lesson(world.student.id, module, lesson)
    db.session.commit()
    assert certificates(db, world.student.id) == []

    progress.complete_lesson(world.student.id, module, module.lessons[-1])  # the write that completes the course
    db.session.commit()
    [certificate] = certificates(db, world.student.id)
    assert (certificate.course_id, certificate.cohort_id) == (world.course.id, world.cohort.id)
    assert certificate.learner_name == "Ada Lovelace" and certificate.course_title == "Alliance on placement"


def test_a_failed_quiz_earns_nothing(db, auth, catalog):
    world = course_world(auth, db, catalog)
    read_module(db, world.student.id, world.module)
    attempt = quizzes.start_attempt(world.student.id, world.quiz)
    wrong = given_answers(world.quiz, answers_by_grade(world.quiz, "harmful"))
    quizzes.submit_attempt(world.student.id, attempt, world.quiz, wrong)
    db.session.commit()
    assert certificates(db, world.student.id) == []


def test_a_course_completed_twice_issues_one_certificate(db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [first] = certificates(db, world.student.id)
    # The same course through a second cohort, and the whole course done again.
    second = cohorts.create(world.educator, "Ward 8 class")
    cohorts.add_member(second, world.student.id, "code")
    cohorts.assign(second, world.course, world.educator, None, None)
    db.session.commit()
    complete(db, world)
    assert [c.public_id for c in certificates(db, world.student.id)] == [first.public_id]
    assert issuing.issue(world.student, world.course, second.id, catalog) is False  # the database refuses a second


def test_completing_an_unassigned_draft_or_left_course_earns_nothing(db, auth, catalog):
    world = course_world(auth, db, catalog)
    outsider = auth.create("student", email="outsider@example.org", name="Outsider")
    complete(db, world, outsider.id)  # not in the cohort
    cohorts.remove_member(world.cohort, world.student.id)
    db.session.commit()
    complete(db, world)  # removed from the cohort
    assert certificates(db, outsider.id) == [] and certificates(db, world.student.id) == []


def test_a_certificate_names_the_competencies_the_courses_items_evidence(db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    expected = list(
        dict.fromkeys(
            [c for lesson in world.module.lessons for c in lesson.competencies]
            + [c for item in world.quiz.items for c in item.competencies]
        )
    )
    assert certificate.competency_refs == expected and expected


def test_progress_no_assigned_course_waits_for_costs_the_listener_one_query(db, auth, catalog, count_queries):
    world = course_world(auth, db, catalog)
    other_quiz = catalog.quizzes[1]
    step = hooks.Progress(world.student.id, "quiz", other_quiz.id, 1)  # in no course of theirs
    with count_queries() as counted:
        issuing.on_progress(step)
    assert counted.count == 1
    complete(db, world)
    step = hooks.Progress(world.student.id, "quiz", world.quiz.id, 1)  # already certified: nothing waits
    with count_queries() as counted:
        issuing.on_progress(step)
    assert counted.count == 1


def test_public_ids_are_unguessable(db, auth, catalog):
    ids = {issuing.new_public_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", i) for i in ids)  # 24 random bytes: 192 bits


def test_the_backfill_issues_what_learners_earned_before_certificates_existed(app, db, auth, catalog):
    world = course_world(auth, db, catalog)
    listener = hooks._listeners.pop("credentials")
    try:
        complete(db, world)  # as before this feature: no listener
    finally:
        hooks._listeners["credentials"] = listener
    assert certificates(db, world.student.id) == []
    runner = CliRunner()
    result = runner.invoke(cli, ["credentials", "issue", "--missing"], obj=_script_info(app))
    assert result.exit_code == 0, result.output
    assert "Issued 1 certificate." in result.output
    assert len(certificates(db, world.student.id)) == 1
    again = runner.invoke(cli, ["credentials", "issue", "--missing"], obj=_script_info(app))
    assert "Issued 0 certificates." in again.output
    bare = runner.invoke(cli, ["credentials", "issue"], obj=_script_info(app))
    assert bare.exit_code == 2 and "--missing" in bare.output


def _script_info(app):
    """A Flask ScriptInfo that hands the CLI the test's app."""
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


# --- the learner's pages


def test_my_certificates_lists_the_learners_own_with_their_downloads(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    auth.sign_in(world.student.email)
    page = client.get("/certificates/").text
    assert "<h1>My certificates</h1>" in page and "Alliance on placement" in page
    assert f"/certificates/{certificate.public_id}.pdf" in page and f"/certificates/{certificate.public_id}.jwt" in page
    assert f"https://alliance.example.org/verify/{certificate.public_id}" in page
    course_page = client.get(f"/learn/courses/{world.course.id}").text
    assert "Your certificate for this course" in course_page and f"{certificate.public_id}.pdf" in course_page
    auth.sign_out()

    other = auth.create("student", email="other@example.org", name="Other")
    auth.sign_in(other.email)
    assert "You have no certificates yet." in client.get("/certificates/").text
    for suffix in (".pdf", ".jwt"):
        response = client.get(f"/certificates/{certificate.public_id}{suffix}")
        assert response.status_code == 404 and "You have no certificate at this address." in response.text


def test_the_course_page_has_no_certificate_link_before_completion(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    auth.sign_in(world.student.email)
    assert "Your certificate for this course" not in client.get(f"/learn/courses/{world.course.id}").text


# --- the public verification page


def test_the_verification_page_shows_only_name_course_date_and_issuer(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    page = client.get(f"/verify/{certificate.public_id}")  # nobody signed in
    assert page.status_code == 200
    text = page.text
    assert "<h1>Certificate check</h1>" in text and "<strong>Valid</strong>" in text
    for fact in ("Ada Lovelace", "Alliance on placement", certificate.issued_at.strftime("%-d %B %Y"), "Alliance"):
        assert str(escape(fact)) in text
    assert "learner@example.org" not in text and "Ward 7 class" not in text and "Teacher" not in text


@pytest.mark.parametrize("public_id", ["nope", "A" * 32, "A" * 500, "%00"])
def test_an_unknown_certificate_gets_a_friendly_404(client, public_id):
    response = client.get(f"/verify/{public_id}")
    assert response.status_code in (404, 400)
    assert "Traceback" not in response.text and re.search(r"<h1>[^<]+</h1>", response.text)
    if response.status_code == 404:
        assert "No certificate has this address." in response.text


# --- revoking


def _revoke(client, public_id: str, reason: str = "Issued by mistake: the quiz was taken by someone else."):
    return client.post(f"/teach/certificates/{public_id}/revoke", data={"reason": reason})


def test_the_cohorts_educator_revokes_and_the_verification_page_says_when_and_why(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    auth.sign_in(world.educator.email)
    listing = client.get(f"/teach/certificates/cohorts/{world.cohort.id}").text
    assert "Ada Lovelace" in listing and f"/teach/certificates/{certificate.public_id}/revoke" in listing
    assert "reason" in client.get(f"/teach/certificates/{certificate.public_id}/revoke").text.lower()
    response = _revoke(client, certificate.public_id)
    assert (
        response.status_code == 302 and response.headers["Location"] == f"/teach/certificates/cohorts/{world.cohort.id}"
    )
    auth.sign_out()

    [revoked] = certificates(db, world.student.id)
    assert revoked.revoked_by_id == world.educator.id
    page = client.get(f"/verify/{certificate.public_id}").text
    assert "<strong>Revoked</strong>" in page and "<strong>Valid</strong>" not in page
    assert "Issued by mistake: the quiz was taken by someone else." in page
    assert revoked.revoked_at.strftime("%-d %B %Y") in page
    complete(db, world)  # completing again issues nothing new
    assert [c.public_id for c in certificates(db, world.student.id)] == [certificate.public_id]


def test_an_educator_of_another_cohort_cannot_revoke(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    stranger = auth.create("educator", email="stranger@example.org", name="Stranger")
    cohorts.create(stranger, "Another class")
    db.session.commit()
    auth.sign_in(stranger.email)
    for response in (
        client.get(f"/teach/certificates/{certificate.public_id}/revoke"),
        _revoke(client, certificate.public_id),
    ):
        assert (
            response.status_code == 404 and "There is no certificate you may revoke at this address." in response.text
        )
    assert client.get(f"/teach/certificates/cohorts/{world.cohort.id}").status_code == 404
    assert certificates(db, world.student.id)[0].revoked_at is None


def test_a_student_cannot_revoke_even_their_own(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    auth.sign_in(world.student.email)
    assert _revoke(client, certificate.public_id).status_code == 403
    assert certificates(db, world.student.id)[0].revoked_at is None


def test_an_admin_may_revoke_any_certificate(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    admin = auth.create("admin", email="admin@example.org", name="Admin")
    auth.sign_in(admin.email)
    assert _revoke(client, certificate.public_id).status_code == 302
    assert certificates(db, world.student.id)[0].revoked_by_id == admin.id


@pytest.mark.parametrize("reason", ["", "   \n  ", "x" * 501])
def test_a_revocation_needs_a_reason_of_reasonable_length(client, db, auth, catalog, reason):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    auth.sign_in(world.educator.email, PASSWORD)
    response = _revoke(client, certificate.public_id, reason)
    assert response.status_code == 422
    assert "Give the reason for revoking" in response.text or "Keep the reason under 500 characters." in response.text
    assert certificates(db, world.student.id)[0].revoked_at is None
    assert rows(db, Certificate) == 1


# --- the observed-stations requirement (ALLIANCE_CERTIFICATE_OBSERVED_STATIONS)


def test_the_seam_finds_the_observations_areas_passed_stations():
    from app.credentials import requirements

    assert callable(requirements._passed_stations())


def test_when_stations_are_required_a_completed_course_waits_for_them(app, db, auth, catalog, monkeypatch):
    from app.credentials import requirements

    passed: dict[tuple[int, int], list] = {}
    monkeypatch.setattr(requirements, "_passed_stations", lambda: lambda uid, cid, _catalog: passed.get((uid, cid), []))
    app.config["CERTIFICATE_OBSERVED_STATIONS"] = 2
    world = course_world(auth, db, catalog)
    complete(db, world)
    assert certificates(db, world.student.id) == []  # the course is complete, the stations are not
    station = SimpleNamespace(form_ref="a form the catalogue does not have")
    passed[(world.student.id, world.cohort.id)] = [station]
    assert issuing.issue_missing() == 0
    passed[(world.student.id, world.cohort.id)] = [station, station]
    assert issuing.issue_missing() == 1
    db.session.commit()
    assert len(certificates(db, world.student.id)) == 1


@pytest.mark.parametrize("value", ["2", "two", "²"])  # "²" passes str.isdigit() but not int()
def test_a_stations_setting_that_cannot_work_stops_the_app_with_advice(app_settings, monkeypatch, value):
    from app import create_app
    from app.config import ConfigError
    from app.credentials import requirements

    monkeypatch.setattr(requirements, "_passed_stations", lambda: None)
    monkeypatch.setenv("ALLIANCE_CERTIFICATE_OBSERVED_STATIONS", value)
    with pytest.raises(ConfigError, match="ALLIANCE_CERTIFICATE_OBSERVED_STATIONS"):
        create_app(app_settings)
