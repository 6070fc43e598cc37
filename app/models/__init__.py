"""The database models."""

from app.models.tracking import (
    CompetencyProgress,
    ItemResponse,
    LearningEvent,
    LessonProgress,
    QuizAttempt,
    QuizProgress,
)
from app.models.user import ROLES, User

__all__ = [
    "ROLES",
    "CompetencyProgress",
    "ItemResponse",
    "LearningEvent",
    "LessonProgress",
    "QuizAttempt",
    "QuizProgress",
    "User",
]
