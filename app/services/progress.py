"""Lesson progress and the summaries the learner's pages read."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.content import Catalog, Competency, Lesson, Module, Quiz
from app.extensions import db
from app.models import CompetencyProgress, LessonProgress, QuizProgress
from app.models.types import utcnow
from app.services import events


def _lesson_row(user_id: int, module: Module, lesson: Lesson) -> LessonProgress:
    """The learner's summary row for a lesson, created on first sight."""
    query = select(LessonProgress).where(
        LessonProgress.user_id == user_id,
        LessonProgress.module_ref == module.id,
        LessonProgress.lesson_ref == lesson.id,
    )
    row = db.session.scalar(query)
    if row is not None:
        return row
    row = LessonProgress(user_id=user_id, module_ref=module.id, lesson_ref=lesson.id, content_version=lesson.version)
    try:
        # A savepoint, so that losing a race with a parallel first view keeps the request alive.
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(query)
    return row


def view_lesson(user_id: int, module: Module, lesson: Lesson) -> LessonProgress:
    """Note that the learner opened a lesson (it is then in progress)."""
    row = _lesson_row(user_id, module, lesson)
    now = utcnow()
    row.view_count += 1
    row.last_viewed_at = now
    row.content_version = lesson.version
    events.record(user_id, "experienced", events.lesson_ref(module.id, lesson.id), lesson.version, at=now)
    db.session.flush()
    return row


def complete_lesson(user_id: int, module: Module, lesson: Lesson) -> LessonProgress:
    """Mark a lesson completed: the learner reached its end and said so. Repeats change nothing."""
    row = _lesson_row(user_id, module, lesson)
    now = utcnow()
    row.last_viewed_at = now
    if row.completed_at is None:
        row.completed_at = now
        row.content_version = lesson.version
        events.record(
            user_id,
            "completed",
            events.lesson_ref(module.id, lesson.id),
            lesson.version,
            result={"completion": True},
            at=now,
        )
    db.session.flush()
    return row


@dataclass(frozen=True)
class QuizStatus:
    """One paired quiz and the learner's summary for it."""

    quiz: Quiz
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


def competency_standings(user_id: int, catalog: Catalog) -> list[CompetencyStanding]:
    """Per competency: lessons teaching it done, and items answered, from the summaries (two queries)."""
    done = {
        (row.module_ref, row.lesson_ref)
        for row in db.session.execute(
            select(LessonProgress.module_ref, LessonProgress.lesson_ref).where(
                LessonProgress.user_id == user_id, LessonProgress.completed_at.is_not(None)
            )
        )
    }
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
