"""What other areas do when a learner makes progress: grades sent to a platform, certificates issued.

The learning services call `progress_made` inside the request's transaction, after their own rows
are written (a lesson completed, a quiz submitted, a conversation finished; the observations area
also announces a station whose ratings are released, kind "station"). Listeners run in that
same transaction: they may add rows (an outbox entry, a certificate) and flush, never commit, so
the progress and what follows from it are saved together or not at all. A listener registers
once, by name, when its area's package is imported (so re-importing never doubles it).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One step a learner took: what kind of activity, which one, and the attempt when there is one."""

    user_id: int
    kind: str  # "lesson", "quiz", "conversation", or "station" (an observed station's results released)
    ref: str  # the lesson's "module_id/lesson_id", the quiz's or conversation's id, the station's id
    attempt_id: int | None = None


_listeners: dict[str, Callable[[Progress], None]] = {}


def on_progress(name: str, listener: Callable[[Progress], None]) -> None:
    """Have `listener` called after every step of progress; a second registration under a name replaces the first."""
    _listeners[name] = listener


def progress_made(progress: Progress) -> None:
    """Tell every listener about a step of progress (inside the caller's transaction)."""
    for listener in list(_listeners.values()):
        listener(progress)
