"""Item analysis of a quiz: facility, discrimination, the commonest wrong answer, students who may need help."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select

from app.content import Catalog, Quiz
from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem
from app.content.items import Item
from app.extensions import db
from app.models import (
    ItemResponse,
    QuizAttempt,
)
from app.services.cohorts import member_ids
from app.services.reports.people import Student, students
from app.services.reports.text import item_text, percent_of, plain

# --- 4. item analysis of a quiz

#: Share of students in each of the upper and lower groups for the discrimination index.
GROUP_SHARE = 0.27
#: Fewer students' attempts than this and the discrimination index is not given.
MIN_FOR_DISCRIMINATION = 5
#: This many failed attempts, with the quiz not passed yet, flags a student.
FAILED_ATTEMPTS_FLAG = 2
#: An item fewer than this share of students get right is worth a look (a hard item, or one that misleads).
LOW_FACILITY = 30
#: Below this, an item barely separates stronger from weaker students (a common rule of thumb is 0.2).
LOW_DISCRIMINATION = 0.2


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

    @property
    def concerns(self) -> list[str]:
        """Why the item may deserve a second look, in plain words (nothing with too few answers to tell)."""
        found = []
        if self.responses >= MIN_FOR_DISCRIMINATION and (self.facility or 0) < LOW_FACILITY:
            found.append("Few answered it right")
        if self.discrimination is not None and self.discrimination < 0:
            found.append("Weaker students did better than stronger ones: check the answer key")
        elif self.discrimination is not None and self.discrimination < LOW_DISCRIMINATION:
            found.append("Barely separates stronger from weaker students")
        if self.harmful:
            found.append(f"{self.harmful} harmful repl{'ies' if self.harmful != 1 else 'y'} chosen")
        return found


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


