"""The cohort × course-item matrix: each current student's state and best score on every item of a course."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app.content import Catalog, certainty
from app.extensions import db
from app.models import (
    Course,
    CourseItem,
    LessonProgress,
    QuizAttempt,
    QuizProgress,
)
from app.services.cohorts import member_ids
from app.services.courses import KIND_LABELS, STATE_LABELS, CourseStatus, ItemStatus, content_for, item_state
from app.services.reports.people import Student, students
from app.services.reports.text import timestamp

#: A report cell's states. "attempted" is a quiz or conversation submitted without passing, told apart from
#: "in-progress" (an attempt open, or a module partly done): an educator acts on the two differently.
REPORT_STATES = ("not-started", "in-progress", "attempted", "completed", "passed")
REPORT_STATE_LABELS = {**STATE_LABELS, "attempted": "Attempted, not passed"}

# --- 1. the cohort × course-item matrix


@dataclass(frozen=True)
class Column:
    """One course item, as a column of the matrix."""

    item: CourseItem
    content: object | None

    @property
    def title(self) -> str:
        """The content's title, or its id once it is no longer offered."""
        return self.content.title if self.content else f"{self.item.item_ref} (no longer offered)"

    @property
    def kind(self) -> str:
        """Module, Quiz or Conversation."""
        return KIND_LABELS.get(self.item.kind, self.item.kind)

    @property
    def heading(self) -> str:
        """The column heading as text."""
        return f"{self.kind}: {self.title}" + ("" if self.item.is_required else " (optional)")

    @property
    def lessons(self) -> int | None:
        """How many lessons a module column has."""
        return len(self.content.lessons) if self.item.kind == "module" and self.content else None


def cell_detail(status: ItemStatus, lessons_done: int, lessons_total: int | None, attempts: int) -> str:
    """Lessons completed (a module in progress) or the best score and attempts (quizzes, conversations)."""
    if status.percent is not None:
        # Under certainty-based marking the percent runs from -600 to 300: say it as Moodle's average mark instead.
        score = certainty.describe(status.percent, getattr(status.content, "marking", "standard"))
        return f"best {score}, {attempts} attempt{'s' if attempts != 1 else ''}"
    if lessons_total and status.state == "in-progress":
        return f"{lessons_done} of {lessons_total} lessons"
    return ""


def report_state(status: ItemStatus, submitted: bool, is_open: bool) -> str:
    """The state a report shows: a quiz or conversation submitted and not passed is "attempted", one with only an
    open attempt is "in-progress"; otherwise the course's own state."""
    if status.item.kind == "module" or status.state == "passed":
        return status.state
    if submitted:
        return "attempted"
    return "in-progress" if is_open else "not-started"


@dataclass(frozen=True, slots=True)
class Cell:
    """One student's state on one course item, with the figures that explain it (worked out once)."""

    status: ItemStatus
    detail: str = ""
    #: One of REPORT_STATES (None: the course's own state).
    shown: str | None = None

    @property
    def state(self) -> str:
        """not-started, in-progress, attempted, completed or passed."""
        return self.shown or self.status.state

    @property
    def label(self) -> str:
        """The state in words."""
        return REPORT_STATE_LABELS[self.state]

    @property
    def text(self) -> str:
        """State and detail in one phrase."""
        return f"{self.label} ({self.detail})" if self.detail else self.label


@dataclass(frozen=True)
class MatrixRow:
    """A student and their cells, in the columns' order."""

    student: Student
    cells: list[Cell]
    course_status: CourseStatus
    is_overdue: bool = False

    @property
    def percent(self) -> int:
        """Required items done, 0 to 100 (the course's completion rule)."""
        return self.course_status.percent

    @property
    def flags(self) -> list[str]:
        """Why an educator may want to look at this student: overdue, never signed in."""
        found = []
        if self.is_overdue:
            found.append("Overdue")
        if self.student.never_signed_in:
            found.append("Never signed in")
        return found


@dataclass(frozen=True)
class Matrix:
    """Every current student × every item of a course."""

    course: Course
    columns: list[Column]
    rows: list[MatrixRow]
    due_on: date | None = None

    def counts(self, index: int) -> dict[str, int]:
        """How many students are in each state on column `index`."""
        found = Counter(row.cells[index].state for row in self.rows)
        return {state: found.get(state, 0) for state in REPORT_STATES}

    @property
    def complete(self) -> int:
        """Students who have completed the course."""
        return sum(1 for row in self.rows if row.course_status.is_complete)

    @property
    def overdue(self) -> int:
        """Students past the due date without having completed the course."""
        return sum(1 for row in self.rows if row.is_overdue)

    @property
    def never_signed_in(self) -> int:
        """Students who have never signed in."""
        return sum(1 for row in self.rows if row.student.never_signed_in)


def matrix(catalog: Catalog, cohort_id: int, course: Course, due_on: date | None = None, today: date | None = None) -> Matrix:
    """The progress matrix: four queries (students, lessons per module, quiz summaries, open attempts).

    With a due date and today's date, a student past it without having completed the course is overdue.
    """
    people = students(cohort_id)
    columns = [Column(item, content_for(catalog, item.kind, item.item_ref)) for item in course.items]
    modules = [i.item_ref for i in course.items if i.kind == "module"]
    activities = [i.item_ref for i in course.items if i.kind != "module"]
    lessons_done: dict[int, dict[str, int]] = {}
    opened: dict[int, set[str]] = {}
    quiz_rows: dict[int, dict[str, Any]] = {}
    open_attempts: set[tuple[int, str]] = set()
    if modules:
        # Counted in the database: one row per student and module, however many lessons.
        for user_id, module_ref, done in db.session.execute(
            select(LessonProgress.user_id, LessonProgress.module_ref, func.count(LessonProgress.completed_at))
            .where(LessonProgress.user_id.in_(member_ids(cohort_id)), LessonProgress.module_ref.in_(modules))
            .group_by(LessonProgress.user_id, LessonProgress.module_ref)
        ):
            opened.setdefault(user_id, set()).add(module_ref)
            if done:
                lessons_done.setdefault(user_id, {})[module_ref] = done
    if activities:
        # Rows with the fields item_state reads (is_passed, best_percent), not whole ORM objects.
        for row in db.session.execute(
            select(
                QuizProgress.user_id,
                QuizProgress.quiz_ref,
                QuizProgress.is_passed,
                QuizProgress.best_percent,
                QuizProgress.attempt_count,
            ).where(QuizProgress.user_id.in_(member_ids(cohort_id)), QuizProgress.quiz_ref.in_(activities))
        ):
            quiz_rows.setdefault(row.user_id, {})[row.quiz_ref] = row
        # Marked attempts started and not yet submitted (practice is the learner's own and never shows).
        for user_id, ref in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.quiz_ref)
            .where(
                QuizAttempt.user_id.in_(member_ids(cohort_id)),
                QuizAttempt.quiz_ref.in_(activities),
                QuizAttempt.mode == "assessed",
                QuizAttempt.is_open(),
            )
            .distinct()
        ):
            open_attempts.add((user_id, ref))
    # Read once, not once per cell: each item's id, whether it is a module, and its lesson count.
    plan = [(c.item, c.item.item_ref, c.item.kind == "module", c.lessons) for c in columns]
    rows = []
    for student in people:
        done, seen, quizzes = (
            lessons_done.get(student.id, {}),
            opened.get(student.id, set()),
            quiz_rows.get(student.id, {}),
        )
        cells = []
        for item, ref, is_module, total in plan:
            status = item_state(catalog, item, done, seen, quizzes)
            summary = None if is_module else quizzes.get(ref)
            attempts = summary.attempt_count if summary else 0
            shown = report_state(status, summary is not None, (student.id, ref) in open_attempts)
            detail = cell_detail(status, done.get(ref, 0) if is_module else 0, total, attempts)
            cells.append(Cell(status, detail, shown))
        course_status = CourseStatus(course, [c.status for c in cells])
        overdue = bool(due_on and today and due_on < today and not course_status.is_complete)
        rows.append(MatrixRow(student, cells, course_status, overdue))
    return Matrix(course, columns, rows, due_on)


def matrix_csv_rows(report: Matrix) -> Iterable[list]:
    """The matrix as spreadsheet rows: per item its state, and the best score of quizzes and conversations."""
    header = ["Student", "Email", "Last signed in (UTC)", "Course progress %", "Overdue"]
    for column in report.columns:
        header.append(column.heading)
        if column.item.kind != "module":
            header.append(f"{column.title}: best %")
    yield header
    for row in report.rows:
        signed_in = timestamp(row.student.last_sign_in_at) or "Never"
        line: list = [row.student.name, row.student.email, signed_in, row.percent, "Yes" if row.is_overdue else ""]
        for column, cell in zip(report.columns, row.cells, strict=True):
            line.append(cell.text)
            if column.item.kind != "module":
                line.append("" if cell.status.percent is None else round(cell.status.percent, 1))
        yield line


