"""The database models."""

from app.models.authoring import AuthoredCoEditor, AuthoredQuiz, AuthoredVersion, ContentRevision
from app.models.credential import Certificate
from app.models.lti import LtiAccount, LtiContext, LtiDeployment, LtiLink, LtiPlatform, LtiScore, LtiState
from app.models.mail import OutgoingMail
from app.models.observation import CohortExaminer, Observation, PatientLink, Station
from app.models.records import StatementOutbox
from app.models.report_generation import ReportChange, ReportGeneration
from app.models.study import Reflection, ReviewCard
from app.models.summary import AnswerSummary
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
    "AuthoredCoEditor",
    "AuthoredQuiz",
    "AuthoredVersion",
    "ContentRevision",
    "ITEM_KINDS",
    "ROLES",
    "AnswerSummary",
    "Assignment",
    "Certificate",
    "Cohort",
    "CohortEducator",
    "CohortInvitation",
    "CohortMember",
    "CohortExaminer",
    "Observation",
    "PatientLink",
    "Station",
    "Course",
    "CourseItem",
    "PasswordLink",
    "CompetencyProgress",
    "DraftAnswer",
    "ItemResponse",
    "LearningEvent",
    "LtiAccount",
    "LtiContext",
    "LtiDeployment",
    "LtiLink",
    "LtiPlatform",
    "LtiScore",
    "LtiState",
    "LessonProgress",
    "QuizAttempt",
    "QuizProgress",
    "Reflection",
    "ReportChange",
    "ReportGeneration",
    "ReviewCard",
    "OutgoingMail",
    "StatementOutbox",
    "User",
    "UserSession",
]
