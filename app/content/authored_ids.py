"""Ids of authored content: `a-<number>-<slug>`, a prefix no shipped file may use, so the two never collide."""

import re

from app.content.checker import SLUG

#: An authored quiz's id: "a-", the authored quiz's number, "-", a slug of its first title.
AUTHORED_ID = re.compile(r"^a-[0-9]+(-|$)")


def is_authored(content_id: str) -> bool:
    """Whether the id belongs to content written in the browser (app/author)."""
    return bool(AUTHORED_ID.match(content_id))


def make_id(number: int, title: str) -> str:
    """The id of authored quiz `number`, readable from its title: 'a-12-talking-about-goals'."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    slug = "-".join(words)[:60].strip("-")
    found = f"a-{number}-{slug}" if slug else f"a-{number}"
    return found if SLUG.match(found) else f"a-{number}"
