"""Budgets counted by hand in Flask-Limiter's storage, where a view decides what counts and what to say.

They share RATELIMIT_STORAGE_URI with the decorated limits, so with a shared store (redis://) every
worker spends from one budget.
"""

import math
import time

from limits import parse

from app.extensions import limiter


def seconds_left(limit: str, *key: str) -> int:
    """Seconds until the budget `limit` of `key` has room again (at least 1)."""
    reset_at, _ = limiter.limiter.get_window_stats(parse(limit), *key)
    return max(1, math.ceil(reset_at - time.time()))


def has_room(limit: str, *key: str) -> bool:
    """Whether one more may be spent from the budget, without spending it."""
    return not limiter.enabled or limiter.limiter.test(parse(limit), *key)


def spend(limit: str, *key: str) -> int | None:
    """Spend one from the budget: None while it had room, else the seconds to wait."""
    if not limiter.enabled:
        return None
    return None if limiter.limiter.hit(parse(limit), *key) else seconds_left(limit, *key)


def seconds(count: int) -> str:
    """A count of seconds in words: 1 second, 42 seconds."""
    return f"{count} second{'' if count == 1 else 's'}"


def minutes(count_seconds: int) -> str:
    """Seconds in words as whole minutes, rounded up: 1 minute, 12 minutes."""
    count = max(1, math.ceil(count_seconds / 60))
    return f"{count} minute{'' if count == 1 else 's'}"
