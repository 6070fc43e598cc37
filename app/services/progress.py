"""Lesson progress and the summaries the learner's pages read."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, null, select, union_all, update

from app.content import Catalog, Competency, Lesson, Module, Quiz
from app.content.conversations import Conversation
from app.extensions import db
from app.models import CompetencyProgress, LessonProgress, QuizProgress
from app.models.types import utcnow
from app.services import events, hooks, sql

if TYPE_CHECKING:
    from app.services.courses import CourseStatus

_LESSON_KEY = ["user_id", "module_ref", "lesson_ref"]
_create_row = sql.InsertIfAbsent(LessonProgress, conflict=_LESSON_KEY)


class _UpsertReturning(sql.Upsert):
    """An upsert of one row that returns the row as written (no second query to read it back)."""

    def __init__(self, *args, returning, **kwargs):
        super().__init__(*args, **kwargs)
        self.returning = returning

    def _build(self, insert):
        return super()._build(insert).returning(*self.returning)

    def one(self, row: dict):
        """Write the row; the returned columns as they are now."""
        return db.session.execute(self._statement(), row).one()


_record_view = _UpsertReturning(
    LessonProgress,
    conflict=_LESSON_KEY,
    update={
        # Counted in the database, so simultaneous views are all counted.
        "view_count": lambda t, e: t.c.view_count + 1,
        "last_viewed_at": lambda t, e: e.last_viewed_at,
        "content_version": lambda t, e: e.content_version,
    },
    returning=(LessonProgress.view_count, LessonProgress.first_viewed_at, LessonProgress.completed_at),
)


def _this_lesson(user_id: int, module: Module, lesson: Lesson) -> tuple:
    return (
        LessonProgress.user_id == user_id,
        LessonProgress.module_ref == module.id,
        LessonProgress.lesson_ref == lesson.id,
    )


def lesson_row(user_id: int, module: Module, lesson: Lesson) -> LessonProgress | None:
    """The learner's summary row for a lesson, as the database has it now (None if never opened)."""
    return db.session.scalar(
        select(LessonProgress).where(*_this_lesson(user_id, module, lesson)).execution_options(populate_existing=True)
    )


def _new_row(user_id: int, module: Module, lesson: Lesson, now, views: int) -> dict:
    return {
        "user_id": user_id,
        "module_ref": module.id,
        "lesson_ref": lesson.id,
        "content_version": lesson.version,
        "view_count": views,
        "first_viewed_at": now,
        "last_viewed_at": now,
    }


@dataclass(frozen=True)
class LessonView:
    """The learner's lesson row as one view left it: how often opened, since when, and when completed."""

    view_count: int
    first_viewed_at: datetime
    completed_at: datetime | None

    @property
    def is_completed(self) -> bool:
        """Whether the learner has completed the lesson."""
        return self.completed_at is not None


def view_lesson(user_id: int, module: Module, lesson: Lesson) -> LessonView:
    """Note that the learner opened a lesson (it is then in progress); the lesson's row as it is now."""
    now = utcnow()
    written = _record_view.one(_new_row(user_id, module, lesson, now, views=1))
    events.record(user_id, "experienced", events.lesson_ref(module.id, lesson.id), lesson.version, at=now)
    return LessonView(*written)


def complete_lesson(user_id: int, module: Module, lesson: Lesson) -> bool:
    """Mark a lesson completed: the learner reached its end and said so.

    True when this call completed it; a repeat (a double click) changes nothing and is False.
    """
    now = utcnow()
    _create_row(_new_row(user_id, module, lesson, now, views=0))
    # The conditional update is the once-only guard: of two racing clicks, one sees 0 rows.
    claimed = db.session.execute(
        update(LessonProgress)
        .where(*_this_lesson(user_id, module, lesson), LessonProgress.completed_at.is_(None))
        .values(completed_at=now, last_viewed_at=now, content_version=lesson.version)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        events.record(
            user_id,
            "completed",
            events.lesson_ref(module.id, lesson.id),
            lesson.version,
            result={"completion": True},
            at=now,
        )
        hooks.progress_made(hooks.Progress(user_id, "lesson", f"{module.id}/{lesson.id}"))
    return bool(claimed)


@dataclass(frozen=True, slots=True)
class LessonState:
    """The learner's summary of one lesson, as the learner's pages read it."""

    completed_at: datetime | None
    last_viewed_at: datetime

    @property
    def is_completed(self) -> bool:
        """Whether the learner has completed the lesson."""
        return self.completed_at is not None


@dataclass(frozen=True, slots=True)
class QuizSummary:
    """The learner's summary of one quiz or conversation, as the learner's pages read it."""

    quiz_ref: str
    attempt_count: int
    best_percent: float
    last_percent: float
    is_passed: bool
    first_passed_at: datetime | None
    last_submitted_at: datetime | None


@dataclass(frozen=True)
class QuizStatus:
    """One paired quiz or conversation and the learner's summary for it."""

    quiz: Quiz | Conversation
    summary: QuizSummary | None

    @property
    def is_passed(self) -> bool:
        """Whether the learner has passed it."""
        return bool(self.summary and self.summary.is_passed)


@dataclass(frozen=True)
class ModuleProgress:
    """Where one learner stands in one module (its figures worked out once: pages ask for them many times)."""

    module: Module
    lessons: dict[str, LessonState]
    quizzes: tuple[QuizStatus, ...]
    #: Branching conversations: practice that is shown with its result but not counted in the steps.
    conversations: tuple[QuizStatus, ...] = ()

    @cached_property
    def lessons_done(self) -> int:
        """Completed lessons."""
        return sum(1 for lesson in self.module.lessons if self.lesson_done(lesson.id))

    def lesson_done(self, lesson_id: str) -> bool:
        """Whether this lesson is completed."""
        row = self.lessons.get(lesson_id)
        return bool(row and row.is_completed)

    @cached_property
    def steps_total(self) -> int:
        """Lessons plus paired quizzes: what completing the module takes."""
        return len(self.module.lessons) + len(self.quizzes)

    @cached_property
    def steps_done(self) -> int:
        """Completed lessons plus passed quizzes."""
        return self.lessons_done + sum(1 for q in self.quizzes if q.is_passed)

    @cached_property
    def percent(self) -> int:
        """Progress through the module, 0 to 100."""
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0

    @cached_property
    def status(self) -> str:
        """not-started, in-progress or completed."""
        if self.steps_total and self.steps_done == self.steps_total:
            return "completed"
        if self.lessons or any(q.summary for q in self.quizzes):
            return "in-progress"
        return "not-started"

    @cached_property
    def last_activity_at(self) -> datetime | None:
        """When the learner last did anything in the module."""
        times = [row.last_viewed_at for row in self.lessons.values()]
        times += [q.summary.last_submitted_at for q in self.quizzes if q.summary and q.summary.last_submitted_at]
        return max(times, default=None)

    def next_lesson(self) -> Lesson | None:
        """The first lesson not yet completed."""
        return next((lesson for lesson in self.module.lessons if not self.lesson_done(lesson.id)), None)

    def next_quiz(self) -> Quiz | None:
        """The first paired quiz not yet passed."""
        return next((q.quiz for q in self.quizzes if not q.is_passed), None)

    def next_step(self) -> "NextStep | None":
        """What finishing the module takes next: its first lesson not completed, then its quiz; None when done."""
        lesson = self.next_lesson()
        if lesson is not None:
            return NextStep(self.module, lesson=lesson, is_start=self.status == "not-started")
        quiz = self.next_quiz()
        return NextStep(self.module, activity=quiz) if quiz is not None else None


@dataclass(frozen=True)
class NextStep:
    """The one thing to do next somewhere: a lesson, or a quiz or conversation, and the module it is in."""

    module: Module | None
    lesson: Lesson | None = None
    activity: Quiz | Conversation | None = None
    #: Nothing has been done there yet, so this step starts it rather than continues it.
    is_start: bool = False

    @property
    def kind(self) -> str:
        """lesson, quiz or conversation: which page the step opens."""
        return "lesson" if self.lesson is not None else self.activity.kind

    @property
    def title(self) -> str:
        """The title of the lesson, quiz or conversation."""
        return self.lesson.title if self.lesson is not None else self.activity.title


# Both summaries of one learner in one statement, built once: a quiz row carries its counts, a
# lesson row (quiz columns NULL) its completion and last view. Only ORM-free columns: no objects.
_QUIZ_ROWS = select(
    QuizProgress.module_ref,
    QuizProgress.quiz_ref.label("ref"),
    QuizProgress.first_passed_at.label("done_at"),
    QuizProgress.last_submitted_at.label("last_at"),
    QuizProgress.attempt_count,
    QuizProgress.best_percent,
    QuizProgress.last_percent,
    QuizProgress.is_passed,
).where(QuizProgress.user_id == bindparam("user_id"))
_LESSON_ROWS = select(
    LessonProgress.module_ref,
    LessonProgress.lesson_ref,
    LessonProgress.completed_at,
    LessonProgress.last_viewed_at,
    null(),
    null(),
    null(),
    null(),
).where(LessonProgress.user_id == bindparam("user_id"))
_SUMMARY_ROWS = union_all(_QUIZ_ROWS, _LESSON_ROWS)


def modules_progress(user_id: int, catalog: Catalog, modules: tuple[Module, ...] | None = None) -> list[ModuleProgress]:
    """The learner's progress in every module (or those given), read from the summaries in one query."""
    modules = catalog.modules if modules is None else modules
    by_module: dict[str, dict[str, LessonState]] = {m.id: {} for m in modules}
    quiz_summaries: dict[str, QuizSummary] = {}
    # On the session's connection: a Core statement needs none of the ORM's work.
    for module_ref, ref, done_at, last_at, attempts, best, last, passed in db.session.connection().execute(
        _SUMMARY_ROWS, {"user_id": user_id}
    ):
        if attempts is not None:
            quiz_summaries[ref] = QuizSummary(ref, attempts, best, last, bool(passed), done_at, last_at)
        elif module_ref in by_module:
            by_module[module_ref][ref] = LessonState(done_at, last_at)
    return [
        ModuleProgress(
            module=m,
            lessons=by_module[m.id],
            quizzes=tuple(QuizStatus(q, quiz_summaries.get(q.id)) for q in catalog.quizzes_for(m.id)),
            conversations=tuple(QuizStatus(c, quiz_summaries.get(c.id)) for c in catalog.conversations_for(m.id)),
        )
        for m in modules
    ]


def continue_target(progress: list[ModuleProgress]) -> NextStep | None:
    """Where the learner left off: the next step of the most recently active unfinished module."""
    active = [p for p in progress if p.status == "in-progress"]
    if not active:
        return None
    latest = max(active, key=lambda p: p.last_activity_at or datetime.min.replace(tzinfo=UTC))
    return latest.next_step()


def next_module(progress: list[ModuleProgress], after: Module | None = None) -> ModuleProgress | None:
    """The first unfinished module in catalog order, looking first at those after `after`."""
    order = list(progress)
    if after is not None:
        at = next((i for i, p in enumerate(order) if p.module.id == after.id), -1)
        order = order[at + 1 :] + order[: at + 1]
    return next((p for p in order if p.status != "completed" and (after is None or p.module.id != after.id)), None)


def course_next_step(status: "CourseStatus", progress: dict[str, ModuleProgress]) -> NextStep | None:
    """The course's next step, in the educator's order: the first required item left, then any optional one.

    A module item leads into its first lesson not completed (`progress` holds the learner's standing
    in each module, by id); a quiz or conversation item leads to its own page.
    """
    # With no required items, every item is there to be done; with some, only those count.
    left = status.left if status.required else [s for s in status.items if not s.is_done]
    is_start = all(s.state == "not-started" for s in status.items)
    for item in left:
        if item.content is None:  # no longer offered: nothing to open
            continue
        if item.item.kind != "module":
            return NextStep(None, activity=item.content, is_start=is_start)
        standing = progress.get(item.content.id)
        step = standing.next_step() if standing is not None else None
        if step is not None:
            return replace(step, is_start=is_start)
    return None


@dataclass(frozen=True)
class HomeStep:
    """What My learning offers as the next step, and why it is the one."""

    step: NextStep
    #: continue (an unfinished module), course (an assigned course), first (nothing done yet) or next.
    reason: str
    course: object | None = None
    #: The learner has done nothing in any module yet: the page says "Start here".
    is_new: bool = False


def home_step(progress: list[ModuleProgress], assigned: list) -> HomeStep | None:
    """The next step for My learning: where the learner left off, else their assigned course, else the next module.

    `assigned` is the learner's assigned courses as `courses.assigned_to` gives them, soonest due first.
    None once every module and assigned course is finished.
    """
    resume = continue_target(progress)
    if resume is not None:
        return HomeStep(resume, "continue")
    is_new = all(p.status == "not-started" for p in progress)
    by_id = {p.module.id: p for p in progress}
    for a in assigned:
        if a.has_started and not a.status.is_complete:
            step = course_next_step(a.status, by_id)
            if step is not None:
                return HomeStep(step, "course", a.assigned.course, is_new=is_new)
    following = next_module(progress)
    step = following.next_step() if following is not None else None
    if step is None:
        return None
    return HomeStep(step, "first" if is_new else "next", is_new=is_new)


def modules_of(status: "CourseStatus", catalog: Catalog) -> tuple[Module, ...]:
    """The modules a course includes that the catalog still offers."""
    return tuple(
        m for s in status.items if s.item.kind == "module" and (m := catalog.module(s.item.item_ref)) is not None
    )


@dataclass(frozen=True)
class CompetencyStanding:
    """One competency with what the learner has read and answered on it."""

    competency: Competency
    lessons_total: int
    lessons_done: int
    summary: CompetencyProgress | None

    @property
    def percent_correct(self) -> int | None:
        """Share of answered items tagged with it that the learner got right."""
        if not self.summary or not self.summary.answered_count:
            return None
        return round(100 * self.summary.correct_count / self.summary.answered_count)


def competency_standings(user_id: int, catalog: Catalog, modules: list[ModuleProgress]) -> list[CompetencyStanding]:
    """Per competency: lessons teaching it done (from `modules`, already read) and items answered (one query)."""
    done = {(p.module.id, lesson_id) for p in modules for lesson_id in p.lessons if p.lesson_done(lesson_id)}
    summaries = {
        row.competency_ref: row
        for row in db.session.scalars(select(CompetencyProgress).where(CompetencyProgress.user_id == user_id))
    }
    standings = []
    for competency in catalog.competencies:
        teaching = catalog.lessons_teaching(competency.id)
        standings.append(
            CompetencyStanding(
                competency=competency,
                lessons_total=len(teaching),
                lessons_done=sum(1 for lesson in teaching if (lesson.module_id, lesson.id) in done),
                summary=summaries.get(competency.id),
            )
        )
    return standings
