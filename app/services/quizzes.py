"""Quiz attempts: opening, grading through the item registry, and recording the results."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from app.content import Quiz
from app.content.conversations import Conversation
from app.content.items import AnswerError, Grade, Item
from app.extensions import db
from app.models import CompetencyProgress, ItemResponse, QuizAttempt, QuizProgress
from app.models.tracking import OPEN_ATTEMPT
from app.models.types import MAX_ID, utcnow
from app.services import events, sql


class AlreadySubmitted(Exception):
    """The attempt was submitted before (a double click, a refresh, or back and resubmit)."""


class Abandoned(Exception):
    """The attempt was replaced by a new one because the quiz changed before it was submitted."""


class ContentChanged(Exception):
    """The quiz changed since the attempt began; the learner must check their answers again."""


def open_attempt(user_id: int, quiz_id: str) -> QuizAttempt | None:
    """The learner's unsubmitted attempt at a quiz, if any."""
    return db.session.scalar(
        select(QuizAttempt)
        .where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_ref == quiz_id,
            QuizAttempt.is_open(),
        )
        .execution_options(populate_existing=True)
    )


_create_attempt = sql.InsertIfAbsent(QuizAttempt, conflict=["user_id", "quiz_ref"], where=text(OPEN_ATTEMPT))


def start_attempt(user_id: int, quiz: Quiz | Conversation) -> QuizAttempt:
    """Resume the learner's open attempt at a quiz or conversation, or begin one that snapshots its pass mark and version."""
    attempt = open_attempt(user_id, quiz.id)
    if attempt is not None and attempt.content_version == quiz.version:
        return attempt
    now = utcnow()
    if attempt is not None:
        # Begun on an older version of the quiz: set aside (never deleted) and start afresh.
        db.session.execute(
            update(QuizAttempt)
            .where(QuizAttempt.id == attempt.id, QuizAttempt.is_open())
            .values(abandoned_at=now)
            .execution_options(synchronize_session=False)
        )
    # The partial unique index allows one open attempt: a parallel "Start" inserts nothing here.
    inserted = _create_attempt(
        {
            "user_id": user_id,
            "quiz_ref": quiz.id,
            "module_ref": quiz.module_id,
            "content_version": quiz.version,
            "pass_mark": quiz.pass_mark,
            "max_score": quiz.max_score,
            "started_at": now,
        }
    )
    attempt = open_attempt(user_id, quiz.id)
    if inserted:
        events.record(user_id, "attempted", events.activity_ref(quiz), quiz.version, attempt_id=attempt.id, at=now)
    return attempt


def can_resume(user_id: int, quiz: Quiz) -> bool:
    """Whether the learner has an open attempt on the quiz as it is now (an older one is replaced)."""
    attempt = open_attempt(user_id, quiz.id)
    return attempt is not None and attempt.content_version == quiz.version


@dataclass
class Answers:
    """Answers read from a submitted quiz form."""

    given: dict[str, Any] = field(default_factory=dict)
    missing: list[Item] = field(default_factory=list)
    #: Items whose answer cannot be graded, with what the learner should fix.
    invalid: dict[Item, str] = field(default_factory=dict)
    #: What the learner entered for an invalid item, to show it again.
    kept: dict[str, Any] = field(default_factory=dict)

    def shown(self, item: Item) -> Any:
        """The answer to put back in the form for an item: given, or kept from a half-filled one."""
        return self.given.get(item.id, self.kept.get(item.id))

    @property
    def complete(self) -> bool:
        """Every item has a valid answer."""
        return not self.missing and not self.invalid


def read_answers(quiz: Quiz, form: Mapping[str, Any]) -> Answers:
    """Read every item's answer from form data, noting the unanswered and the impossible."""
    answers = Answers()
    for item in quiz.items:
        try:
            value = item.handler.answer_from_form(item, form)
        except AnswerError as exc:
            answers.invalid[item] = exc.message
            if exc.kept is not None:
                answers.kept[item.id] = exc.kept
            continue
        if value is None:
            answers.missing.append(item)
        else:
            answers.given[item.id] = value
    return answers


def grade(quiz: Quiz, answers: dict[str, Any]) -> list[tuple[Item, Grade]]:
    """Grade every item of the quiz; pure."""
    return [(item, item.handler.grade(item, answers[item.id])) for item in quiz.items]


def claim(attempt: QuizAttempt, result: dict[str, Any]) -> None:
    """Close an open attempt with its result, once: raise AlreadySubmitted if it is no longer open."""
    # The conditional update is the once-only guard: of two racing submissions, one sees 0 rows.
    claimed = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.is_open())
        .values(**result)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise AlreadySubmitted
    for name, value in result.items():
        set_committed_value(attempt, name, value)  # already written: no second UPDATE


def response_row(
    attempt_id: int, user_id: int, item_ref: str, item_type: str, version: str, position: int, g: Grade, at
) -> dict[str, Any]:
    """One graded answer as an item_response row."""
    return {
        "attempt_id": attempt_id,
        "user_id": user_id,
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
        "answered_at": at,
    }


def submit_attempt(user_id: int, attempt: QuizAttempt, quiz: Quiz, answers: dict[str, Any]) -> QuizAttempt:
    """Grade and record a complete set of answers, exactly once per attempt."""
    if attempt.submitted_at is not None:
        raise AlreadySubmitted
    if attempt.abandoned_at is not None:
        raise Abandoned
    if attempt.content_version != quiz.version:
        raise ContentChanged
    graded = grade(quiz, answers)
    now = utcnow()
    score = sum(g.score for _, g in graded)
    max_score = sum(g.max_score for _, g in graded)
    percent = 100.0 * score / max_score if max_score else 0.0
    is_passed = percent >= attempt.pass_mark
    claim(attempt, {"submitted_at": now, "score": score, "max_score": max_score, "is_passed": is_passed})
    db.session.execute(
        insert(ItemResponse),
        [
            response_row(attempt.id, user_id, item.id, item.type, item.version, position, g, now)
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
            result={
                "response": g.answer,
                "score": g.score,
                "max": g.max_score,
                "success": g.is_correct,
                "grade": g.grade,
            },
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
            "score": score,
            "max": max_score,
            "scaled": round(percent / 100, 4),
            "success": is_passed,
            "pass_mark": attempt.pass_mark,
            "duration_seconds": round((now - attempt.started_at).total_seconds()),
        },
        attempt_id=attempt.id,
    )
    events.record_many([*answered, verdict])
    update_quiz_summary(user_id, quiz, percent, is_passed, now)
    update_competency_summaries(user_id, [g for _, g in graded], now)
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
                QuizAttempt.user_id == user_id, QuizAttempt.quiz_ref == quiz_id, QuizAttempt.submitted_at.is_not(None)
            )
            .order_by(QuizAttempt.submitted_at.desc())
        )
    )


def get_own_attempt(user_id: int, attempt_id: int) -> QuizAttempt | None:
    """An attempt, only if it belongs to this learner (an id out of range matches nothing)."""
    if not 0 < attempt_id <= MAX_ID:
        return None
    return db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id, QuizAttempt.user_id == user_id))
