"""Practice: unlimited attempts at a quiz or a set of items, with feedback after every answer.

A practice attempt is a `quiz_attempt` with mode "practice". It records every answer like an
assessed one (so mastery and the review queue learn from it), but never changes the learner's
quiz summary, course status or the educator's competency summaries. Its items are snapshotted
in `item_refs` as item keys ("quiz_id/item_id"); a set drawn from several quizzes has a set ref
such as "practice/competency/<id>" or "practice/review".
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from app.content import Quiz
from app.content.catalog import Catalog
from app.content.items import Grade, Item
from app.extensions import db
from app.models import ItemResponse, QuizAttempt
from app.models.types import utcnow
from app.services import events, quizzes, review, sql, summaries


class StaleItem(Exception):
    """The item was answered already (a double click or a back-and-resubmit)."""


class Finished(Exception):
    """The practice attempt is over."""


def item_key(quiz_id: str, item_id: str) -> str:
    """The key naming one item across quizzes."""
    return f"{quiz_id}/{item_id}"


def resolve(catalog: Catalog, key: str) -> tuple[Quiz, Item] | None:
    """The quiz and item a key names, if both still exist."""
    quiz_id, _, item_id = key.partition("/")
    quiz = catalog.quiz(quiz_id)
    item = quiz.item(item_id) if quiz is not None else None
    return (quiz, item) if item is not None else None


def _set_version(catalog: Catalog, keys: list[str]) -> str:
    """A version for a set: it changes when any of its items' content does."""
    parts = [f"{key}@{found[1].version}" for key in keys if (found := resolve(catalog, key))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def start_quiz(user_id: int, quiz: Quiz) -> QuizAttempt:
    """Open (or resume) a practice attempt at a whole quiz."""
    return quizzes.start_attempt(user_id, quiz, mode="practice")


def start_set(
    user_id: int, set_ref: str, item_keys: list[str], catalog: Catalog, resume_within: set[str] | None = None
) -> QuizAttempt:
    """Open a practice attempt at a set of items, or resume the open one on this set while it has items left.

    With `resume_within`, the open set is resumed only if every item it has left is in it (a review
    session whose items are no longer due starts afresh). An open set whose items changed in the
    content, or with nothing left to answer, is set aside (kept, never deleted) and a new one
    begins with `item_keys`.
    """
    keys = [key for key in dict.fromkeys(item_keys) if resolve(catalog, key)]
    if not keys:
        raise ValueError("a practice set needs at least one item that exists")
    attempt = quizzes.open_attempt(user_id, set_ref, "practice")
    if attempt is not None:
        unchanged = attempt.content_version == _set_version(catalog, attempt.item_refs or [])
        left = {s.key for s in steps(attempt, catalog) if s.is_available} - {
            item_key(r.quiz_ref, r.item_ref) for r in attempt.responses
        }
        if unchanged and left and (resume_within is None or left <= resume_within):
            # Half done: pressing "Start" again carries on rather than throwing the answers away.
            return attempt
        quizzes.set_aside(attempt)
    version = _set_version(catalog, keys)
    modules = {resolve(catalog, key)[0].module_id for key in keys}
    return quizzes.open_or_begin(
        user_id,
        set_ref,
        "practice",
        version,
        {
            "module_ref": modules.pop() if len(modules) == 1 else "",
            "pass_mark": None,
            "max_score": sum(resolve(catalog, key)[1].max_score for key in keys),
            "marking": "standard",
            "item_refs": keys,
        },
        set_ref,
    )


@dataclass(frozen=True)
class Step:
    """One item of a practice attempt, at its position."""

    position: int
    key: str
    quiz: Quiz | None
    item: Item | None

    @property
    def is_available(self) -> bool:
        """Whether the item still exists as it was when the attempt began."""
        return self.item is not None


def steps(attempt: QuizAttempt, catalog: Catalog) -> list[Step]:
    """Every item of the attempt in order, resolved against the content as it is now."""
    found = [(key, resolve(catalog, key)) for key in attempt.item_refs or []]
    return [Step(position, key, *(hit if hit else (None, None))) for position, (key, hit) in enumerate(found, start=1)]


def next_step(attempt: QuizAttempt, catalog: Catalog) -> Step | None:
    """The first item not yet answered that still exists; None when the attempt has nothing left."""
    answered = {r.position for r in attempt.responses}
    return next((s for s in steps(attempt, catalog) if s.is_available and s.position not in answered), None)


_record_answer = sql.InsertIfAbsent(ItemResponse, conflict=["attempt_id", "position"])


def answer(user_id: int, attempt: QuizAttempt, step: Step, value: Any, confidence: int, catalog: Catalog) -> Grade:
    """Grade and record the answer to one practice item, once; the last answer closes the attempt."""
    if attempt.submitted_at is not None or attempt.abandoned_at is not None:
        raise Finished
    now = utcnow()
    g = step.item.handler.grade(step.item, value)
    row = quizzes.response_row(
        attempt.id,
        user_id,
        step.quiz.id,
        step.item.id,
        step.item.type,
        step.item.version,
        step.position,
        g,
        now,
        confidence,
    )
    # The unique (attempt, position) key makes a double submission insert nothing.
    if not _record_answer(row):
        raise StaleItem
    answered = events.row(
        user_id,
        "answered",
        events.quiz_ref(step.quiz.id, step.item.id),
        step.quiz.version,
        at=now,
        result=quizzes.answered_result(g, confidence, attempt.marking),
        attempt_id=attempt.id,
    )
    events.record_many([answered])
    summaries.record(user_id, [(g, confidence)], now)
    review.record_answers(user_id, [review.Answered(step.quiz.id, step.item.id, g.is_correct, confidence)], now)
    db.session.expire(attempt, ["responses"])
    finish_if_done(user_id, attempt, catalog, now)
    return g


def finish_if_done(user_id: int, attempt: QuizAttempt, catalog: Catalog, now=None) -> bool:
    """Close an open practice attempt with nothing left to answer, scoring it once; True if this call closed it.

    Only item sets: a conversation's practice run ends at one of its endings, never here.
    """
    if attempt.item_refs is None or attempt.submitted_at is not None or attempt.abandoned_at is not None:
        return False
    if next_step(attempt, catalog):
        return False
    now = now or utcnow()
    responses = attempt.responses
    score, weight = quizzes.marked_score(attempt.marking, [(quizzes.as_grade(r), r.confidence) for r in responses])
    try:
        quizzes.claim(attempt, {"submitted_at": now, "score": score, "max_score": weight})
    except quizzes.AlreadySubmitted:
        return False
    ref = attempt.quiz_ref if events.is_practice_set(attempt.quiz_ref) else events.quiz_ref(attempt.quiz_ref)
    events.record(
        user_id,
        "completed",
        ref,
        attempt.content_version,
        at=now,
        result={
            **quizzes.score_result(attempt.marking, score, weight, attempt.started_at, now),
            "completion": True,
            "accuracy": round(sum(r.score for r in responses) / weight, 4) if weight else 0.0,
        },
        attempt_id=attempt.id,
    )
    return True
