"""A conversation's forms and back: each field named by its path in the conversation file ("replies.1.next.0.if").

Fixed numbers of slots (the most a conversation file allows: four replies a node, four counters),
so the forms work without scripts; an empty slot is left out and an empty field is left out of its
mapping, so the content checker names what is missing at the field it belongs to.
"""

from collections.abc import Mapping
from typing import Any

from app.author.fields import GRADES, MAX_TEXT, _ids, _option_ids, _put, _text
from app.services.authored_conversations import MAX_COUNTERS, number_or_text

REPLIES = 4
ROUTES = 3
ENDINGS = 6
OUTCOMES = (("good", "Good"), ("mixed", "Mixed"), ("poor", "Poor"))
__all__ = ["GRADES", "OUTCOMES"]


def _routes(form: Mapping, n: int) -> Any:
    """A reply's `next`: one id when there is a single route without a condition, else the list of routes."""
    routes = []
    for m in range(ROUTES):
        route: dict[str, str] = {}
        _put(route, "if", _text(form, f"replies.{n}.next.{m}.if"))
        _put(route, "to", _text(form, f"replies.{n}.next.{m}.to"))
        if route:
            routes.append(route)
    if len(routes) == 1 and set(routes[0]) == {"to"}:
        return routes[0]["to"]
    return routes


def node_from_form(form: Mapping, counter_ids: list[str], existing: dict) -> dict:
    """The node mapping a submitted node form describes (its id is the caller's)."""
    node: dict[str, Any] = {}
    _put(node, "narration", _text(form, "narration"))
    _put(node, "patient", _text(form, "patient"))
    replies = []
    ids = _option_ids(existing.get("replies") or [], REPLIES)
    for n in range(REPLIES):
        reply: dict[str, Any] = {}
        _put(reply, "text", _text(form, f"replies.{n}.text"))
        _put(reply, "grade", _text(form, f"replies.{n}.grade"))
        _put(reply, "competencies", _ids(_text(form, f"replies.{n}.competencies")))
        _put(reply, "feedback", _text(form, f"replies.{n}.feedback"))
        _put(reply, "debrief", _text(form, f"replies.{n}.debrief"))
        effects: dict[str, int | str] = {}
        for counter_id in counter_ids:
            raw = _text(form, f"replies.{n}.effects.{counter_id}")
            if raw and raw not in ("0", "+0", "-0"):
                effects[counter_id] = number_or_text(raw.lstrip("+"))
        _put(reply, "effects", effects)
        _put(reply, "next", _routes(form, n))
        if reply:
            replies.append({"id": ids[n], **reply})
    _put(node, "replies", replies)
    return node


def counters_from_form(form: Mapping) -> list[dict]:
    """The counters the counters form describes (empty slots left out)."""
    counters = []
    for n in range(MAX_COUNTERS):
        counter: dict[str, Any] = {}
        _put(counter, "id", _text(form, f"counters.{n}.id").lower())
        _put(counter, "label", _text(form, f"counters.{n}.label"))
        for key in ("start", "min", "max"):
            raw = _text(form, f"counters.{n}.{key}")
            if raw:
                counter[key] = number_or_text(raw)
        if counter.get("id") or counter.get("label"):
            counters.append(counter)
    return counters


def endings_from_form(form: Mapping) -> list[dict]:
    """The endings the endings form describes (empty slots left out)."""
    endings = []
    for n in range(ENDINGS):
        ending: dict[str, Any] = {}
        _put(ending, "id", _text(form, f"endings.{n}.id").lower())
        _put(ending, "title", _text(form, f"endings.{n}.title"))
        _put(ending, "debrief", _text(form, f"endings.{n}.debrief"))
        if ending:
            _put(ending, "outcome", _text(form, f"endings.{n}.outcome"))
            endings.append(ending)
    return endings


def values(mapping: Any, path: str = "") -> dict[str, str]:
    """Every field's current value by field name, for a node, the counters or the endings."""
    found: dict[str, str] = {}

    def walk(value: Any, at: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                name = f"{at}.{key}" if at else str(key)
                if key == "competencies" and isinstance(child, list):
                    found[name] = ", ".join(str(c) for c in child)
                elif key == "next" and isinstance(child, str):
                    found[f"{name}.0.to"] = child
                else:
                    walk(child, name)
        elif isinstance(value, list):
            for n, child in enumerate(value):
                walk(child, f"{at}.{n}" if at else str(n))
        elif value is not None:
            found[at] = str(value)[:MAX_TEXT]

    walk(mapping, path)
    return found


def node_known(counter_ids: list[str]) -> set[str]:
    """Every field and group of the node form with an id of its own ("" is the whole node)."""
    names = {"", "narration", "patient", "replies"}
    for n in range(REPLIES):
        reply = f"replies.{n}"
        names |= {reply, *(f"{reply}.{k}" for k in ("text", "grade", "competencies", "feedback", "debrief"))}
        names |= {f"{reply}.effects", f"{reply}.next"}
        names |= {f"{reply}.effects.{c}" for c in counter_ids}
        for m in range(ROUTES):
            names |= {f"{reply}.next.{m}", f"{reply}.next.{m}.if", f"{reply}.next.{m}.to"}
    return names


def nearest(names: set[str], path: str) -> str:
    """The field or group of a form that shows a problem found at `path`."""
    parts = path.split(".") if path else []
    while parts:
        if ".".join(parts) in names:
            return ".".join(parts)
        parts.pop()
    return ""
