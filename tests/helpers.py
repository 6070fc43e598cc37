"""Shared test helpers: answer keys built from the catalog, and row counts."""

from sqlalchemy import func, select

from app.content import Quiz


def answers_by_grade(quiz: Quiz, grade: str, fallback: str = "unhelpful") -> dict[str, str]:
    """Form data choosing, in every item, an option of `grade` (or of `fallback` where none has it)."""
    data = {}
    for item in quiz.items:
        option = next((o for o in item.options if o.grade == grade), None) or next(
            o for o in item.options if o.grade == fallback
        )
        data[f"item-{item.id}"] = option.id
    return data


def expected_percent(quiz: Quiz, data: dict[str, str]) -> float:
    """The percentage the answers in form data should score."""
    score = sum(item.option(data[f"item-{item.id}"]).score for item in quiz.items)
    return 100.0 * score / quiz.max_score


def rows(db, model, **where) -> int:
    """How many rows of `model` match the keyword filters, read fresh from the database."""
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)
