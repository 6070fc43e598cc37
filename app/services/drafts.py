"""Answers saved as the learner goes: a draft of each item's answer and confidence in an open quiz attempt.

The whole form is saved each time (by the page's script after every change, or by the "Save and
continue later" button), so a save replaces the draft item by item: an item left blank loses its
row, an item whose input cannot be read (a forged or garbled field) keeps the row it had. A draft
belongs to one open attempt on one version of the quiz; when the quiz changes, the attempt is set
aside and only the answers to unchanged items move to the new one. Submitting deletes the draft
(app.services.quizzes.submit_attempt). Nothing here is graded or counted anywhere.

"Unchanged" is judged by each item's fingerprint (`Item.version`, a hash of the item's own YAML:
its vignette, wording, options and feedback). A draft row remembers the fingerprint of the item
it was saved on, and the attempt's page carries the fingerprint of every item it shows (the
hidden field `shown-<item id>`), so answers sent from a page of an older version of the quiz
come back only for items whose fingerprint is the same now (`keep_unchanged`).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from app.content import Quiz
from app.extensions import db
from app.models import DraftAnswer, QuizAttempt
from app.models.types import utcnow
from app.services import quizzes, sql
from app.services.answers import Answers, read_answers

#: The largest save accepted, in bytes: the longest quiz's form is a few kilobytes.
MAX_BYTES = 64 * 1024

_write = sql.Upsert(
    DraftAnswer,
    conflict=["attempt_id", "item_ref"],
    update={
        name: (lambda t, e, name=name: e[name])
        for name in ("item_version", "answer", "is_complete", "confidence", "saved_at")
    },
)
_COPIED = ("item_ref", "item_version", "answer", "is_complete", "confidence", "saved_at")


def needs_confidence(attempt: QuizAttempt) -> bool:
    """Whether every answer in this attempt needs a confidence: only under certainty-based marking."""
    return attempt.marking == "certainty"


def save(attempt: QuizAttempt, quiz: Quiz, answers: Answers, now: datetime | None = None) -> None:
    """Replace the attempt's draft with the answers and confidence read from the whole form; flushes.

    One upsert of every item with something entered and one delete of the items left blank,
    however many items the quiz has.
    """
    now = now or utcnow()
    rows, unreadable = [], set()
    for item in quiz.items:
        if item.id in answers.given:
            answer, is_complete = answers.given[item.id], True
        elif item.id in answers.kept:
            answer, is_complete = answers.kept[item.id], False
        else:
            answer, is_complete = None, False
            if item in answers.invalid:
                unreadable.add(item.id)  # a garbled field says nothing new: keep what was saved
                continue
        confidence = answers.confidence.get(item.id)
        if answer is None and confidence is None:
            continue
        rows.append(
            {
                "attempt_id": attempt.id,
                "item_ref": item.id,
                "item_version": item.version,
                "answer": answer,
                "is_complete": is_complete,
                "confidence": confidence,
                "saved_at": now,
            }
        )
    _write(rows)
    kept = {row["item_ref"] for row in rows} | unreadable
    db.session.execute(
        delete(DraftAnswer)
        .where(DraftAnswer.attempt_id == attempt.id, DraftAnswer.item_ref.not_in(kept))
        .execution_options(synchronize_session=False)
    )


def restore(attempt: QuizAttempt, quiz: Quiz) -> Answers:
    """The attempt's saved answers and confidence, ready to fill the form again; one SELECT.

    Only answers saved on the item as it is now come back.
    """
    saved = {
        row.item_ref: row for row in db.session.scalars(select(DraftAnswer).where(DraftAnswer.attempt_id == attempt.id))
    }
    answers = Answers(confidence_required=needs_confidence(attempt))
    for item in quiz.items:
        row = saved.get(item.id)
        if row is not None and row.item_version != item.version:
            row = None
        if row is not None and row.confidence is not None:
            answers.confidence[item.id] = row.confidence
        else:
            answers.unsure.append(item)
        if row is not None and row.is_complete:
            answers.given[item.id] = row.answer
            continue
        if row is not None and row.answer is not None:
            answers.kept[item.id] = row.answer  # as far as the learner got: shown, not yet an answer
        answers.missing.append(item)
    return answers


@dataclass(frozen=True)
class InProgress:
    """The learner's open attempt at a quiz, as its front page describes it."""

    attempt: QuizAttempt
    #: Items with a whole answer saved, and when anything was last saved (None: nothing yet).
    answered: int
    saved_at: datetime | None
    #: Whether the attempt is on the quiz as it is now (else resuming moves its answers to a new one).
    is_current: bool


def in_progress(user_id: int, quiz: Quiz) -> InProgress | None:
    """The learner's open assessed attempt at the quiz with how much of it is saved, if any; one SELECT."""
    answered = (
        select(func.count(DraftAnswer.id))
        .where(DraftAnswer.attempt_id == QuizAttempt.id, DraftAnswer.is_complete)
        .correlate(QuizAttempt)
        .scalar_subquery()
    )
    saved_at = (
        select(func.max(DraftAnswer.saved_at))
        .where(DraftAnswer.attempt_id == QuizAttempt.id)
        .correlate(QuizAttempt)
        .scalar_subquery()
    )
    found = db.session.execute(
        select(QuizAttempt, answered, saved_at).where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_ref == quiz.id,
            QuizAttempt.mode == "assessed",
            QuizAttempt.is_open(),
        )
    ).first()
    if found is None:
        return None
    attempt, count, last = found
    return InProgress(attempt, count or 0, last, attempt.content_version == quiz.version)


@dataclass(frozen=True)
class CarriedOver:
    """What happened to the saved answers of an attempt set aside because the quiz changed."""

    kept: int
    #: The numbers of the items (in the quiz as it is now) whose saved answers were dropped because they changed.
    changed: tuple[int, ...]
    #: Saved answers to items the quiz no longer has.
    removed: int

    @property
    def message(self) -> str:
        """What the learner is told when they resume."""
        said = ["The quiz was updated since you saved your answers."]
        if self.kept:
            verb = "is" if self.kept == 1 else "are"
            said.append(f"Your {_count(self.kept, 'answer')} to unchanged items {verb} filled in again.")
        else:
            said.append("None of them could be kept.")
        if self.changed:
            it = "it" if len(self.changed) == 1 else "them"
            said.append(f"{_numbers(self.changed)} changed, so answer {it} again.")
        if self.removed:
            verb = "was" if self.removed == 1 else "were"
            said.append(f"{_count(self.removed, 'answer')} {verb} to items taken out of the quiz.")
        return " ".join(said)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _numbers(numbers: tuple[int, ...]) -> str:
    """'Item 3', 'Items 3 and 5', 'Items 2, 3 and 5'."""
    if len(numbers) == 1:
        return f"Item {numbers[0]}"
    return f"Items {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"


def carry_over(user_id: int, quiz: Quiz, attempt: QuizAttempt) -> CarriedOver | None:
    """Move the saved answers of the learner's set-aside attempts at the quiz onto `attempt`, for unchanged items.

    Drafts of changed or removed items are deleted. None (after one SELECT) when there was nothing to move.
    """
    rows = db.session.execute(
        select(DraftAnswer, QuizAttempt.id)
        .join(QuizAttempt, QuizAttempt.id == DraftAnswer.attempt_id)
        .where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_ref == quiz.id,
            QuizAttempt.mode == "assessed",
            QuizAttempt.abandoned_at.is_not(None),
        )
        .order_by(DraftAnswer.saved_at.desc(), DraftAnswer.id.desc())
    ).all()
    if not rows:
        return None
    current = {item.id: (number, item) for number, item in enumerate(quiz.items, start=1)}
    moved, changed, removed, seen = [], set(), 0, set()
    for draft, _ in rows:
        if draft.item_ref in seen:
            continue  # an older set-aside attempt's answer to the same item: the newest wins
        seen.add(draft.item_ref)
        number, item = current.get(draft.item_ref, (None, None))
        if item is None:
            removed += 1
        elif item.version != draft.item_version:
            changed.add(number)
        else:
            moved.append({name: getattr(draft, name) for name in _COPIED} | {"attempt_id": attempt.id})
    if moved:
        # Anything already saved on the new attempt is newer than what was set aside: it stays.
        insert = sql.dialect_insert()(DraftAnswer.__table__)
        db.session.execute(insert.on_conflict_do_nothing(index_elements=["attempt_id", "item_ref"]), moved)
    db.session.execute(
        delete(DraftAnswer)
        .where(DraftAnswer.attempt_id.in_({attempt_id for _, attempt_id in rows}))
        .execution_options(synchronize_session=False)
    )
    return CarriedOver(len(moved), tuple(sorted(changed)), removed)


def resume(user_id: int, quiz: Quiz) -> tuple[QuizAttempt, CarriedOver | None]:
    """Open (or resume) the learner's attempt at a quiz, bringing along what they saved on an older version."""
    attempt = quizzes.start_attempt(user_id, quiz)
    return attempt, carry_over(user_id, quiz, attempt)


def shown_field(item) -> str:
    """The hidden field by which the attempt's page says which version (fingerprint) of an item it showed."""
    return f"shown-{item.id}"


@dataclass(frozen=True)
class Kept:
    """What came of answers sent from a page of an older version of the quiz (see `keep_unchanged`)."""

    attempt: QuizAttempt
    answers: Answers
    #: The numbers of the items (in the quiz as it is now) whose answers were dropped because they changed.
    changed: tuple[int, ...]
    #: Answers dropped because nothing says which version of the item the learner saw (a page from before
    #: pages said so, and no saved draft of the item).
    unchecked: tuple[int, ...] = ()

    @property
    def message(self) -> str:
        """What the learner is told on the page that shows the kept answers."""
        said = "This quiz was updated while you answered it."
        if not self.changed and not self.unchecked:
            return f"{said} None of the items you answered changed, so your answers are kept: check them and submit again."
        parts = []
        if self.changed:
            parts.append(f"{_numbers(self.changed)} changed")
        if self.unchecked:
            may = _numbers(self.unchecked)
            parts.append(f"{may[0].lower() + may[1:] if parts else may} may have changed")
        it = "it" if len(self.changed) + len(self.unchecked) == 1 else "them"
        return (
            f"{said} Your answers are kept where the items are unchanged. {' and '.join(parts)}, so answer {it} "
            "again, then submit."
        )


def keep_unchanged(user_id: int, quiz: Quiz, stale: QuizAttempt, form) -> Kept:
    """Answers sent from a page of an older version of the quiz: a current attempt with those to unchanged items.

    An item counts as unchanged only when the page showed it with the fingerprint it has now:
    as the page's hidden `shown-*` fields say, or else (a page from before they existed) as the
    stale attempt's saved draft of that item says. Answers to other items are dropped, not saved
    and not shown; the learner is told which. Flushes.
    """
    shown = {
        row.item_ref: row.item_version
        for row in db.session.scalars(select(DraftAnswer).where(DraftAnswer.attempt_id == stale.id))
    }
    shown |= {item.id: form[shown_field(item)] for item in quiz.items if form.get(shown_field(item))}
    fresh, _carried = resume(user_id, quiz)
    sent = read_answers(quiz, form, confidence_required=needs_confidence(fresh))
    kept = Answers(confidence_required=sent.confidence_required)
    changed, unchecked = [], []
    for number, item in enumerate(quiz.items, start=1):
        if shown.get(item.id) == item.version:
            if item.id in sent.given:
                kept.given[item.id] = sent.given[item.id]
            elif item in sent.invalid:
                kept.invalid[item] = sent.invalid[item]
                if item.id in sent.kept:
                    kept.kept[item.id] = sent.kept[item.id]
            else:
                kept.missing.append(item)
            if item.id in sent.confidence:
                kept.confidence[item.id] = sent.confidence[item.id]
            else:
                kept.unsure.append(item)
            continue
        kept.missing.append(item)
        kept.unsure.append(item)
        if item.id in sent.given or item.id in sent.kept or item.id in sent.confidence:
            (changed if item.id in shown else unchecked).append(number)
    # What the page shows is what comes back: the answers kept replace any carried over.
    save(fresh, quiz, kept)
    return Kept(fresh, kept, tuple(changed), tuple(unchecked))
