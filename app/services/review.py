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
applies the answer once more).
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from html import escape
from typing import Any

from flask import current_app
from fsrs import Card, Rating, Scheduler
from markupsafe import Markup
from sqlalchemy import and_, bindparam, case, func, select, update

from app.content import Quiz
from app.content.catalog import Catalog
from app.content.items import Item
from app.extensions import db
from app.models import ReviewCard
from app.services import sql
from app.services.reports import item_text

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


def _utc(moment: datetime) -> datetime:
    """fsrs accepts only datetimes whose zone is exactly `timezone.utc`."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use app.models.types.utcnow()")
    return moment.astimezone(UTC)


def _stored(card: Card, first: Rating, last: Rating) -> dict[str, Any]:
    """A card as kept in the database: fsrs's dictionary and the first and last ratings."""
    return {**card.to_dict(), "first_rating": int(first), "last_rating": int(last)}


#: The learner's cards among some quizzes' items: built once (expanding lists), its compiled form cached.
_READ_CARDS = select(ReviewCard.quiz_ref, ReviewCard.item_ref, ReviewCard.card, ReviewCard.review_count).where(
    ReviewCard.user_id == bindparam("r_user"),
    ReviewCard.quiz_ref.in_(bindparam("r_quizzes", expanding=True)),
    ReviewCard.item_ref.in_(bindparam("r_items", expanding=True)),
)


def _read(user_id: int, keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[dict[str, Any], int]]:
    """The learner's cards for these items: (stored card, review count) by (quiz_ref, item_ref); one SELECT."""
    if not keys:
        return {}
    # Columns, not ORM objects: the writes below are Core statements an identity map would not see.
    found = db.session.connection().execute(
        _READ_CARDS,
        {
            "r_user": user_id,
            "r_quizzes": sorted({quiz_ref for quiz_ref, _ in keys}),
            "r_items": sorted({item_ref for _, item_ref in keys}),
        },
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
    now = _utc(now)
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
    created = {(q, i) for q, i in db.session.execute(_create_statement(), rows)}
    return set(fresh) - created


_CREATE: dict[str, Any] = {}


def _create_statement():
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the keys, built once per dialect and run for many rows at once.

    One statement with every row's values in it would be built and compiled anew for each submission.
    """
    dialect = db.session.get_bind().dialect.name
    statement = _CREATE.get(dialect)
    if statement is None:
        statement = _CREATE[dialect] = (
            sql.dialect_insert()(ReviewCard)
            .on_conflict_do_nothing(index_elements=["user_id", "quiz_ref", "item_ref"])
            .returning(ReviewCard.quiz_ref, ReviewCard.item_ref)
        )
    return statement


#: One conditional UPDATE of a card, run for many cards at once (executemany): built once, its
#: compiled form cached, where a statement naming every card would be built anew each time.
_UPDATE_CARD = (
    update(ReviewCard)
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
    # Core, on the session's connection: the ORM would take a list of parameters for a bulk
    # update by primary key, which this is not.
    changed = db.session.connection().execute(_UPDATE_CARD, params).rowcount
    if changed == len(params):
        return set(written)
    now_held = _read(user_id, set(written))
    return {key for key, card in written.items() if key in now_held and now_held[key][0] == card}


# --- reading the queue


@dataclass(frozen=True)
class DueItem:
    """A card that is due, with the quiz and item it names."""

    quiz: Quiz
    item: Item
    due_at: datetime
    last_reviewed_at: datetime | None
    review_count: int
    first_rating: Rating
    last_rating: Rating

    @property
    def key(self) -> str:
        """The item key, "<quiz_id>/<item_id>"."""
        return f"{self.quiz.id}/{self.item.id}"

    @property
    def reason(self) -> str:
        """Why the item is in the queue, from the answer that put it there."""
        return REASONS.get(self.first_rating, "You answered it rightly but were not sure")

    @property
    def last_answer(self) -> str:
        """The last answer, in words: "wrong", "right, not sure", "right", "right, very sure"."""
        return LAST_ANSWERS[self.last_rating]

    @property
    def prompt_text(self) -> str:
        """The start of the item's prompt as plain text (never its answer)."""
        return item_text(self.item)


@dataclass(frozen=True)
class Due:
    """The items due now, in due order, and how many due cards name content no longer offered."""

    items: tuple[DueItem, ...]
    unavailable: int


def _ratings(stored: dict[str, Any]) -> tuple[Rating, Rating]:
    first = Rating(stored.get("first_rating", int(Rating.Again)))
    return first, Rating(stored.get("last_rating", int(first)))


def due(user_id: int, catalog: Catalog, now: datetime) -> Due:
    """The learner's due items, earliest first, skipping (but keeping) cards whose quiz or item is gone; one query."""
    cards = db.session.scalars(
        select(ReviewCard)
        .where(ReviewCard.user_id == user_id, ReviewCard.due_at <= now)
        .order_by(ReviewCard.due_at, ReviewCard.id)
    )
    items, unavailable = [], 0
    for card in cards:
        quiz = catalog.quiz(card.quiz_ref)
        item = quiz.item(card.item_ref) if quiz is not None else None
        if item is None:
            unavailable += 1
            continue
        first, last = _ratings(card.card)
        items.append(DueItem(quiz, item, card.due_at, card.last_reviewed_at, card.review_count, first, last))
    return Due(tuple(items), unavailable)


# Built once: the home page asks on every visit.
_DUE = select(ReviewCard.quiz_ref, ReviewCard.item_ref).where(
    ReviewCard.user_id == bindparam("user_id"), ReviewCard.due_at <= bindparam("now")
)


def due_count(user_id: int, catalog: Catalog, now: datetime) -> int:
    """How many items still offered are due now; one query (for the home page)."""
    found = db.session.execute(_DUE, {"user_id": user_id, "now": now})
    return sum(1 for quiz_ref, item_ref in found if (q := catalog.quiz(quiz_ref)) and q.item(item_ref))


@dataclass(frozen=True)
class DayCount:
    """How many cards fall due on one day (after now)."""

    day: date
    count: int


@dataclass(frozen=True)
class Upcoming:
    """The queue's size, what is due now, and what falls due on each of the coming days."""

    total: int
    due_now: int
    days: tuple[DayCount, ...]

    @property
    def later(self) -> int:
        """Cards due after the last day counted."""
        return self.total - self.due_now - sum(d.count for d in self.days)


def upcoming(user_id: int, catalog: Catalog, now: datetime, days: int = 7) -> Upcoming:
    """Cards due later today and on each of the next days (UTC calendar days), with totals; one query.

    Cards of items no longer offered are kept but not counted, as the due list leaves them out.
    """
    now = _utc(now)
    today = now.date()
    bounds = [now] + [datetime.combine(today + timedelta(days=n), time(), UTC) for n in range(1, days + 1)]

    def between(start, end):
        # Half-open days, after now: an item due at midnight belongs to the day it opens.
        falls = and_(ReviewCard.due_at > now, ReviewCard.due_at >= start, ReviewCard.due_at < end)
        return func.coalesce(func.sum(case((falls, 1), else_=0)), 0)

    due_now = func.coalesce(func.sum(case((ReviewCard.due_at <= now, 1), else_=0)), 0)
    per_card = db.session.execute(
        select(
            ReviewCard.quiz_ref,
            ReviewCard.item_ref,
            func.count(),
            due_now,
            *(between(a, b) for a, b in zip(bounds, bounds[1:], strict=False)),
        )
        .where(ReviewCard.user_id == user_id)
        .group_by(ReviewCard.quiz_ref, ReviewCard.item_ref)
    )
    sums = [0] * (2 + days)
    for quiz_ref, item_ref, *numbers in per_card:
        if (quiz := catalog.quiz(quiz_ref)) and quiz.item(item_ref):
            sums = [a + int(b) for a, b in zip(sums, numbers, strict=True)]
    total, now_count, *counts = sums
    return Upcoming(total, now_count, tuple(DayCount(today + timedelta(days=n), c) for n, c in enumerate(counts)))


def day_label(day: date, today: date) -> str:
    """A day as the page names it: "Today", "Tomorrow" or "Mon 24 Nov"."""
    offset = (day - today).days
    return {0: "Today", 1: "Tomorrow"}.get(offset, day.strftime("%a %-d %b"))


def week_chart(coming: Upcoming, title: str = "Items coming due in the next 7 days") -> Markup:
    """The coming days' counts as a small server-drawn column chart; the page gives the same numbers in a table.

    No viewBox: the chart is never scaled, so its 13 px text stays 13 px on a phone; columns are
    percentages of its width, heights are pixels.
    """
    plot, top, bottom = 110, 22, 44
    column = 100 / max(len(coming.days), 1)
    height = top + plot + bottom
    highest = max((d.count for d in coming.days), default=0) or 1
    today = coming.days[0].day if coming.days else None
    ink = "#1d2733"
    description = (
        "; ".join(f"{day_label(d.day, today)}: {d.count}" for d in coming.days)
        + ". Today counts only what falls due later today."
    )
    parts = [
        f'<svg class="chart review-chart" width="100%" height="{height}" role="img" '
        'aria-labelledby="review-week-title review-week-desc" focusable="false" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="13" fill="{ink}" '
        'text-anchor="middle">',
        f'<title id="review-week-title">{escape(title)}</title>',
        f'<desc id="review-week-desc">{escape(description)}</desc>',
    ]
    base = top + plot
    for index, d in enumerate(coming.days):
        middle = f"{index * column + column / 2:.2f}%"
        bar = round(plot * d.count / highest, 1)
        if d.count:
            parts.append(
                f'<rect x="{index * column + column / 6:.2f}%" y="{base - bar}" width="{column * 2 / 3:.2f}%" '
                f'height="{bar}" fill="#0b5c7a"></rect>'
            )
        parts.append(f'<text x="{middle}" y="{base - bar - 6}" font-weight="700">{d.count}</text>')
        # "Tomorrow" is wider than a column on a phone: the chart names weekdays; its table says "Tomorrow".
        weekday = "Today" if d.day == today else d.day.strftime("%a")
        parts.append(f'<text x="{middle}" y="{base + 18}">{weekday}</text>')
        parts.append(f'<text x="{middle}" y="{base + 36}">{d.day.strftime("%-d %b")}</text>')
    parts.append(f'<line x1="0" y1="{base}" x2="100%" y2="{base}" stroke="{ink}" stroke-width="2"></line>')
    parts.append("</svg>")
    return Markup("".join(parts))
