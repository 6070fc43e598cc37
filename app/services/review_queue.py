"""Reading the spaced review queue: the items due now, and what falls due on each of the coming days.

The queue is written by app/services/review.py (every graded answer to a quiz item); this is what
the review page and the home page show of it.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any

from fsrs import Rating
from markupsafe import Markup
from sqlalchemy import and_, bindparam, case, func, select

from app.content import Quiz
from app.content.catalog import Catalog
from app.content.items import Item
from app.extensions import db
from app.models import ReviewCard
from app.services.reports import item_text
from app.services.review import LAST_ANSWERS, REASONS, as_utc


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
    now = as_utc(now)
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
