"""Observation forms written in the browser: the draft's settings, behaviour items, patient's form and sources.

An observation form is an authored quiz row whose draft is a `type: observation` file's mapping
(app/content/observations.py), so drafts, the checker, publishing, versions, sharing, withdrawal
and files in and out are the quiz editor's (app/services/authoring.py). Moving, copying and
deleting behaviour items are the quiz editor's item functions too. Services flush, never commit.
"""

import copy

from app.content import Catalog
from app.content.authored_ids import is_authored
from app.content.observations import ObservationForm
from app.models import AuthoredQuiz, User
from app.services.authoring import AuthoringError, _fresh_id, _items, _save, create, offered_to

#: The checker takes 2 to 30 behaviour items (app/content/observations.py).
MAX_ITEMS = 30
#: The settings of the form page, in the order a form file has them.
SETTINGS = ("title", "module", "consultation", "minutes", "pass_mark", "about")


def create_observation(owner: User, title: str, module_id: str, consultation: str, minutes: int) -> AuthoredQuiz:
    """A new draft observation form owned by `owner`: its consultation, no items or sources yet."""
    form = create(owner, title, module_id)
    draft = {
        "id": form.ref,
        "type": "observation",
        "title": form.draft["title"],
        "module": module_id,
        "consultation": consultation,
        "minutes": minutes,
        "pass_mark": 60,
        "items": [],
    }
    _save(form, draft)
    return form


def _draft(form: AuthoredQuiz) -> dict:
    if not form.is_observation:
        raise AuthoringError(f"This is a {form.kind}, not an observation form.")
    return copy.deepcopy(form.draft)


def update_settings(form: AuthoredQuiz, settings: dict) -> None:
    """Set title, module, consultation, minutes, pass mark and about (empty ones removed, so the checker names them)."""
    draft = _draft(form)
    for key in SETTINGS:
        value = settings.get(key)
        if value in (None, ""):
            draft.pop(key, None)
        else:
            draft[key] = value
    _save(form, draft)


def add_behaviour(form: AuthoredQuiz, scale: str) -> int:
    """Add an empty behaviour item rated on this scale ('done' or 'anchored') at the end; return its position."""
    draft = _draft(form)
    if scale not in ("done", "anchored"):
        raise AuthoringError("Choose the item's scale: not done / partly / done, or anchored 1 to 5.")
    items = _items(form)
    if len(items) >= MAX_ITEMS:
        raise AuthoringError(f"An observation form can have at most {MAX_ITEMS} items; split the station in two.")
    item: dict = {"id": _fresh_id(form, items)}
    if scale == "anchored":
        item |= {"scale": "anchored", "anchors": {}}
    items.append(item)
    _save(form, {**draft, "items": items})
    return len(items)


def update_patient(form: AuthoredQuiz, patient: dict | None) -> None:
    """Replace the patient's short form (intro and statements); None or nothing in it removes it."""
    draft = _draft(form)
    if patient:
        draft["patient"] = patient
    else:
        draft.pop("patient", None)
    _save(form, draft)


def update_references(form: AuthoredQuiz, references: list[dict]) -> None:
    """Replace the sources the form cites (an item's `source` names one; the checker says if one is missing)."""
    draft = _draft(form)
    if references:
        draft["references"] = references
    else:
        draft.pop("references", None)
    _save(form, draft)


def replace_draft(form: AuthoredQuiz, data: dict) -> None:
    """Make an imported observation form file the draft (its id replaced by this form's)."""
    _save(form, {**copy.deepcopy(data), "type": "observation"})


def offered_forms(user: User, catalog: Catalog) -> list[ObservationForm]:
    """The forms a new station of this educator's may use: shipped ones, and their own, shared or site-wide
    authored ones that are not withdrawn (never another educator's private form)."""
    offered = offered_to(user)
    return [f for f in catalog.observations if not is_authored(f.id) or f.id in offered]
