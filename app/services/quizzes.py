"""Quiz attempts: opening, grading through the item registry, and recording the results."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from app.content import Quiz, certainty
from app.content.conversations import Conversation
from app.content.items import Grade, Item
from app.extensions import db
from app.models import CompetencyProgress, DraftAnswer, ItemResponse, QuizAttempt, QuizProgress
from app.models.tracking import OPEN_ATTEMPT
from app.models.types import MAX_ID, utcnow
from app.services import events, hooks, review, sql, summaries
from app.services.answers import Answers, Issue, confidence_field, read_answers  # noqa: F401  (named here too)


class AlreadySubmitted(Exception):
    """The attempt was submitted before (a double click, a refresh, or back and resubmit)."""


class Abandoned(Exception):
    """The attempt was replaced by a new one because the quiz changed before it was submitted."""


class ContentChanged(Exception):
    """The quiz changed since the attempt began; the learner must check their answers again."""


def open_attempt(user_id: int, quiz_id: str, mode: str = "assessed") -> QuizAttempt | None:
    """The learner's unsubmitted attempt at a quiz (or practice set) in this mode, if any."""
    return db.session.scalar(
        select(QuizAttempt)
        .where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_ref == quiz_id,
            QuizAttempt.mode == mode,
            QuizAttempt.is_open(),
        )
        .execution_options(populate_existing=True)
    )


_create_attempt = sql.InsertIfAbsent(QuizAttempt, conflict=["user_id", "quiz_ref", "mode"], where=text(OPEN_ATTEMPT))


def start_attempt(user_id: int, quiz: Quiz | Conversation, mode: str = "assessed") -> QuizAttempt:
    """Resume the learner's open attempt at a quiz or conversation, or begin one that snapshots its pass mark and version."""
    return open_or_begin(
        user_id,
        quiz.id,
        mode,
        quiz.version,
        {
            "module_ref": quiz.module_id,
            "pass_mark": quiz.pass_mark,
            "max_score": quiz.max_score,
            "marking": quiz.marking,
            "item_refs": [f"{quiz.id}/{item.id}" for item in quiz.items]
            if mode == "practice" and quiz.kind == "quiz"
            else None,
        },
        events.activity_ref(quiz),
    )


def open_or_begin(
    user_id: int, set_ref: str, mode: str, version: str, snapshot: dict[str, Any], object_ref: str
) -> QuizAttempt:
    """The learner's open attempt at this quiz or set and mode on this version, else a new one with `snapshot`.

    An open attempt on another version is set aside (kept, never deleted) first.
    """
    attempt = open_attempt(user_id, set_ref, mode)
    if attempt is not None and attempt.content_version == version:
        return attempt
    now = utcnow()
    if attempt is not None:
        # Begun on an older version of the quiz: set aside (never deleted) and start afresh.
        set_aside(attempt, now)
    # The partial unique index allows one open attempt: a parallel "Start" inserts nothing here.
    inserted = _create_attempt(
        {
            "user_id": user_id,
            "quiz_ref": set_ref,
            "mode": mode,
            "content_version": version,
            "started_at": now,
            **snapshot,
        }
    )
    attempt = open_attempt(user_id, set_ref, mode)
    if inserted:
        events.record(user_id, "attempted", object_ref, version, attempt_id=attempt.id, at=now)
    return attempt


def set_aside(attempt: QuizAttempt, now=None) -> None:
    """Close an open attempt without a result; it stays on record with the events that name it."""
    db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.is_open())
        .values(abandoned_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def can_resume(user_id: int, quiz: Quiz | Conversation, mode: str = "assessed") -> bool:
    """Whether the learner has an open attempt in this mode on the quiz as it is now (an older one is replaced)."""
    attempt = open_attempt(user_id, quiz.id, mode)
    return attempt is not None and attempt.content_version == quiz.version


def cbm_score(g: Grade, confidence: int) -> float:
    """The certainty-based mark of one graded answer, in the item's points."""
    fraction = g.score / g.max_score if g.max_score else 0.0
    return certainty.mark(fraction, confidence) * g.max_score


def marked_score(marking: str, answers: list[tuple[Grade, int | None]]) -> tuple[float, float]:
    """An attempt's score under its marking and its weight (the items' points), from (grade, confidence) pairs.

    Under certainty-based marking the score is on Moodle's scale: every item right at "not sure"
    equals the weight (100%), all right at "very sure" three times it; a missing confidence counts as "not sure".
    """
    weight = sum(g.max_score for g, _ in answers)
    if marking == "certainty":
        return sum(cbm_score(g, confidence or 1) for g, confidence in answers), weight
    return sum(g.score for g, _ in answers), weight


def score_result(marking: str, score: float, weight: float, started_at, now) -> dict[str, Any]:
    """The score part of a finished attempt's learning event: score, bounds, xAPI scale, marking, duration."""
    low, high = score_range(marking, weight)
    return {
        "score": score,
        "min": low,
        "max": high,
        "scaled": scaled(score, low, high),
        "marking": marking,
        "duration_seconds": round((now - started_at).total_seconds()),
    }


def score_range(marking: str, weight: float) -> tuple[float, float]:
    """The lowest and highest score answers worth `weight` points can earn under this marking."""
    return certainty.bounds(weight) if marking == "certainty" else (0.0, weight)


def scaled(score: float, low: float, high: float) -> float:
    """A score on xAPI's scale from -1 to 1: a gain against the highest score, a loss against the lowest."""
    if score >= 0:
        return round(score / high, 4) if high > 0 else 0.0
    return round(score / -low, 4) if low < 0 else 0.0


def answered_result(g: Grade, confidence: int | None, marking: str) -> dict[str, Any]:
    """The result of an "answered" learning event."""
    result = {
        "response": g.answer,
        "score": g.score,
        "max": g.max_score,
        "success": g.is_correct,
        "grade": g.grade,
    }
    if confidence is not None:
        result["confidence"] = confidence
        if marking == "certainty":
            result["cbm"] = cbm_score(g, confidence)
    return result


def grade(quiz: Quiz, answers: dict[str, Any]) -> list[tuple[Item, Grade]]:
    """Grade every item of the quiz; pure."""
    return [(item, item.handler.grade(item, answers[item.id])) for item in quiz.items]


_CLAIMS: dict[tuple[str, ...], Any] = {}


def _claim_statement(columns: tuple[str, ...]):
    """The claiming UPDATE setting these columns, built once per set of columns (building costs more than running)."""
    statement = _CLAIMS.get(columns)
    if statement is None:
        statement = _CLAIMS[columns] = (
            update(QuizAttempt)
            .where(QuizAttempt.id == bindparam("claimed_id"), QuizAttempt.is_open())
            .values({name: bindparam(f"new_{name}") for name in columns})
            .execution_options(synchronize_session=False)
        )
    return statement


def claim(attempt: QuizAttempt, result: dict[str, Any]) -> None:
    """Close an open attempt with its result, once: raise AlreadySubmitted if it is no longer open."""
    # The conditional update is the once-only guard: of two racing submissions, one sees 0 rows.
    columns = tuple(sorted(result))
    claimed = db.session.connection().execute(
        _claim_statement(columns), {"claimed_id": attempt.id, **{f"new_{name}": result[name] for name in columns}}
    ).rowcount
    if claimed != 1:
        raise AlreadySubmitted
    for name, value in result.items():
        set_committed_value(attempt, name, value)  # already written: no second UPDATE


def response_row(
    attempt_id: int,
    user_id: int,
    quiz_ref: str,
    item_ref: str,
    item_type: str,
    version: str,
    position: int,
    g: Grade,
    at,
    confidence: int | None = None,
) -> dict[str, Any]:
    """One graded answer as an item_response row."""
    return {
        "attempt_id": attempt_id,
        "user_id": user_id,
        "quiz_ref": quiz_ref,
        "item_ref": item_ref,
        "item_type": item_type,
        "item_version": version,
        "position": position,
        "answer": g.answer,
        "grade": g.grade,
        "score": g.score,
        "max_score": g.max_score,
        "is_correct": g.is_correct,
        "competency_refs": list(g.competency_refs),
        "confidence": confidence,
        "answered_at": at,
    }


# Core, not an ORM bulk insert (twice the cost): the responses are not wanted as objects here.
_INSERT_RESPONSES = insert(ItemResponse.__table__)
_DELETE_DRAFTS = delete(DraftAnswer.__table__).where(DraftAnswer.__table__.c.attempt_id == bindparam("attempt_id"))


def submit_attempt(
    user_id: int, attempt: QuizAttempt, quiz: Quiz, answers: dict[str, Any], confidence: dict[str, int] | None = None
) -> QuizAttempt:
    """Grade and record a complete set of answers with how sure the learner was of each, exactly once per attempt."""
    confidence = confidence or {}
    if attempt.submitted_at is not None:
        raise AlreadySubmitted
    if attempt.abandoned_at is not None:
        raise Abandoned
    if attempt.content_version != quiz.version:
        raise ContentChanged
    graded = grade(quiz, answers)
    now = utcnow()
    score, max_score = marked_score(attempt.marking, [(g, confidence.get(item.id)) for item, g in graded])
    percent = 100.0 * score / max_score if max_score else 0.0
    is_passed = percent >= attempt.pass_mark
    claim(attempt, {"submitted_at": now, "score": score, "max_score": max_score, "is_passed": is_passed})
    # The answers saved as the learner went are now graded responses: the working copy goes.
    # Core statements built once, on the session's connection: the ORM adds nothing to them but cost.
    connection = db.session.connection()
    connection.execute(_DELETE_DRAFTS, {"attempt_id": attempt.id})
    connection.execute(
        _INSERT_RESPONSES,
        [
            response_row(
                attempt.id,
                user_id,
                quiz.id,
                item.id,
                item.type,
                item.version,
                position,
                g,
                now,
                confidence.get(item.id),
            )
            for position, (item, g) in enumerate(graded, start=1)
        ],
    )
    answered = [
        events.row(
            user_id,
            "answered",
            events.quiz_ref(quiz.id, item.id),
            quiz.version,
            at=now,
            result=answered_result(g, confidence.get(item.id), attempt.marking),
            attempt_id=attempt.id,
        )
        for item, g in graded
    ]
    verdict = events.row(
        user_id,
        "passed" if is_passed else "failed",
        events.quiz_ref(quiz.id),
        quiz.version,
        at=now,
        result={
            **score_result(attempt.marking, score, max_score, attempt.started_at, now),
            "percent": round(percent, 2),
            "success": is_passed,
            "pass_mark": attempt.pass_mark,
        },
        attempt_id=attempt.id,
    )
    events.record_many([*answered, verdict])
    update_quiz_summary(user_id, quiz, percent, is_passed, now)
    update_competency_summaries(user_id, [g for _, g in graded], now)
    summaries.record(user_id, [(g, confidence.get(item.id)) for item, g in graded], now)
    review.record_answers(
        user_id, [review.Answered(quiz.id, item.id, g.is_correct, confidence.get(item.id)) for item, g in graded], now
    )
    hooks.progress_made(hooks.Progress(user_id, "quiz", quiz.id, attempt.id))
    return attempt


_record_quiz_result = sql.Upsert(
    QuizProgress,
    conflict=["user_id", "quiz_ref"],
    update={
        "attempt_count": lambda t, e: t.c.attempt_count + 1,
        "best_percent": lambda t, e: sql.greatest(t.c.best_percent, e.best_percent),
        "last_percent": lambda t, e: e.last_percent,
        "is_passed": lambda t, e: or_(t.c.is_passed, e.is_passed),
        "first_passed_at": lambda t, e: func.coalesce(t.c.first_passed_at, e.first_passed_at),
        "last_submitted_at": lambda t, e: e.last_submitted_at,
    },
)


def update_quiz_summary(user_id: int, quiz: Quiz | Conversation, percent: float, is_passed: bool, now) -> None:
    """Count a finished attempt in the learner's summary row for the quiz or conversation."""
    _record_quiz_result(
        [
            {
                "user_id": user_id,
                "quiz_ref": quiz.id,
                "module_ref": quiz.module_id,
                "attempt_count": 1,
                "best_percent": percent,
                "last_percent": percent,
                "is_passed": is_passed,
                "first_passed_at": now if is_passed else None,
                "last_submitted_at": now,
            }
        ]
    )


_COUNTERS = ("answered_count", "correct_count", "harmful_count", "score", "max_score")
_add_to_competencies = sql.Upsert(
    CompetencyProgress,
    conflict=["user_id", "competency_ref"],
    update={
        **{name: (lambda t, e, name=name: t.c[name] + e[name]) for name in _COUNTERS},
        "last_answered_at": lambda t, e: e.last_answered_at,
    },
)


def update_competency_summaries(user_id: int, grades: list[Grade], now) -> None:
    """Add graded responses to the learner's summary row for each competency they count for."""
    totals: dict[str, dict[str, float]] = {}
    for g in grades:
        for ref in g.competency_refs:
            t = totals.setdefault(ref, dict.fromkeys(_COUNTERS, 0))
            t["answered_count"] += 1
            t["correct_count"] += int(g.is_correct)
            t["harmful_count"] += int(g.grade == "harmful")
            t["score"] += g.score
            t["max_score"] += g.max_score
    # Added in the database, so two quizzes submitted at the same moment both count.
    _add_to_competencies(
        [{"user_id": user_id, "competency_ref": ref, "last_answered_at": now, **t} for ref, t in sorted(totals.items())]
    )


@dataclass(frozen=True)
class AttemptSummary:
    """What a learner sees about a finished attempt beyond its score: accuracy, each mark, calibration."""

    raw_score: float
    accuracy: float
    #: Each answer's certainty-based mark, by position (answers with a confidence).
    cbm: dict[int, float]
    calibration: list[certainty.Calibration]
    #: The items' points, and how many items were answered wholly right.
    weight: float = 0.0
    right: int = 0
    answered: int = 0
    #: Accuracy, average mark and bonus as Moodle shows them (certainty-based marking only).
    figures: certainty.Figures | None = None

    @property
    def has_confidence(self) -> bool:
        """Whether the learner said how sure they were of any answer (else no confidence column or table)."""
        return bool(self.cbm)


def summarise(attempt: QuizAttempt) -> AttemptSummary:
    """The accuracy, certainty-based marks and calibration of an attempt's answers; pure over its responses."""
    responses = attempt.responses
    raw = sum(r.score for r in responses)
    weight = sum(r.max_score for r in responses)
    rated = [r for r in responses if r.confidence is not None]
    figures = None
    if attempt.marking == "certainty":
        # As the score was marked: an answer without a confidence counts as "not sure".
        marked = sum(cbm_score(as_grade(r), r.confidence or 1) for r in responses)
        figures = certainty.figures(raw, marked, weight)
    return AttemptSummary(
        raw_score=raw,
        accuracy=raw / weight if weight else 0.0,
        cbm={r.position: cbm_score(as_grade(r), r.confidence) for r in rated},
        calibration=certainty.calibration((r.confidence, r.is_correct) for r in rated) if rated else [],
        weight=weight,
        right=sum(1 for r in responses if r.is_correct),
        answered=len(responses),
        figures=figures,
    )


def as_grade(r: ItemResponse) -> Grade:
    """A recorded response as the grade it was given."""
    return Grade(r.answer, r.score, r.max_score, r.is_correct, r.grade, tuple(r.competency_refs))


def items_as_answered(quiz: Quiz | None, attempt: QuizAttempt) -> dict[str, Item]:
    """The quiz's items that are unchanged since the attempt answered them, by item id."""
    if quiz is None:
        return {}
    current = {item.id: item for item in quiz.items}
    return {
        r.item_ref: current[r.item_ref]
        for r in attempt.responses
        if r.item_ref in current and current[r.item_ref].version == r.item_version
    }


def attempt_history(user_id: int, quiz_id: str) -> list[QuizAttempt]:
    """The learner's submitted attempts at a quiz, newest first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.quiz_ref == quiz_id,
                QuizAttempt.mode == "assessed",
                QuizAttempt.submitted_at.is_not(None),
            )
            .order_by(QuizAttempt.submitted_at.desc())
        )
    )


def practice_history(user_id: int, set_ref: str, limit: int = 10) -> list[QuizAttempt]:
    """The learner's latest practice attempts at a quiz, conversation or set (open ones too), newest first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.quiz_ref == set_ref,
                QuizAttempt.mode == "practice",
                QuizAttempt.abandoned_at.is_(None),
            )
            .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
            .limit(limit)
        )
    )


_OWN_ATTEMPT = select(QuizAttempt).where(
    QuizAttempt.id == bindparam("attempt_id"), QuizAttempt.user_id == bindparam("user_id")
)


def get_own_attempt(user_id: int, attempt_id: int) -> QuizAttempt | None:
    """An attempt, only if it belongs to this learner (an id out of range matches nothing)."""
    if not 0 < attempt_id <= MAX_ID:
        return None
    return db.session.scalar(_OWN_ATTEMPT, {"attempt_id": attempt_id, "user_id": user_id})
