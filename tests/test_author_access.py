"""Who may open what in the quiz editor (/author): every route for every role.

The world: a valid draft quiz of two scenario items owned by the educator (for other roles, by "Teacher"), shared
with "Colleague". Only the owner and co-editors open it; the "other educator" and the admin (who owns nothing of
it) get a 404, as if it did not exist; students are refused the whole area; visitors are sent to sign in.
"""

import io

import pytest

from app.author import fields
from app.models import AuthoredQuiz
from app.services import authored_conversations as talks
from app.services import authoring
from tests import worlds
from tests.authoring_conversation_helpers import COUNTERS, ENDINGS, mapping, node_form
from tests.authoring_conversation_helpers import SETTINGS as TALK_SETTINGS
from tests.authoring_conversation_helpers import TITLE as TALK
from tests.authoring_helpers import scenario_form
from tests.test_access import (
    FORBIDDEN,
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

TITLE = "Goals in primary care"
DOWNLOAD = ("yaml", None)


def owned(outcome) -> dict:
    """A quiz's own pages: its owner (the educator) gets `outcome`; an educator or admin who owns nothing, a 404."""
    return mine(outcome) | {"admin": NOT_FOUND}


def _quiz(w) -> str:
    return f"/author/{w['quiz_id']}"


def _yaml_upload(w) -> dict:
    text = "title: Imported\nmodule: bordin-components\npass_mark: 60\nitems: []\n"
    return {"kind": "yaml", "file": (io.BytesIO(text.encode()), "quiz.yaml")}


CASES = [
    Case("/author/", "GET", teaching(page(lambda w: "Write quizzes"))),
    Case("/author/new", "GET", teaching(page(lambda w: "Start a new quiz"))),
    Case(
        "/author/new",
        "POST",
        teaching(redirect_like(r"/author/\d+")),
        data=lambda w: {"title": "Another quiz", "module": "bordin-components"},
    ),
    Case("/author/<int:quiz_id>", "GET", owned(page(lambda w: TITLE))),
    Case(
        "/author/<int:quiz_id>",
        "POST",
        owned(redirect_to(_quiz)),
        data=lambda w: {"title": TITLE, "module": "bordin-components", "pass_mark": "70", "marking": "standard"},
    ),
    Case("/author/<int:quiz_id>/items", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/items",
        "POST",
        owned(redirect_to(lambda w: f"{_quiz(w)}/items/3")),
        data=lambda w: {"type": "ordering"},
    ),
    Case("/author/<int:quiz_id>/items/<int:position>", "GET", owned(page(lambda w: "Item 1 of 2"))),
    Case(
        "/author/<int:quiz_id>/items/<int:position>",
        "POST",
        owned(redirect_to(lambda w: f"{_quiz(w)}/items/1")),
        data=lambda w: scenario_form(0),
    ),
    Case("/author/<int:quiz_id>/items/<int:position>/move", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/items/<int:position>/move",
        "POST",
        owned(redirect_to(lambda w: f"{_quiz(w)}#item-2")),
        data=lambda w: {"direction": "down"},
    ),
    Case(
        "/author/<int:quiz_id>/items/<int:position>/duplicate",
        "GET",
        everyone(NOT_ALLOWED),
    ),
    Case(
        "/author/<int:quiz_id>/items/<int:position>/duplicate",
        "POST",
        owned(redirect_to(lambda w: f"{_quiz(w)}#item-2")),
    ),
    Case("/author/<int:quiz_id>/items/<int:position>/delete", "GET", owned(page(lambda w: "Delete item 1?"))),
    Case("/author/<int:quiz_id>/items/<int:position>/delete", "POST", owned(redirect_to(_quiz))),
    Case("/author/<int:quiz_id>/preview", "GET", owned(page(lambda w: f"Preview: {TITLE}"))),
    Case("/author/<int:quiz_id>/preview", "POST", owned(page(lambda w: f"Preview: {TITLE}"))),
    Case("/author/<int:quiz_id>/publish", "GET", everyone(NOT_ALLOWED)),
    Case("/author/<int:quiz_id>/publish", "POST", owned(redirect_to(lambda w: f"{_quiz(w)}/history"))),
    Case("/author/<int:quiz_id>/history", "GET", owned(page(lambda w: f"History of {TITLE}"))),
    Case("/author/<int:quiz_id>/export.yaml", "GET", owned(DOWNLOAD)),
    Case("/author/<int:quiz_id>/import", "GET", owned(page(lambda w: "Import into the draft"))),
    Case("/author/<int:quiz_id>/import", "POST", owned(redirect_to(_quiz)), data=_yaml_upload),
    Case("/author/<int:quiz_id>/share", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/share",
        "POST",
        owned(redirect_to(lambda w: f"{_quiz(w)}#sharing")),
        data=lambda w: {"email": "second@example.org"},
    ),
    Case(
        "/author/<int:quiz_id>/share/<int:user_id>/remove",
        "GET",
        everyone(NOT_ALLOWED),
    ),
    Case(
        "/author/<int:quiz_id>/share/<int:user_id>/remove",
        "POST",
        owned(redirect_to(lambda w: f"{_quiz(w)}#sharing")),
    ),
    # Withdrawing: its owner or any admin (the world's quiz is a draft, so POST only says there is nothing to do).
    Case("/author/<int:quiz_id>/withdraw", "GET", mine(page(lambda w: f"Withdraw “{TITLE}”?"))),
    Case(
        "/author/<int:quiz_id>/withdraw",
        "POST",
        mine(redirect_to(lambda w: f"{_quiz(w)}/history")) | {"admin": redirect_to(lambda w: "/author/#every-quiz")},
    ),
    Case("/author/site-wide/<int:quiz_id>", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/site-wide/<int:quiz_id>",
        "POST",
        teaching(FORBIDDEN) | {"admin": redirect_to(lambda w: "/author/#every-quiz")},
        data=lambda w: {"offer": "yes"},
    ),
]


def _talk(w) -> str:
    return f"/author/{w['quiz_id']}/conversation"


#: The conversation editor's routes, sent with `quiz_id` the world's six-node conversation and `node_id` its opening.
CONVERSATION_CASES = [
    Case("/author/conversations/new", "GET", teaching(page(lambda w: "Start a new branching conversation"))),
    Case(
        "/author/conversations/new",
        "POST",
        teaching(redirect_like(r"/author/\d+/conversation")),
        data=lambda w: {"title": "Another conversation", "module": "bordin-components"},
    ),
    Case("/author/<int:quiz_id>/conversation", "GET", owned(page(lambda w: TALK))),
    Case("/author/<int:quiz_id>/conversation", "POST", owned(redirect_to(_talk)), data=lambda w: TALK_SETTINGS),
    Case("/author/<int:quiz_id>/counters", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/counters",
        "POST",
        owned(redirect_to(lambda w: f"{_talk(w)}#counters-heading")),
        data=lambda w: COUNTERS,
    ),
    Case("/author/<int:quiz_id>/endings", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/endings",
        "POST",
        owned(redirect_to(lambda w: f"{_talk(w)}#endings-heading")),
        data=lambda w: ENDINGS,
    ),
    Case("/author/<int:quiz_id>/nodes", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/nodes",
        "POST",
        owned(redirect_to(lambda w: f"/author/{w['quiz_id']}/nodes/extra")),
        data=lambda w: {"id": "extra"},
    ),
    Case("/author/<int:quiz_id>/nodes/<node_id>", "GET", owned(page(lambda w: "Node opening"))),
    Case(
        "/author/<int:quiz_id>/nodes/<node_id>",
        "POST",
        owned(redirect_to(lambda w: f"/author/{w['quiz_id']}/nodes/opening")),
        data=lambda w: node_form("opening"),
    ),
    Case("/author/<int:quiz_id>/nodes/<node_id>/rename", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/author/<int:quiz_id>/nodes/<node_id>/rename",
        "POST",
        owned(redirect_to(lambda w: f"/author/{w['quiz_id']}/nodes/hello")),
        data=lambda w: {"new_id": "hello"},
    ),
    Case("/author/<int:quiz_id>/nodes/<node_id>/delete", "GET", owned(page(lambda w: "Delete node opening?"))),
    # Sent for a node nothing leads to (the opening cannot be deleted: the conversation starts there).
    Case(
        "/author/<int:quiz_id>/nodes/<node_id>/delete",
        "POST",
        owned(redirect_to(lambda w: f"{_talk(w)}#nodes-heading")),
    ),
    Case("/author/<int:quiz_id>/map", "GET", owned(page(lambda w: f"Map of {TALK}"))),
    Case("/author/<int:quiz_id>/play", "GET", owned(page(lambda w: f"Play {TALK}"))),
]
CASES += CONVERSATION_CASES


def build_world(role: str, auth, db) -> tuple:
    """Become `role`; a valid two-item draft owned by the educator (or by "Teacher"), shared with "Colleague"."""
    user = become(role, auth)
    owner = user if role == "educator" else auth.create("educator", email="teacher@example.org", name="Teacher")
    colleague = auth.create("educator", email="colleague@example.org", name="Colleague")
    auth.create("educator", email="second@example.org", name="Second")
    quiz = authoring.create(owner, TITLE, "bordin-components")
    for n in range(2):
        authoring.add_item(quiz, "scenario")
        authoring.update_item(quiz, n + 1, fields.item_from_form("scenario", scenario_form(n), {}))
    authoring.share(quiz, colleague.email)
    talk = talks.create_conversation(owner, TALK, "bordin-components")
    talks.replace_draft(talk, mapping(talk.ref))
    authoring.share(talk, colleague.email)
    db.session.commit()
    return user, {"quiz_id": quiz.id, "position": 1, "user_id": colleague.id, "talk": talk, "node_id": "opening"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_author_route_answers_each_role_as_expected(app, client, db, auth, case, role):
    user, saved = worlds.once(("author", role), app, client, lambda: build_world(role, auth, db))
    world = dict(saved)  # this test's own: a conversation case changes it
    if case in CONVERSATION_CASES:
        talk = world["quiz_id"] = world.pop("talk").id
        if case.rule.endswith("/delete") and case.method == "POST":
            talks.add_node(db.session.get(AuthoredQuiz, talk), "spare")
            world["node_id"] = "spare"
            db.session.commit()
    path = fill(case.rule, world)
    response = client.open(path, method=case.method, data=case.data(world) if case.data else None)
    kind, value = case.expect[role]
    if kind == "yaml":
        assert response.status_code == 200 and response.mimetype == "application/yaml"
        assert f"title: {TITLE}" in response.text
    else:
        assert assert_outcome(response, kind, value, world, user, path), f"no check for outcome {kind!r}"
