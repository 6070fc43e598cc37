"""Educators' reports on a cohort, read from the tracker's summary rows.

Every report runs a fixed number of queries whatever the cohort's size: the cohort's current
students are named by the `cohorts.member_ids` subquery inside each statement, never by a list
of ids built in Python, and each table is read once per page.
"""

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from markupsafe import Markup
from sqlalchemy import Text, case, cast, func, select
from sqlalchemy.orm import selectinload

from app.content import Catalog, Quiz
from app.content.conversations import Conversation
from app.content.items import GRADE_LABELS, Item, MatchingItem, MultipleResponseItem, OrderingItem, ScenarioItem
from app.extensions import db
from app.models import (
    Assignment,
    CompetencyProgress,
    Course,
    CourseItem,
    ItemResponse,
    LessonProgress,
    QuizAttempt,
    QuizProgress,
    User,
)
from app.models.types import MAX_ID
from app.services import events
from app.services.cohorts import member_ids
from app.services.courses import KIND_LABELS, STATE_LABELS, STATES, CourseStatus, ItemStatus, content_for, item_state

# --- people


@dataclass(frozen=True)
class Student:
    """A current student of the cohort, as the reports name them."""

    id: int
    name: str
    email: str


def students(cohort_id: int) -> list[Student]:
    """The cohort's current students, by name (one query)."""
    rows = db.session.execute(
        select(User.id, User.display_name, User.email)
        .where(User.id.in_(member_ids(cohort_id)))
        .order_by(User.display_name, User.id)
    )
    return [Student(*row) for row in rows]


def current_member(cohort_id: int, user_id: int) -> User | None:
    """The student, only while they are a current member of the cohort (one query)."""
    if not 0 < user_id <= MAX_ID:
        return None
    return db.session.scalar(select(User).where(User.id == user_id, User.id.in_(member_ids(cohort_id))))


def assigned_course(cohort_id: int, course_id: int) -> tuple[Course, Assignment] | None:
    """A course assigned to the cohort, with its items and the assignment (two queries), or None."""
    if not 0 < course_id <= MAX_ID:
        return None
    row = db.session.execute(
        select(Course, Assignment)
        .join(Assignment, Assignment.course_id == Course.id)
        .where(Assignment.cohort_id == cohort_id, Course.id == course_id)
        .options(selectinload(Course.items))
    ).first()
    return (row[0], row[1]) if row else None


# --- readable text for content


def plain(html: str) -> str:
    """Inline content HTML as plain text (tags dropped, entities decoded)."""
    return " ".join(Markup(html).striptags().split())


def shorten(text: str, limit: int = 90) -> str:
    """Text cut at a word boundary to about `limit` characters."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def activity(catalog: Catalog, ref: str) -> Quiz | Conversation | None:
    """The quiz or conversation with this id, if it is still offered."""
    return catalog.quiz(ref) or catalog.conversation(ref)


def activity_title(catalog: Catalog, ref: str) -> str:
    """The title of a quiz, conversation or practice set, or its id once it is no longer offered."""
    if ref == events.REVIEW_SET:
        return "Review session"
    if (competency_id := events.competency_of_set(ref)) is not None:
        competency = catalog.competency(competency_id)
        return competency.name if competency else "Practice"
    found = activity(catalog, ref)
    return found.title if found else ref


def activity_kind(catalog: Catalog, ref: str) -> str:
    """'Quiz' or 'Conversation' (or 'Activity' once it is no longer offered)."""
    found = activity(catalog, ref)
    return KIND_LABELS[found.kind] if found else "Activity"


def item_text(item: Item) -> str:
    """An item's prompt as text; a scenario's also names the patient and what they say, since prompts repeat."""
    prompt = shorten(plain(item.prompt_html), 80)
    if isinstance(item, ScenarioItem):
        who = item.vignette.patient.split(",", 1)[0]
        return f"{prompt} ({who}: “{shorten(plain(item.vignette.says), 60)}”)"
    return prompt


def item_label(catalog: Catalog, quiz_ref: str, item_ref: str, position: int) -> str:
    """How a response's item is named: its number and prompt, or the patient's line of a conversation step."""
    found = activity(catalog, quiz_ref)
    if isinstance(found, Conversation):
        node = found.node(item_ref)
        return f"Step {position}: “{shorten(node.patient, 80)}”" if node else f"Step {position} ({item_ref})"
    item = found.item(item_ref) if found else None
    if item is None:
        return f"Item {position} ({item_ref})"
    return f"Item {position}: {item_text(item)}"


def describe_answer(item: Item, answer: Any) -> str | None:
    """A quiz answer in words (None when it does not fit the item as it is now)."""
    try:
        if isinstance(item, ScenarioItem):
            return plain(item.option(answer).text_html)
        if isinstance(item, MultipleResponseItem):
            return "; ".join(plain(item.option(a).text_html) for a in answer) or "(nothing ticked)"
        if isinstance(item, MatchingItem):
            return "; ".join(
                f"{plain(pair.prompt_html)} → {chosen}" for pair, chosen in zip(item.pairs, answer, strict=True)
            )
        if isinstance(item, OrderingItem):
            order = item.learner_order(answer)
            return " ".join(f"{n}. {plain(item.steps_html[i])}" for n, i in enumerate(order, start=1))
    except (AttributeError, TypeError, ValueError, IndexError, KeyError):
        return None
    return None


def answer_text(catalog: Catalog, quiz_ref: str, item_ref: str, answer: Any) -> str:
    """A response's answer as a person reads it: the reply or option text, the order, the matches."""
    found = activity(catalog, quiz_ref)
    text = None
    if isinstance(found, Conversation):
        node = found.node(item_ref)
        chosen = node.reply(answer) if node and isinstance(answer, str) else None
        text = plain(chosen.text_html) if chosen else None
    elif found is not None:
        item = found.item(item_ref)
        text = describe_answer(item, answer) if item else None
    # Content renamed or removed since: the stored answer, as stored.
    return text if text is not None else json.dumps(answer, ensure_ascii=False)


def grade_label(grade: str | None) -> str:
    """A grade as shown to people."""
    return GRADE_LABELS.get(grade, grade or "")


def number(value: float | None) -> str:
    """A score without needless decimals."""
    return "" if value is None else f"{round(value, 4):g}"


def percent_of(part: float, whole: float) -> float | None:
    """`part` as a percentage of `whole` (None when there is no whole)."""
    return 100.0 * part / whole if whole else None


def duration_text(started: datetime | None, ended: datetime | None) -> str:
    """A duration such as '4 min 05 s' or '1 h 02 min'."""
    if started is None or ended is None:
        return ""
    seconds = max(0, round((ended - started).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


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
        """Submitted (passed or not; practice is finished), in progress, or set aside."""
        if self.attempt.submitted_at is not None:
            if self.attempt.is_practice:
                return "Practice, finished"
            return "Passed" if self.attempt.is_passed else "Not passed"
        if self.attempt.abandoned_at is not None:
            return "Set aside"
        return "Practice, in progress" if self.attempt.is_practice else "In progress"

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
class LearnerReport:
    """Everything one learner has done: attempts with answers, and lessons."""

    user: User
    attempts: list[AttemptView]
    lessons: list[LessonView]

    @property
    def submitted(self) -> list[AttemptView]:
        """Finished attempts."""
        return [a for a in self.attempts if a.attempt.submitted_at is not None]


def learner(catalog: Catalog, cohort_id: int, user_id: int) -> LearnerReport | None:
    """A current member's record (four queries); None for anyone who is not a current member."""
    user = current_member(cohort_id, user_id)
    if user is None:
        return None
    attempts = db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == user.id)
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
    ).all()
    by_attempt: dict[int, list[ResponseView]] = {}
    for r in db.session.scalars(
        select(ItemResponse)
        .where(ItemResponse.user_id == user.id)
        .order_by(ItemResponse.attempt_id, ItemResponse.position)
    ):
        by_attempt.setdefault(r.attempt_id, []).append(_response_view(catalog, r, r.quiz_ref))
    views = []
    for attempt in attempts:
        found = activity(catalog, attempt.quiz_ref)
        ending = None
        if isinstance(found, Conversation) and attempt.ending_ref:
            reached = found.ending(attempt.ending_ref)
            ending = reached.title if reached else attempt.ending_ref
        views.append(
            AttemptView(
                attempt,
                activity_title(catalog, attempt.quiz_ref),
                "Practice" if attempt.is_practice else activity_kind(catalog, attempt.quiz_ref),
                by_attempt.get(attempt.id, []),
                ending,
            )
        )
    lessons = db.session.scalars(select(LessonProgress).where(LessonProgress.user_id == user.id)).all()
    return LearnerReport(user, views, _lessons_in_catalog_order(catalog, lessons))


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


# --- 3. the competency heatmap

#: The framework's areas (a competency id's first part): full name, and a short one for the picture.
GROUP_NAMES = {
    "ta": ("The therapeutic alliance", "Alliance"),
    "bordin": ("Bordin's components", "Bordin"),
    "sdm": ("Shared decision making", "SDM"),
    "comm": ("Communication skills", "Communication"),
    "practice": ("Clinical practice", "Practice"),
    "pcc": ("Patient-centred care", "PCC"),
    "org": ("Organisation", "Organisation"),
}
#: Five shades of one hue, light to dark, for 0-19, 20-39, 40-59, 60-79 and 80-100% correct. Dark text
#: on the three lightest and white text on the two darkest keep a contrast of at least 4.5:1.
SHADES = ("#deebf7", "#9ecae1", "#6baed6", "#2171b5", "#08306b")
SHADE_BANDS = ("0–19%", "20–39%", "40–59%", "60–79%", "80–100%")


@dataclass(frozen=True)
class HeatColumn:
    """A competency, or a group of competencies."""

    code: str
    name: str
    refs: tuple[str, ...]
    short: str = ""


@dataclass(frozen=True)
class HeatCell:
    """A student's answers counted for one column."""

    answered: int = 0
    correct: int = 0
    harmful: int = 0

    @property
    def percent(self) -> int | None:
        """Share of the answers that were the best one, 0-100, or None with no answers."""
        return round(100 * self.correct / self.answered) if self.answered else None


#: Students per page of the heatmap: 36 columns for thousands of students would be a page of many megabytes.
HEATMAP_PAGE_SIZE = 100


@dataclass(frozen=True)
class Heatmap:
    """Students × competencies (or groups): the share of answers that were right, one page of students."""

    columns: list[HeatColumn]
    rows: list[tuple[Student, list[HeatCell]]]
    by_group: bool
    #: The whole cohort's answers per column (every page).
    totals: list[HeatCell]
    page: int = 1
    students_total: int = 0
    page_size: int = HEATMAP_PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages of students there are (at least one)."""
        return max(1, -(-self.students_total // self.page_size))

    @property
    def first(self) -> int:
        """The number of the page's first student (1-based)."""
        return (self.page - 1) * self.page_size + 1


def heat_columns(catalog: Catalog, by_group: bool) -> list[HeatColumn]:
    """The 36 competencies as C1..C36, or their groups as G1..Gn, in the framework's order."""
    if not by_group:
        return [HeatColumn(f"C{n}", c.name, (c.id,)) for n, c in enumerate(catalog.competencies, start=1)]
    groups: dict[str, list[str]] = {}
    for c in catalog.competencies:
        groups.setdefault(c.group, []).append(c.id)
    columns = []
    for n, (group, refs) in enumerate(groups.items(), start=1):
        name, short = GROUP_NAMES.get(group, (group, group))
        columns.append(HeatColumn(f"G{n}", name, tuple(refs), short))
    return columns


def _add(cells: list[list[int]], index: int, answered: int, correct: int, harmful: int) -> None:
    cell = cells[index]
    cell[0] += answered or 0
    cell[1] += correct or 0
    cell[2] += harmful or 0


def heatmap(catalog: Catalog, cohort_id: int, by_group: bool = False, page: int = 1) -> Heatmap | None:
    """Each student's share of right answers per competency (or group) for one page of students, and the
    cohort's totals: three queries. None for a page past the last."""
    columns = heat_columns(catalog, by_group)
    where = {ref: index for index, column in enumerate(columns) for ref in column.refs}
    if not 0 < page <= MAX_ID // HEATMAP_PAGE_SIZE:
        return None
    in_page = (
        select(User.id, User.display_name, User.email, func.count().over().label("total"))
        .where(User.id.in_(member_ids(cohort_id)))
        .order_by(User.display_name, User.id)
        .limit(HEATMAP_PAGE_SIZE)
        .offset((page - 1) * HEATMAP_PAGE_SIZE)
        .subquery()
    )
    found = db.session.execute(select(in_page)).all()
    if not found and page > 1:
        return None
    people = [Student(row.id, row.display_name, row.email) for row in found]
    counts: dict[int, list[list[int]]] = {}
    for user_id, ref, answered, correct, harmful in db.session.execute(
        select(
            CompetencyProgress.user_id,
            CompetencyProgress.competency_ref,
            CompetencyProgress.answered_count,
            CompetencyProgress.correct_count,
            CompetencyProgress.harmful_count,
        ).where(CompetencyProgress.user_id.in_(select(in_page.c.id)))
    ):
        if ref in where:  # else a retired competency
            _add(counts.setdefault(user_id, [[0, 0, 0] for _ in columns]), where[ref], answered, correct, harmful)
    totals = [[0, 0, 0] for _ in columns]
    for ref, answered, correct, harmful in db.session.execute(
        select(
            CompetencyProgress.competency_ref,
            func.sum(CompetencyProgress.answered_count),
            func.sum(CompetencyProgress.correct_count),
            func.sum(CompetencyProgress.harmful_count),
        )
        .where(CompetencyProgress.user_id.in_(member_ids(cohort_id)))
        .group_by(CompetencyProgress.competency_ref)
    ):
        if ref in where:
            _add(totals, where[ref], answered, correct, harmful)
    empty = [HeatCell() for _ in columns]
    rows = [(s, [HeatCell(*c) for c in counts[s.id]] if s.id in counts else empty) for s in people]
    return Heatmap(
        columns,
        rows,
        by_group,
        [HeatCell(*t) for t in totals],
        page=page,
        students_total=found[0].total if found else 0,
    )


def shade(percent: int | None) -> str:
    """The fill for a percentage (white when nothing was answered)."""
    if percent is None:
        return "#ffffff"
    return SHADES[min(4, percent // 20)]


def heatmap_svg(report: Heatmap, title: str, svg_id: str = "heatmap") -> Markup:
    """The heatmap as an SVG image with a title and description; the same numbers are in the table.

    Drawn to be read at about its own size in the page's column (36 competencies or a few groups).
    Each cell is shaded by its band and also carries its number, so colour is never the only cue.
    """
    label_width, cell_h, top, legend_h = 150, 20, 26, 58
    cell_w = 80 if report.by_group else 28
    width = label_width + cell_w * len(report.columns) + 2
    height = top + cell_h * len(report.rows) + legend_h
    title_id, desc_id = f"{svg_id}-title", f"{svg_id}-desc"
    what = "competency group" if report.by_group else "competency"
    description = (
        f"{len(report.rows)} students in rows and {len(report.columns)} columns, one per {what} "
        f"({report.columns[0].code} to {report.columns[-1].code}, named in the key below). Each cell gives the "
        "percentage of the student's answers, on items assessing it, that were the best answer, shaded from light "
        "(low) to dark (high); a dash marks nothing answered yet. The table that follows has the same numbers."
    )
    ink = "#1d2733"
    parts = [
        f'<svg class="heatmap" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" fill="{ink}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        '<g font-size="11" text-anchor="middle">',
    ]
    for index, column in enumerate(report.columns):
        x = label_width + index * cell_w + cell_w / 2
        label = f"{column.code} {escape(shorten(column.short, 12))}" if report.by_group else column.code
        parts.append(f'<text x="{x:g}" y="{top - 8}">{label}</text>')
    parts.append('</g><g font-size="11" text-anchor="end">')
    for row_index, (student, _) in enumerate(report.rows):
        y = top + row_index * cell_h
        parts.append(f'<text x="{label_width - 6}" y="{y + 14}">{escape(shorten(student.name, 24))}</text>')
    # Shared attributes on groups keep each cell to two short elements (thousands of cells on a page).
    parts.append('</g><g stroke="#8a94a0" stroke-width="0.5">')
    for row_index, (_, cells) in enumerate(report.rows):
        y = top + row_index * cell_h
        for index, cell in enumerate(cells):
            percent = cell.percent
            dashed = ' stroke-dasharray="2 2"' if percent is None else ""
            parts.append(
                f'<rect x="{label_width + index * cell_w}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                f'fill="{shade(percent)}"{dashed}/>'
            )
    parts.append('</g><g font-size="11" text-anchor="middle">')
    for row_index, (_, cells) in enumerate(report.rows):
        y = top + row_index * cell_h + 14
        for index, cell in enumerate(cells):
            percent = cell.percent
            light = ' fill="#fff"' if percent is not None and percent >= 60 else ""
            text = "–" if percent is None else percent
            parts.append(f'<text x="{label_width + index * cell_w + cell_w / 2:g}" y="{y}"{light}>{text}</text>')
    parts.append("</g>")
    legend_y = top + cell_h * len(report.rows) + 26
    parts.append(f'<text x="0" y="{legend_y - 6}" font-size="10">Key: best answers as a % of answers given</text>')
    for band, (colour, label) in enumerate([*zip(SHADES, SHADE_BANDS, strict=True), ("#ffffff", "none given")]):
        x = band * 80
        dashed = ' stroke-dasharray="2 2"' if band == len(SHADES) else ""
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="16" height="16" fill="{colour}" stroke="#8a94a0" '
            f'stroke-width="0.5"{dashed}></rect>'
            f'<text x="{x + 20}" y="{legend_y + 12}" font-size="10">{label}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# --- 4. item analysis of a quiz

#: Share of students in each of the upper and lower groups for the discrimination index.
GROUP_SHARE = 0.27
#: Fewer students' attempts than this and the discrimination index is not given.
MIN_FOR_DISCRIMINATION = 5
#: This many failed attempts, with the quiz not passed yet, flags a student.
FAILED_ATTEMPTS_FLAG = 2


@dataclass(frozen=True)
class WrongChoice:
    """The wrong answer chosen most often for an item."""

    text: str
    count: int
    grade: str | None = None


@dataclass
class ItemStats:
    """Figures for one item over the students' latest submitted attempts."""

    number: int
    item: Item
    responses: int = 0
    correct: int = 0
    score: float = 0.0
    max_score: float = 0.0
    harmful: int = 0
    grades: Counter = field(default_factory=Counter)
    discrimination: float | None = None
    upper_correct: int = 0
    upper_n: int = 0
    lower_correct: int = 0
    lower_n: int = 0
    wrong: WrongChoice | None = None
    changed: int = 0

    @property
    def prompt(self) -> str:
        """The item's prompt as text (with the patient, for a scenario)."""
        return item_text(self.item)

    @property
    def facility(self) -> float | None:
        """Share of responses that were right, 0-100."""
        return percent_of(self.correct, self.responses)

    @property
    def mean_percent(self) -> float | None:
        """Mean score as a percentage of the item's maximum."""
        return percent_of(self.score, self.max_score)


@dataclass(frozen=True)
class StudentFlags:
    """A student's attempts at the quiz and why they may need help."""

    student: Student
    submitted: int
    failed: int
    passed: bool
    latest_percent: float | None
    harmful_items: list[int]
    reasons: list[str]


@dataclass(frozen=True)
class Analysis:
    """Item analysis of a quiz for a cohort."""

    quiz: Quiz
    items: list[ItemStats]
    students: list[StudentFlags]
    cohort_size: int
    with_attempt: int
    group_size: int

    @property
    def needing_help(self) -> list[StudentFlags]:
        """Students with at least one reason to check on them."""
        return [s for s in self.students if s.reasons]


def _latest_attempts(cohort_id: int, quiz_id: str):
    """SQL: each current student's submitted attempts at the quiz, ranked newest first."""
    return (
        select(
            QuizAttempt.id,
            QuizAttempt.user_id,
            QuizAttempt.score,
            QuizAttempt.max_score,
            func.row_number()
            .over(partition_by=QuizAttempt.user_id, order_by=(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc()))
            .label("rank"),
        )
        .where(
            QuizAttempt.quiz_ref == quiz_id,
            QuizAttempt.submitted_at.is_not(None),
            QuizAttempt.mode == "assessed",
            QuizAttempt.user_id.in_(member_ids(cohort_id)),
        )
        .subquery()
    )


def item_analysis(catalog: Catalog, cohort_id: int, quiz: Quiz) -> Analysis:
    """Facility, discrimination and the commonest wrong answer per item, and students to help: three queries."""
    people = students(cohort_id)
    ranked = _latest_attempts(cohort_id, quiz.id)
    responses = db.session.execute(
        select(
            ranked.c.user_id,
            ranked.c.score.label("total"),
            ranked.c.max_score.label("total_max"),
            ItemResponse.item_ref,
            ItemResponse.item_version,
            ItemResponse.answer,
            ItemResponse.grade,
            ItemResponse.score,
            ItemResponse.max_score,
            ItemResponse.is_correct,
        )
        .join(ItemResponse, ItemResponse.attempt_id == ranked.c.id)
        .where(ranked.c.rank == 1)
    ).all()
    history = {
        row.user_id: row
        for row in db.session.execute(
            select(
                QuizAttempt.user_id,
                func.count().label("submitted"),
                func.sum(case((QuizAttempt.is_passed.is_(False), 1), else_=0)).label("failed"),
                func.max(case((QuizAttempt.is_passed.is_(True), 1), else_=0)).label("passed"),
            )
            .where(
                QuizAttempt.quiz_ref == quiz.id,
                QuizAttempt.submitted_at.is_not(None),
                QuizAttempt.mode == "assessed",
                QuizAttempt.user_id.in_(member_ids(cohort_id)),
            )
            .group_by(QuizAttempt.user_id)
        )
    }
    stats = {item.id: ItemStats(n, item) for n, item in enumerate(quiz.items, start=1)}
    totals: dict[int, float] = {}
    by_student: dict[int, list] = {}
    for r in responses:
        totals[r.user_id] = percent_of(r.total or 0.0, r.total_max) or 0.0
        by_student.setdefault(r.user_id, []).append(r)
    # Upper and lower groups: the top and bottom 27% of students by their attempt's total score.
    order = {s.id: n for n, s in enumerate(people)}
    ranked_ids = sorted(totals, key=lambda uid: (-totals[uid], order.get(uid, 0)))
    size = round(GROUP_SHARE * len(ranked_ids)) if len(ranked_ids) >= MIN_FOR_DISCRIMINATION else 0
    upper = set(ranked_ids[:size])
    lower = set(ranked_ids[len(ranked_ids) - size :]) if size else set()
    wrong_counts: dict[str, Counter] = {item_id: Counter() for item_id in stats}
    for r in responses:
        s = stats.get(r.item_ref)
        if s is None:
            continue
        if r.item_version != s.item.version:
            s.changed += 1  # answered on an earlier version of the item: not comparable
            continue
        s.responses += 1
        s.correct += int(r.is_correct)
        s.score += r.score
        s.max_score += r.max_score
        s.harmful += int(r.grade == "harmful")
        s.grades[r.grade] += 1
        if r.user_id in upper:
            s.upper_n += 1
            s.upper_correct += int(r.is_correct)
        if r.user_id in lower:
            s.lower_n += 1
            s.lower_correct += int(r.is_correct)
        _count_wrong(s.item, r.answer, r.is_correct, wrong_counts[r.item_ref])
    for s in stats.values():
        if s.upper_n and s.lower_n:
            s.discrimination = s.upper_correct / s.upper_n - s.lower_correct / s.lower_n
        s.wrong = _commonest_wrong(s.item, wrong_counts[s.item.id])
    numbers = {item.id: n for n, item in enumerate(quiz.items, start=1)}
    flags = []
    for student in people:
        past = history.get(student.id)
        mine = by_student.get(student.id, [])
        harmful = sorted(numbers[r.item_ref] for r in mine if r.grade == "harmful" and r.item_ref in numbers)
        submitted, failed = (past.submitted, int(past.failed or 0)) if past else (0, 0)
        passed = bool(past and past.passed)
        reasons = []
        if failed >= FAILED_ATTEMPTS_FLAG and not passed:
            reasons.append(f"{failed} failed attempts and not passed yet")
        if harmful:
            items = ", ".join(str(n) for n in harmful)
            reasons.append(
                f"Chose a harmful reply in the latest attempt (item{'s' if len(harmful) > 1 else ''} {items})"
            )
        flags.append(StudentFlags(student, submitted, failed, passed, totals.get(student.id), harmful, reasons))
    return Analysis(quiz, list(stats.values()), flags, len(people), len(totals), size)


def _count_wrong(item: Item, answer: Any, is_correct: bool, counts: Counter) -> None:
    """Add a response's wrong choices to the item's tally, keyed by what was wrongly chosen."""
    try:
        if isinstance(item, ScenarioItem):
            if not is_correct:
                counts[answer] += 1
        elif isinstance(item, MultipleResponseItem):
            right = set(item.correct_ids)
            for option_id in answer:
                if option_id not in right:
                    counts[option_id] += 1
        elif isinstance(item, MatchingItem):
            for index, (pair, chosen) in enumerate(zip(item.pairs, answer, strict=True)):
                if chosen != pair.answer:
                    counts[(index, chosen)] += 1
        elif isinstance(item, OrderingItem):
            for place, step in enumerate(item.learner_order(answer)):
                if place != step:
                    counts[step] += 1
    except (TypeError, ValueError, IndexError):
        return


def _commonest_wrong(item: Item, counts: Counter) -> WrongChoice | None:
    """The wrong choice made most often, in words (ties: the one first in the item)."""
    if not counts:
        return None
    if isinstance(item, (ScenarioItem, MultipleResponseItem)):
        position = {o.id: n for n, o in enumerate(item.options)}
        key = min(counts, key=lambda k: (-counts[k], position.get(k, 99)))
        option = item.option(key)
        if option is None:
            return None
        return WrongChoice(plain(option.text_html), counts[key], getattr(option, "grade", None))
    if isinstance(item, MatchingItem):
        index, chosen = min(counts, key=lambda k: (-counts[k], k[0], k[1]))
        return WrongChoice(f"{plain(item.pairs[index].prompt_html)} → {chosen}", counts[(index, chosen)])
    if isinstance(item, OrderingItem):
        step = min(counts, key=lambda k: (-counts[k], k))
        return WrongChoice(f"Out of place: {plain(item.steps_html[step])}", counts[step])
    return None


# --- 5. every response of the cohort, for a spreadsheet

ATTEMPT_CSV_HEADER = [
    "Student",
    "Email",
    "Activity",
    "Kind",
    "Attempt",
    "Started at (UTC)",
    "Submitted at (UTC)",
    "Item",
    "Answer",
    "Grade",
    "Score",
    "Max",
]


def timestamp(value: datetime | None) -> str:
    """A time as a spreadsheet reads it, in UTC."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def attempt_csv_rows(catalog: Catalog, cohort_id: int) -> Iterable[list]:
    """One row per response of every attempt by the cohort's current students: two queries."""
    yield ATTEMPT_CSV_HEADER
    # Each attempt's times, formatted once per attempt rather than once per response.
    stamps = {
        attempt_id: (timestamp(started), timestamp(submitted))
        for attempt_id, started, submitted in db.session.execute(
            select(QuizAttempt.id, QuizAttempt.started_at, QuizAttempt.submitted_at).where(
                QuizAttempt.user_id.in_(member_ids(cohort_id))
            )
        )
    }
    query = (
        select(
            User.display_name,
            User.email,
            QuizAttempt.quiz_ref.label("set_ref"),
            QuizAttempt.mode,
            QuizAttempt.id,
            ItemResponse.quiz_ref,
            ItemResponse.position,
            ItemResponse.item_ref,
            # As stored (JSON text): decoded only the first time each distinct answer is met.
            cast(ItemResponse.answer, Text).label("answer"),
            ItemResponse.grade,
            ItemResponse.score,
            ItemResponse.max_score,
        )
        .join(QuizAttempt, QuizAttempt.id == ItemResponse.attempt_id)
        .join(User, User.id == ItemResponse.user_id)
        .where(ItemResponse.user_id.in_(member_ids(cohort_id)))
        .order_by(User.display_name, User.id, QuizAttempt.started_at, QuizAttempt.id, ItemResponse.position)
    )
    # Answers repeat across a cohort: each item's label and each distinct answer's text are worked out once.
    labels: dict[tuple[str, str, int], str] = {}
    activities: dict[tuple[str, str], tuple[str, str]] = {}
    texts: dict[tuple[str, str, str], str] = {}
    # Read from the database in batches: a large cohort's rows are never all loaded at once.
    for row in db.session.execute(query.execution_options(yield_per=2000)):
        key = (row.quiz_ref, row.item_ref, row.position)
        if key not in labels:
            labels[key] = item_label(catalog, *key)
        # A practice set draws items from several quizzes: the attempt names the set, the response its quiz.
        activity = (row.set_ref, row.mode)
        if activity not in activities:
            kind = "Practice" if row.mode == "practice" else activity_kind(catalog, row.set_ref)
            activities[activity] = (activity_title(catalog, row.set_ref), kind)
        said = (row.quiz_ref, row.item_ref, row.answer)
        if said not in texts:
            texts[said] = answer_text(catalog, row.quiz_ref, row.item_ref, json.loads(row.answer))
        yield [
            row.display_name,
            row.email,
            *activities[activity],
            row.id,
            *stamps.get(row.id, ("", "")),
            labels[key],
            texts[said],
            grade_label(row.grade),
            row.score,
            row.max_score,
        ]


# --- CSV that opens safely in a spreadsheet

#: A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = frozenset("=+-@\t\r")


def neutralise(value: Any) -> Any:
    """A cell value that a spreadsheet shows as text: formulas are prefixed with a single quote."""
    if isinstance(value, str):
        return "'" + value if value[:1] in FORMULA_STARTS else value
    if isinstance(value, float):
        return number(value)
    return value


def to_csv(rows: Iterable[list]) -> bytes:
    """Rows as a CSV file for spreadsheets: UTF-8 with a byte order mark (so Excel reads accents),
    CRLF line ends as the csv module writes them, formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralise(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def filename(*parts: str) -> str:
    """An ASCII file name made of the parts, safe in a Content-Disposition header."""
    words = "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)
    return (re.sub(r"-{2,}", "-", words).strip("-") or "report")[:120] + ".csv"
