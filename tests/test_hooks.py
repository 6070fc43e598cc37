"""Progress hooks: what other areas (grade passback, certificates) hear when a learner makes progress."""

import pytest

from app.services import conversations, hooks, practice, progress, quizzes
from tests.helpers import answers_by_grade, given_answers


@pytest.fixture
def heard():
    """Every step of progress reported while the test runs."""
    seen: list[hooks.Progress] = []
    hooks.on_progress("test", seen.append)
    yield seen
    hooks._listeners.pop("test")


def test_a_completed_lesson_is_heard_once(db, auth, catalog, heard):
    learner = auth.create("student")
    module = catalog.modules[0]
    lesson = module.lessons[0]
    progress.complete_lesson(learner.id, module, lesson)
    progress.complete_lesson(learner.id, module, lesson)  # a double click completes nothing more
    assert heard == [hooks.Progress(learner.id, "lesson", f"{module.id}/{lesson.id}")]


def test_a_submitted_quiz_and_a_finished_conversation_are_heard_with_their_attempts(db, auth, catalog, heard):
    learner = auth.create("student")
    quiz = catalog.quizzes[0]
    attempt = quizzes.start_attempt(learner.id, quiz)
    quizzes.submit_attempt(learner.id, attempt, quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
    conversation = catalog.conversations[0]
    talk = quizzes.start_attempt(learner.id, conversation)
    for step, reply_id in enumerate(conversation.best_path, start=1):
        conversations.reply(learner.id, talk, conversation, step, reply_id)
        if step < len(conversation.best_path):
            assert heard[-1].kind == "quiz"  # nothing is heard before the conversation ends
    assert heard == [
        hooks.Progress(learner.id, "quiz", quiz.id, attempt.id),
        hooks.Progress(learner.id, "conversation", conversation.id, talk.id),
    ]


def test_practice_is_not_progress_anyone_else_hears_of(db, auth, catalog, heard):
    learner = auth.create("student")
    quiz = catalog.quizzes[0]
    practising = practice.start_quiz(learner.id, quiz)
    step = practice.next_step(practising, catalog)
    practice.answer(learner.id, practising, step, step.item.handler.right_answer(step.item), 2, catalog)
    conversation = catalog.conversations[0]
    talk = conversations.restart(learner.id, conversation, mode="practice")
    for number, reply_id in enumerate(conversation.best_path, start=1):
        conversations.reply(learner.id, talk, conversation, number, reply_id)
    assert heard == []
