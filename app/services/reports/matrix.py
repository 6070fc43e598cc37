"""The cohort × course-item matrix: each current student's state and best score on every item of a course.

A page shows one page of students (MATRIX_PAGE_SIZE, by name) with the whole cohort's totals counted by the
database; the CSV streams every student. Either way the cost of a request in Python does not grow with the
cohort: each column's facts (lesson count, marking, whether required) are read from the catalog once, only
the page's students' rows are fetched, and identical cells are made once and shared.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from markupsafe import Markup, escape

from app.content import Catalog, certainty
from app.models import Course, CourseItem
from app.models.types import MAX_ID
from app.services.courses import KIND_LABELS, STATE_LABELS, ItemStatus, content_for
from app.services.reports import kept_totals
from app.services.reports import matrix_queries as queries
from app.services.reports.matrix_queries import SHOW_CHOICES, Counted, Plan
from app.services.reports.people import Student
from app.services.reports.text import timestamp

#: A report cell's states. "attempted" is a quiz or conversation submitted without passing, told apart from
#: "in-progress" (an attempt open, or a module partly done): an educator acts on the two differently.
REPORT_STATES = ("not-started", "in-progress", "attempted", "completed", "passed")
REPORT_STATE_LABELS = {**STATE_LABELS, "attempted": "Attempted, not passed"}
#: Students per page of the matrix: 10 columns for 2,000 students would be a page of 2 MB.
MATRIX_PAGE_SIZE = 100
#: Rows read per round trip while the CSV is streamed.
CSV_BATCH = 500
#: Distinct cells of each kind kept made (identical cells are shared by every student who has one).
MAX_DISTINCT_CELLS = 2048
#: What each `show` choice lists, in words.
SHOW_LABELS = {"": "Every student", "incomplete": "Not completed the course", "never-signed-in": "Never signed in"}

# --- 1. the cohort × course-item matrix


@dataclass(frozen=True, slots=True)
class Column:
    """One course item, as a column of the matrix, with what its cells need read from the catalog once."""

    item: CourseItem
    content: object | None
    ref: str
    is_module: bool
    is_required: bool
    #: A module's lessons in the catalog (0 for an activity, or a module no longer offered).
    lessons: int
    #: standard or certainty: how an activity's best score is said.
    marking: str
    title: str
    kind: str
    heading: str

    @classmethod
    def of(cls, catalog: Catalog, item: CourseItem) -> "Column":
        """The column for a course item (one catalog lookup)."""
        content = content_for(catalog, item.kind, item.item_ref)
        is_module = item.kind == "module"
        title = content.title if content else f"{item.item_ref} (no longer offered)"
        kind = KIND_LABELS.get(item.kind, item.kind)
        return cls(
            item=item,
            content=content,
            ref=item.item_ref,
            is_module=is_module,
            is_required=item.is_required,
            lessons=len(content.lessons) if is_module and content else 0,
            marking=getattr(content, "marking", "standard"),
            title=title,
            kind=kind,
            heading=f"{kind}: {title}" + ("" if item.is_required else " (optional)"),
        )


def plan_of(columns: list[Column]) -> Plan:
    """What the SQL needs of the course's columns."""
    return Plan(
        lessons=tuple({c.ref: c.lessons for c in columns if c.is_module}.items()),
        activities=tuple(dict.fromkeys(c.ref for c in columns if not c.is_module)),
        required_modules=tuple(dict.fromkeys(c.ref for c in columns if c.is_module and c.is_required)),
        required_activities=tuple(dict.fromkeys(c.ref for c in columns if not c.is_module and c.is_required)),
    )


def cell_detail(status: ItemStatus, lessons_done: int, lessons_total: int | None, attempts: int) -> str:
    """Lessons completed (a module in progress) or the best score and attempts (quizzes, conversations)."""
    if status.percent is not None:
        return _score_detail(status.percent, getattr(status.content, "marking", "standard"), attempts)
    if lessons_total and status.state == "in-progress":
        return f"{lessons_done} of {lessons_total} lessons"
    return ""


def _score_detail(percent: float, marking: str, attempts: int) -> str:
    # Under certainty-based marking the percent runs from -600 to 300: say it as Moodle's average mark instead.
    return f"best {certainty.describe(percent, marking)}, {attempts} attempt{'s' if attempts != 1 else ''}"


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
    """One student's state on one course item, with the figures that explain it (made once per distinct cell)."""

    #: One of REPORT_STATES.
    state: str
    detail: str = ""
    #: The best score of a quiz or conversation submitted (None otherwise).
    percent: float | None = None
    #: The table cell as HTML, escaped once here rather than once per student who shares the cell.
    html: Markup = field(default=Markup(""), compare=False)

    @property
    def label(self) -> str:
        """The state in words."""
        return REPORT_STATE_LABELS[self.state]

    @property
    def text(self) -> str:
        """State and detail in one phrase."""
        return f"{self.label} ({self.detail})" if self.detail else self.label

    @property
    def is_done(self) -> bool:
        """Completed (a module) or passed (a quiz or conversation)."""
        return self.state in ("completed", "passed")


#: Each state's cell as HTML, up to its detail.
_CELL_OPENINGS = {state: f'<td class="state-{state}">{escape(label)}' for state, label in REPORT_STATE_LABELS.items()}


def _cell(state: str, detail: str = "", percent: float | None = None) -> Cell:
    # The state and its label come from REPORT_STATES; only the detail needs escaping.
    opening = _CELL_OPENINGS[state]
    html = Markup(f'{opening}<br><span class="meta">{escape(detail)}</span></td>' if detail else f"{opening}</td>")
    return Cell(state, detail, percent, html)


# Cells depend only on these few values, so each distinct one is made once per process and shared by every student,
# page and download that shows it (a bounded cache: memory stays flat whatever the cohort).
@lru_cache(maxsize=MAX_DISTINCT_CELLS)
def module_cell(done: int, lessons: int, opened: bool) -> Cell:
    """A module's cell: `done` of its `lessons` completed (0 lessons: no longer offered), any lesson `opened`."""
    if lessons and done >= lessons:
        return _cell("completed")
    if opened:
        return _cell("in-progress", f"{done} of {lessons} lessons" if lessons else "")
    return _cell("not-started")


@lru_cache(maxsize=MAX_DISTINCT_CELLS)
def activity_cell(passed: bool | None, best: float | None, attempts: int, marking: str, is_open: bool) -> Cell:
    """A quiz's or conversation's cell: submitted (`passed` not None) with its best score and attempts, else an
    open marked attempt or nothing."""
    if passed is not None:
        state = "passed" if passed else "attempted"
        return _cell(state, _score_detail(best, marking, attempts), best)
    return _cell("in-progress") if is_open else _cell("not-started")


class Cells:
    """Makes each student's row of cells from the facts the database gave."""

    def __init__(self, columns: list[Column]):
        self.columns = columns
        self._required = [c.is_required for c in columns]
        self._count = sum(self._required)

    def row(self, facts: dict[str, tuple]) -> tuple[list[Cell], int, bool]:
        """A student's cells from their facts by item id (("l", done) lessons, ("q", passed, best, attempts) a
        submitted activity, ("o",) an open attempt only), their required items done (%) and completion."""
        cells = []
        for column in self.columns:
            fact = facts.get(column.ref)
            if column.is_module:
                cells.append(module_cell(fact[1] if fact else 0, column.lessons, fact is not None))
            elif fact is None:
                cells.append(activity_cell(None, None, 0, column.marking, False))
            elif fact[0] == "q":
                cells.append(activity_cell(fact[1], fact[2], fact[3], column.marking, False))
            else:
                cells.append(activity_cell(None, None, 0, column.marking, True))
        done = sum(1 for cell, required in zip(cells, self._required, strict=True) if required and cell.is_done)
        percent = round(100 * done / self._count) if self._count else 0
        return cells, percent, bool(self._count) and done == self._count


def _facts_by_student(rows: Iterable) -> dict[int, dict[str, tuple]]:
    """The facts rows (tag, user_id, ref, a, b, c) as each student's facts by item id; a submitted summary wins over
    an open attempt at the same activity."""
    found: dict[int, dict[str, tuple]] = {}
    for tag, user_id, ref, a, b, c in rows:
        mine = found.setdefault(user_id, {})
        _add_fact(mine, tag, ref, a, b, c)
    return found


def _add_fact(mine: dict[str, tuple], tag: str, ref: str, a, b, c) -> None:
    if tag == "l":
        mine[ref] = ("l", a)
    elif tag == "q":
        mine[ref] = ("q", bool(a), b, c)
    elif ref not in mine:  # "o": an open attempt shows only while nothing was submitted
        mine[ref] = ("o",)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """A student and their cells, in the columns' order."""

    student: Student
    cells: list[Cell]
    #: Required items done, 0 to 100 (the course's completion rule).
    percent: int
    is_complete: bool
    is_overdue: bool = False

    @property
    def cells_html(self) -> Markup:
        """The row's cells as HTML (each cell's made once, see Cell.html)."""
        return Markup("".join([cell.html for cell in self.cells]))

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
    """One page of current students × every item of a course, with the whole cohort's totals."""

    course: Course
    columns: list[Column]
    rows: list[MatrixRow]
    counted: Counted
    due_on: date | None = None
    is_past_due: bool = False
    page: int = 1
    #: How many students the `show` choice picks (every page).
    matched: int = 0
    show: str = ""
    page_size: int = MATRIX_PAGE_SIZE

    @property
    def students(self) -> int:
        """The cohort's current students (every page)."""
        return self.counted.students

    @property
    def pages(self) -> int:
        """How many pages of students there are (at least one)."""
        return max(1, -(-self.matched // self.page_size))

    @property
    def first(self) -> int:
        """The number of the page's first student (1-based)."""
        return (self.page - 1) * self.page_size + 1

    @property
    def show_label(self) -> str:
        """Which students the page lists, in words."""
        return SHOW_LABELS[self.show]

    def counts(self, index: int) -> dict[str, int]:
        """How many of the whole cohort's students are in each state on column `index` (counted in SQL)."""
        column, counted = self.columns[index], self.counted
        total = counted.students
        if column.is_module:
            done, started = (counted.modules or {}).get(column.ref, (0, 0))
            found = {"completed": done, "in-progress": started - done, "attempted": 0, "passed": 0}
        else:
            passed, submitted = (counted.activities or {}).get(column.ref, (0, 0))
            opened = (counted.open_only or {}).get(column.ref, 0)
            found = {"passed": passed, "attempted": submitted - passed, "in-progress": opened, "completed": 0}
        found["not-started"] = total - sum(found.values())
        return {state: found[state] for state in REPORT_STATES}

    @property
    def complete(self) -> int:
        """Students who have completed the course."""
        return self.counted.complete

    @property
    def overdue(self) -> int:
        """Students past the due date without having completed the course."""
        return self.counted.students - self.counted.complete if self.is_past_due else 0

    @property
    def never_signed_in(self) -> int:
        """Students who have never signed in."""
        return self.counted.never_signed_in

    def matching(self, show: str) -> int:
        """How many students a `show` choice lists."""
        if show == "incomplete":
            return self.counted.students - self.counted.complete
        if show == "never-signed-in":
            return self.counted.never_signed_in
        return self.counted.students


def columns_of(catalog: Catalog, course: Course) -> list[Column]:
    """The course's columns, each read from the catalog once."""
    return [Column.of(catalog, item) for item in course.items]


def matrix(
    catalog: Catalog,
    cohort_id: int,
    course: Course,
    due_on: date | None = None,
    today: date | None = None,
    page: int = 1,
    show: str = "",
    page_size: int = MATRIX_PAGE_SIZE,
) -> Matrix | None:
    """One page of the progress matrix and the whole cohort's totals: the page's students with the cohort's report
    counter (one statement), then the page's cells and the totals as this process keeps them (see kept_totals):
    nothing more while the counter has not moved, one statement after a change (the students it was about), one
    the first time (the whole cohort). None for a page past the last.

    `show` picks the students listed: "" everyone, "incomplete" those who have not completed the course,
    "never-signed-in" those who never signed in. With a due date and today's date, a student past it without
    having completed the course is overdue.
    """
    if show not in SHOW_CHOICES or not 0 < page <= MAX_ID // page_size:
        return None
    columns = columns_of(catalog, course)
    plan = plan_of(columns)
    people, matched, generation = queries.page_of_students(cohort_id, plan, show, page, page_size)
    if not people and page > 1:
        return None
    ids = [p[0] for p in people]
    facts, counted = kept_totals.kept_view(cohort_id, ids, plan, generation, _facts_by_student)
    past_due = bool(due_on and today and due_on < today)
    cells = Cells(columns)
    rows = []
    for person in people:
        student = Student(*person)
        found, percent, complete = cells.row(facts.get(student.id, {}))
        rows.append(MatrixRow(student, found, percent, complete, past_due and not complete))
    return Matrix(course, columns, rows, counted, due_on, past_due, page, matched, show, page_size)


def every_row(
    catalog: Catalog, cohort_id: int, course: Course, due_on: date | None = None, today: date | None = None
) -> tuple[list[Column], Iterator[MatrixRow]]:
    """The columns, and every current student's row by name, read a batch at a time (two statements, run when the
    rows are first read: a streamed download reads them after the view's transaction has ended)."""
    columns = columns_of(catalog, course)
    past_due = bool(due_on and today and due_on < today)

    def rows() -> Iterator[MatrixRow]:
        people, facts = queries.cohort_stream(cohort_id, plan_of(columns), CSV_BATCH)
        cells = Cells(columns)
        waiting = next(facts, None)
        for person in people:
            mine: dict[str, tuple] = {}
            # Both are in (name, id) order: this student's facts come next.
            while waiting is not None and waiting.user_id == person.id:
                tag, _, ref, a, b, c = waiting
                _add_fact(mine, tag, ref, a, b, c)
                waiting = next(facts, None)
            found, percent, complete = cells.row(mine)
            yield MatrixRow(Student(*person), found, percent, complete, past_due and not complete)

    return columns, rows()


def matrix_csv_rows(columns: list[Column], rows: Iterable[MatrixRow]) -> Iterator[list]:
    """The matrix as spreadsheet rows: per item its state, and the best score of quizzes and conversations."""
    header = ["Student", "Email", "Last signed in (UTC)", "Course progress %", "Overdue"]
    for column in columns:
        header.append(column.heading)
        if not column.is_module:
            header.append(f"{column.title}: best %")
    yield header
    for row in rows:
        signed_in = timestamp(row.student.last_sign_in_at) or "Never"
        line: list = [row.student.name, row.student.email, signed_in, row.percent, "Yes" if row.is_overdue else ""]
        for column, cell in zip(columns, row.cells, strict=True):
            line.append(cell.text)
            if not column.is_module:
                line.append("" if cell.percent is None else round(cell.percent, 1))
        yield line
