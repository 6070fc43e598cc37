"""Mastery per competency and calibration, from the learner's graded answers.

The rule is pure (`standings`); the page reads the learner's answers in one query (`answers`)
and works out mastery, calibration and the per-competency table from those rows alone, so the
page costs the same whether the learner gave 0 answers or 5,000.

Rule: a competency is *mastered* when at least `required` of the learner's last `window` answers
counting for it were right (assessed and practice, quiz items and conversation replies alike). A
harmful answer is a critical error: it *blocks* mastery of every competency it counts for until a
later right answer on that competency, whether or not the harmful one is still in the window.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, bindparam, cast, exists, select

from app.content import Catalog, Competency, certainty
from app.extensions import db
from app.models import ItemResponse, Observation, Station
from app.models.observation import STAFF_ROLES
from app.services.progress import ModuleProgress
from app.services.reports import GROUP_NAMES

#: The learner's states, in the order the page lists them (what needs attention first).
STATES = ("blocked", "learning", "mastered", "not-started")
STATE_LABELS = {
    "not-started": "Not started",
    "learning": "Learning",
    "mastered": "Mastered",
    "blocked": "Blocked by a harmful reply",
}
HARMFUL = "harmful"


@dataclass(frozen=True)
class Rule:
    """How many of the last answers must be right: `required` of the last `window`."""

    window: int = 5
    required: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.required <= self.window:
            raise ValueError(f"the mastery rule needs 1 <= required <= window, not {self.required} of {self.window}")

    @property
    def text(self) -> str:
        """The rule in words, as the page states it."""
        return (
            f"A competency is mastered when at least {self.required} of your last {self.window} answers on items "
            "that assess it were right (quizzes, practice and conversation replies all count). A harmful reply "
            "blocks mastery of the competencies it counts for until you next answer one of them rightly."
        )


@dataclass(frozen=True)
class Answer:
    """One graded answer as the rule needs it."""

    competency_refs: Sequence[str]
    is_correct: bool
    grade: str | None
    answered_at: datetime
    confidence: int | None = None


@dataclass(frozen=True)
class Standing:
    """Where the learner stands on one competency under the rule."""

    competency_ref: str
    state: str
    #: Right answers among the last `window` answers, and how many answers the window holds (at most `window`).
    correct_in_window: int
    answers_in_window: int
    #: Every answer counting for it, how many were right and how many harmful.
    total: int
    total_correct: int
    harmful: int
    #: When the harmful answer that blocks mastery was given (the latest one), if it is blocked.
    blocked_since: datetime | None

    @property
    def label(self) -> str:
        """The state in words."""
        return STATE_LABELS[self.state]

    @property
    def percent_correct(self) -> int | None:
        """The share of all its answers that were right, 0-100, or None with no answers."""
        return round(100 * self.total_correct / self.total) if self.total else None


@lru_cache(maxsize=1024)
def not_started(competency_ref: str) -> Standing:
    """The standing of a competency with no answers yet (one per competency, shared: a Standing never changes)."""
    return Standing(competency_ref, "not-started", 0, 0, 0, 0, 0, None)


def standings(answers: Iterable[Answer], rule: Rule = Rule()) -> dict[str, Standing]:
    """Each competency's standing from the learner's answers, given oldest first (answered_at, then id).

    Answers are sorted by time again (stably, so the id order of equal times is kept).
    """
    history: dict[str, list[Answer]] = {}
    for answer in sorted(answers, key=lambda a: a.answered_at):
        for ref in dict.fromkeys(answer.competency_refs):
            history.setdefault(ref, []).append(answer)
    result = {}
    for ref, given in history.items():
        window = given[-rule.window :]
        correct_in_window = sum(1 for a in window if a.is_correct)
        blocker = None
        for answer in given:
            if answer.grade == HARMFUL:
                blocker = answer
            elif answer.is_correct:
                blocker = None
        if blocker is not None:
            state = "blocked"
        elif correct_in_window >= rule.required:
            state = "mastered"
        else:
            state = "learning"
        result[ref] = Standing(
            competency_ref=ref,
            state=state,
            correct_in_window=correct_in_window,
            answers_in_window=len(window),
            total=len(given),
            total_correct=sum(1 for a in given if a.is_correct),
            harmful=sum(1 for a in given if a.grade == HARMFUL),
            blocked_since=blocker.answered_at if blocker else None,
        )
    return result


def rule_from(config) -> Rule:
    """The rule the app is configured with (MASTERY_WINDOW, MASTERY_REQUIRED)."""
    return Rule(window=config["MASTERY_WINDOW"], required=config["MASTERY_REQUIRED"])


def answers(user_id: int) -> list[Answer]:
    """Every graded answer of the learner, oldest first (one query)."""
    rows = db.session.execute(
        select(
            # As stored (JSON text): a learner's answers share a few dozen tag lists, each decoded once.
            cast(ItemResponse.competency_refs, Text),
            ItemResponse.is_correct,
            ItemResponse.grade,
            ItemResponse.answered_at,
            ItemResponse.confidence,
        )
        .where(ItemResponse.user_id == user_id)
        .order_by(ItemResponse.answered_at, ItemResponse.id)
    )
    decoded: dict[str | None, tuple[str, ...]] = {None: ()}
    given = []
    for refs, correct, grade, at, confidence in rows:
        if refs not in decoded:
            decoded[refs] = tuple(json.loads(refs) or ())
        given.append(Answer(decoded[refs], bool(correct), grade, at, confidence))
    return given


def calibration(given: Iterable[Answer]) -> list[certainty.Calibration]:
    """Per confidence level, answers and right answers (only answers given with a confidence)."""
    return certainty.calibration((a.confidence, a.is_correct) for a in given if a.confidence is not None)


# --- the page's view of the framework


def group_name(group: str) -> str:
    """A framework area's name (as the educators' heatmap names it), or its code for an area not named yet."""
    return GROUP_NAMES.get(group, (group, group))[0]


@dataclass(frozen=True)
class Row:
    """One competency on the progress page: its standing, lessons and whether it can be practised."""

    competency: Competency
    standing: Standing
    lessons_total: int
    lessons_done: int
    practice_items: int
    #: What educators and examiners saw the learner do at observed stations (app/observe), if anything:
    #: a second mark beside mastery, never mixed into it.
    observed: Any = None


@dataclass(frozen=True)
class Group:
    """A framework area and its competencies' rows, in the framework's order."""

    code: str
    name: str
    rows: tuple[Row, ...]


def practice_items(
    catalog: Catalog, competency_id: str, authored: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The (quiz id, item id) of every quiz item tagged with the competency, in catalog order.

    The shipped quizzes, and of the authored ones only those in `authored` (what the learner was
    given: app/services/authored_reach.py), so a private quiz never reaches another class.
    """
    quizzes = catalog.shipped_quizzes + tuple(q for q in catalog.quizzes if q.id in authored)
    return [(q.id, i.id) for q in quizzes for i in q.items if competency_id in i.competencies]


#: What `groups` needs of a catalog, by catalog (held, so its id is never another's): a catalog never changes.
_FRAMEWORK: dict[int, tuple[Catalog, Counter, dict[str, tuple[tuple[str, str], ...]]]] = {}


def _framework(catalog: Catalog) -> tuple[Counter, dict[str, tuple[tuple[str, str], ...]]]:
    """Per competency, how many shipped quiz items assess it and the (module, lesson) keys teaching it; once per catalog."""
    held = _FRAMEWORK.get(id(catalog))
    if held is None or held[0] is not catalog:
        if len(_FRAMEWORK) >= 4:  # a publish makes a new catalog: keep only the last few
            _FRAMEWORK.clear()
        tagged = Counter(ref for quiz in catalog.shipped_quizzes for item in quiz.items for ref in item.competencies)
        teaching = {
            c.id: tuple((lesson.module_id, lesson.id) for lesson in catalog.lessons_teaching(c.id))
            for c in catalog.competencies
        }
        held = _FRAMEWORK[id(catalog)] = (catalog, tagged, teaching)
    return held[1], held[2]


def groups(
    catalog: Catalog,
    by_ref: dict[str, Standing],
    modules: Sequence[ModuleProgress],
    observed: dict[str, Any] | None = None,
    authored: frozenset[str] = frozenset(),
) -> list[Group]:
    """Every competency of the framework, grouped by area, with its standing and the lessons teaching it that
    the learner completed (from `modules`, already read), and what was observed of it (`observed`, by id).

    Items available count the shipped quizzes' items plus those of the authored quizzes in `authored`.
    """
    lessons_done = {
        (p.module.id, lesson_id) for p in modules for lesson_id, row in p.lessons.items() if row and row.is_completed
    }
    tagged, teaching_keys = _framework(catalog)
    if authored:  # the learner's own few, counted on a copy: the shipped counts are shared by every learner
        tagged = tagged + Counter(
            ref for q in catalog.quizzes if q.id in authored for item in q.items for ref in item.competencies
        )
    observed = observed or {}
    grouped: dict[str, list[Row]] = {}
    for competency in catalog.competencies:
        teaching = teaching_keys[competency.id]
        grouped.setdefault(competency.group, []).append(
            Row(
                competency=competency,
                standing=by_ref.get(competency.id) or not_started(competency.id),
                lessons_total=len(teaching),
                lessons_done=len(lessons_done.intersection(teaching)),
                practice_items=tagged[competency.id],
                observed=observed.get(competency.id),
            )
        )
    return [Group(code, group_name(code), tuple(rows)) for code, rows in grouped.items()]


#: Whether staff submitted any rating of the learner at a released station (the rows `seen_to_do` tallies):
#: built once with a bound parameter, so its compiled form is cached.
_RELEASED_RATINGS = select(
    exists().where(
        Observation.student_id == bindparam("rated_user"),
        Observation.rater_role.in_(STAFF_ROLES),
        Observation.submitted_at.is_not(None),
        Station.id == Observation.station_id,
        Station.released_at.is_not(None),
    )
)


def observed(user_id: int, catalog: Catalog) -> dict[str, Any]:
    """What staff saw the learner do per competency at observed stations whose ratings are released.

    One cheap query for a learner never rated at a released station (most learners); two otherwise.
    """
    if not db.session.scalar(_RELEASED_RATINGS, {"rated_user": user_id}):
        return {}
    from app.observe.services import results  # the observation area reads its own tables

    return results.seen_to_do(catalog, [user_id], released_only=True).get(user_id, {})


# --- practice sets for one competency

#: The most items one "Practise this" set holds.
PRACTICE_SET_SIZE = 6


def latest_by_item(user_id: int, quiz_refs: Iterable[str]) -> dict[str, tuple[bool, datetime]]:
    """The learner's latest answer to each item of these quizzes, by item key: (right?, when) (one query)."""
    rows = db.session.execute(
        select(ItemResponse.quiz_ref, ItemResponse.item_ref, ItemResponse.is_correct, ItemResponse.answered_at)
        .where(ItemResponse.user_id == user_id, ItemResponse.quiz_ref.in_(list(quiz_refs)))
        .order_by(ItemResponse.answered_at, ItemResponse.id)
    )
    # Oldest first, so each later answer replaces the one before.
    return {f"{quiz_ref}/{item_ref}": (bool(correct), at) for quiz_ref, item_ref, correct, at in rows}


def choose_items(
    candidates: Sequence[str], latest: dict[str, tuple[bool, datetime]], limit: int = PRACTICE_SET_SIZE
) -> list[str]:
    """Up to `limit` item keys, those never answered first, then those last answered wrongly, then the rest.

    Within each kind the item answered longest ago comes first; ties keep `candidates`' order, so the
    same history always gives the same set.
    """

    def rank(indexed: tuple[int, str]) -> tuple:
        index, key = indexed
        if key not in latest:
            return (0, 0.0, index)
        is_correct, at = latest[key]
        return (2 if is_correct else 1, at.timestamp(), index)

    return [key for _, key in sorted(enumerate(candidates), key=rank)[:limit]]


def by_state(groups: Sequence[Group]) -> list[tuple[str, str, list[Row]]]:
    """The competencies by state, what needs attention first: (state, its label, rows in framework order)."""
    rows = [row for group in groups for row in group.rows]
    listed = [(state, STATE_LABELS[state], [r for r in rows if r.standing.state == state]) for state in STATES]
    return [entry for entry in listed if entry[2]]
