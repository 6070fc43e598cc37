"""LTI Advantage against the loopback platform: deep linking, grades through the outbox (AGS), rosters (NRPS)."""

import re
from datetime import timedelta
from html import unescape

import pytest
import requests
from sqlalchemy import func, select, update

from app.lti import grades
from app.lti.cli import lti
from app.models import CohortEducator, CohortMember, LtiAccount, LtiContext, LtiScore, User
from app.models.types import utcnow
from tests.lti_platform import INSTRUCTOR, LEARNER, Planned
from tests.test_access import form_answers
from tests.test_lti import account, registered_platform


@pytest.fixture
def platform(app, client, db):
    """The loopback platform, registered."""
    yield from registered_platform(app, client, db)


def send(app):
    """`alliance lti send`, as an operator runs it."""
    return app.test_cli_runner().invoke(lti, ["send"])


def _submit_quiz(client, quiz, best_items: int | None = None) -> None:
    """The signed-in learner takes the quiz through its pages and submits it."""
    started = client.post(f"/learn/quizzes/{quiz.id}/attempts")
    assert started.status_code == 302, started.text
    submitted = client.post(started.headers["Location"], data=form_answers(quiz, best_items))
    assert submitted.status_code == 302 and "/results" in submitted.headers["Location"], submitted.text[:300]


def test_an_instructor_picks_items_and_the_platform_accepts_the_signed_response(platform, client, db, auth, catalog):
    from app.services import courses

    quiz, module = catalog.quizzes[0], catalog.modules[0]
    author = auth.create("educator", email="author@example.org")
    course = courses.create(author, "Alliance basics", "")
    courses.add_item(catalog, course, f"quiz:{quiz.id}")
    courses.set_published(course, True)
    db.session.commit()
    platform.plan("dl", Planned("teacher-1", [INSTRUCTOR], resource_link=None, deep_linking=True))
    launched = platform.launch(client, "dl")
    assert launched.status_code == 302 and launched.headers["Location"].startswith("/lti/deep-link/")
    picker = client.get(launched.headers["Location"])
    assert picker.status_code == 200 and "<h1>Choose Alliance activities</h1>" in picker.text
    assert f'value="quiz:{quiz.id}"' in picker.text and f'value="course:{course.id}"' in picker.text
    answer = client.post(
        launched.headers["Location"], data={"item": [f"quiz:{quiz.id}", f"module:{module.id}", f"course:{course.id}"]}
    )
    assert answer.status_code == 200, answer.text[:300]
    assert f"form-action 'self' {platform.issuer}" in answer.headers["Content-Security-Policy"]
    action = unescape(re.search(r'<form method="post" action="([^"]+)" id="lti-return"', answer.text).group(1))
    token = re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1)
    assert action == platform.issuer + "/deep_link_return"
    back = requests.post(action, data={"JWT": token}, timeout=10)  # the browser posts it; the platform checks it
    assert back.status_code == 200, back.text
    items = platform.received.deep_link_items[-1]
    by_item = {item["custom"]["alliance_item"]: item for item in items}
    assert set(by_item) == {f"quiz:{quiz.id}", f"module:{module.id}", f"course:{course.id}"}
    assert all(item["type"] == "ltiResourceLink" for item in items)
    assert by_item[f"quiz:{quiz.id}"]["lineItem"]["scoreMaximum"] == 100
    assert by_item[f"course:{course.id}"]["lineItem"]["label"] == "Alliance basics"
    assert "lineItem" not in by_item[f"module:{module.id}"]  # a module has no grade


def test_a_quiz_an_educator_wrote_in_the_browser_is_picked_launched_and_graded(platform, client, db, app):
    from app.content import live
    from tests.conftest import AuthActions
    from tests.test_authoring_catalog import published_quiz

    writer = app.test_client()
    AuthActions(writer, db).as_role("educator")
    written = published_quiz(writer, db)
    value = f"quiz:{written.ref}"
    platform.plan("dl", Planned("teacher-1", [INSTRUCTOR], resource_link=None, deep_linking=True))
    picker = platform.launch(client, "dl").headers["Location"]
    # Another educator's quiz is theirs until it is offered site-wide: not listed, and a forged choice is refused.
    assert f'value="{value}"' not in client.get(picker).text
    assert client.post(picker, data={"item": [value]}).status_code == 422
    admin = app.test_client()
    AuthActions(admin, db).as_role("admin")
    assert admin.post(f"/author/site-wide/{written.id}", data={"offer": "yes"}).status_code == 302
    assert f'value="{value}"' in client.get(picker).text
    answer = client.post(picker, data={"item": [value]})
    assert answer.status_code == 200, answer.text[:300]
    token = re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1)
    assert requests.post(platform.issuer + "/deep_link_return", data={"JWT": token}, timeout=10).status_code == 200
    [item] = platform.received.deep_link_items[-1]
    assert item["custom"]["alliance_item"] == value and item["title"] == "Goals in primary care"
    assert item["lineItem"]["scoreMaximum"] == 100
    quiz = live.request_catalog(app).quiz(value.split(":", 1)[1])
    learner = app.test_client()
    _linked_learner(platform, learner, quiz, platform.issuer + "/lineitems/9")
    opened = learner.get(f"/learn/quizzes/{quiz.id}")
    assert opened.status_code == 200 and "Goals in primary care" in opened.text
    _submit_quiz(learner, quiz)
    assert "Sent 1 grades" in send(app).output
    [(where, score)] = platform.received.scores
    assert where == platform.issuer + "/lineitems/9" and score["scoreGiven"] == score["scoreMaximum"] == quiz.max_score


def test_the_picker_refuses_learners_strangers_and_forged_choices(platform, client, db, app, auth, quiz):
    platform.plan("learner-dl", Planned("learner-1", [LEARNER], resource_link=None, deep_linking=True))
    response = platform.launch(client, "learner-dl")
    assert response.status_code == 403 and "Only instructors choose" in response.text
    platform.plan("dl", Planned("teacher-1", [INSTRUCTOR], resource_link=None, deep_linking=True))
    picker = platform.launch(client, "dl").headers["Location"]
    assert client.post(picker, data={"item": "quiz:not-a-quiz"}).status_code == 422
    assert client.post(picker, data={}).status_code == 422
    # Another educator, signed in on their own browser, cannot use the instructor's picker.
    other = app.test_client()
    auth_other = auth.create("educator", email="other@example.org")
    other.post("/auth/sign-in", data={"email": auth_other.email, "password": "correct horse battery"})
    assert other.get(picker).status_code == 404


def _linked_learner(platform, client, quiz, lineitem: str):
    platform.plan("go", Planned("learner-1", [LEARNER], custom={"alliance_item": f"quiz:{quiz.id}"}, lineitem=lineitem))
    assert platform.launch(client, "go").status_code == 302


def test_a_submitted_quiz_reaches_the_platforms_gradebook_once(platform, client, db, app, quiz):
    lineitem = platform.issuer + "/lineitems/7"
    _linked_learner(platform, client, quiz, lineitem)
    _submit_quiz(client, quiz)
    row = db.session.scalar(select(LtiScore))
    assert row is not None and row.sent_at is None  # queued with the submission, nothing sent by the request
    assert platform.received.scores == []
    result = send(app)
    assert result.exit_code == 0, result.output
    assert "Sent 1 grades" in result.output
    [(where, score)] = platform.received.scores
    assert where == lineitem
    assert score["userId"] == "learner-1"
    assert score["scoreGiven"] == score["scoreMaximum"] == quiz.max_score
    assert score["activityProgress"] == "Submitted" and score["gradingProgress"] == "FullyGraded"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", score["timestamp"])
    # Sending again sends nothing: the row is marked sent.
    assert "Sent 0 grades" in send(app).output
    assert len(platform.received.scores) == 1
    # A second attempt is a second score (the platform keeps the latest).
    _submit_quiz(client, quiz, best_items=0)
    send(app)
    assert len(platform.received.scores) == 2 and platform.received.scores[1][1]["scoreGiven"] < quiz.max_score


def test_one_row_per_link_learner_and_attempt(platform, client, db, quiz):
    from app.services import hooks

    _linked_learner(platform, client, quiz, platform.issuer + "/lineitems/7")
    _submit_quiz(client, quiz)
    row = db.session.scalar(select(LtiScore))
    user = account(db, "learner-1")
    grades.queue_for_progress(hooks.Progress(user.id, "quiz", quiz.id, row.attempt_key))  # announced twice
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LtiScore)) == 1


def test_a_grade_the_platform_cannot_take_now_waits_with_back_off_and_is_never_lost(platform, client, db, app, quiz):
    _linked_learner(platform, client, quiz, platform.issuer + "/lineitems/7")
    _submit_quiz(client, quiz)
    trusted = platform.tool_jwks
    platform.trust_tool({"keys": []})  # the platform no longer knows the tool's key: no token
    result = send(app)
    assert result.exit_code == 1 and "gave no token" in result.output
    row = db.session.scalar(select(LtiScore))
    db.session.refresh(row)
    assert row.sent_at is None and row.attempts == 1 and row.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert "Sent 0 grades" in send(app).output  # not due yet
    platform.trust_tool(trusted)
    db.session.execute(update(LtiScore).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert "Sent 1 grades" in send(app).output
    assert len(platform.received.scores) == 1


def test_the_worker_drains_grades_too(platform, client, db, app, quiz):
    from app import worker

    _linked_learner(platform, client, quiz, platform.issuer + "/lineitems/7")
    _submit_quiz(client, quiz)
    assert "lti-grades" in worker.DRAINERS
    with app.app_context():
        drained = worker.DRAINERS["lti-grades"].drain(lambda: False)
    assert drained.sent == 1 and len(platform.received.scores) == 1


def test_completing_a_linked_course_sends_its_grade(platform, client, db, auth, catalog):
    from app.services import courses

    quiz = catalog.quizzes[0]
    author = auth.create("educator", email="author@example.org")
    course = courses.create(author, "Short course", "")
    courses.add_item(catalog, course, f"quiz:{quiz.id}")
    courses.set_published(course, True)
    db.session.commit()
    lineitem = platform.issuer + "/lineitems/course"
    platform.plan(
        "c", Planned("learner-1", [LEARNER], custom={"alliance_item": f"course:{course.id}"}, lineitem=lineitem)
    )
    platform.launch(client, "c")
    _submit_quiz(client, quiz, best_items=0)  # failed: the course is not complete
    assert db.session.scalar(select(func.count()).select_from(LtiScore)) == 0
    _submit_quiz(client, quiz)
    grades.send_due()
    [(where, score)] = platform.received.scores
    assert (
        where == lineitem and score["activityProgress"] == "Completed" and score["scoreGiven"] == score["scoreMaximum"]
    )


def test_an_instructor_syncs_the_roster_from_the_platform(platform, client, db):
    platform.members = [
        {"user_id": "s-1", "name": "Sam One", "roles": [LEARNER], "status": "Active"},
        {"user_id": "s-2", "name": "Sue Two", "roles": [LEARNER], "status": "Active", "email": "sue@uni.example"},
        {"user_id": "s-3", "name": "Sid Gone", "roles": [LEARNER], "status": "Inactive"},
        {"user_id": "t-2", "name": "Tia Teacher", "roles": [INSTRUCTOR], "status": "Active"},
        {"user_id": "s-4", "name": "Sol Four", "roles": [LEARNER]},
    ]
    platform.plan("t", Planned("teacher-1", [INSTRUCTOR], name="Dr Teach"))
    cohort_page = platform.launch(client, "t").headers["Location"]
    cohort_id = db.session.scalar(select(LtiContext.cohort_id))
    synced = client.post(f"/lti/cohorts/{cohort_id}/roster")
    assert synced.status_code == 302 and synced.headers["Location"] == f"{cohort_page}#members"
    page = client.get(cohort_page)
    assert "Roster synced from Loopback Moodle: 3 added, 0 already here, 1 instructor" in page.text
    for name in ("Sam One", "Sue Two", "Sol Four"):
        assert name in page.text
    assert "Sid Gone" not in page.text
    members = db.session.scalars(
        select(LtiAccount.sub)
        .join(CohortMember, CohortMember.user_id == LtiAccount.user_id)
        .where(CohortMember.cohort_id == cohort_id)
    ).all()
    assert sorted(members) == ["s-1", "s-2", "s-4"]
    # The same people launching later are the same accounts; a second sync adds no one.
    platform.plan("s", Planned("s-2", [LEARNER]))
    platform.launch(client.application.test_client(), "s")
    assert db.session.scalar(select(func.count()).select_from(LtiAccount).where(LtiAccount.sub == "s-2")) == 1
    again = client.post(f"/lti/cohorts/{cohort_id}/roster", follow_redirects=True)
    assert "0 added, 3 already here" in again.text


def test_a_roster_sync_invites_the_courses_other_instructors_to_co_teach_and_their_launch_accepts(platform, client, db):
    platform.members = [
        {"user_id": "teacher-1", "name": "Dr Teach", "roles": [INSTRUCTOR], "status": "Active"},
        {"user_id": "t-2", "name": "Tia Teacher", "roles": [INSTRUCTOR], "status": "Active"},
        {"user_id": "t-3", "name": "Tom Left", "roles": [INSTRUCTOR], "status": "Inactive"},
        {"user_id": "s-1", "name": "Sam One", "roles": [LEARNER], "status": "Active"},
    ]
    platform.plan("t", Planned("teacher-1", [INSTRUCTOR], name="Dr Teach"))
    cohort_page = platform.launch(client, "t").headers["Location"]
    cohort_id = db.session.scalar(select(LtiContext.cohort_id))
    page = client.post(f"/lti/cohorts/{cohort_id}/roster", follow_redirects=True)
    assert "2 instructors (1 newly invited to co-teach" in unescape(page.text)
    assert "Tia Teacher" in page.text and "invited, has not accepted yet" in page.text
    assert "Tom Left" not in page.text

    def teaching(sub):
        return db.session.scalar(
            select(CohortEducator.accepted_at)
            .join(LtiAccount, LtiAccount.user_id == CohortEducator.user_id)
            .where(CohortEducator.cohort_id == cohort_id, LtiAccount.sub == sub)
        )

    # Invited, not teaching: an invitation grants nothing until it is accepted.
    assert teaching("t-2") is None and account(db, "t-2").is_educator
    tia = client.application.test_client()
    platform.plan("t2", Planned("t-2", [INSTRUCTOR], name="Tia Teacher"))
    platform.launch(tia, "t2")
    assert teaching("t-2") is not None
    assert tia.get(cohort_page).status_code == 200
    again = client.post(f"/lti/cohorts/{cohort_id}/roster", follow_redirects=True)
    assert "(0 newly invited" in unescape(again.text)
    assert "invited, has not accepted yet" not in again.text
    assert db.session.scalar(select(func.count()).select_from(CohortEducator).where(CohortEducator.cohort_id == cohort_id)) == 2


def test_a_roster_the_platform_will_not_give_is_explained(platform, client, db):
    platform.plan("t", Planned("teacher-1", [INSTRUCTOR]))
    platform.launch(client, "t")
    cohort_id = db.session.scalar(select(LtiContext.cohort_id))
    platform.tool_jwks = {"keys": []}
    page = client.post(f"/lti/cohorts/{cohort_id}/roster", follow_redirects=True)
    assert "did not give the roster" in page.text
    assert db.session.scalar(select(func.count()).select_from(CohortMember)) == 0


@pytest.mark.parametrize("roles", [[LEARNER], [INSTRUCTOR]])
def test_launch_names_are_kept_short_and_plain(platform, client, db, roles):
    platform.plan("n", Planned("n-1", roles, name="  Very\n  long " + "x" * 300))
    platform.launch(client, "n")
    name = account(db, "n-1").display_name
    assert len(name) == 100 and "\n" not in name and name.startswith("Very long")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
