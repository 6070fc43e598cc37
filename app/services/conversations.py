"""Branching conversations: one reply at a time, recorded as a step of the attempt, until an ending."""

from dataclasses import dataclass

from sqlalchemy import update

from app.content.conversations import Conversation, State, Step, grade_reply, passes
from app.extensions import db
from app.models import ItemResponse, QuizAttempt
from app.models.types import utcnow
from app.services import events, hooks, quizzes, sql, summaries
from app.services.quizzes import Abandoned, AlreadySubmitted, ContentChanged

__all__ = ["Abandoned", "AlreadySubmitted", "ContentChanged", "Position", "StaleStep", "position", "reply", "restart"]


class StaleStep(Exception):
    """The reply answers a step that is already recorded (a double click, or back and resubmit)."""


class UnknownReply(Exception):
    """The reply is not one of those on offer at this point (a forged or stale form)."""


@dataclass(frozen=True)
class Position:
    """Where an attempt stands: the steps played so far and the state they lead to."""

    steps: list[Step]
    state: State

    @property
    def next_step(self) -> int:
        """The number of the step the learner is on (1 for the first reply)."""
        return len(self.steps) + 1


def position(conversation: Conversation, attempt: QuizAttempt) -> Position:
    """Replay the attempt's recorded replies; the path is the record, so nothing else is stored."""
    steps, state = conversation.play([r.answer for r in attempt.responses])
    return Position(steps, state)


def restart(user_id: int, conversation: Conversation, mode: str = "assessed") -> QuizAttempt:
    """Set the open attempt in this mode aside (kept, never deleted) and begin again from the first line."""
    db.session.execute(
        update(QuizAttempt)
        .where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_ref == conversation.id,
            QuizAttempt.mode == mode,
            QuizAttempt.is_open(),
        )
        .values(abandoned_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return quizzes.start_attempt(user_id, conversation, mode)


_record_step = sql.InsertIfAbsent(ItemResponse, conflict=["attempt_id", "position"])


def reply(
    user_id: int,
    attempt: QuizAttempt,
    conversation: Conversation,
    step: int,
    reply_id: str,
    confidence: int | None = None,
) -> QuizAttempt:
    """Record the learner's reply at step `step` (and how sure they were); at an ending, score the path and close the attempt."""
    if attempt.submitted_at is not None:
        raise AlreadySubmitted
    if attempt.abandoned_at is not None:
        raise Abandoned
    if attempt.content_version != conversation.version:
        raise ContentChanged
    where = position(conversation, attempt)
    if step != where.next_step:
        raise StaleStep
    node = conversation.node(where.state.at)
    chosen = node.reply(reply_id) if node else None
    if chosen is None:
        raise UnknownReply
    graded = grade_reply(node, chosen)
    after = conversation.advance(where.state, chosen)
    now = utcnow()
    row = quizzes.response_row(
        attempt.id, user_id, conversation.id, node.id, "reply", conversation.version, step, graded, now, confidence
    )
    # The unique (attempt, step) key makes a racing duplicate insert nothing.
    if not _record_step(row):
        raise StaleStep
    values = conversation.values(after)
    answered = events.row(
        user_id,
        "answered",
        events.activity_ref(conversation, node.id),
        conversation.version,
        at=now,
        result={
            **quizzes.answered_result(graded, confidence, "standard"),
            "response": chosen.id,
            "step": step,
            "counters": values,
            "next": after.at,
        },
        attempt_id=attempt.id,
    )
    if not attempt.is_practice:
        # Practice never reaches the educator's summaries; the learner's own (mastery) count it.
        quizzes.update_competency_summaries(user_id, [graded], now)
    summaries.record(user_id, [(graded, confidence)], now)
    if not conversation.is_ending(after):
        events.record_many([answered])
        db.session.expire(attempt, ["responses"])
        return attempt
    score = sum(s.reply.score for s in where.steps) + chosen.score
    percent = 100.0 * score / conversation.max_score if conversation.max_score else 0.0
    ending = conversation.ending(after.at)
    is_passed = passes(percent, attempt.pass_mark, ending, [*(s.reply for s in where.steps), chosen])
    quizzes.claim(attempt, {"submitted_at": now, "score": score, "is_passed": is_passed, "ending_ref": after.at})
    verdict = events.row(
        user_id,
        "completed" if attempt.is_practice else "passed" if is_passed else "failed",
        events.activity_ref(conversation),
        conversation.version,
        at=now,
        result={
            "score": score,
            "max": attempt.max_score,
            "min": 0.0,
            "scaled": round(percent / 100, 4),
            "success": is_passed,
            "completion": True,
            "pass_mark": attempt.pass_mark,
            "ending": ending.id,
            "outcome": ending.outcome,
            "path": [*(s.reply.id for s in where.steps), chosen.id],
            "duration_seconds": round((now - attempt.started_at).total_seconds()),
        },
        attempt_id=attempt.id,
    )
    events.record_many([answered, verdict])
    if not attempt.is_practice:
        quizzes.update_quiz_summary(user_id, conversation, percent, is_passed, now)
        hooks.progress_made(hooks.Progress(user_id, "conversation", conversation.id, attempt.id))
    db.session.expire(attempt, ["responses"])
    return attempt
