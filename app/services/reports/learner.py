"""One learner's record for a cohort's educators: where they stand on each course item, their attempts at the
assigned work grouped by item (answers included), and the lessons they opened, grouped by module."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select

from app.content import Catalog
from app.content.conversations import Conversation
from app.extensions import db
from app.models import (
    ItemResponse,
    LessonProgress,
    QuizAttempt,
    User,
)
from app.models.types import MAX_ID
from app.services.reports.people import assigned_courses, current_member
from app.services.reports.scope import work_of
from app.services.reports.standing import CourseStanding, standing
from app.services.reports.text import (
    activity,
    activity_kind,
    activity_title,
    answer_text,
    duration_text,
    grade_label,
    item_label,
    score_text,
)

# --- 2. one learner's record


@dataclass(frozen=True)
class ResponseView:
    """One answer of an attempt, readable."""

    position: int
    label: str
    answer: str
    grade: str | None
    grade_label: str
    score: float
    max_score: float
    is_correct: bool
    competencies: list[str]
    is_changed: bool


@dataclass(frozen=True)
class AttemptView:
    """One attempt at a quiz or conversation, with its answers."""

    attempt: QuizAttempt
    title: str
    kind: str
    responses: list[ResponseView]
    ending: str | None

    @property
    def status(self) -> str:
        """Passed or not passed once submitted, in progress, or set aside."""
        if self.attempt.submitted_at is not None:
            return "Passed" if self.attempt.is_passed else "Not passed"
        if self.attempt.abandoned_at is not None:
            return "Set aside"
        return "In progress"

    @property
    def score(self) -> str:
        """The score in words (certainty-based marks as an average mark, with accuracy), once submitted."""
        if self.attempt.submitted_at is None:
            return ""
        raw = sum(r.score for r in self.responses)
        weight = sum(r.max_score for r in self.responses)
        return score_text(self.attempt, raw, weight)

    @property
    def duration(self) -> str:
        """From start to submission (or to being set aside)."""
        return duration_text(self.attempt.started_at, self.attempt.submitted_at or self.attempt.abandoned_at)


@dataclass(frozen=True)
class LessonView:
    """One lesson the learner opened."""

    module_title: str
    lesson_title: str
    row: LessonProgress

    @property
    def span(self) -> str:
        """From the first view to the last (Alliance does not time reading itself)."""
        return duration_text(self.row.first_viewed_at, self.row.last_viewed_at)


@dataclass(frozen=True)
class ModuleLessons:
    """The lessons of one module the learner opened."""

    ref: str
    title: str
    lessons: list[LessonView]
    total: int

    @property
    def completed(self) -> int:
        """Lessons of the module completed."""
        return sum(1 for lesson in self.lessons if lesson.row.completed_at is not None)


@dataclass(frozen=True)
class ActivityGroup:
    """The attempts on this page at one quiz or conversation, newest first."""

    ref: str
    title: str
    kind: str
    attempts: list[AttemptView]


#: The filter of attempts by result: value and label.
RESULTS = {
    "": "Any result",
    "passed": "Passed",
    "not-passed": "Not passed",
    "unfinished": "Not submitted",
}

ATTEMPTS_PAGE_SIZE = 20


@dataclass(frozen=True)
class LearnerReport:
    """What a cohort's educators may see of one learner: standing per course item, a page of attempts with
    answers grouped by activity, and lessons grouped by module."""

    user: User
    attempts: list[AttemptView]
    lessons: list[LessonView]
    attempts_total: int = 0
    submitted_total: int = 0
    page: int = 1
    #: The assigned activities, for the filter: (course title, [(ref, title)]) in course order.
    activities: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    activity_ref: str | None = None
    result: str = ""
    courses: list[CourseStanding] = field(default_factory=list)
    modules: list[ModuleLessons] = field(default_factory=list)
    #: Every marked attempt at the assigned work, whatever the filters.
    all_attempts: int = 0

    @property
    def pages(self) -> int:
        """How many pages of attempts there are (at least one)."""
        return max(1, -(-self.attempts_total // ATTEMPTS_PAGE_SIZE))

    @property
    def first(self) -> int:
        """The number of the first attempt on this page."""
        return (self.page - 1) * ATTEMPTS_PAGE_SIZE + 1

    @property
    def is_filtered(self) -> bool:
        """Whether a filter narrows the attempts shown."""
        return bool(self.activity_ref or self.result)

    @property
    def groups(self) -> list[ActivityGroup]:
        """This page's attempts grouped by activity, in course order (the order they were read in)."""
        found: dict[str, ActivityGroup] = {}
        for view in self.attempts:
            ref = view.attempt.quiz_ref
            if ref not in found:
                found[ref] = ActivityGroup(ref, view.title, view.kind, [])
            found[ref].attempts.append(view)
        return list(found.values())

    @property
    def last_sign_in_at(self) -> datetime | None:
        """When the learner last signed in (None: never)."""
        return self.user.last_sign_in_at


def learner(
    catalog: Catalog,
    cohort_id: int,
    user_id: int,
    page: int = 1,
    activity_ref: str | None = None,
    result: str = "",
    today: date | None = None,
) -> LearnerReport | None:
    """A current member's record of the cohort's assigned work, a page of attempts at a time (six queries); with
    today's date, a course past its due date and not complete is overdue. None for anyone who is not a current member,
    for an unknown filter, or for a page past the last."""
    user = current_member(cohort_id, user_id)
    if user is None or not 0 < page <= MAX_ID // ATTEMPTS_PAGE_SIZE or result not in RESULTS:
        return None
    courses = assigned_courses(cohort_id)
    work = work_of(courses)
    if activity_ref is not None and not work.covers_activity(activity_ref):
        return None
    order = _course_order(courses)
    # Each activity's marked attempts counted in the database: the standing of every item and the totals.
    summary = {
        row.quiz_ref: row
        for row in db.session.execute(
            select(
                QuizAttempt.quiz_ref,
                func.count().label("started"),
                func.count(QuizAttempt.submitted_at).label("submitted"),
                func.sum(case((QuizAttempt.is_passed.is_(True), 1), else_=0)).label("passed"),
                func.sum(case((QuizAttempt.is_open(), 1), else_=0)).label("open"),
                func.max(case((QuizAttempt.max_score > 0, 100.0 * QuizAttempt.score / QuizAttempt.max_score))).label(
                    "best"
                ),
            )
            .where(QuizAttempt.user_id == user.id, work.attempts())
            .group_by(QuizAttempt.quiz_ref)
        )
    }
    seen = [QuizAttempt.user_id == user.id, work.attempts()]
    if activity_ref is not None:
        seen.append(QuizAttempt.quiz_ref == activity_ref)
    if result == "passed":
        seen.append(QuizAttempt.is_passed.is_(True))
    elif result == "not-passed":
        seen += [QuizAttempt.submitted_at.is_not(None), QuizAttempt.is_passed.is_not(True)]
    elif result == "unfinished":
        seen.append(QuizAttempt.submitted_at.is_(None))
    total, submitted = _totals(summary, activity_ref, result)
    if page > 1 and (page - 1) * ATTEMPTS_PAGE_SIZE >= total:
        return None
    attempts = []
    if total:  # there are attempts, so there are assigned activities to order them by
        by_course_order = case(order, value=QuizAttempt.quiz_ref, else_=len(order))
        attempts = db.session.scalars(
            select(QuizAttempt)
            .where(*seen)
            .order_by(by_course_order, QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
            .limit(ATTEMPTS_PAGE_SIZE)
            .offset((page - 1) * ATTEMPTS_PAGE_SIZE)
        ).all()
    by_attempt: dict[int, list[ResponseView]] = {}
    if attempts:
        for r in db.session.scalars(
            select(ItemResponse)
            .where(ItemResponse.attempt_id.in_([a.id for a in attempts]))
            .order_by(ItemResponse.attempt_id, ItemResponse.position)
        ):
            by_attempt.setdefault(r.attempt_id, []).append(_response_view(catalog, r, r.quiz_ref))
    views = [_attempt_view(catalog, attempt, by_attempt.get(attempt.id, [])) for attempt in attempts]
    lessons = db.session.scalars(select(LessonProgress).where(LessonProgress.user_id == user.id, work.lessons())).all()
    ordered = _lessons_in_catalog_order(catalog, lessons)
    return LearnerReport(
        user,
        views,
        ordered,
        attempts_total=total,
        submitted_total=submitted,
        page=page,
        activities=_activity_choices(catalog, courses),
        activity_ref=activity_ref,
        result=result,
        courses=[standing(catalog, course, assignment, summary, lessons, today) for course, assignment in courses],
        modules=_by_module(catalog, ordered),
        all_attempts=sum(row.started for row in summary.values()),
    )


def _totals(summary: dict, activity_ref: str | None, result: str) -> tuple[int, int]:
    """How many attempts (and submitted ones) the filters leave, from the per-activity counts."""
    total = submitted = 0
    for ref, row in summary.items():
        if activity_ref is not None and ref != activity_ref:
            continue
        counts = {
            "": (row.started, row.submitted),
            "passed": (row.passed, row.passed),
            "not-passed": (row.submitted - row.passed, row.submitted - row.passed),
            "unfinished": (row.started - row.submitted, 0),
        }[result]
        total += counts[0]
        submitted += counts[1]
    return total, submitted


def _course_order(courses) -> dict[str, int]:
    """Each assigned activity's place: the first course that has it, then its position there."""
    order: dict[str, int] = {}
    for course, _ in courses:
        for item in course.items:
            if item.kind != "module" and item.item_ref not in order:
                order[item.item_ref] = len(order)
    return order


def _activity_choices(catalog: Catalog, courses) -> list[tuple[str, list[tuple[str, str]]]]:
    """The filter's options, grouped by course in course order; an activity in two courses is listed once."""
    listed: set[str] = set()
    groups = []
    for course, _ in courses:
        options = []
        for item in course.items:
            if item.kind != "module" and item.item_ref not in listed:
                listed.add(item.item_ref)
                options.append((item.item_ref, f"{activity_kind(catalog, item.item_ref)}: {activity_title(catalog, item.item_ref)}"))
        if options:
            groups.append((course.title, options))
    return groups


def _attempt_view(catalog: Catalog, attempt: QuizAttempt, responses: list[ResponseView]) -> AttemptView:
    found = activity(catalog, attempt.quiz_ref)
    ending = None
    if isinstance(found, Conversation) and attempt.ending_ref:
        reached = found.ending(attempt.ending_ref)
        ending = reached.title if reached else attempt.ending_ref
    return AttemptView(
        attempt, activity_title(catalog, attempt.quiz_ref), activity_kind(catalog, attempt.quiz_ref), responses, ending
    )


def _response_view(catalog: Catalog, r: ItemResponse, quiz_ref: str) -> ResponseView:
    found = activity(catalog, quiz_ref)
    if isinstance(found, Conversation):
        current_version = found.version
    else:
        item = found.item(r.item_ref) if found else None
        current_version = item.version if item else None
    return ResponseView(
        position=r.position,
        label=item_label(catalog, quiz_ref, r.item_ref, r.position),
        answer=answer_text(catalog, quiz_ref, r.item_ref, r.answer),
        grade=r.grade,
        grade_label=grade_label(r.grade),
        score=r.score,
        max_score=r.max_score,
        is_correct=r.is_correct,
        competencies=list(r.competency_refs or []),
        is_changed=current_version != r.item_version,
    )


def _lessons_in_catalog_order(catalog: Catalog, rows: Sequence[LessonProgress]) -> list[LessonView]:
    order = {(m.id, lesson.id): (m.order, lesson.position) for m in catalog.modules for lesson in m.lessons}
    views = []
    for row in sorted(rows, key=lambda r: (order.get((r.module_ref, r.lesson_ref), (10**6, 0)), r.lesson_ref)):
        module = catalog.module(row.module_ref)
        lesson = module.lesson(row.lesson_ref) if module else None
        views.append(
            LessonView(
                module.title if module else row.module_ref,
                lesson.title if lesson else f"{row.lesson_ref} (no longer offered)",
                row,
            )
        )
    return views


def _by_module(catalog: Catalog, lessons: list[LessonView]) -> list[ModuleLessons]:
    """Lessons (already in catalog order) grouped by their module."""
    groups: dict[str, ModuleLessons] = {}
    for view in lessons:
        ref = view.row.module_ref
        if ref not in groups:
            module = catalog.module(ref)
            groups[ref] = ModuleLessons(ref, view.module_title, [], len(module.lessons) if module else 0)
        groups[ref].lessons.append(view)
    return list(groups.values())
