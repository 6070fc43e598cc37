"""Shared test helpers: answer keys built from the catalog through the item registry, and row counts."""

from typing import Any

from sqlalchemy import func, select

from app.content import Quiz


def answers_by_grade(quiz: Quiz, grade: str, fallback: str = "unhelpful", confidence: int | None = 2) -> dict[str, Any]:
    """Form data answering every item: scenario items with an option of `grade` (else `fallback`),
    other items with the answer key when `grade` is 'best' and with a wrong answer otherwise;
    each answer "fairly sure" unless `confidence` says otherwise (None: not said)."""
    data: dict[str, Any] = {}
    for item in quiz.items:
        if confidence is not None:
            data[f"confidence-{item.id}"] = str(confidence)
        handler = item.handler
        if item.type == "scenario":
            option = next((o for o in item.options if o.grade == grade), None) or next(
                o for o in item.options if o.grade == fallback
            )
            answer = option.id
        else:
            answer = handler.right_answer(item) if grade == "best" else handler.wrong_answer(item)
        data.update(handler.form_data(item, answer))
    return data


def given_answers(quiz: Quiz, data: dict[str, Any]) -> dict[str, Any]:
    """The graded answers (by item id) that form data stands for."""
    return {item.id: item.handler.answer_from_form(item, data) for item in quiz.items}


def expected_percent(quiz: Quiz, data: dict[str, Any]) -> float:
    """The percentage the answers in form data should score."""
    answers = given_answers(quiz, data)
    score = sum(item.handler.grade(item, answers[item.id]).score for item in quiz.items)
    return 100.0 * score / quiz.max_score


def rows(db, model, **where) -> int:
    """How many rows of `model` match the keyword filters, read fresh from the database."""
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


#: The one lesson of a minimal module written by content tests.
MINIMAL_LESSON = "## Goals\n<!-- competencies: bordin.goals -->\n\nAgree goals with the patient.\n"


def minimal_module(module_id: str, what: str) -> dict:
    """A valid one-lesson module.yaml mapping, for content tests to pair `what` (a quiz, a conversation) with."""
    return {
        "id": module_id,
        "title": "Agreeing goals",
        "summary": f"A short module to pair {what} with.",
        "minutes": 10,
        "objectives": ["Agree a goal with a patient."],
        "lessons": [
            {
                "id": "only",
                "title": "Goals",
                "file": "01-only.md",
                "minutes": 10,
                "key_points": ["Goals are agreed.", "Goals are the patient's own."],
            }
        ],
    }
