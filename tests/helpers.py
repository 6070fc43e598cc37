"""Answer keys built from the catalog, so tests follow the shipped content."""

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
