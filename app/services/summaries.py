"""The learner's answer summaries, written as answers are recorded and read by the progress page.

Every place that records graded answers (a quiz submission, a practice answer, a conversation
reply) calls `record` in the same transaction, so the summaries always agree with the answers.
The page then reads one row per competency the learner has answered plus one of their totals
(`read`): its cost does not grow with the number of answers. Counts and the latest outcomes are
combined in the database (ON CONFLICT ... DO UPDATE), so two requests recording answers at the
same moment both count.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, case, delete, func, insert, select

from app.content import certainty
from app.content.items import Grade
from app.extensions import db
from app.models import AnswerSummary
from app.models.summary import EVERY_ANSWER, LEVELS, RECENT_LENGTH
from app.services import mastery, sql
from app.services.mastery import HARMFUL, Rule, Standing

_ADDED = (
    "answered_count",
    "correct_count",
    "harmful_count",
    *(f"level{n}_{k}" for n in LEVELS for k in ("count", "correct")),
)


def _latest(outcomes):
    """SQL: the last RECENT_LENGTH characters of a string of outcomes (portable: SQLite has no RIGHT())."""
    length = func.length(outcomes)
    return case((length > RECENT_LENGTH, func.substr(outcomes, length - (RECENT_LENGTH - 1))), else_=outcomes)


_add = sql.Upsert(
    AnswerSummary,
    conflict=["user_id", "competency_ref"],
    update={
        **{name: (lambda t, e, name=name: t.c[name] + e[name]) for name in _ADDED},
        "recent": lambda t, e: _latest(t.c.recent + e.recent),
        # The new answers settle whether mastery is blocked only if one of them was right or harmful;
        # wrong answers alone leave it as it was.
        "blocked_since": lambda t, e: case(
            (e.correct_count + e.harmful_count > 0, e.blocked_since), else_=t.c.blocked_since
        ),
        "last_answered_at": lambda t, e: e.last_answered_at,
    },
)


def _empty(user_id: int, ref: str, at) -> dict:
    return {
        "user_id": user_id,
        "competency_ref": ref,
        "recent": "",
        "blocked_since": None,
        "last_answered_at": at,
    } | dict.fromkeys(_ADDED, 0)


def _add_answer(row: dict, answer: Grade, confidence: int | None, at) -> None:
    """Count one answer in a summary row being built (the fold the backfill applies too)."""
    row["answered_count"] += 1
    row["correct_count"] += int(answer.is_correct)
    row["recent"] += "1" if answer.is_correct else "0"
    if answer.grade == HARMFUL:
        row["harmful_count"] += 1
        row["blocked_since"] = at
    elif answer.is_correct:
        row["blocked_since"] = None
    if confidence in LEVELS:
        row[f"level{confidence}_count"] += 1
        row[f"level{confidence}_correct"] += int(answer.is_correct)


def record(user_id: int, answers: Iterable[tuple[Grade, int | None]], at) -> None:
    """Add graded answers with the confidence given for each, in the order they were recorded, to the
    learner's summaries: each competency they count for and the learner's totals (one statement)."""
    rows: dict[str, dict] = {}
    for answer, confidence in answers:
        targets = [EVERY_ANSWER, *dict.fromkeys(answer.competency_refs)]  # a tag listed twice counts once
        for ref in targets:
            row = rows.get(ref)
            if row is None:  # not setdefault: that would build an empty row for every answer and tag
                row = rows[ref] = _empty(user_id, ref, at)
            _add_answer(row, answer, confidence, at)
    for row in rows.values():
        row["recent"] = row["recent"][-RECENT_LENGTH:]
    # In a fixed order, so two writers for one learner never deadlock.
    _add([rows[ref] for ref in sorted(rows)])


def rebuild(user_id: int) -> None:
    """Work the learner's summaries out afresh from every answer they gave, oldest first; flushes.

    What the summaries must always equal: tests compare them, and answers written some other way
    (a repair, an import) are counted by calling this.
    """
    rows: dict[str, dict] = {}
    for answer in mastery.answers(user_id):
        grade = Grade(None, 0.0, 0.0, answer.is_correct, answer.grade, tuple(answer.competency_refs))
        for ref in [EVERY_ANSWER, *dict.fromkeys(answer.competency_refs)]:
            row = rows.setdefault(ref, _empty(user_id, ref, answer.answered_at))
            _add_answer(row, grade, answer.confidence, answer.answered_at)
            row["last_answered_at"] = answer.answered_at
    db.session.execute(delete(AnswerSummary).where(AnswerSummary.user_id == user_id))
    for row in rows.values():
        row["recent"] = row["recent"][-RECENT_LENGTH:]
    if rows:
        db.session.execute(insert(AnswerSummary.__table__), [rows[ref] for ref in sorted(rows)])


def standing(row, rule: Rule) -> Standing:
    """A competency's standing under the rule, from its summary row (as `mastery.standings` works it out)."""
    window = row.recent[-rule.window :]
    correct_in_window = window.count("1")
    if row.blocked_since is not None:
        state = "blocked"
    elif correct_in_window >= rule.required:
        state = "mastered"
    else:
        state = "learning"
    return Standing(
        competency_ref=row.competency_ref,
        state=state,
        correct_in_window=correct_in_window,
        answers_in_window=len(window),
        total=row.answered_count,
        total_correct=row.correct_count,
        harmful=row.harmful_count,
        blocked_since=row.blocked_since,
    )


def calibration(row) -> list[certainty.Calibration]:
    """Per confidence level, answers and right answers, from the learner's totals row (or None: no answers)."""
    return [
        certainty.Calibration(
            n,
            certainty.LABELS[n],
            getattr(row, f"level{n}_count") if row else 0,
            getattr(row, f"level{n}_correct") if row else 0,
        )
        for n in LEVELS
    ]


@dataclass(frozen=True)
class Summaries:
    """What the progress page shows of the learner's answers: mastery per competency and calibration."""

    standings: dict[str, Standing]
    calibration: list[certainty.Calibration]


# Built once: the page runs it with a new user id each time.
_READ = select(
    *(AnswerSummary.__table__.c[name] for name in ("competency_ref", "recent", "blocked_since", *_ADDED))
).where(AnswerSummary.user_id == bindparam("user_id"))


def read(user_id: int, rule: Rule) -> Summaries:
    """The learner's standing on each competency they have answered on, and their calibration (one query)."""
    standings, totals = {}, None
    for row in db.session.connection().execute(_READ, {"user_id": user_id}):  # Core: no ORM layer needed
        if row.competency_ref == EVERY_ANSWER:
            totals = row
        else:
            standings[row.competency_ref] = standing(row, rule)
    return Summaries(standings, calibration(totals))
