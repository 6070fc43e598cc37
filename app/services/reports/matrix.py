"""The cohort × course-item matrix: each current student's state and best score on every item of a course."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.content import Catalog
from app.extensions import db
from app.models import (
    Course,
    CourseItem,
    LessonProgress,
    QuizProgress,
)
from app.services.cohorts import member_ids
from app.services.courses import KIND_LABELS, STATE_LABELS, STATES, CourseStatus, ItemStatus, content_for, item_state
from app.services.reports.people import Student, students

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
        return f"best {status.percent:.0f}%, {attempts} attempt{'s' if attempts != 1 else ''}"
    if lessons_total and status.state == "in-progress":
        return f"{lessons_done} of {lessons_total} lessons"
    return ""


@dataclass(frozen=True, slots=True)
class Cell:
    """One student's state on one course item, with the figures that explain it (worked out once)."""

    status: ItemStatus
    detail: str = ""

    @property
    def state(self) -> str:
        """not-started, in-progress, completed or passed."""
        return self.status.state

    @property
    def label(self) -> str:
        """The state in words."""
        return STATE_LABELS[self.status.state]

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

    @property
    def percent(self) -> int:
        """Required items done, 0 to 100 (the course's completion rule)."""
        return self.course_status.percent


@dataclass(frozen=True)
class Matrix:
    """Every current student × every item of a course."""

    course: Course
    columns: list[Column]
    rows: list[MatrixRow]

    def counts(self, index: int) -> dict[str, int]:
        """How many students are in each state on column `index`."""
        found = Counter(row.cells[index].state for row in self.rows)
        return {state: found.get(state, 0) for state in STATES}

    @property
    def complete(self) -> int:
        """Students who have completed the course."""
        return sum(1 for row in self.rows if row.course_status.is_complete)


def matrix(catalog: Catalog, cohort_id: int, course: Course) -> Matrix:
    """The progress matrix: three queries (students, lessons per module, quiz summaries)."""
    people = students(cohort_id)
    columns = [Column(item, content_for(catalog, item.kind, item.item_ref)) for item in course.items]
    modules = [i.item_ref for i in course.items if i.kind == "module"]
    activities = [i.item_ref for i in course.items if i.kind != "module"]
    lessons_done: dict[int, dict[str, int]] = {}
    opened: dict[int, set[str]] = {}
    quiz_rows: dict[int, dict[str, Any]] = {}
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
            cells.append(Cell(status, cell_detail(status, done.get(ref, 0) if is_module else 0, total, attempts)))
        rows.append(MatrixRow(student, cells, CourseStatus(course, [c.status for c in cells])))
    return Matrix(course, columns, rows)


def matrix_csv_rows(report: Matrix) -> Iterable[list]:
    """The matrix as spreadsheet rows: per item its state, and the best score of quizzes and conversations."""
    header = ["Student", "Email", "Course progress %"]
    for column in report.columns:
        header.append(column.heading)
        if column.item.kind != "module":
            header.append(f"{column.title}: best %")
    yield header
    for row in report.rows:
        line: list = [row.student.name, row.student.email, row.percent]
        for column, cell in zip(report.columns, row.cells, strict=True):
            line.append(cell.text)
            if column.item.kind != "module":
                line.append("" if cell.status.percent is None else round(cell.status.percent, 1))
        yield line


