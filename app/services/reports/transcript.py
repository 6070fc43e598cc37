"""A learner's transcript: their marked work (modules, quizzes, conversations), with scores and dates, for people.

Two scopes. A cohort's educators get the work on the courses assigned to that cohort, every assigned item listed
(done or not), as the learner record shows it. The learner gets all of their own marked work. Neither includes
practice or review sessions, which are never marked. At most four queries, whatever the number of attempts.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, true

from app.content import Catalog
from app.content.conversations import Conversation
from app.extensions import db
from app.models import ItemResponse, LessonProgress, QuizAttempt, User
from app.models.types import utcnow
from app.services.courses import CourseStatus, ItemStatus, content_for
from app.services.reports.people import assigned_courses, current_member
from app.services.reports.scope import AssignedWork, work_of
from app.services.reports.text import activity, activity_kind, activity_title, duration_text, pass_text, score_text


@dataclass(frozen=True)
class MarkedAttempt:
    """One submitted, marked attempt at a quiz or conversation."""

    id: int
    ref: str
    title: str
    kind: str
    started_at: datetime
    submitted_at: datetime
    score: float
    max_score: float
    pass_mark: int | None
    is_passed: bool
    marking: str
    #: Points earned ignoring certainty, and the points the answers were worth.
    raw: float
    weight: float
    ending: str | None = None

    @property
    def percent(self) -> float:
        """The score as a percentage of the maximum (for ranking attempts)."""
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @property
    def score_text(self) -> str:
        """The score in words."""
        return score_text(self, self.raw, self.weight)

    @property
    def pass_text(self) -> str:
        """The pass mark, on the scale the score is shown on."""
        return pass_text(self)

    @property
    def result(self) -> str:
        """Passed or Not passed."""
        return "Passed" if self.is_passed else "Not passed"

    @property
    def duration(self) -> str:
        """From start to submission."""
        return duration_text(self.started_at, self.submitted_at)


@dataclass(frozen=True)
class ActivityLine:
    """A quiz or conversation and the learner's marked attempts at it, oldest first."""

    ref: str
    title: str
    kind: str
    attempts: list[MarkedAttempt]
    is_required: bool | None = None

    @property
    def best(self) -> MarkedAttempt | None:
        """The attempt with the highest score (the earliest of equals)."""
        return max(self.attempts, key=lambda a: a.percent, default=None)

    @property
    def is_passed(self) -> bool:
        """Whether any attempt passed."""
        return any(a.is_passed for a in self.attempts)

    @property
    def passed_on(self) -> datetime | None:
        """When it was first passed."""
        return next((a.submitted_at for a in self.attempts if a.is_passed), None)

    @property
    def last_on(self) -> datetime | None:
        """When the latest attempt was submitted."""
        return self.attempts[-1].submitted_at if self.attempts else None

    @property
    def result(self) -> str:
        """Passed, Attempted, not passed, or Not attempted."""
        if self.is_passed:
            return "Passed"
        return "Attempted, not passed" if self.attempts else "Not attempted"


@dataclass(frozen=True)
class ModuleLine:
    """A module: its lessons completed, and when."""

    ref: str
    title: str
    total: int
    completed: int
    completed_on: datetime | None
    last_studied: datetime | None
    is_required: bool | None = None

    @property
    def is_complete(self) -> bool:
        """Every lesson completed."""
        return bool(self.total) and self.completed >= self.total

    @property
    def result(self) -> str:
        """Completed, In progress, or Not started."""
        if self.is_complete:
            return "Completed"
        return "In progress" if self.last_studied else "Not started"


@dataclass(frozen=True)
class CourseLine:
    """An assigned course: required items done, complete or not, due date."""

    title: str
    due_on: date | None
    percent: int
    is_complete: bool
    required: int
    done: int


@dataclass(frozen=True)
class Transcript:
    """A learner's marked work, ready to print."""

    name: str
    email: str
    made_at: datetime
    #: The cohort whose assigned work it covers (None: all of the learner's own marked work).
    cohort_name: str | None
    modules: list[ModuleLine]
    quizzes: list[ActivityLine]
    conversations: list[ActivityLine]
    courses: list[CourseLine] = field(default_factory=list)

    @property
    def attempts(self) -> list[MarkedAttempt]:
        """Every marked attempt, in the order they were submitted."""
        every = [a for line in (*self.quizzes, *self.conversations) for a in line.attempts]
        return sorted(every, key=lambda a: (a.submitted_at, a.id))

    @property
    def is_empty(self) -> bool:
        """Nothing studied or attempted yet."""
        return not self.attempts and not any(m.last_studied for m in self.modules)


def for_cohort(catalog: Catalog, cohort, user_id: int) -> Transcript | None:
    """A current member's transcript of the cohort's assigned work (None for anyone else)."""
    user = current_member(cohort.id, user_id)
    if user is None:
        return None
    courses = assigned_courses(cohort.id)
    return _transcript(catalog, user, work_of(courses), courses, cohort.name)


def for_learner(catalog: Catalog, user: User) -> Transcript:
    """The learner's own transcript of all their marked work."""
    return _transcript(catalog, user, None, [], None)


def _transcript(catalog: Catalog, user: User, work: AssignedWork | None, courses, cohort_name: str | None) -> Transcript:
    attempts = _attempts(catalog, user.id, work)
    lesson_rows = db.session.execute(
        select(
            LessonProgress.module_ref,
            func.count(LessonProgress.completed_at).label("completed"),
            func.max(LessonProgress.completed_at).label("completed_on"),
            func.max(LessonProgress.last_viewed_at).label("last_viewed"),
        )
        .where(LessonProgress.user_id == user.id, work.lessons() if work is not None else true())
        .group_by(LessonProgress.module_ref)
    ).all()
    studied = {row.module_ref: row for row in lesson_rows}
    by_ref: dict[str, list[MarkedAttempt]] = {}
    for attempt in attempts:
        by_ref.setdefault(attempt.ref, []).append(attempt)
    if work is not None:
        # Every assigned item in course order, done or not: what the cohort was asked to do.
        required = {}
        for course, _ in courses:
            for item in course.items:
                required[(item.kind, item.item_ref)] = required.get((item.kind, item.item_ref)) or item.is_required
        module_refs = list(dict.fromkeys(i.item_ref for c, _ in courses for i in c.items if i.kind == "module"))
        activity_refs = list(dict.fromkeys(i.item_ref for c, _ in courses for i in c.items if i.kind != "module"))
    else:
        required = {}
        module_refs = [m.id for m in catalog.modules if m.id in studied]
        module_refs += sorted(set(studied) - set(module_refs))
        known = [q.id for q in (*catalog.quizzes, *catalog.conversations)]
        activity_refs = [ref for ref in known if ref in by_ref] + sorted(set(by_ref) - set(known))
    modules = [_module_line(catalog, ref, studied.get(ref), required.get(("module", ref))) for ref in module_refs]
    lines = [
        ActivityLine(
            ref,
            activity_title(catalog, ref),
            activity_kind(catalog, ref),
            by_ref.get(ref, []),
            required.get(("quiz", ref), required.get(("conversation", ref))),
        )
        for ref in activity_refs
    ]
    return Transcript(
        name=user.display_name,
        email=user.email,
        made_at=utcnow(),
        cohort_name=cohort_name,
        modules=modules,
        quizzes=[line for line in lines if line.kind != "Conversation"],
        conversations=[line for line in lines if line.kind == "Conversation"],
        courses=[_course_line(catalog, course, assignment, studied, by_ref) for course, assignment in courses],
    )


def _attempts(catalog: Catalog, user_id: int, work: AssignedWork | None) -> list[MarkedAttempt]:
    """The learner's submitted, marked attempts (at the assigned work, when given), with their raw points."""
    points = (
        select(
            ItemResponse.attempt_id,
            func.sum(ItemResponse.score).label("raw"),
            func.sum(ItemResponse.max_score).label("weight"),
        )
        .where(ItemResponse.user_id == user_id)
        .group_by(ItemResponse.attempt_id)
        .subquery()
    )
    scope = work.attempts() if work is not None else QuizAttempt.mode == "assessed"
    rows = db.session.execute(
        select(QuizAttempt, points.c.raw, points.c.weight)
        .outerjoin(points, points.c.attempt_id == QuizAttempt.id)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.submitted_at.is_not(None), scope)
        .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
    ).all()
    found = []
    for attempt, raw, weight in rows:
        content = activity(catalog, attempt.quiz_ref)
        ending = None
        if isinstance(content, Conversation) and attempt.ending_ref:
            reached = content.ending(attempt.ending_ref)
            ending = reached.title if reached else attempt.ending_ref
        found.append(
            MarkedAttempt(
                id=attempt.id,
                ref=attempt.quiz_ref,
                title=activity_title(catalog, attempt.quiz_ref),
                kind=activity_kind(catalog, attempt.quiz_ref),
                started_at=attempt.started_at,
                submitted_at=attempt.submitted_at,
                score=attempt.score or 0.0,
                max_score=attempt.max_score,
                pass_mark=attempt.pass_mark,
                is_passed=bool(attempt.is_passed),
                marking=attempt.marking,
                raw=raw or 0.0,
                weight=weight or 0.0,
                ending=ending,
            )
        )
    return found


def _module_line(catalog: Catalog, ref: str, row, is_required: bool | None) -> ModuleLine:
    module = catalog.module(ref)
    total = len(module.lessons) if module else 0
    completed = row.completed if row else 0
    done = bool(total) and completed >= total
    return ModuleLine(
        ref,
        module.title if module else f"{ref} (no longer offered)",
        total,
        completed,
        row.completed_on if row and done else None,
        row.last_viewed if row else None,
        is_required,
    )


def _course_line(catalog: Catalog, course, assignment, studied: dict, by_ref: dict) -> CourseLine:
    """An assigned course's completion by the course's rule, from what was already read."""
    statuses = []
    for item in course.items:
        content = content_for(catalog, item.kind, item.item_ref)
        if item.kind == "module":
            total = len(content.lessons) if content else 0
            row = studied.get(item.item_ref)
            state = "completed" if row and total and row.completed >= total else "in-progress" if row else "not-started"
        else:
            attempts = by_ref.get(item.item_ref, [])
            state = "passed" if any(a.is_passed for a in attempts) else "in-progress" if attempts else "not-started"
        statuses.append(ItemStatus(item, content, state, None))
    status = CourseStatus(course, statuses)
    required = len(status.required)
    return CourseLine(course.title, assignment.due_on, status.percent, status.is_complete, required, required - len(status.left))

