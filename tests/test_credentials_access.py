"""Who may open what in the credentials area: every route for every role, anonymous verification included.

The world: a cohort taught by the educator (for other roles, by a colleague), and a certificate earned through
it by the role's own account (a visitor's world gives it to another student).
"""

import pytest

from app.credentials import badges, issuing, keys
from app.services import cohorts, courses
from tests import worlds
from tests.test_access import (
    ROLES,
    SIGN_IN,
    Case,
    assert_outcome,
    become,
    by_role,
    everyone,
    fill,
    mine,
    page,
    redirect_to,
)
from tests.test_credentials import app_settings, credential_key_file  # noqa: F401

COHORT = "Ward 7 class"
REASON = {"reason": "Awarded in error."}


def _check_form(world) -> dict:
    return {"token": world["badge"]}


CASES = [
    # --- anyone, no account: the verification page, checking a badge, what verifiers fetch
    Case("/verify/<public_id>", "GET", everyone(page(lambda w: "Certificate check"))),
    Case("/verify", "GET", everyone(page(lambda w: "Check a badge"))),
    Case("/verify", "POST", everyone(page(lambda w: "Check a badge")), data=_check_form),
    Case("/credentials/issuer", "GET", everyone(("json", None))),
    Case("/credentials/keys/<key_id>", "GET", everyone(("json", None))),
    Case("/credentials/status/<int:number>", "GET", everyone(("jwt", None))),
    # --- the learner's own certificates (every signed-in role may earn one)
    Case("/certificates/", "GET", by_role(SIGN_IN, page(lambda w: "My certificates"))),
    Case("/certificates/<public_id>.pdf", "GET", by_role(SIGN_IN, ("pdf", None))),
    Case("/certificates/<public_id>.jwt", "GET", by_role(SIGN_IN, ("jwt-download", None))),
    # --- the cohort's educators (and admins): its certificates, revoking one
    Case("/teach/certificates/cohorts/<int:cohort_id>", "GET", mine(page(lambda w: f"Certificates: {COHORT}"))),
    Case(
        "/teach/certificates/<public_id>/revoke",
        "GET",
        mine(page(lambda w: f"Revoke the certificate of {w['learner']}?")),
    ),
    Case(
        "/teach/certificates/<public_id>/revoke",
        "POST",
        mine(redirect_to(lambda w: f"/teach/certificates/cohorts/{w['cohort_id']}")),
        data=lambda w: REASON,
    ),
    # --- what the certificate of a course assigned to the cohort needs (observed stations)
    Case(
        "/teach/certificates/cohorts/<int:cohort_id>/courses/<int:course_id>",
        "GET",
        mine(page(lambda w: "What the certificate of Alliance on placement needs")),
    ),
    Case(
        "/teach/certificates/cohorts/<int:cohort_id>/courses/<int:course_id>",
        "POST",
        mine(redirect_to(lambda w: f"/teach/cohorts/{w['cohort_id']}#assignments")),
        data=lambda w: {"observed_stations": "1"},
    ),
]


def build_world(role: str, auth, db, catalog) -> tuple:
    """Become `role`; give the role's account (a visitor: another student's) a certificate earned in the cohort."""
    user = become(role, auth)
    owner = user or auth.create("student", email="owner@example.org", name="Owner")
    teacher = user if role == "educator" else auth.create("educator", email="teacher@example.org", name="Teacher")
    cohort = cohorts.create(teacher, COHORT)
    course = courses.create(teacher, "Alliance on placement", "")
    courses.add_item(catalog, course, f"quiz:{catalog.quizzes[0].id}")
    courses.set_published(course, True)
    cohorts.assign(cohort, course, teacher, None, None)
    if role == "other educator":
        cohorts.create(user, "Their own class")  # an educator of another cohort
    assert issuing.issue(owner, course, cohort.id, catalog)
    db.session.commit()
    certificate = issuing.for_course(owner.id, course.id)
    world = {
        "public_id": certificate.public_id,
        "cohort_id": cohort.id,
        "course_id": course.id,
        "learner": owner.display_name,
        "key_id": keys.signing_key().thumbprint,
        "number": 1,
        "badge": badges.signed_badge(certificate),
    }
    return user, world


def path_for(case: Case, world: dict) -> str:
    """The rule with its placeholders filled from the world."""
    return fill(case.rule, world)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_credentials_route_answers_each_role_as_expected(client, db, auth, catalog, app, case, role):
    with app.test_request_context():  # the world signs a badge: addresses come from the site's settings
        user, world = worlds.once(("credentials", role), app, client, lambda: build_world(role, auth, db, catalog))
    path = path_for(case, world)
    response = client.open(path, method=case.method, data=case.data(world) if case.data else None)
    kind, value = case.expect[role]
    if kind == "json":  # what verifiers fetch: the issuer or a public key, never the private part
        assert response.status_code == 200 and response.mimetype == "application/json", response.text[:300]
        assert "d" not in response.json and ("verificationMethod" in response.json or response.json["kty"] == "RSA")
    elif kind == "jwt":
        assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
        assert response.text.count(".") == 2
    elif kind == "jwt-download":
        assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
        assert response.headers["Content-Disposition"].startswith("attachment;") and response.text == world["badge"]
    else:
        assert assert_outcome(response, kind, value, world, user, path), f"no check for outcome {kind!r}"
