"""Who may open what in the observation form editor (/author/.../observation): every route for every role.

The world: a valid three-item draft observation form owned by the educator (for other roles, by "Teacher"),
shared with "Colleague". As in the quiz editor, only its owner and co-editors open it; another educator and the
admin (who owns nothing of it) get a 404; students are refused the whole area; visitors are sent to sign in.
"""

import pytest

from app.author import observation_fields as of
from app.services import authored_observations as forms
from app.services import authoring
from tests import worlds
from tests.authoring_observation_helpers import CONSULTATION, ITEMS, MODULE, PATIENT, REFERENCES, SETTINGS, TITLE
from tests.test_access import (
    NOT_ALLOWED,
    NOT_FOUND,
    ROLES,
    Case,
    assert_outcome,
    become,
    everyone,
    fill,
    mine,
    page,
    redirect_like,
    redirect_to,
    teaching,
)


def owned(outcome) -> dict:
    """The form's own pages: its owner gets `outcome`; an educator or admin who owns nothing of it, a 404."""
    return mine(outcome) | {"admin": NOT_FOUND}


def _form(w) -> str:
    return f"/author/{w['quiz_id']}/observation"


CASES = [
    Case("/author/observations/new", "GET", teaching(page(lambda w: "Start a new observation form"))),
    Case(
        "/author/observations/new",
        "POST",
        teaching(redirect_like(r"/author/\d+/observation")),
        data=lambda w: {"title": "Another form", "module": MODULE, "consultation": CONSULTATION, "minutes": "10"},
    ),
    Case("/author/<int:quiz_id>/observation", "GET", owned(page(lambda w: TITLE))),
    Case("/author/<int:quiz_id>/observation", "POST", owned(redirect_to(_form)), data=lambda w: SETTINGS),
    Case("/author/<int:quiz_id>/observation/items", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/observation/items",
        "POST",
        owned(redirect_to(lambda w: f"{_form(w)}/items/4")),
        data=lambda w: {"scale": "anchored"},
    ),
    Case(
        "/author/<int:quiz_id>/observation/items/<int:position>",
        "GET",
        owned(page(lambda w: "Behaviour item 1 of 3")),
    ),
    Case(
        "/author/<int:quiz_id>/observation/items/<int:position>",
        "POST",
        owned(redirect_to(lambda w: f"{_form(w)}/items/1")),
        data=lambda w: ITEMS[0],
    ),
    Case("/author/<int:quiz_id>/observation/patient", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/observation/patient",
        "POST",
        owned(redirect_to(lambda w: f"{_form(w)}#patient-heading")),
        data=lambda w: PATIENT,
    ),
    Case("/author/<int:quiz_id>/observation/references", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/observation/references",
        "POST",
        owned(redirect_to(lambda w: f"{_form(w)}#references-heading")),
        data=lambda w: REFERENCES,
    ),
    Case("/author/<int:quiz_id>/observation/preview", "GET", owned(page(lambda w: f"Preview: {TITLE}"))),
    Case(
        "/author/<int:quiz_id>/observation/preview",
        "POST",
        owned(page(lambda w: f"Preview: {TITLE}")),
        data=lambda w: {"mark-i1": "2", "global": "3"},
    ),
    Case(
        "/author/<int:quiz_id>/observation/preview/patient",
        "GET",
        owned(page(lambda w: f"The patient’s form: {TITLE}")),
    ),
]


def build_world(role: str, auth, db) -> tuple:
    """Become `role`; a valid three-item form owned by the educator (or by "Teacher"), shared with "Colleague"."""
    user = become(role, auth)
    owner = user if role == "educator" else auth.create("educator", email="teacher@example.org", name="Teacher")
    colleague = auth.create("educator", email="colleague@example.org", name="Colleague")
    form = forms.create_observation(owner, TITLE, MODULE, CONSULTATION, 8)
    forms.update_references(form, of.references_from_form(REFERENCES))
    for position, item in enumerate(ITEMS, start=1):
        forms.add_behaviour(form, item["scale"])
        authoring.update_item(form, position, of.item_from_form(item))
    forms.update_patient(form, of.patient_from_form(PATIENT, None))
    authoring.share(form, colleague.email)
    db.session.commit()
    return user, {"quiz_id": form.id, "position": 1}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_observation_editor_route_answers_each_role_as_expected(app, client, db, auth, case, role):
    user, world = worlds.once(("observation editor", role), app, client, lambda: build_world(role, auth, db))
    path = fill(case.rule, world)
    response = client.open(path, method=case.method, data=case.data(world) if case.data else None)
    kind, value = case.expect[role]
    assert assert_outcome(response, kind, value, world, user, path), f"no check for outcome {kind!r}"
