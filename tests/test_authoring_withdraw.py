"""Withdrawing a published authored quiz: asked first; it leaves course builders and new attempts are refused
with a clear page; attempts already open still finish, results stay open, history is kept; publishing brings it back."""

from sqlalchemy import select

from app.content import catalog as request_catalog
from app.models import AuthoredQuiz, QuizAttempt
from app.services import authored_reach, cohorts, courses
from tests.authoring_helpers import write_quiz

ANSWERS = {"item-i1": "b", "item-i2": "a", "item-i3": "b"}


def _now(client):
    with client.application.test_request_context():
        return request_catalog()


def _setup(client, auth, db):
    teacher = auth.as_role("educator")
    quiz_id = write_quiz(client)
    assert client.post(f"/author/{quiz_id}/publish").status_code == 302
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    course = courses.create(teacher, "Placement", "")
    courses.add_item(_now(client), course, f"quiz:{quiz.ref}")
    courses.set_published(course, True)
    cohort = cohorts.create(teacher, "Year 2")
    learners = [auth.create("student", email=f"s{n}@example.org") for n in range(3)]
    cohorts.add_members(cohort, [s.id for s in learners], "roster")
    cohorts.assign(cohort, course, teacher, None, None)
    builder = courses.create(teacher, "Next term", "")  # a draft course, whose builder offers the catalogue
    db.session.commit()
    assert f'value="quiz:{quiz.ref}"' in client.get(f"/teach/courses/{builder.id}").text
    return teacher, quiz, builder, learners


def _as(auth, user):
    auth.sign_out()
    auth.sign_in(user.email)


def test_a_withdrawn_quiz_refuses_new_attempts_but_open_ones_finish_and_results_stay(client, auth, db):
    teacher, quiz, course, (finished, unfinished, newcomer) = _setup(client, auth, db)
    _as(auth, finished)
    attempt_url = client.post(f"/learn/quizzes/{quiz.ref}/attempts").location
    results_url = client.post(attempt_url, data=ANSWERS).location
    _as(auth, unfinished)
    open_url = client.post(f"/learn/quizzes/{quiz.ref}/attempts").location

    _as(auth, teacher)
    asked = client.get(f"/author/{quiz.id}/withdraw")
    assert asked.status_code == 200 and "Withdraw “Goals in primary care”?" in asked.text
    assert "Attempts already started can still be finished" in asked.text
    assert db.session.get(AuthoredQuiz, quiz.id).withdrawn_at is None  # asking changes nothing
    done = client.post(f"/author/{quiz.id}/withdraw", follow_redirects=True)
    assert "is withdrawn: learners cannot start it any more" in done.text
    assert "Withdrawn since" in done.text and "Version 1" in done.text  # the history is kept
    builder = client.get(f"/teach/courses/{course.id}").text
    assert f'value="quiz:{quiz.ref}"' not in builder

    _as(auth, newcomer)
    front = client.get(f"/learn/quizzes/{quiz.ref}").text
    assert "it cannot be started any more" in front  # said where Start was, not learnt from a refusal
    assert "Start the quiz" not in front and "Practise this quiz" not in front
    refused = client.post(f"/learn/quizzes/{quiz.ref}/attempts")
    assert refused.status_code == 410 and "“Goals in primary care” has been withdrawn" in refused.text
    assert client.post(f"/learn/quizzes/{quiz.ref}/practice").status_code == 410
    assert db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == newcomer.id)) is None
    assert authored_reach.given_to(newcomer.id, _now(client)) == frozenset()  # out of practice and mastery too

    _as(auth, unfinished)
    front = client.get(f"/learn/quizzes/{quiz.ref}").text
    assert "Resume your attempt" in front and "it cannot be started any more" not in front
    assert client.post(f"/learn/quizzes/{quiz.ref}/attempts").location == open_url  # the open attempt resumes
    assert client.post(open_url, data=ANSWERS).status_code == 302
    _as(auth, finished)
    assert client.get(results_url).status_code == 200


def test_publishing_again_brings_the_same_version_back(client, auth, db):
    teacher, quiz, course, (learner, *_rest) = _setup(client, auth, db)
    client.post(f"/author/{quiz.id}/withdraw")
    again = client.post(f"/author/{quiz.id}/publish", follow_redirects=True)
    assert again.status_code == 200
    db.session.refresh(quiz)
    assert quiz.withdrawn_at is None and [v.number for v in quiz.versions] == [1]
    assert f'value="quiz:{quiz.ref}"' in client.get(f"/teach/courses/{course.id}").text
    _as(auth, learner)
    assert client.post(f"/learn/quizzes/{quiz.ref}/attempts").status_code == 302


def test_an_admin_may_withdraw_a_co_editor_may_not_and_a_draft_has_nothing_to_withdraw(client, auth, db):
    teacher, quiz, _course, _learners = _setup(client, auth, db)
    draft_id = write_quiz(client, title="Still a draft", items=1)
    colleague = auth.create("educator", email="colleague@example.org", name="Colleague")
    client.post(f"/author/{quiz.id}/share", data={"email": colleague.email})
    db.session.commit()
    _as(auth, colleague)
    assert client.get(f"/author/{quiz.id}/withdraw").status_code == 404
    assert client.post(f"/author/{quiz.id}/withdraw").status_code == 404
    _as(auth, teacher)
    assert "nothing to withdraw" in client.get(f"/author/{draft_id}/withdraw").text
    refused = client.post(f"/author/{draft_id}/withdraw", follow_redirects=True)
    assert "Only a published quiz can be withdrawn" in refused.text
    admin = auth.create("admin", email="boss@example.org", name="Boss")
    _as(auth, admin)
    assert client.post(f"/author/{quiz.id}/withdraw").location.endswith("/author/#every-quiz")
    db.session.refresh(quiz)
    assert quiz.withdrawn_at is not None
    again = client.post(f"/author/{quiz.id}/withdraw", follow_redirects=True)
    assert "already withdrawn" in again.text


def test_a_withdrawn_conversation_refuses_to_start_or_start_again(client, auth, db):
    from app.services import authored_conversations as talks
    from tests.authoring_conversation_helpers import TITLE, mapping

    owner = auth.as_role("educator")
    talk = talks.create_conversation(owner, TITLE, "bordin-components")
    talks.replace_draft(talk, mapping(talk.ref))
    db.session.commit()
    assert client.post(f"/author/{talk.id}/publish").status_code == 302
    learner = auth.create("student", email="learner@example.org")
    _as(auth, learner)
    assert client.post(f"/learn/conversations/{talk.ref}/attempts").status_code == 302  # offered before
    _as(auth, owner)
    client.post(f"/author/{talk.id}/withdraw")
    _as(auth, learner)
    front = client.get(f"/learn/conversations/{talk.ref}").text
    assert "Continue the conversation" in front and "it cannot be started any more" in front
    assert "Start again" not in front and "Practise it" not in front  # only the open run goes on
    assert client.post(f"/learn/conversations/{talk.ref}/attempts").status_code == 302  # the open one resumes
    refused = client.post(f"/learn/conversations/{talk.ref}/restart", data={"mode": "assessed"})
    assert refused.status_code == 410 and f"“{TITLE}” has been withdrawn" in refused.text
    practice = client.post(f"/learn/conversations/{talk.ref}/practice")
    assert practice.status_code == 410
