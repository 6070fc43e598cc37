"""Data rights for observed stations, learning platforms (LTI) and authored quizzes: what a person's download holds,
and what deleting a learner, an examiner or an educator who authored quizzes deletes, keeps and hands on."""

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.credentials import issuing
from app.extensions import db as _db
from app.models import (
    AuthoredQuiz,
    AuthoredVersion,
    Cohort,
    CohortExaminer,
    LtiAccount,
    LtiLink,
    LtiPlatform,
    LtiScore,
    Observation,
    PatientLink,
    QuizAttempt,
    Station,
    User,
)
from app.models.types import utcnow
from app.observe.services import access, patients, ratings, results, stations
from app.services import account_download, authoring, cohorts, courses
from app.services.account_data import HOLDINGS
from app.services.account_data_areas import WITHHELD_DRAFT, WITHHELD_UNRELEASED
from tests.authoring_helpers import write_quiz
from tests.conftest import PASSWORD
from tests.test_data_rights import DELETED, EXPORT_QUERIES

FORM = "first-consultation-observed"
ISSUER = "https://moodle.example.edu"


@dataclass
class Ward:
    """A cohort with two stations (the first released), its teacher, an examiner and two rated students."""

    teacher: User
    examiner: User
    ann: User
    ben: User
    cohort: Cohort
    released: Station
    unreleased: Station


def rate(form, station, student, rater, role, comment, submit=True) -> Observation:
    """A rating with the best marks (submitted unless `submit` is False), through the services."""
    observation = ratings.start(station, form, student.id, rater.id, role)
    marks = {item.id: item.scale.high for item in form.items_for(role)}
    ratings.save(observation, ratings.Entered(marks=marks, global_rating=3, comment=comment))
    if submit:
        ratings.submit(observation, station, form, stations.pass_total(station, form))
    return observation


@pytest.fixture
def ward(app, db, auth, catalog) -> Ward:
    teacher = auth.create("educator", "teacher@example.org", "Teacher Tan")
    examiner = auth.create("educator", "examiner@example.org", "Examiner Eze")
    ann = auth.create("student", "ann@example.org", "Ann Abbott")
    ben = auth.create("student", "ben@example.org", "Ben Brook")
    cohort = cohorts.create(teacher, "Ward 9")
    cohorts.add_members(cohort, [ann.id, ben.id], "roster")
    access.add_examiner(cohort, examiner.email, teacher)
    form = catalog.observation(FORM)
    released = stations.create(cohort, form, "Station 1: breaking news", teacher)
    stations.set_peer(released, True)
    unreleased = stations.create(cohort, form, "Station 2: a second visit", teacher)
    rate(form, released, ann, examiner, "examiner", "Eze: waited well before speaking.")
    rate(form, released, ann, teacher, "educator", "Tan: named the feeling.")
    rate(form, released, ann, ann, "self", "Ann: I rushed the ending.")
    rate(form, released, ann, ben, "peer", "Ben: Ann was kind.")
    rate(form, released, ben, ann, "peer", "Ann: Ben listened.")
    rate(form, released, ben, examiner, "examiner", "Eze: Ben summarised well.")
    token = patients.make(released, ann.id, teacher)
    marks = {item.id: 2 for item in form.patient_items}
    patients.use(patients.find(token), form, ratings.Entered(marks=marks, comment="Patient: kind and clear."))
    patients.make(released, ann.id, teacher)  # a second link, never used
    stations.release(released)
    rate(form, unreleased, ann, examiner, "examiner", "Eze: secret until released.")
    rate(form, unreleased, ben, examiner, "examiner", "Eze: half done on Ben.", submit=False)
    rate(form, unreleased, ann, ann, "self", "Ann: my draft about the second visit.", submit=False)
    db.session.commit()
    return Ward(teacher, examiner, ann, ben, cohort, released, unreleased)


def on_a_platform(db, ward: Ward, catalog) -> None:
    """Ann arrived from a platform (an LTI identity) and has a score sent and one waiting; and a certificate."""
    platform = LtiPlatform(
        name="Moodle at Example",
        issuer=ISSUER,
        client_id="alliance",
        auth_login_url=f"{ISSUER}/auth",
        auth_token_url=f"{ISSUER}/token",
        keyset_url=f"{ISSUER}/jwks",
    )
    db.session.add(platform)
    db.session.flush()
    link = LtiLink(
        platform_id=platform.id, deployment_id="1", resource_link_id="rl-1", kind="quiz", item_ref="q", title="Quiz 1"
    )
    db.session.add(link)
    db.session.flush()
    db.session.add(LtiAccount(issuer=ISSUER, sub="moodle-user-4242", user_id=ward.ann.id, email="ann@moodle.example"))
    now = utcnow()
    for key, sent in ((1, now), (2, None)):
        db.session.add(
            LtiScore(
                link_id=link.id,
                user_id=ward.ann.id,
                attempt_key=key,
                score_given=4.0 + key,
                score_maximum=6.0,
                activity_progress="Completed",
                grading_progress="FullyGraded",
                finished_at=now - timedelta(minutes=key),
                sent_at=sent,
            )
        )
    course = courses.create(ward.teacher, "Observed practice", "")
    courses.add_item(catalog, course, f"module:{catalog.modules[0].id}")
    courses.set_published(course, True)
    issuing.issue(ward.ann, course, ward.cohort.id, catalog)
    db.session.commit()


def download(client, auth, user: User) -> tuple[dict, str]:
    """The person's download through the account page: its data and text."""
    assert auth.sign_in(user.email).status_code == 302
    response = client.get("/auth/account/data.json")
    assert response.status_code == 200
    auth.sign_out()
    return json.loads(response.data), response.get_data(as_text=True)


def naming(db, user_id: int) -> dict[tuple[str, str], int]:
    """Rows naming the person in every registered column."""
    found = {}
    for h in HOLDINGS:
        table = _db.metadata.tables[h.table]
        found[(h.table, h.column)] = db.session.scalar(
            select(func.count()).select_from(table).where(table.c[h.column] == user_id)
        )
    return found


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def delete_through_the_page(client, auth, user: User) -> None:
    assert auth.sign_in(user.email).status_code == 302
    response = client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302, response.text
    assert DELETED in client.get("/").text


# --- the download


def test_a_learners_download_holds_their_ratings_as_released_their_platform_identity_and_certificate(
    client, auth, db, catalog, ward
):
    on_a_platform(db, ward, catalog)
    data, text = download(client, auth, ward.ann)

    about_her = {(o["station"], o["rater_role"]): o for o in data["observations"]}
    released, unreleased = ward.released.title, ward.unreleased.title
    assert set(about_her) == {
        (released, "examiner"),
        (released, "educator"),
        (released, "self"),
        (released, "peer"),
        (released, "patient"),
        (unreleased, "examiner"),
        (unreleased, "self"),
    }
    examiner = about_her[(released, "examiner")]
    assert examiner["withheld"] is None and examiner["comment"] == "Eze: waited well before speaking."
    assert examiner["global_rating"] == "Good" and examiner["is_passed"] is True and examiner["marks"]
    assert about_her[(released, "peer")]["comment"] == "Ben: Ann was kind."
    patient = about_her[(released, "patient")]
    assert patient["comment"] == "Patient: kind and clear." and patient["global_rating"] is None
    # Not released yet: that it exists and when, nothing of what the examiner wrote.
    withheld = about_her[(unreleased, "examiner")]
    assert withheld["withheld"] == WITHHELD_UNRELEASED and withheld["submitted_at"]
    assert not {"marks", "comment", "item_comments", "total", "is_passed"} & set(withheld)
    assert "secret until released" not in text
    # Her own draft self rating is hers, released or not.
    assert about_her[(unreleased, "self")]["comment"] == "Ann: my draft about the second visit."
    # A rating the rater has not finished is withheld too (Ben's, by the examiner, half done).
    (draft,) = account_download.export(ward.ben.id)["observations"][-1:]
    assert draft["withheld"] == WITHHELD_DRAFT and draft["submitted_at"] is None and "comment" not in draft

    (given,) = data["observations_given"]
    assert given["your_role"] == "peer" and given["comment"] == "Ann: Ben listened." and given["station"] == released
    links = data["patient_links"]
    assert len(links) == 2 and sum(1 for link in links if link["used_at"]) == 1
    assert set(links[0]) == {"station", "cohort", "created_at", "expires_at", "used_at"}

    (identity,) = data["lti_identities"]
    assert (identity["issuer"], identity["sub"]) == (ISSUER, "moodle-user-4242")
    assert identity["email_from_platform"] == "ann@moodle.example"
    scores = sorted(data["lti_scores"], key=lambda s: s["score_given"])
    assert [(s["platform"], s["activity"], s["score_given"]) for s in scores] == [
        ("Moodle at Example", "Quiz 1", 5.0),
        ("Moodle at Example", "Quiz 1", 6.0),
    ]
    assert scores[0]["sent_at"] and scores[1]["sent_at"] is None
    (certificate,) = data["certificates"]
    assert certificate["course"] == "Observed practice" and certificate["learner_name"] == "Ann Abbott"
    assert data["examiner_of"] == [] and data["authored_quizzes"] == []

    # Never another person: not who rated her, not the peer she rated, not the patient link's hash.
    for someone_else in ("Examiner Eze", "Teacher Tan", "Ben Brook", "ben@example.org", "teacher@example.org"):
        assert someone_else not in text
    for link_hash in db.session.scalars(select(PatientLink.token_hash)):
        assert link_hash not in text


def test_an_examiners_download_holds_the_ratings_they_gave_without_naming_the_students(client, auth, db, ward):
    data, text = download(client, auth, ward.examiner)
    assert data["examiner_of"] == [{"cohort": "Ward 9", "added_at": data["examiner_of"][0]["added_at"]}]
    given = data["observations_given"]
    assert sorted(g["comment"] for g in given) == sorted(
        [
            "Eze: waited well before speaking.",
            "Eze: Ben summarised well.",
            "Eze: secret until released.",
            "Eze: half done on Ben.",
        ]
    )
    assert {g["your_role"] for g in given} == {"examiner"}
    assert [g["submitted_at"] for g in given if g["comment"] == "Eze: half done on Ben."] == [None]
    for student in ("Ann Abbott", "Ben Brook", "ann@example.org", "ben@example.org"):
        assert student not in text
    assert data["observations"] == []


def test_the_download_stays_a_fixed_number_of_queries_with_ratings_and_platform_rows(db, catalog, ward, count_queries):
    on_a_platform(db, ward, catalog)
    db.session.expire_all()
    with count_queries() as some:
        assert len(account_download.export(ward.ann.id)["observations"]) == 7
    form = catalog.observation(FORM)
    third = stations.create(ward.cohort, form, "Station 3", ward.teacher)
    for station in (third, ward.unreleased):
        rate(form, station, ward.ann, ward.teacher, "educator", "more")
    rate(form, third, ward.ben, ward.ann, "peer", "more of Ben")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as more:
        data = account_download.export(ward.ann.id)
    assert len(data["observations"]) == 9 and len(data["observations_given"]) == 2
    assert some.count == more.count == EXPORT_QUERIES


# --- deletion


def test_deleting_a_learner_deletes_every_rating_of_them_and_their_peer_ratings_and_platform_rows(
    client, auth, db, catalog, ward
):
    on_a_platform(db, ward, catalog)
    ann, ben = ward.ann.id, ward.ben.id
    of_ben = count(db, Observation, Observation.student_id == ben)
    by_ann_of_ben = count(db, Observation, Observation.student_id == ben, Observation.rater_id == ann)
    total = count(db, Observation)
    of_ann = count(db, Observation, Observation.student_id == ann)
    assert of_ann == 7 and by_ann_of_ben == 1
    auth.sign_in(ward.teacher.email)
    before_report = client.get(f"/observe/stations/{ward.released.id}/report")
    assert before_report.status_code == 200 and "Ann Abbott" in before_report.text
    auth.sign_out()

    delete_through_the_page(client, auth, ward.ann)
    db.session.expire_all()
    assert db.session.get(User, ann) is None
    assert all(n == 0 for n in naming(db, ann).values()), naming(db, ann)
    # Her ratings (patients' included) and her peer rating of Ben are gone; nothing else is.
    assert count(db, Observation) == total - of_ann - by_ann_of_ben
    assert count(db, Observation, Observation.student_id == ben) == of_ben - by_ann_of_ben
    assert count(db, PatientLink) == 0 and count(db, LtiAccount) == 0 and count(db, LtiScore) == 0
    assert count(db, LtiLink) == 1 and count(db, LtiPlatform) == 1  # the platform's own rows stay
    assert count(db, Station) == 2 and count(db, CohortExaminer) == 1

    auth.sign_in(ward.teacher.email)
    report = client.get(f"/observe/stations/{ward.released.id}/report")
    assert report.status_code == 200 and "Ann Abbott" not in report.text and "Ben Brook" in report.text
    csv = client.get(f"/observe/stations/{ward.released.id}/report.csv").get_data(as_text=True)
    assert "Ann" not in csv and "Eze: Ben summarised well." in csv
    auth.sign_out()
    auth.sign_in(ward.ben.email)
    own = client.get(f"/stations/{ward.released.id}")
    assert own.status_code == 200 and "Examiner: Examiner Eze" in own.text and "Ann: Ben listened." not in own.text


def test_deleting_an_examiner_keeps_their_submitted_ratings_for_the_students_with_the_rater_cleared(
    client, auth, db, catalog, ward
):
    eze = ward.examiner.id
    form = catalog.observation(FORM)
    passed_before = [s.id for s in results.passed_stations(ward.ann.id, ward.cohort.id, catalog)]
    assert passed_before == [ward.released.id]
    submitted = count(db, Observation, Observation.rater_id == eze, Observation.submitted_at.is_not(None))
    assert submitted == 3
    # Staff cannot delete themselves: an admin makes the account a student's first.
    ward.examiner.role = "student"
    db.session.commit()

    delete_through_the_page(client, auth, ward.examiner)
    db.session.expire_all()
    assert all(n == 0 for n in naming(db, eze).values()), naming(db, eze)
    kept = db.session.scalars(select(Observation).where(Observation.rater_role == "examiner")).all()
    assert len(kept) == submitted and all(o.rater_id is None and o.submitted_at for o in kept)
    assert "Eze: half done on Ben." not in {o.comment for o in db.session.scalars(select(Observation))}
    assert count(db, CohortExaminer) == 0
    # The students' results rest on those ratings and do not change.
    assert [s.id for s in results.passed_stations(ward.ann.id, ward.cohort.id, catalog)] == passed_before
    assert results.outcome(form, kept[:1], stations.pass_total(ward.released, form)).passed

    auth.sign_in(ward.ann.email)
    page = client.get(f"/stations/{ward.released.id}")
    assert page.status_code == 200 and "Eze: waited well before speaking." in page.text
    assert "Examiner: former staff" in page.text
    data = json.loads(client.get("/auth/account/data.json").data)
    assert "Eze: waited well before speaking." in {o.get("comment") for o in data["observations"]}
    auth.sign_out()
    auth.sign_in(ward.teacher.email)
    report = client.get(f"/observe/stations/{ward.released.id}/report")
    assert report.status_code == 200 and "Ann Abbott" in report.text
    csv = client.get(f"/observe/stations/{ward.released.id}/report.csv").get_data(as_text=True)
    assert "Examiner Eze" not in csv and "Eze: waited well before speaking." in csv


def test_a_self_or_peer_rating_always_names_its_rater(db, ward):
    """Only a staff rating may lose its rater (when that account is deleted); the database holds it."""
    for role in ("peer", "self"):
        db.session.add(
            Observation(
                station_id=ward.unreleased.id,
                student_id=ward.ben.id,
                rater_id=None,
                rater_role=role,
                form_version="1",
                marks={},
                comments={},
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@dataclass
class Authors:
    """Ada, an educator who writes quizzes; Cy and Di, colleagues she shares them with; Ann, a learner."""

    ada: User
    cy: User
    di: User
    ann: User


def _publish(client, quiz_id: int) -> None:
    assert client.post(f"/author/{quiz_id}/publish").status_code == 302


def test_deleting_an_educator_hands_on_their_quizzes_and_keeps_the_versions_learners_took(client, auth, db):
    team = Authors(
        auth.create("educator", "ada@example.org", "Ada Author"),
        auth.create("educator", "cy@example.org", "Cy Colleague"),
        auth.create("educator", "di@example.org", "Di Colleague"),
        auth.create("student", "ann@example.org", "Ann Abbott"),
    )
    auth.sign_in(team.cy.email)
    cys = write_quiz(client, "Cy's quiz", items=1)
    authoring.share(db.session.get(AuthoredQuiz, cys), team.ada.email)
    db.session.commit()
    auth.sign_out()
    auth.sign_in(team.ada.email)
    shared = write_quiz(client, "Shared and published", items=1)
    alone = write_quiz(client, "Published, not shared", items=1)
    draft = write_quiz(client, "A draft of her own", items=1)
    shared_draft = write_quiz(client, "A draft she shared", items=1)
    for quiz_id in (shared, alone, cys):
        _publish(client, quiz_id)
    for quiz_id, people in ((shared, (team.cy, team.di)), (shared_draft, (team.di,))):
        for person in people:
            authoring.share(db.session.get(AuthoredQuiz, quiz_id), person.email)
            db.session.commit()
    downloaded = json.loads(client.get("/auth/account/data.json").data)["authored_quizzes"]
    parts = {q["title"]: (q["your_part"], q["versions_you_published"]) for q in downloaded}
    assert parts == {
        "Cy's quiz": ("co-editor", 1),
        "Shared and published": ("owner", 1),
        "Published, not shared": ("owner", 1),
        "A draft of her own": ("owner", 0),
        "A draft she shared": ("owner", 0),
    }
    auth.sign_out()
    # Ann takes the quiz nobody else edits.
    ref = db.session.get(AuthoredQuiz, alone).ref
    auth.sign_in(team.ann.email)
    attempt = client.post(f"/learn/quizzes/{ref}/attempts").location
    assert client.post(attempt, data={"item-i1": "b"}).status_code == 302
    auth.sign_out()
    versions, ada = count(db, AuthoredVersion), team.ada.id
    team.ada.role = "student"  # an admin makes the account a student's first
    db.session.commit()

    delete_through_the_page(client, auth, team.ada)
    db.session.expire_all()
    assert all(n == 0 for n in naming(db, ada).values()), naming(db, ada)

    def owner_and_editors(quiz_id):
        quiz = db.session.get(AuthoredQuiz, quiz_id)
        if quiz is None:
            return None
        return quiz.owner_id, sorted(c.user_id for c in quiz.co_editors)

    assert owner_and_editors(shared) == (team.cy.id, [team.di.id])  # the first co-editor becomes the owner
    assert owner_and_editors(shared_draft) == (team.di.id, [])
    assert owner_and_editors(alone) == (None, [])  # published: stays, with no owner
    assert owner_and_editors(draft) is None  # never published, nobody else's: deleted
    assert owner_and_editors(cys) == (team.cy.id, [])
    assert count(db, AuthoredVersion) == versions  # every published version stays
    assert count(db, AuthoredVersion, AuthoredVersion.published_by_id.is_(None)) == 3

    auth.sign_in(team.ann.email)
    assert client.get(f"{attempt}/results").status_code == 200  # her attempt still opens its version
    assert client.get(f"/learn/quizzes/{ref}").status_code == 200
    taken = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == team.ann.id))
    assert authoring.version_by_content(db.session.get(AuthoredQuiz, alone), taken.content_version).number == 1
    auth.sign_out()
    auth.sign_in(team.cy.email)
    assert client.get(f"/author/{shared}").status_code == 200
    assert client.get(f"/author/{shared}/history").status_code == 200
    assert "a deleted account" in client.get(f"/author/{cys}/history").text


def test_the_delete_page_says_what_happens_to_ratings_certificates_platforms_and_quizzes(client, auth):
    auth.as_role("educator")
    page = client.get("/auth/account/delete").text
    deleted, kept = page.split('id="deleted-heading"')[1].split('id="kept-heading"')
    assert "rating of you at an observed station" in deleted and "certificates and Open Badges" in deleted
    assert "learning platforms (LTI)" in deleted
    assert "Ratings you gave as an educator or examiner stay" in kept and "Quizzes you wrote pass" in kept
