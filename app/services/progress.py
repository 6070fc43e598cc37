"""Lesson progress and the summaries the learner's pages read."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from app.content import Catalog, Competency, Lesson, Module, Quiz
from app.content.conversations import Conversation
from app.extensions import db
from app.models import CompetencyProgress, LessonProgress, QuizProgress
from app.models.types import utcnow
from app.services import events, sql

_LESSON_KEY = ["user_id", "module_ref", "lesson_ref"]
_create_row = sql.InsertIfAbsent(LessonProgress, conflict=_LESSON_KEY)
_record_view = sql.Upsert(
    LessonProgress,
    conflict=_LESSON_KEY,
    update={
        # Counted in the database, so simultaneous views are all counted.
        "view_count": lambda t, e: t.c.view_count + 1,
        "last_viewed_at": lambda t, e: e.last_viewed_at,
        "content_version": lambda t, e: e.content_version,
    },
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


def view_lesson(user_id: int, module: Module, lesson: Lesson) -> LessonProgress:
    """Note that the learner opened a lesson (it is then in progress)."""
    now = utcnow()
    _record_view([_new_row(user_id, module, lesson, now, views=1)])
    events.record(user_id, "experienced", events.lesson_ref(module.id, lesson.id), lesson.version, at=now)
    return lesson_row(user_id, module, lesson)


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
    return bool(claimed)


@dataclass(frozen=True)
class QuizStatus:
    """One paired quiz or conversation and the learner's summary for it."""

    quiz: Quiz | Conversation
    summary: QuizProgress | None

    @property
    def is_passed(self) -> bool:
        """Whether the learner has passed it."""
        return bool(self.summary and self.summary.is_passed)


@dataclass(frozen=True)
class ModuleProgress:
    """Where one learner stands in one module."""

    module: Module
    lessons: dict[str, LessonProgress]
    quizzes: tuple[QuizStatus, ...]
    #: Branching conversations: practice that is shown with its result but not counted in the steps.
    conversations: tuple[QuizStatus, ...] = ()

    @property
    def lessons_done(self) -> int:
        """Completed lessons."""
        return sum(1 for lesson in self.module.lessons if self.lesson_done(lesson.id))

    def lesson_done(self, lesson_id: str) -> bool:
        """Whether this lesson is completed."""
        row = self.lessons.get(lesson_id)
        return bool(row and row.is_completed)

    @property
    def steps_total(self) -> int:
        """Lessons plus paired quizzes: what completing the module takes."""
        return len(self.module.lessons) + len(self.quizzes)

    @property
    def steps_done(self) -> int:
        """Completed lessons plus passed quizzes."""
        return self.lessons_done + sum(1 for q in self.quizzes if q.is_passed)

    @property
    def percent(self) -> int:
        """Progress through the module, 0 to 100."""
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0

    @property
    def status(self) -> str:
        """not-started, in-progress or completed."""
        if self.steps_total and self.steps_done == self.steps_total:
            return "completed"
        if self.lessons or any(q.summary for q in self.quizzes):
            return "in-progress"
        return "not-started"

    @property
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


def modules_progress(user_id: int, catalog: Catalog, modules: tuple[Module, ...] | None = None) -> list[ModuleProgress]:
    """The learner's progress in every module, read from the summaries in two queries."""
    modules = catalog.modules if modules is None else modules
    module_ids = [m.id for m in modules]
    lesson_rows = db.session.scalars(
        select(LessonProgress).where(LessonProgress.user_id == user_id, LessonProgress.module_ref.in_(module_ids))
    ).all()
    quiz_rows = db.session.scalars(
        select(QuizProgress).where(QuizProgress.user_id == user_id, QuizProgress.module_ref.in_(module_ids))
    ).all()
    by_module: dict[str, dict[str, LessonProgress]] = {m: {} for m in module_ids}
    for row in lesson_rows:
        by_module[row.module_ref][row.lesson_ref] = row
    quiz_summaries = {row.quiz_ref: row for row in quiz_rows}
    return [
        ModuleProgress(
            module=m,
            lessons=by_module[m.id],
            quizzes=tuple(QuizStatus(q, quiz_summaries.get(q.id)) for q in catalog.quizzes_for(m.id)),
            conversations=tuple(QuizStatus(c, quiz_summaries.get(c.id)) for c in catalog.conversations_for(m.id)),
        )
        for m in modules
    ]


def continue_target(progress: list[ModuleProgress]) -> tuple[ModuleProgress, Lesson | None, Quiz | None] | None:
    """Where the learner left off: the most recently active unfinished module and its next step."""
    active = [p for p in progress if p.status == "in-progress"]
    if not active:
        return None
    latest = max(active, key=lambda p: p.last_activity_at or datetime.min.replace(tzinfo=UTC))
    lesson = latest.next_lesson()
    return latest, lesson, None if lesson else latest.next_quiz()


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
