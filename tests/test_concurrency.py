"""Simultaneous requests from one learner (double clicks, two tabs) never double-count or fail."""

import threading

import pytest

from app.extensions import db as _db
from app.models import CompetencyProgress, LearningEvent, LessonProgress, User
from app.services import accounts, progress, quizzes
from tests.helpers import answers_by_grade, given_answers, rows

THREADS = 6


def at_once(app, action, count: int = THREADS) -> list:
    """Run `action()` in `count` threads released together, each in its own app context and session."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        with app.app_context():
            barrier.wait(timeout=10)
            try:
                results[index] = action()
                _db.session.commit()
            except Exception as exc:  # collected and asserted on below
                _db.session.rollback()
                results[index] = exc
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def learner_id(auth) -> int:
    """A student's id."""
    return auth.create("student").id


def test_simultaneous_completions_record_one_completion(app, db, catalog, learner_id):
    module = catalog.modules[0]
    lesson = module.lessons[0]
    results = at_once(app, lambda: progress.complete_lesson(learner_id, module, lesson))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert rows(db, LearningEvent, user_id=learner_id, verb="completed") == 1
    assert rows(db, LessonProgress, user_id=learner_id) == 1


def test_simultaneous_views_are_all_counted(app, db, catalog, learner_id):
    module = catalog.modules[0]
    lesson = module.lessons[0]
    results = at_once(app, lambda: progress.view_lesson(learner_id, module, lesson))
    assert not [r for r in results if isinstance(r, Exception)], results
    row = db.session.scalar(_db.select(LessonProgress).where(LessonProgress.user_id == learner_id))
    assert row.view_count == THREADS
    assert rows(db, LearningEvent, user_id=learner_id, verb="experienced") == THREADS


def test_simultaneous_grading_adds_up_per_competency(app, db, quiz, learner_id):
    graded = quizzes.grade(quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
    results = at_once(
        app, lambda: quizzes.update_competency_summaries(learner_id, [g for _, g in graded], quizzes.utcnow())
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    for row in db.session.scalars(_db.select(CompetencyProgress).where(CompetencyProgress.user_id == learner_id)):
        per_submission = sum(1 for _, g in graded if row.competency_ref in g.competency_refs)
        assert row.answered_count == THREADS * per_submission


def test_simultaneous_starts_open_one_attempt(app, db, quiz, learner_id):
    results = at_once(app, lambda: quizzes.start_attempt(learner_id, quiz).id)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert rows(db, LearningEvent, user_id=learner_id, verb="attempted") == 1


def test_a_double_clicked_sign_up_makes_one_account_and_a_clear_error(app, db):
    results = at_once(app, lambda: accounts.create_user("twice@example.org", "Twice", "long enough password").id, 2)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) <= 1 and all(isinstance(e, accounts.AccountError) for e in errors), results
    assert rows(db, User, email="twice@example.org") == 1
