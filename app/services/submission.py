"""Recording a finished quiz attempt: claiming it once, its responses, events, summaries and review cards.

Every statement of the write path is prebuilt (app/services/prebuilt.py): compiled once per
dialect and run on the session's connection, in its transaction, with the columns' own value
conversions, so a submission's rows are exactly those SQLAlchemy would write for the same values,
without its per-execution and per-row work. The rows go as dicts; none becomes an ORM object.
"""

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, update
from sqlalchemy.orm.attributes import set_committed_value

from app.content import Quiz
from app.content.conversations import Conversation
from app.content.items import Grade
from app.models import CompetencyProgress, DraftAnswer, ItemResponse, QuizAttempt, QuizProgress
from app.models.types import utcnow
from app.services import events, hooks, review, sql, summaries
from app.services.grading import answered_result, grade, marked_score, score_result
from app.services.prebuilt import Prebuilt


class AlreadySubmitted(Exception):
    """The attempt was submitted before (a double click, a refresh, or back and resubmit)."""


class Abandoned(Exception):
    """The attempt was replaced by a new one because the quiz changed before it was submitted."""


class ContentChanged(Exception):
    """The quiz changed since the attempt began; the learner must check their answers again."""


_ATTEMPTS = QuizAttempt.__table__
_CLAIMS: dict[tuple[str, ...], Prebuilt] = {}


def _claim_statement(columns: tuple[str, ...]) -> Prebuilt:
    """The claiming UPDATE setting these columns, built once per set of columns (building costs more than running)."""
    statement = _CLAIMS.get(columns)
    if statement is None:
        statement = _CLAIMS[columns] = Prebuilt(
            lambda _dialect: (
                update(_ATTEMPTS)
                .where(_ATTEMPTS.c.id == bindparam("claimed_id"), QuizAttempt.is_open())
                .values({name: bindparam(f"new_{name}") for name in columns})
            )
        )
    return statement


def claim(attempt: QuizAttempt, result: dict[str, Any]) -> None:
    """Close an open attempt with its result, once: raise AlreadySubmitted if it is no longer open."""
    # The conditional update is the once-only guard: of two racing submissions, one sees 0 rows.
    columns = tuple(sorted(result))
    claimed = (
        _claim_statement(columns)
        .run({"claimed_id": attempt.id, **{f"new_{name}": result[name] for name in columns}})
        .rowcount
    )
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


_RESPONSE_KEYS = tuple(response_row(0, 0, "", "", "", "", 0, Grade(None, 0.0, 0.0, False, None, ()), None))
#: The responses, a row per answer (Core, not an ORM bulk insert: they are not wanted as objects).
_INSERT_RESPONSES = Prebuilt(lambda _dialect: insert(ItemResponse.__table__), _RESPONSE_KEYS)
_DRAFTS = DraftAnswer.__table__
_DELETE_DRAFTS = Prebuilt(lambda _dialect: delete(_DRAFTS).where(_DRAFTS.c.attempt_id == bindparam("attempt_id")))


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
    sureness = [confidence.get(item.id) for item, _ in graded]
    now = utcnow()
    marking, attempt_id = attempt.marking, attempt.id
    score, max_score = marked_score(marking, [(g, c) for (_, g), c in zip(graded, sureness, strict=True)])
    percent = 100.0 * score / max_score if max_score else 0.0
    is_passed = percent >= attempt.pass_mark
    claim(attempt, {"submitted_at": now, "score": score, "max_score": max_score, "is_passed": is_passed})
    # The answers saved as the learner went are now graded responses: the working copy goes.
    _DELETE_DRAFTS.run({"attempt_id": attempt_id})
    _INSERT_RESPONSES.run_many(
        [
            response_row(attempt_id, user_id, quiz.id, item.id, item.type, item.version, position, g, now, sure)
            for position, ((item, g), sure) in enumerate(zip(graded, sureness, strict=True), start=1)
        ]
    )
    answered = [
        events.row(
            user_id,
            "answered",
            events.quiz_ref(quiz.id, item.id),
            quiz.version,
            at=now,
            result=answered_result(g, sure, marking),
            attempt_id=attempt_id,
        )
        for (item, g), sure in zip(graded, sureness, strict=True)
    ]
    verdict = events.row(
        user_id,
        "passed" if is_passed else "failed",
        events.quiz_ref(quiz.id),
        quiz.version,
        at=now,
        result={
            **score_result(marking, score, max_score, attempt.started_at, now),
            "percent": round(percent, 2),
            "success": is_passed,
            "pass_mark": attempt.pass_mark,
        },
        attempt_id=attempt_id,
    )
    events.record_many([*answered, verdict])
    update_quiz_summary(user_id, quiz, percent, is_passed, now)
    grades = [(g, sure) for (_, g), sure in zip(graded, sureness, strict=True)]
    update_competency_summaries(user_id, [g for g, _ in grades], now)
    summaries.record(user_id, grades, now)
    review.record_answers(
        user_id,
        [
            review.Answered(quiz.id, item.id, g.is_correct, sure)
            for (item, g), sure in zip(graded, sureness, strict=True)
        ],
        now,
    )
    hooks.progress_made(hooks.Progress(user_id, "quiz", quiz.id, attempt_id))
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
            t = totals.get(ref)
            if t is None:
                t = totals[ref] = dict.fromkeys(_COUNTERS, 0)
            t["answered_count"] += 1
            t["correct_count"] += int(g.is_correct)
            t["harmful_count"] += int(g.grade == "harmful")
            t["score"] += g.score
            t["max_score"] += g.max_score
    # Added in the database, so two quizzes submitted at the same moment both count.
    _add_to_competencies(
        [{"user_id": user_id, "competency_ref": ref, "last_answered_at": now, **t} for ref, t in sorted(totals.items())]
    )
