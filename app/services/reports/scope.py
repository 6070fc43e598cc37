"""What of a learner's work a cohort's educators may see: the cohort's assigned work, nothing else.

A learner joins a cohort by their own choice (a code, a link, or an invitation they accepted). Its
educators then see, for the content of the courses assigned to the cohort: the lessons of its modules
the learner opened, and their marked (assessed) attempts at its quizzes and conversations, with every
answer. They never see practice (the learner's safe space to try), review sessions, reflections, or work
on content the cohort was not assigned. docs/data-rights.md says the same for people.
"""

from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select

from app.extensions import db
from app.models import Assignment, CourseItem, LearningEvent, LessonProgress, QuizAttempt


@dataclass(frozen=True)
class AssignedWork:
    """The content of every course assigned to a cohort: module ids and quiz or conversation ids."""

    module_ids: frozenset[str]
    activity_ids: frozenset[str]

    def covers_activity(self, ref: str) -> bool:
        """Whether the cohort's educators may see assessed work at this quiz or conversation."""
        return ref in self.activity_ids

    def attempts(self):
        """SQL: a QuizAttempt the cohort's educators may see (assessed, at assigned content)."""
        if not self.activity_ids:
            return false()
        return and_(QuizAttempt.mode == "assessed", QuizAttempt.quiz_ref.in_(sorted(self.activity_ids)))

    def lessons(self):
        """SQL: a LessonProgress row of an assigned module."""
        if not self.module_ids:
            return false()
        return LessonProgress.module_ref.in_(sorted(self.module_ids))

    def events(self):
        """SQL (LearningEvent outer-joined with its QuizAttempt): an event of the assigned work."""
        module_events = [
            or_(LearningEvent.object_ref == f"module/{m}", LearningEvent.object_ref.startswith(f"module/{m}/"))
            for m in sorted(self.module_ids)
        ]
        return or_(
            and_(LearningEvent.attempt_id.is_not(None), self.attempts()),
            and_(LearningEvent.attempt_id.is_(None), or_(false(), *module_events)),
        )


def assigned_work(cohort_id: int) -> AssignedWork:
    """The content of the courses assigned to the cohort (one query)."""
    modules: set[str] = set()
    activities: set[str] = set()
    for kind, ref in db.session.execute(
        select(CourseItem.kind, CourseItem.item_ref)
        .join(Assignment, Assignment.course_id == CourseItem.course_id)
        .where(Assignment.cohort_id == cohort_id)
        .distinct()
    ):
        (modules if kind == "module" else activities).add(ref)
    return AssignedWork(frozenset(modules), frozenset(activities))


def work_of(courses) -> AssignedWork:
    """The content of courses already read (with their items): no query."""
    modules: set[str] = set()
    activities: set[str] = set()
    for course, _ in courses:
        for item in course.items:
            (modules if item.kind == "module" else activities).add(item.item_ref)
    return AssignedWork(frozenset(modules), frozenset(activities))
