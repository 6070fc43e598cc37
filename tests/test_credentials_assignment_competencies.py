"""A certificate names the competencies the learner evidenced: those of the course's content they completed and,
apart, those staff saw them do at the observed stations they passed; kept as on the day it was issued."""

import subprocess

import jwt
import pytest

from app.credentials import badges
from app.observe.services import stations
from app.services import courses
from tests.test_credentials import (  # noqa: F401  (fixtures)
    app_settings,
    certificates,
    complete,
    course_world,
    credential_key_file,
    pass_quiz,
)
from tests.test_credentials_pdf import _tool
from tests.test_observe import FORM, best
from tests.test_observe_lifecycle import _rate


def _of_quiz(quiz) -> set[str]:
    return {c for item in quiz.items for c in item.competencies}


@pytest.fixture
def seeded(auth, db, catalog):
    """A learner who completed the course (an optional quiz left undone), passed one released station of their
    cohort and failed another; the course asks for one station. Returns (world, optional quiz, certificate)."""
    world = course_world(auth, db, catalog)
    required = {c for lesson in world.module.lessons for c in lesson.competencies} | _of_quiz(world.quiz)
    optional = next(q for q in catalog.quizzes if _of_quiz(q) - required)  # it would add competencies of its own
    courses.add_items(catalog, world.course, [f"quiz:{optional.id}"], is_required=False)
    db.session.commit()
    form = catalog.observation(FORM)
    passed = stations.create(world.cohort, form, "Station passed", world.educator)
    failed = stations.create(world.cohort, form, "Station failed", world.educator)
    db.session.commit()
    from app.models import Assignment

    db.session.query(Assignment).filter_by(cohort_id=world.cohort.id).update({"observed_stations": 1})
    db.session.commit()
    critical = form.critical_items[0]
    _rate(
        db, catalog, failed, world.student, world.educator, "educator", best(form) | {critical.id: critical.scale.low}
    )
    _rate(db, catalog, passed, world.student, world.educator, "educator", best(form))
    for station in (passed, failed):
        stations.release(station)
    db.session.commit()
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    return world, optional, certificate


def test_the_course_list_names_what_the_learner_completed_and_the_station_list_what_staff_saw(db, catalog, seeded):
    world, optional, certificate = seeded
    expected = list(
        dict.fromkeys(
            [c for lesson in world.module.lessons for c in lesson.competencies]
            + [c for item in world.quiz.items for c in item.competencies]
        )
    )
    assert certificate.competency_refs == expected
    assert not (_of_quiz(optional) - set(expected)) & set(certificate.competency_refs)  # the optional quiz: not done
    assert certificate.station_competency_refs == list(catalog.observation(FORM).competencies)
    assert certificate.station_competency_refs


def test_a_certificate_keeps_its_competencies_when_the_learner_does_more_later(db, catalog, seeded):
    world, optional, certificate = seeded
    pass_quiz(db, world.student.id, optional)  # the optional quiz, after the certificate was issued
    [later] = certificates(db, world.student.id)
    assert later.competency_refs == certificate.competency_refs
    assert later.station_competency_refs == certificate.station_competency_refs


def test_without_a_passed_station_the_station_list_is_empty(auth, db, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    assert certificate.station_competency_refs == [] and certificate.competency_refs


def test_the_pdf_heads_the_two_lists_apart(client, auth, db, catalog, seeded, tmp_path):
    world, _optional, certificate = seeded
    auth.sign_in(world.student.email)
    response = client.get(f"/certificates/{certificate.public_id}.pdf")
    assert response.status_code == 200
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, check=True, text=True)
    flat = " ".join(text.stdout.split())
    course_at, seen_at = flat.find(badges.COURSE_HEADING.upper()), flat.find(badges.STATIONS_HEADING.upper())
    assert 0 <= course_at < seen_at, flat  # (the stylesheet sets headings in capitals)
    seen_names = badges.competency_names(certificate.station_competency_refs)
    only_seen = [n for n in seen_names if n not in badges.competency_names(certificate.competency_refs)]
    assert only_seen and all(" ".join(n.split()) in flat[seen_at:] for n in only_seen)


def test_the_badge_carries_both_lists_apart_and_still_verifies(client, auth, db, catalog, seeded):
    world, _optional, certificate = seeded
    auth.sign_in(world.student.email)
    token = client.get(f"/certificates/{certificate.public_id}.jwt").text
    assert badges.verify(token).is_valid
    payload = jwt.decode(token, options={"verify_signature": False})
    known = badges.competency_names(certificate.competency_refs)
    seen = badges.competency_names(certificate.station_competency_refs)
    assert payload["evidence"] == [
        {"type": ["Evidence"], "name": badges.COURSE_HEADING, "narrative": "; ".join(known) + "."},
        {"type": ["Evidence"], "name": badges.STATIONS_HEADING, "narrative": "; ".join(seen) + "."},
    ]
    narrative = payload["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert f"**{badges.COURSE_HEADING}:** {'; '.join(known)}." in narrative
    assert f"**{badges.STATIONS_HEADING}:** {'; '.join(seen)}." in narrative
    assert payload["credentialSubject"]["achievement"]["tag"] == known  # tags: the course's list only, never mixed


def test_the_learners_data_download_holds_both_lists(client, auth, db, catalog, seeded):
    world, _optional, certificate = seeded
    auth.sign_in(world.student.email)
    [mine] = client.get("/auth/account/data.json").json["certificates"]
    assert mine["competency_refs"] == certificate.competency_refs
    assert mine["station_competency_refs"] == certificate.station_competency_refs
