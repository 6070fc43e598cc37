"""An observation form's fields and back: each named by its path in the form file ("anchors.3", "patient.items.2.text").

Fixed numbers of slots (the most a form file allows: eight patient statements), so the forms work
without scripts; an empty slot or field is left out, so the content checker names what is missing
at the field it belongs to. What an author typed is kept even where the checker objects to it
(anchors on a not-done item, a source not in the references): the message says what to change.
"""

from collections.abc import Mapping
from typing import Any

from app.author.fields import _ids, _put, _text
from app.content.observations import ANCHOR_POINTS

#: Slots the forms offer: the patient's form takes 2 to 8 statements; sources are few.
PATIENT_ITEMS = 8
REFERENCES = 6
SCALES = (("done", "Not done / partly / done"), ("anchored", "Anchored 1 to 5, with a wording for each point"))


def item_from_form(form: Mapping) -> dict:
    """The behaviour item a submitted item form describes (its id is the caller's)."""
    item: dict[str, Any] = {}
    _put(item, "text", _text(form, "text"))
    _put(item, "competencies", _ids(_text(form, "competencies")))
    if form.get("critical") == "yes":
        item["critical"] = True
    scale = _text(form, "scale")
    if scale and scale != "done":
        item["scale"] = scale[:40]
    anchors: dict[str, str] = {}
    for point in ANCHOR_POINTS:
        _put(anchors, str(point), _text(form, f"anchors.{point}"))
    if anchors or scale == "anchored":
        item["anchors"] = anchors
    _put(item, "source", _text(form, "source")[:100])
    return item


def _free_ids(existing: list, count: int, prefix: str) -> list[str]:
    """Each slot's id: the one its entry had, else `<prefix><n>` with the first number not yet used."""
    ids = [e.get("id") if isinstance(e, dict) and isinstance(e.get("id"), str) else None for e in existing][:count]
    ids += [None] * (count - len(ids))
    used = set(ids)
    free = (f"{prefix}{n}" for n in range(1, 10 * count) if f"{prefix}{n}" not in used)
    return [i or next(free) for i in ids]


def patient_from_form(form: Mapping, existing: Any) -> dict:
    """The patient's short form the patient form describes (empty when nothing was written)."""
    patient: dict[str, Any] = {}
    _put(patient, "intro", _text(form, "patient.intro"))
    old = existing.get("items") if isinstance(existing, dict) and isinstance(existing.get("items"), list) else []
    ids = _free_ids(old, PATIENT_ITEMS, "p")
    items = []
    for n in range(PATIENT_ITEMS):
        entry: dict[str, Any] = {}
        _put(entry, "text", _text(form, f"patient.items.{n}.text"))
        _put(entry, "competencies", _ids(_text(form, f"patient.items.{n}.competencies")))
        if entry:
            items.append({"id": ids[n], **entry})
    _put(patient, "items", items)
    return patient


def references_from_form(form: Mapping) -> list[dict]:
    """The sources the references form describes (empty slots left out)."""
    found = []
    for n in range(REFERENCES):
        entry: dict[str, str] = {}
        _put(entry, "id", _text(form, f"references.{n}.id").lower()[:100])
        _put(entry, "text", _text(form, f"references.{n}.text"))
        if entry:
            found.append(entry)
    return found


def item_known() -> set[str]:
    """Every field and group of the item form with an id of its own ("" is the whole item)."""
    return {"", "text", "competencies", "critical", "scale", "anchors", "source"} | {
        f"anchors.{p}" for p in ANCHOR_POINTS
    }


def page_known() -> set[str]:
    """Every field and group of the form's own page with an id of its own."""
    names = {"title", "module", "consultation", "minutes", "pass_mark", "about", "items", "references", "patient"}
    names |= {"patient.intro", "patient.items"}
    for n in range(PATIENT_ITEMS):
        names |= {f"patient.items.{n}", f"patient.items.{n}.text", f"patient.items.{n}.competencies"}
    for n in range(REFERENCES):
        names |= {f"references.{n}", f"references.{n}.id", f"references.{n}.text"}
    return names
