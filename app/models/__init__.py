"""The database models."""

from app.models.records import StatementOutbox
from app.models.study import Reflection, ReviewCard
from app.models.teaching import (
    ITEM_KINDS,
    Assignment,
    Cohort,
    CohortEducator,
    CohortInvitation,
    CohortMember,
    Course,
    CourseItem,
    PasswordLink,
)
from app.models.tracking import (
    CompetencyProgress,
    DraftAnswer,
    ItemResponse,
    LearningEvent,
    LessonProgress,
    QuizAttempt,
    QuizProgress,
)
from app.models.user import ROLES, User, UserSession

__all__ = [
    "ITEM_KINDS",
    "ROLES",
    "Assignment",
    "Cohort",
    "CohortEducator",
    "CohortInvitation",
    "CohortMember",
    "Course",
    "CourseItem",
    "PasswordLink",
    "CompetencyProgress",
    "DraftAnswer",
    "ItemResponse",
    "LearningEvent",
    "LessonProgress",
    "QuizAttempt",
    "QuizProgress",
    "Reflection",
    "ReviewCard",
    "StatementOutbox",
    "User",
    "UserSession",
]
