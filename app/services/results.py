"""What results and summary pages show beyond the score: each item at a glance, and where to go after a pass."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from app.content import Catalog, Quiz
from app.content.item_types.scenario import ScenarioItem
from app.content.items import Item
from app.models import Course, QuizAttempt
from app.services import courses, progress
from app.services.quizzes import AttemptSummary
from app.services.reports.text import plain, shorten

# --- each item at a glance


def item_title(item: Item) -> str:
    """How an item is named in a list: a scenario by its patient, since most prompts read "What do you say?"."""
    if not isinstance(item, ScenarioItem):
        return shorten(plain(item.prompt_html), 90)
    # "Mrs Ito, 61, school administrator; shoulder pain for a year" -> "Mrs Ito: shoulder pain for a year";
    # "Mr Karlsson, 55, bus driver with chronic low back pain" -> "Mr Karlsson: bus driver with chronic low back pain".
    patient = plain(item.vignette.patient)
    who, _, problem = patient.partition(";")
    name, *details = (part.strip() for part in who.split(","))
    if len(name) > 40:
        # A group rather than a person ("Adults in a cardiac rehabilitation programme…"): as written.
        return shorten(patient, 70)
    if not problem.strip():
        problem = ", ".join(d for d in details if not d.isdigit())
    return shorten(f"{name}: {problem.strip()}", 70) if problem.strip() else name


@dataclass(frozen=True)
class OverviewRow:
    """One answered item as the overview lists it."""

    position: int
    #: The id of the item's card further down the page.
    anchor: str
    title: str
    grade: str | None
    is_correct: bool
    score: float
    max_score: float
    confidence: int | None
    #: Its certainty-based mark in points (certainty-based marking, with a confidence).
    mark: float | None


def overview(
    attempt: QuizAttempt,
    summary: AttemptSummary,
    items: Mapping[int, Item],
    changed: Collection[int] = (),
) -> list[OverviewRow]:
    """Every answer of an attempt in order, named for people; `items` are the items still as answered, by position."""
    rows = []
    for r in attempt.responses:
        item = items.get(r.position)
        if item is not None:
            title = item_title(item)
        elif r.position in changed:
            title = "An item that has changed since you answered it"
        else:
            title = "An item no longer offered as it was"
        rows.append(
            OverviewRow(
                position=r.position,
                anchor=f"item-{r.item_ref}",
                title=title,
                grade=r.grade,
                is_correct=r.is_correct,
                score=r.score,
                max_score=r.max_score,
                confidence=r.confidence,
                mark=summary.cbm.get(r.position) if attempt.marking == "certainty" else None,
            )
        )
    return rows


# --- the next step after a pass


@dataclass(frozen=True)
class NextStep:
    """Where a learner goes after passing: an item of their course, or the next module."""

    kind: str
    content: object
    course: Course | None = None


def next_after(user_id: int, catalog: Catalog, quiz: Quiz, today: date) -> NextStep | None:
    """After passing `quiz`: the next unfinished item of an assigned course holding it, else the next unfinished
    module (after this one, then from the start); None when everything is done. A constant number of queries."""
    for assigned in courses.assigned_to(user_id, catalog, today):
        found = _next_in_course(assigned.status, quiz)
        if found is not None:
            return found
    standing = progress.modules_progress(user_id, catalog)
    here = next((n for n, p in enumerate(standing) if p.module.id == quiz.module_id), -1)
    # The modules after this one first, then any left unfinished before it.
    for p in standing[here + 1 :] + standing[: max(here, 0)]:
        if p.status != "completed":
            return NextStep("module", p.module)
    return None


def _next_in_course(status: courses.CourseStatus, quiz: Quiz) -> NextStep | None:
    """The first unfinished item after the quiz in one course (then any required one before it), if it holds the quiz."""
    items = status.items
    here = next((n for n, s in enumerate(items) if s.item.kind == "quiz" and s.item.item_ref == quiz.id), None)
    if here is None:
        return None
    after = [s for s in items[here + 1 :] if not s.is_done and s.content is not None]
    before = [s for s in items[:here] if not s.is_done and s.content is not None and s.item.is_required]
    for s in after + before:
        return NextStep(s.item.kind, s.content, status.course)
    return None

