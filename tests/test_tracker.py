"""The tracker's services: lesson progress, attempts, grading records and their summaries."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    CompetencyProgress,
    ItemResponse,
    LearningEvent,
    LessonProgress,
    QuizAttempt,
    QuizProgress,
    User,
)
from app.services import progress, quizzes
from tests.helpers import answers_by_grade, given_answers, rows


@pytest.fixture
def learner(auth):
    """A student account."""
    return auth.create("student")


def _answers(quiz, grade):
    return given_answers(quiz, answers_by_grade(quiz, grade))


def test_viewing_a_lesson_twice_keeps_one_summary_row_and_logs_two_events(db, learner, catalog):
    module = catalog.modules[0]
    lesson = module.lessons[0]
    progress.view_lesson(learner.id, module, lesson)
    row = progress.view_lesson(learner.id, module, lesson)
    db.session.commit()
    assert row.view_count == 2 and not row.is_completed
    assert rows(db, LessonProgress, user_id=learner.id) == 1
    assert rows(db, LearningEvent, user_id=learner.id, verb="experienced") == 2


def test_completing_a_lesson_is_recorded_once_with_its_content_version(db, learner, catalog):
    module = catalog.modules[0]
    lesson = module.lessons[1]
    assert progress.complete_lesson(learner.id, module, lesson) is True
    completed_at = progress.lesson_row(learner.id, module, lesson).completed_at
    assert progress.complete_lesson(learner.id, module, lesson) is False  # a repeat changes nothing
    db.session.commit()
    again = progress.lesson_row(learner.id, module, lesson)
    assert again.completed_at == completed_at
    assert again.content_version == lesson.version
    assert rows(db, LearningEvent, user_id=learner.id, verb="completed") == 1


def test_module_progress_counts_lessons_and_passed_quiz(db, learner, catalog, quiz):
    module = catalog.module(quiz.module_id)
    for lesson in module.lessons:
        progress.complete_lesson(learner.id, module, lesson)
    (standing,) = progress.modules_progress(learner.id, catalog, (module,))
    assert standing.status == "in-progress"
    assert standing.steps_done == len(module.lessons) and standing.steps_total == len(module.lessons) + 1
    attempt = quizzes.start_attempt(learner.id, quiz)
    quizzes.submit_attempt(learner.id, attempt, quiz, _answers(quiz, "best"))
    db.session.commit()
    (standing,) = progress.modules_progress(learner.id, catalog, (module,))
    assert standing.status == "completed" and standing.percent == 100


def test_an_attempt_snapshots_pass_mark_and_version_and_resumes(db, learner, quiz):
    attempt = quizzes.start_attempt(learner.id, quiz)
    again = quizzes.start_attempt(learner.id, quiz)
    db.session.commit()
    assert again.id == attempt.id
    assert attempt.pass_mark == quiz.pass_mark and attempt.content_version == quiz.version
    assert attempt.max_score == quiz.max_score


def test_an_open_attempt_on_an_older_version_is_set_aside_not_deleted(db, learner, quiz):
    stale = quizzes.start_attempt(learner.id, quiz)
    stale.content_version = "older"
    db.session.commit()
    fresh = quizzes.start_attempt(learner.id, quiz)
    db.session.commit()
    assert fresh.id != stale.id and fresh.content_version == quiz.version
    db.session.refresh(stale)
    assert stale.abandoned_at is not None
    assert rows(db, QuizAttempt, user_id=learner.id) == 2
    # The log is append-only: the set-aside attempt's "attempted" event is still there.
    assert rows(db, LearningEvent, attempt_id=stale.id, verb="attempted") == 1
    with pytest.raises(quizzes.Abandoned):
        quizzes.submit_attempt(learner.id, stale, quiz, _answers(quiz, "best"))


def test_submitting_grades_every_item_and_updates_summaries(db, learner, quiz):
    attempt = quizzes.start_attempt(learner.id, quiz)
    quizzes.submit_attempt(learner.id, attempt, quiz, _answers(quiz, "best"))
    db.session.commit()
    assert attempt.score == attempt.max_score and attempt.is_passed
    responses = db.session.scalars(select(ItemResponse).where(ItemResponse.attempt_id == attempt.id)).all()
    assert len(responses) == len(quiz.items)
    assert all(r.is_correct and r.grade in ("best", "correct") and r.competency_refs for r in responses)
    summary = db.session.scalar(select(QuizProgress).where(QuizProgress.user_id == learner.id))
    assert summary.attempt_count == 1 and summary.is_passed and summary.best_percent == 100.0
    tagged = {c for item in quiz.items for c in item.competencies}
    rows = db.session.scalars(select(CompetencyProgress).where(CompetencyProgress.user_id == learner.id)).all()
    assert {r.competency_ref for r in rows} == tagged
    for row in rows:
        expected = sum(1 for item in quiz.items if row.competency_ref in item.competencies)
        assert row.answered_count == expected == row.correct_count
    verbs = [e.verb for e in db.session.scalars(select(LearningEvent).where(LearningEvent.attempt_id == attempt.id))]
    assert verbs.count("answered") == len(quiz.items) and verbs.count("passed") == 1 and "attempted" in verbs


def test_a_failed_attempt_then_a_pass_keeps_best_and_first_pass(db, learner, quiz):
    first = quizzes.start_attempt(learner.id, quiz)
    quizzes.submit_attempt(learner.id, first, quiz, _answers(quiz, "harmful"))
    db.session.commit()
    assert first.score == 0 and first.is_passed is False
    second = quizzes.start_attempt(learner.id, quiz)
    assert second.id != first.id
    quizzes.submit_attempt(learner.id, second, quiz, _answers(quiz, "best"))
    db.session.commit()
    summary = db.session.scalar(select(QuizProgress).where(QuizProgress.user_id == learner.id))
    assert summary.attempt_count == 2 and summary.best_percent == 100.0 and summary.first_passed_at is not None
    harmful = db.session.scalars(select(CompetencyProgress).where(CompetencyProgress.harmful_count > 0)).all()
    assert harmful, "harmful replies are counted per competency"


def test_a_second_submission_of_the_same_attempt_records_nothing(db, learner, quiz):
    attempt = quizzes.start_attempt(learner.id, quiz)
    quizzes.submit_attempt(learner.id, attempt, quiz, _answers(quiz, "best"))
    db.session.commit()
    with pytest.raises(quizzes.AlreadySubmitted):
        quizzes.submit_attempt(learner.id, attempt, quiz, _answers(quiz, "harmful"))
    assert rows(db, ItemResponse, attempt_id=attempt.id) == len(quiz.items)


def test_a_racing_submission_that_read_the_attempt_before_the_first_commit_is_refused(db, learner, quiz):
    attempt = quizzes.start_attempt(learner.id, quiz)
    db.session.commit()
    with Session(db.engine) as other_request:
        stale = other_request.get(QuizAttempt, attempt.id)  # loaded while still open
        other_request.expunge(stale)
    quizzes.submit_attempt(learner.id, attempt, quiz, _answers(quiz, "best"))
    db.session.commit()
    assert stale.submitted_at is None
    with pytest.raises(quizzes.AlreadySubmitted):
        quizzes.submit_attempt(learner.id, stale, quiz, _answers(quiz, "harmful"))
    db.session.rollback()
    assert rows(db, ItemResponse, attempt_id=attempt.id) == len(quiz.items)
    assert db.session.get(QuizAttempt, attempt.id).score == quiz.max_score


def test_submitting_against_changed_content_is_refused(db, learner, quiz):
    attempt = quizzes.start_attempt(learner.id, quiz)
    attempt.content_version = "older"
    with pytest.raises(quizzes.ContentChanged):
        quizzes.submit_attempt(learner.id, attempt, quiz, _answers(quiz, "best"))


def test_only_the_owner_can_fetch_an_attempt(db, auth, quiz):
    owner, other = auth.create("student", "a@example.org"), auth.create("student", "b@example.org")
    attempt = quizzes.start_attempt(owner.id, quiz)
    db.session.commit()
    assert quizzes.get_own_attempt(owner.id, attempt.id) is attempt
    assert quizzes.get_own_attempt(other.id, attempt.id) is None


def test_competency_standings_name_competencies_and_count_lessons(db, learner, catalog):
    module = catalog.modules[0]
    progress.complete_lesson(learner.id, module, module.lessons[0])
    db.session.commit()
    modules = progress.modules_progress(learner.id, catalog)
    standings = {s.competency.id: s for s in progress.competency_standings(learner.id, catalog, modules)}
    assert len(standings) == 36
    taught = module.lessons[0].competencies[0]
    assert standings[taught].lessons_done >= 1
    assert standings[taught].competency.name and standings[taught].competency.name != taught


def test_times_read_back_in_utc_whatever_the_database_session_zone(db, learner):
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET TIME ZONE 'America/New_York'"))
    stored = db.session.scalar(select(User.created_at).where(User.id == learner.id))
    assert stored.utcoffset().total_seconds() == 0
    assert abs((stored - learner.created_at).total_seconds()) < 1
