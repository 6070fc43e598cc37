"""Where one learner stands on each item of the courses assigned to a cohort, for their learning record.

Worked out from rows the record has already read (no query of its own), with the matrix's states and wording.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.content import Catalog
from app.models import LessonProgress
from app.services.courses import KIND_LABELS, CourseStatus, ItemStatus, content_for
from app.services.reports.matrix import REPORT_STATE_LABELS, cell_detail, report_state


@dataclass(frozen=True)
class Standing:
    """Where the learner stands on one course item: its state and the figures behind it."""

    kind: str  # module, quiz or conversation
    ref: str
    title: str
    state: str  # one of matrix.REPORT_STATES
    label: str
    detail: str
    is_required: bool
    attempts: int = 0

    @property
    def kind_label(self) -> str:
        """Module, Quiz or Conversation."""
        return KIND_LABELS.get(self.kind, "Activity")


@dataclass(frozen=True)
class CourseStanding:
    """One assigned course and the learner's state on each of its items."""

    title: str
    due_on: date | None
    items: list[Standing]
    percent: int
    is_complete: bool
    is_overdue: bool


def standing(
    catalog: Catalog, course, assignment, summary: dict, lessons: Sequence[LessonProgress], today: date | None
) -> CourseStanding:
    """The learner's state on each item of an assigned course, from what the record already read: each activity's
    counted attempts (`summary`: started, submitted, passed, open, best) and the learner's lesson rows."""
    done: dict[str, int] = {}
    opened: set[str] = set()
    for row in lessons:
        opened.add(row.module_ref)
        if row.completed_at is not None:
            done[row.module_ref] = done.get(row.module_ref, 0) + 1
    items, statuses = [], []
    for item in course.items:
        content = content_for(catalog, item.kind, item.item_ref)
        title = content.title if content else f"{item.item_ref} (no longer offered)"
        if item.kind == "module":
            total = len(content.lessons) if content else 0
            count = done.get(item.item_ref, 0)
            state = "completed" if total and count >= total else "in-progress" if count or item.item_ref in opened else "not-started"
            status = ItemStatus(item, content, state, None)
            detail = f"{count} of {total} lessons completed" if total else ""
            attempts = 0
        else:
            row = summary.get(item.item_ref)
            submitted = bool(row and row.submitted)
            passed = bool(row and row.passed)
            best = row.best if row and row.submitted else None
            status = ItemStatus(item, content, "passed" if passed else "in-progress" if submitted else "not-started", best)
            state = report_state(status, submitted, bool(row and row.open))
            attempts = row.submitted if row else 0
            detail = cell_detail(status, 0, None, attempts)
        statuses.append(status)
        items.append(Standing(item.kind, item.item_ref, title, state, REPORT_STATE_LABELS[state], detail, item.is_required, attempts))
    course_status = CourseStatus(course, statuses)
    overdue = bool(assignment.due_on and today and assignment.due_on < today and not course_status.is_complete)
    return CourseStanding(course.title, assignment.due_on, items, course_status.percent, course_status.is_complete, overdue)
