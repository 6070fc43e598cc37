"""An item's form fields and back: every field named by its path inside the item ("options.2.feedback").

The forms have a fixed number of slots (the most each type allows), so they work without scripts;
an empty slot is left out of the item, and an empty field is left out of its mapping, so the
content checker names what is missing at the field it belongs to.
"""

import re
from collections.abc import Mapping
from typing import Any

#: Slots each form offers: the most options, steps, pairs and distractors the item types accept.
SCENARIO_OPTIONS = 5
RESPONSE_OPTIONS = 8
STEPS = 8
PAIRS = 8
DISTRACTORS = 6
GRADES = ("best", "acceptable", "unhelpful", "harmful")
#: The longest text a field takes (a vignette or feedback is a paragraph or two).
MAX_TEXT = 4000
_LETTERS = "abcdefgh"
_SPLIT = re.compile(r"[\s,;]+")


def _text(form: Mapping, name: str) -> str:
    value = form.get(name) or ""
    value = value.replace("\r\n", "\n").strip()
    return value[:MAX_TEXT]


def _ids(text: str) -> list[str]:
    """Competency ids typed into one field, separated by commas or spaces."""
    return [part for part in _SPLIT.split(text) if part]


def _put(target: dict, key: str, value: Any) -> None:
    if value not in ("", None, [], {}):
        target[key] = value


def _option_ids(existing: list, count: int) -> list[str]:
    """Each slot's option id: the one it had, else the first letter not yet used."""
    ids = [e.get("id") if isinstance(e, dict) else None for e in existing][:count]
    ids += [None] * (count - len(ids))
    used = {i for i in ids if i}
    free = iter(letter for letter in _LETTERS if letter not in used)
    return [i or next(free, f"o{n}") for n, i in enumerate(ids, start=1)]


def item_from_form(item_type: str, form: Mapping, existing: dict) -> dict:
    """The item mapping a submitted item form describes (its id and type are the caller's)."""
    item: dict[str, Any] = {}
    if item_type == "scenario":
        vignette: dict[str, str] = {}
        for key in ("patient", "setting", "says"):
            _put(vignette, key, _text(form, f"vignette.{key}"))
        _put(item, "vignette", vignette)
        _put(item, "prompt", _text(form, "prompt"))
        options = []
        ids = _option_ids(existing.get("options") or [], SCENARIO_OPTIONS)
        for n in range(SCENARIO_OPTIONS):
            option: dict[str, Any] = {}
            _put(option, "text", _text(form, f"options.{n}.text"))
            _put(option, "grade", _text(form, f"options.{n}.grade"))
            _put(option, "competencies", _ids(_text(form, f"options.{n}.competencies")))
            _put(option, "feedback", _text(form, f"options.{n}.feedback"))
            if option:
                options.append({"id": ids[n], **option})
        _put(item, "options", options)
        return item
    _put(item, "prompt", _text(form, "prompt"))
    _put(item, "competencies", _ids(_text(form, "competencies")))
    if item_type == "ordering":
        _put(item, "steps", [s for n in range(STEPS) if (s := _text(form, f"steps.{n}"))])
    elif item_type == "matching":
        pairs = []
        for n in range(PAIRS):
            pair: dict[str, str] = {}
            _put(pair, "prompt", _text(form, f"pairs.{n}.prompt"))
            _put(pair, "answer", _text(form, f"pairs.{n}.answer"))
            if pair:
                pairs.append(pair)
        _put(item, "pairs", pairs)
        _put(item, "distractors", [d for n in range(DISTRACTORS) if (d := _text(form, f"distractors.{n}"))])
    elif item_type == "multiple_response":
        options = []
        ids = _option_ids(existing.get("options") or [], RESPONSE_OPTIONS)
        for n in range(RESPONSE_OPTIONS):
            option = {}
            _put(option, "text", _text(form, f"options.{n}.text"))
            _put(option, "feedback", _text(form, f"options.{n}.feedback"))
            correct = form.get(f"options.{n}.correct")
            if correct in ("yes", "no"):
                option["correct"] = correct == "yes"
            if option:
                options.append({"id": ids[n], **option})
        _put(item, "options", options)
    _put(item, "feedback", _text(form, "feedback"))
    return item


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def form_values(item: dict) -> dict[str, str]:
    """Every field's current value for the item form, by field name (the inverse of `item_from_form`)."""
    values: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key == "competencies":
                    values[f"{path}.{key}" if path else key] = _str(child)
                else:
                    walk(child, f"{path}.{key}" if path else key)
        elif isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
            for n, child in enumerate(value):
                values[f"{path}.{n}"] = _str(child)
        elif isinstance(value, list):
            for n, child in enumerate(value):
                walk(child, f"{path}.{n}")
        elif isinstance(value, bool):
            values[path] = "yes" if value else "no"
        else:
            values[path] = _str(value)

    walk({k: v for k, v in item.items() if k not in ("id", "type")}, "")
    return values


def slots(item_type: str) -> dict[str, int]:
    """How many of each repeated part the item's form shows."""
    return {
        "scenario": {"options": SCENARIO_OPTIONS},
        "multiple_response": {"options": RESPONSE_OPTIONS},
        "ordering": {"steps": STEPS},
        "matching": {"pairs": PAIRS, "distractors": DISTRACTORS},
    }.get(item_type, {})


def anchor(path: str) -> str:
    """The HTML id of a field's input, from its path."""
    return "f-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def known(item_type: str) -> set[str]:
    """Every field and group the item's form renders with an id of its own ("" is the whole item)."""
    names = {"", "prompt"}
    if item_type == "scenario":
        names |= {"vignette", "vignette.patient", "vignette.setting", "vignette.says", "options"}
        for n in range(SCENARIO_OPTIONS):
            names |= {f"options.{n}", *(f"options.{n}.{k}" for k in ("text", "grade", "competencies", "feedback"))}
        return names
    names |= {"competencies", "feedback"}
    if item_type == "ordering":
        names |= {"steps", *(f"steps.{n}" for n in range(STEPS))}
    elif item_type == "matching":
        names |= {"pairs", "distractors", *(f"distractors.{n}" for n in range(DISTRACTORS))}
        for n in range(PAIRS):
            names |= {f"pairs.{n}", f"pairs.{n}.prompt", f"pairs.{n}.answer"}
    elif item_type == "multiple_response":
        names |= {"options"}
        for n in range(RESPONSE_OPTIONS):
            names |= {f"options.{n}", *(f"options.{n}.{k}" for k in ("text", "correct", "feedback"))}
    return names


def nearest(item_type: str, path: str) -> str:
    """The field or group of the form that shows a problem found at `path` inside the item."""
    names = known(item_type)
    parts = path.split(".") if path else []
    while parts:
        if ".".join(parts) in names:
            return ".".join(parts)
        parts.pop()
    return ""
