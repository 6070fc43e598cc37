"""Who may open what in the LTI area: every /lti route for every role (joined into tests/test_access.py's table).

The protocol's endpoints answer everyone alike (a platform calls them, not a signed-in person); the
picker belongs to the instructor its launch signed in; the roster sync to the cohort's educators;
the registration pages to administrators.
"""

import dataclasses
from dataclasses import replace

import pytest

from app.lti import platforms, tool
from app.models import LtiContext
from app.services import cohorts
from tests import worlds
from tests.test_access import (
    KIND,
    NOT_ALLOWED,
    ROLES,
    SIGN_IN,
    Case,
    World,
    admin_only,
    assert_outcome,
    everyone,
    fill,
    mine,
    page,
    redirect_to,
)

_FIELDS = [f for f in dataclasses.fields(World) if f.default is dataclasses.MISSING]
_TEXT = [f.name for f in _FIELDS if f.type in ("str", str) and f.name != "quiz_id"]
_NUMBERS = [f.name for f in _FIELDS if f.type in ("int", int)]
LAUNCH_ID = "lti1p3-launch-00000000-0000-4000-8000-000000000000"
REFUSED = ("refused", None)  # the friendly "This launch was refused" page, 400
JSON = ("json", None)


def _registration(_w: World) -> dict:
    return {
        "name": "Access Moodle",
        "issuer": "https://moodle2.example.edu",
        "client_id": "c2",
        "deployment_ids": "d2",
        "auth_login_url": "https://moodle2.example.edu/auth",
        "auth_token_url": "https://moodle2.example.edu/token",
        "keyset_url": "https://moodle2.example.edu/jwks",
    }


def only_the_launched_instructor(outcome) -> dict:
    """The picker: the educator its launch signed in gets `outcome`; anyone else signed in, a 404."""
    return {role: ("404", None) for role in ROLES} | {"anonymous": SIGN_IN, "educator": outcome}


CASES = [
    Case("/lti/login", "GET", everyone(REFUSED)),
    Case("/lti/login", "POST", everyone(REFUSED), data=lambda w: {"iss": "https://unknown.example", "login_hint": "x"}),
    Case("/lti/launch", "GET", everyone(NOT_ALLOWED)),
    Case("/lti/launch", "POST", everyone(REFUSED), data=lambda w: {"id_token": "a.b.c", "state": "state-x"}),
    Case("/lti/jwks", "GET", everyone(JSON)),
    Case("/lti/config", "GET", everyone(JSON)),
    Case("/lti/register", "GET", everyone(("403", "Registration refused"))),
    Case(
        "/lti/deep-link/<launch_id>", "GET", only_the_launched_instructor(page(lambda w: "Choose Alliance activities"))
    ),
    Case(
        "/lti/deep-link/<launch_id>",
        "POST",
        only_the_launched_instructor(page(lambda w: "Returning to your course")),
        data=lambda w: {"item": f"quiz:{w.quiz_id}"},
    ),
    Case("/lti/cohorts/<int:cohort_id>/roster", "GET", everyone(NOT_ALLOWED)),
    # The world's cohort stands for a platform course whose roster service was not offered: told so, on the cohort page.
    Case(
        "/lti/cohorts/<int:cohort_id>/roster",
        "POST",
        mine(redirect_to(lambda w: f"/teach/cohorts/{w.cohort_id}#members")),
    ),
    Case("/lti/platforms/", "GET", admin_only(page(lambda w: "Learning platforms"))),
    Case("/lti/platforms/", "POST", admin_only(redirect_to(lambda w: "/lti/platforms/")), data=_registration),
    Case("/lti/platforms/registration-link", "GET", everyone(NOT_ALLOWED)),
    Case("/lti/platforms/registration-link", "POST", admin_only(page(lambda w: "Learning platforms"))),
    Case("/lti/platforms/<int:platform_id>/remove", "GET", admin_only(page(lambda w: "Unregister Loopback?"))),
    Case("/lti/platforms/<int:platform_id>/remove", "POST", admin_only(redirect_to(lambda w: "/lti/platforms/"))),
]


def _lti_world(role, auth, db, catalog) -> tuple:
    """A person of `role`, a cohort taught by the educator (a colleague's for other roles) standing for a platform
    course, and a deep linking launch of the educator's. Lighter than test_access's world: only what /lti needs."""
    user = None
    if role != "anonymous":
        kind = KIND.get(role, role)
        user = auth.create(kind, email=f"{role.replace(' ', '.')}@example.org", name=role.title())
        assert auth.sign_in(user.email).status_code == 302
    teacher = user if role == "educator" else auth.create("educator", email="teacher@example.org", name="Teacher")
    cohort = cohorts.create(teacher, "Ward 7 class")
    world = World(**{f: "" for f in _TEXT}, **{f: 0 for f in _NUMBERS}, answers={}, quiz_id=catalog.quizzes[0].id)
    world = replace(world, cohort_id=cohort.id)
    platform = platforms.add(
        platforms.NewPlatform(
            "Loopback",
            "https://platform.example",
            "client-1",
            ("dep-1",),
            "https://platform.example/auth",
            "https://platform.example/token",
            "https://platform.example/jwks",
        )
    )
    db.session.add(
        LtiContext(platform_id=platform.id, deployment_id="dep-1", context_id="course-1", cohort_id=world.cohort_id)
    )
    if role == "educator":
        tool.put_state("picker-" + LAUNCH_ID, {"user_id": user.id, "platform_id": platform.id})
        tool.put_state(
            LAUNCH_ID,
            {
                "iss": platform.issuer,
                "aud": platform.client_id,
                "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "dep-1",
                "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingRequest",
                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                    "deep_link_return_url": "https://platform.example/return",
                    "accept_types": ["ltiResourceLink"],
                },
            },
        )
    db.session.commit()
    return user, world, platform.id


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_lti_route_answers_each_role_as_expected(app, client, db, auth, catalog, case, role):
    user, world, platform_id = worlds.once(("lti", role), app, client, lambda: _lti_world(role, auth, db, catalog))
    path = fill(case.rule, {"launch_id": LAUNCH_ID, "cohort_id": world.cohort_id, "platform_id": platform_id})
    response = client.open(path, method=case.method, data=case.data(world) if case.data else None)
    kind, value = case.expect[role]
    if kind == "refused":
        assert response.status_code == 400 and "<h1>This launch was refused</h1>" in response.text
    elif kind == "json":  # the protocol's keys and configuration: JSON, not a download
        assert response.status_code == 200 and response.mimetype == "application/json"
    elif kind == "403" and value:
        assert response.status_code == 403 and f"<h1>{value}</h1>" in response.text
    else:
        assert assert_outcome(response, kind, value, world, user, path), f"no check for outcome {kind!r}"
