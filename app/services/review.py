"""The spaced review queue: items answered wrongly, or rightly but unsure, come back on a schedule.

The schedule is PyPI `fsrs` (the Free Spaced Repetition Scheduler); nothing here computes an
interval. Each graded answer to a quiz item is one review of that item's card, rated from the
answer and the learner's confidence (see `RATING_RULES`). An item enters the queue only when
answered wrongly or rightly at "Not sure"; once in, every later answer, wherever it is given
(assessed quiz, practice, a review session), reschedules it.

A card is a `review_card` row: fsrs's own card dictionary (plus the first and last rating, which
fsrs ignores, so the page can say why an item is there), its due time and its review count.
Writes are race-safe: a card is created with INSERT ... ON CONFLICT DO NOTHING on its unique
key, and updated only if its review count is still the one read (a lost race re-reads it and
applies the answer once more). Every statement is prebuilt (app/services/prebuilt.py): a submission
reviews up to a quiz's worth of cards at once. What the pages show of the queue is read in
app/services/review_queue.py.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import current_app
from fsrs import Card, Rating, Scheduler
from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import ReviewCard
from app.services import sql
from app.services.prebuilt import Prebuilt, PrebuiltMany

#: How an answer rates a review, in the words the docs and the review page use.
RATING_RULES = (
    ("Wrong", Rating.Again),
    ("Right, and you said “Not sure”", Rating.Hard),
    ("Right, and you said “Fairly sure” (or were not asked)", Rating.Good),
    ("Right, and you said “Very sure”", Rating.Easy),
)
#: Why a card is in the queue, from the rating of the answer that put it there.
REASONS = {Rating.Again: "You answered it wrongly", Rating.Hard: "You answered it rightly but were not sure"}
#: The last answer to a card, as the page describes it.
LAST_ANSWERS = {
    Rating.Again: "wrong",
    Rating.Hard: "right, not sure",
    Rating.Good: "right",
    Rating.Easy: "right, very sure",
}
#: Tries at the conditional update of one card. Every lost try means another request's review of
#: that card went through, so this only bounds a pathological pile-up of simultaneous answers to
#: one item by one learner; past it the review is dropped (the answer itself is kept elsewhere).
_ATTEMPTS = 10


@dataclass(frozen=True)
class Answered:
    """One graded answer to a quiz item, as the review queue needs it."""

    quiz_ref: str
    item_ref: str
    is_correct: bool
    confidence: int | None


def rating(answer: Answered) -> Rating:
    """The fsrs rating of an answer: wrong Again; right at "Not sure" Hard, "Very sure" Easy, otherwise Good."""
    if not answer.is_correct:
        return Rating.Again
    return {1: Rating.Hard, 3: Rating.Easy}.get(answer.confidence, Rating.Good)


@lru_cache(maxsize=8)
def _scheduler(desired_retention: float | None, fuzzing: bool) -> Scheduler:
    options: dict[str, Any] = {"enable_fuzzing": fuzzing}
    if desired_retention is not None:
        options["desired_retention"] = desired_retention
    return Scheduler(**options)


def scheduler() -> Scheduler:
    """The app's scheduler, from REVIEW_DESIRED_RETENTION (None: fsrs's default) and REVIEW_FUZZING."""
    config = current_app.config
    return _scheduler(config.get("REVIEW_DESIRED_RETENTION"), bool(config.get("REVIEW_FUZZING", True)))


def as_utc(moment: datetime) -> datetime:
    """A moment in the zone fsrs accepts (exactly `timezone.utc`); a naive datetime is refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use app.models.types.utcnow()")
    return moment.astimezone(UTC)


def _stored(card: Card, first: Rating, last: Rating) -> dict[str, Any]:
    """A card as kept in the database: fsrs's dictionary and the first and last ratings."""
    return {**card.to_dict(), "first_rating": int(first), "last_rating": int(last)}


_CARDS = ReviewCard.__table__
_READS: dict[tuple[int, int], Prebuilt] = {}


def _padded(values: set[str]) -> list[str]:
    """The values sorted, the last repeated up to a power of two: a few statement shapes serve every size of list."""
    ordered = sorted(values)
    size = 1 << (len(ordered) - 1).bit_length()
    return ordered + ordered[-1:] * (size - len(ordered))


def _read_statement(quizzes: int, items: int) -> Prebuilt:
    """The learner's cards among so many quizzes and items, compiled once per shape (no IN list expanded per run)."""
    statement = _READS.get((quizzes, items))
    if statement is None:
        statement = _READS[(quizzes, items)] = Prebuilt(
            lambda _dialect: select(_CARDS.c.quiz_ref, _CARDS.c.item_ref, _CARDS.c.card, _CARDS.c.review_count).where(
                _CARDS.c.user_id == bindparam("r_user"),
                _CARDS.c.quiz_ref.in_([bindparam(f"r_quiz{n}") for n in range(quizzes)]),
                _CARDS.c.item_ref.in_([bindparam(f"r_item{n}") for n in range(items)]),
            )
        )
    return statement


def _read(user_id: int, keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[dict[str, Any], int]]:
    """The learner's cards for these items: (stored card, review count) by (quiz_ref, item_ref); one SELECT."""
    if not keys:
        return {}
    quizzes = _padded({quiz_ref for quiz_ref, _ in keys})
    items = _padded({item_ref for _, item_ref in keys})
    # Columns, not ORM objects: the writes below are Core statements an identity map would not see.
    found = _read_statement(len(quizzes), len(items)).fetch(
        {
            "r_user": user_id,
            **{f"r_quiz{n}": ref for n, ref in enumerate(quizzes)},
            **{f"r_item{n}": ref for n, ref in enumerate(items)},
        }
    )
    return {(q, i): (card, count) for q, i, card, count in found if (q, i) in keys}


def _review(user_id: int, key: tuple[str, str], held: tuple[dict[str, Any], int], grade: Rating, now, chosen):
    """Apply one rating to an existing card, conditional on its review count; the new (card, count) or None."""
    for _ in range(_ATTEMPTS):
        stored, count = held
        card, _log = chosen.review_card(Card.from_dict(stored), grade, now)
        first = Rating(stored.get("first_rating", int(grade)))
        new = _stored(card, first, grade)
        written = db.session.execute(
            update(ReviewCard)
            .where(
                ReviewCard.user_id == user_id,
                ReviewCard.quiz_ref == key[0],
                ReviewCard.item_ref == key[1],
                ReviewCard.review_count == count,
            )
            .values(card=new, due_at=card.due, review_count=count + 1, last_reviewed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if written == 1:
            return new, count + 1
        # Another request reviewed the card since it was read: start again from its state now.
        held = _read(user_id, {key}).get(key)
        if held is None:
            return None
    return None


def record_answers(user_id: int, answers: list[Answered], now: datetime, chosen: Scheduler | None = None) -> None:
    """Review the learner's cards for these answers; create cards for items answered wrongly or rightly but unsure.

    Called for every graded quiz-item answer (assessed or practice). However many answers, this is
    one SELECT, at most one INSERT and at most one UPDATE; only a lost race costs more. Flushes, never commits.
    """
    if not answers:
        return
    now = as_utc(now)
    chosen = chosen or scheduler()
    held = _read(user_id, {(a.quiz_ref, a.item_ref) for a in answers})
    # The first answer to each item goes in the batch; a second answer to the same item (never in
    # one quiz, but possible in a hand-made list) follows it one at a time.
    batch: dict[tuple[str, str], Rating] = {}
    later: list[tuple[tuple[str, str], Rating]] = []
    for answer in answers:
        key = (answer.quiz_ref, answer.item_ref)
        if key in batch:
            later.append((key, rating(answer)))
        else:
            batch[key] = rating(answer)
    fresh = {key: grade for key, grade in batch.items() if key not in held and grade in REASONS}
    lost = _create_cards(user_id, fresh, now, chosen)
    if lost:
        # Created meanwhile by another request: these answers are reviews of those cards.
        held.update(_read(user_id, lost))
    reviews = {key: batch[key] for key in batch if key in held and (key not in fresh or key in lost)}
    for key in reviews.keys() - _review_cards(user_id, reviews, held, now, chosen):
        # Reviewed meanwhile by another request: apply this answer on top of the card as it is now.
        current = _read(user_id, {key}).get(key)
        if current is not None:
            _review(user_id, key, current, reviews[key], now, chosen)
    for key, grade in later:
        current = _read(user_id, {key}).get(key)
        if current is not None:
            _review(user_id, key, current, grade, now, chosen)
        elif grade in REASONS:
            _create_cards(user_id, {key: grade}, now, chosen)


def _create_cards(user_id: int, fresh: dict[tuple[str, str], Rating], now, chosen) -> set[tuple[str, str]]:
    """Insert a first-reviewed card for each item in one statement; the keys another request created first."""
    if not fresh:
        return set()
    rows = []
    for (quiz_ref, item_ref), grade in fresh.items():
        # card_id given: fsrs would otherwise sleep a millisecond to make its own unique.
        card, _log = chosen.review_card(Card(card_id=int(now.timestamp() * 1000), due=now), grade, now)
        rows.append(
            {
                "user_id": user_id,
                "quiz_ref": quiz_ref,
                "item_ref": item_ref,
                "card": _stored(card, grade, grade),
                "due_at": card.due,
                "review_count": 1,
                "created_at": now,
                "last_reviewed_at": now,
            }
        )
    created = set(_CREATE_CARDS.run(rows))
    return set(fresh) - created


_CARD_KEYS = ("user_id", "quiz_ref", "item_ref", "card", "due_at", "review_count", "created_at", "last_reviewed_at")
#: INSERT ... ON CONFLICT DO NOTHING RETURNING the keys, for every fresh card of an answer set at once
#: (executemany cannot return rows); compiled once per dialect and number of rows.
_CREATE_CARDS = PrebuiltMany(
    lambda dialect, count: (
        sql.INSERTS[dialect](_CARDS)
        .values([{key: bindparam(f"{key}_{n}", type_=_CARDS.c[key].type) for key in _CARD_KEYS} for n in range(count)])
        .on_conflict_do_nothing(index_elements=["user_id", "quiz_ref", "item_ref"])
        .returning(_CARDS.c.quiz_ref, _CARDS.c.item_ref)
    ),
    _CARD_KEYS,
)


#: One conditional UPDATE of a card, run for many cards at once (executemany): built once, its
#: compiled form cached, where a statement naming every card would be built anew each time.
_UPDATE_CARD = Prebuilt(
    lambda _dialect: (
        update(_CARDS)
        .where(
            ReviewCard.user_id == bindparam("b_user"),
            ReviewCard.quiz_ref == bindparam("b_quiz"),
            ReviewCard.item_ref == bindparam("b_item"),
            ReviewCard.review_count == bindparam("b_count"),
        )
        .values(
            card=bindparam("b_card", type_=ReviewCard.card.type),
            due_at=bindparam("b_due", type_=ReviewCard.due_at.type),
            review_count=ReviewCard.review_count + 1,
            last_reviewed_at=bindparam("b_now", type_=ReviewCard.last_reviewed_at.type),
        )
    )
)


def _review_cards(user_id: int, reviews: dict[tuple[str, str], Rating], held, now, chosen) -> set[tuple[str, str]]:
    """Apply one rating to each held card, each update conditional on its review count; the keys updated.

    One executemany. When fewer rows changed than were sent (another request reviewed some card
    in between), one read finds which cards carry this review.
    """
    if not reviews:
        return set()
    written: dict[tuple[str, str], dict[str, Any]] = {}
    params = []
    for key, grade in reviews.items():
        stored, count = held[key]
        card, _log = chosen.review_card(Card.from_dict(stored), grade, now)
        first = Rating(stored.get("first_rating", int(grade)))
        # A token of this very review: two requests applying the same rating to the same card
        # write equal cards, and only the token tells which of them the row now holds.
        written[key] = {**_stored(card, first, grade), "review_token": secrets.token_hex(8)}
        params.append(
            {
                "b_user": user_id,
                "b_quiz": key[0],
                "b_item": key[1],
                "b_count": count,
                "b_card": written[key],
                "b_due": card.due,
                "b_now": now,
            }
        )
    # Core, prebuilt, on the session's connection: the ORM would take a list of parameters for a
    # bulk update by primary key, which this is not.
    changed = _UPDATE_CARD.run_many(params)
    if changed == len(params):
        return set(written)
    now_held = _read(user_id, set(written))
    return {key for key, card in written.items() if key in now_held and now_held[key][0] == card}
