"""LTI 1.3 against a real platform implementation on loopback (tests/lti_platform.py, built on PyPI lti1p3platform).

Launches as learner and instructor, the refusals (tampered or foreign signature, replayed nonce,
wrong state, unknown issuer or deployment, expired token, a Learner claiming Administrator), and
what the cookies and framing policy of a launched session are.
"""

import base64
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.lti import platforms
from app.models import Cohort, CohortEducator, CohortMember, LtiAccount, LtiContext, LtiLink, LtiPlatform, User
from tests.lti_platform import (
    ADMINISTRATOR,
    INSTRUCTOR,
    LEARNER,
    LoopbackPlatform,
    Planned,
    new_key_pair,
    seed_tool_key,
)


def registered_platform(app, client, db):
    """A platform on loopback, registered in Alliance, that trusts the tool's published keys."""
    seed_tool_key(app)
    with LoopbackPlatform(app.config["SITE_URL"]) as running:
        platforms.add(platforms.NewPlatform(name="Loopback Moodle", **running.registration()))
        db.session.commit()
        running.trust_tool(client.get("/lti/jwks").get_json())
        yield running


@pytest.fixture
def platform(app, client, db):
    """The loopback platform, registered."""
    yield from registered_platform(app, client, db)


def signed_in_as(client) -> str:
    """The name the page header shows for the signed-in person."""
    page = client.get("/learn/")
    assert page.status_code == 200, page.status_code
    return re.search(r'<li class="who">([^<(]+)', page.text).group(1).strip()


def account(db, sub: str) -> User:
    """The Alliance account of a platform user."""
    link = db.session.scalar(select(LtiAccount).where(LtiAccount.sub == sub))
    return db.session.get(User, link.user_id)


def test_a_learner_lands_signed_in_on_the_linked_quiz_in_a_cohort_of_the_platform_course(platform, client, db, quiz):
    platform.plan(
        "go", Planned("learner-1", [LEARNER], name="Ana Learner", custom={"alliance_item": f"quiz:{quiz.id}"})
    )
    launched = platform.launch(client, "go")
    assert launched.status_code == 302, launched.text
    assert launched.headers["Location"] == f"/learn/quizzes/{quiz.id}"
    page = client.get(launched.headers["Location"])
    assert page.status_code == 200 and f"<h1>{quiz.title}</h1>" in page.text
    assert signed_in_as(client) == "Ana Learner"
    user = account(db, "learner-1")
    assert user.role == "student"
    context = db.session.scalar(select(LtiContext))
    assert db.session.get(Cohort, context.cohort_id).name == "Physio 101"
    assert db.session.scalar(select(CohortMember.user_id).where(CohortMember.cohort_id == context.cohort_id)) == user.id


def test_an_account_is_matched_by_issuer_and_sub_never_by_email(platform, client, db, auth, quiz):
    local = auth.create("student", email="ana@uni.example", name="Local Ana")
    platform.plan("one", Planned("sub-A", [LEARNER], name="Ana", email="ana@uni.example"))
    assert platform.launch(client, "one").status_code == 302
    first = account(db, "sub-A")
    assert first.id != local.id and first.email != "ana@uni.example"
    # The same person again: the same account. Another sub with the same address: another account.
    platform.plan("two", Planned("sub-A", [LEARNER], name="Ana"))
    platform.plan("three", Planned("sub-B", [LEARNER], name="Ana twin", email="ana@uni.example"))
    assert platform.launch(client, "two").status_code == 302
    assert platform.launch(client, "three").status_code == 302
    assert account(db, "sub-A").id == first.id
    assert account(db, "sub-B").id not in (first.id, local.id)
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 2


def test_an_instructor_becomes_an_educator_who_owns_the_course_cohort(platform, client, db):
    platform.plan("teach", Planned("teacher-1", [INSTRUCTOR], name="Dr Teach"))
    launched = platform.launch(client, "teach")
    context = db.session.scalar(select(LtiContext))
    assert launched.headers["Location"] == f"/teach/cohorts/{context.cohort_id}"
    teacher = account(db, "teacher-1")
    assert teacher.role == "educator"
    owner = db.session.get(CohortEducator, (context.cohort_id, teacher.id))
    assert owner.is_owner and owner.accepted_at is not None
    page = client.get(launched.headers["Location"])
    assert page.status_code == 200 and "Sync the roster from Loopback Moodle" in page.text


def test_a_learner_claiming_administrator_stays_a_student(platform, client, db):
    platform.plan("sly", Planned("sly-1", [LEARNER, ADMINISTRATOR, INSTRUCTOR], name="Sly"))
    assert platform.launch(client, "sly").status_code == 302
    assert account(db, "sly-1").role == "student"
    assert client.get("/teach/").status_code == 403


def test_a_local_educator_launched_as_a_learner_keeps_their_role_and_an_admin_is_never_made(platform, client, db):
    platform.plan("t", Planned("t-1", [INSTRUCTOR]))
    platform.plan("l", Planned("t-1", [LEARNER], context=("course-2", "Other course")))
    platform.plan("a", Planned("a-1", [ADMINISTRATOR]))
    platform.launch(client, "t")
    platform.launch(client, "l")
    assert account(db, "t-1").role == "educator"
    platform.launch(client, "a")
    assert account(db, "a-1").role == "educator"  # a platform's administrator teaches; Alliance admins are made locally


def _refusal(response, words: str, status: int = 400) -> None:
    assert response.status_code == status, response.text[:300]
    assert "<h1>This launch was refused</h1>" in response.text
    assert words in response.text, re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", response.text))[200:900]
    assert "open the activity again" in response.text  # what to do
    assert "Traceback" not in response.text


def _form(platform, client, hint: str) -> dict:
    started = platform.login(client, hint)
    assert started.status_code == 302, started.text
    return platform.authorize(started.headers["Location"])


def test_a_tampered_launch_is_refused(platform, client, db):
    platform.plan("x", Planned("victim", [LEARNER]))
    form = _form(platform, client, "x")
    header, body, signature = form["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "attacker"  # the signature no longer covers what the token says
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    _refusal(client.post("/lti/launch", data={**form, "id_token": f"{header}.{forged}.{signature}"}), "signature")
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 0


def test_a_launch_signed_with_a_key_the_platform_does_not_publish_is_refused(platform, client, db):
    platform.plan("x", Planned("victim", [LEARNER]))
    platform.private_key, _ = new_key_pair()  # the key set still publishes the old public key
    _refusal(platform.launch(client, "x"), "does not publish")
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 0


def test_a_replayed_launch_is_refused(platform, client):
    platform.plan("once", Planned("learner-1", [LEARNER]))
    form = _form(platform, client, "once")
    assert client.post("/lti/launch", data=form).status_code == 302
    _refusal(client.post("/lti/launch", data=form), "used already")


def test_a_launch_with_the_wrong_state_or_from_another_browser_is_refused(platform, client, app):
    platform.plan("s", Planned("learner-1", [LEARNER]))
    form = _form(platform, client, "s")
    _refusal(client.post("/lti/launch", data={**form, "state": "state-forged"}), "did not start in this browser")
    stranger = app.test_client()  # no state cookie: the launch was started by someone else's browser
    _refusal(stranger.post("/lti/launch", data=form), "did not start in this browser")


def test_an_unknown_issuer_is_refused_at_login(platform, client):
    platform.plan("u", Planned("learner-1", [LEARNER]))
    _refusal(platform.login(client, "u", issuer="https://unknown.example"), "does not know this platform")


def test_an_unknown_deployment_is_refused(platform, client, db):
    platform.plan("d", Planned("learner-1", [LEARNER]))
    platform.deployment_id = "deployment-never-registered"
    _refusal(platform.launch(client, "d"), "does not know this deployment")
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 0


def test_an_expired_launch_is_refused(platform, client):
    platform.plan("late", Planned("learner-1", [LEARNER], expires_in=-120))
    _refusal(platform.launch(client, "late"), "expired")


def test_login_initiation_works_by_get_too_and_sends_state_and_nonce(platform, client):
    platform.plan("g", Planned("learner-1", [LEARNER]))
    started = platform.login(client, "g", method="get")
    assert started.status_code == 302
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["redirect_uri"] == [platform.tool_url + "/lti/launch"]
    assert query["state"][0].startswith("state-") and len(query["nonce"][0]) >= 32
    assert query["response_mode"] == ["form_post"] and query["prompt"] == ["none"]


def test_a_launched_session_may_be_framed_by_its_platform_only(platform, client, app, quiz):
    assert "frame-ancestors 'none'" in client.get("/").headers["Content-Security-Policy"]
    platform.plan("f", Planned("learner-1", [LEARNER], custom={"alliance_item": f"quiz:{quiz.id}"}))
    page = client.get(platform.launch(client, "f").headers["Location"])
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {platform.issuer}" in policy and "'none'" not in policy.split("frame-ancestors")[1]
    assert "X-Frame-Options" not in page.headers
    other = app.test_client()
    assert other.get("/auth/sign-in").headers["X-Frame-Options"] == "DENY"


def test_over_https_a_launched_session_cookie_is_sent_cross_site(platform, app, db, quiz):
    secure, https = app.test_client(), "https://alliance.example"
    platform.plan("h", Planned("learner-1", [LEARNER], custom={"alliance_item": f"quiz:{quiz.id}"}))
    started = platform.login(secure, "h", base_url=https)
    state_cookie = started.headers["Set-Cookie"]
    assert "SameSite=None" in state_cookie and "Secure" in state_cookie
    form = platform.authorize(started.headers["Location"])
    launched = secure.post("/lti/launch", data=form, base_url=https)
    assert launched.status_code == 302, launched.text
    session_cookie = [c for c in launched.headers.getlist("Set-Cookie") if c.startswith("session=")][0]
    assert "SameSite=None" in session_cookie and "Secure" in session_cookie and "Partitioned" in session_cookie
    # Over plain HTTP (a workstation) browsers refuse SameSite=None: the cookie stays Lax there.
    plain = app.test_client()
    platform.plan("p", Planned("learner-2", [LEARNER]))
    launched = platform.launch(plain, "p")
    session_cookie = [c for c in launched.headers.getlist("Set-Cookie") if c.startswith("session=")][0]
    assert "SameSite=Lax" in session_cookie and "Partitioned" not in session_cookie


@pytest.mark.parametrize("way_out", ["/auth/sign-out", "/auth/account/sign-out-everywhere"])
def test_after_signing_out_no_platform_may_frame_the_browsers_pages(platform, app, quiz, way_out):
    secure, https = app.test_client(), "https://alliance.example"
    platform.plan("o", Planned("learner-1", [LEARNER], custom={"alliance_item": f"quiz:{quiz.id}"}))
    started = platform.login(secure, "o", base_url=https)
    launched = secure.post("/lti/launch", data=platform.authorize(started.headers["Location"]), base_url=https)
    framed = secure.get(launched.headers["Location"], base_url=https)
    assert platform.issuer in framed.headers["Content-Security-Policy"]
    signed_out = secure.post(way_out, base_url=https)
    assert signed_out.status_code == 302
    cookie = [c for c in signed_out.headers.getlist("Set-Cookie") if c.startswith("session=")][0]
    assert "SameSite=None" not in cookie and "Partitioned" not in cookie
    for path in ("/", "/auth/sign-in"):
        page = secure.get(path, base_url=https)
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"], path
        assert platform.issuer not in page.headers["Content-Security-Policy"], path
        assert page.headers["X-Frame-Options"] == "DENY", path


def test_a_link_to_a_removed_activity_says_so(platform, client):
    platform.plan("gone", Planned("learner-1", [LEARNER], custom={"alliance_item": "quiz:no-such-quiz"}))
    _refusal(platform.launch(client, "gone"), "no longer exists", 403)


def test_a_course_link_assigns_the_course_to_the_cohort_and_opens_it(platform, client, db, auth, catalog):
    from app.services import courses

    owner = auth.create("educator", email="author@example.org")
    course = courses.create(owner, "Alliance basics", "")
    courses.add_item(catalog, course, f"quiz:{catalog.quizzes[0].id}")
    courses.set_published(course, True)
    db.session.commit()
    platform.plan("c", Planned("learner-1", [LEARNER], custom={"alliance_item": f"course:{course.id}"}))
    launched = platform.launch(client, "c")
    assert launched.headers["Location"] == f"/learn/courses/{course.id}"
    page = client.get(launched.headers["Location"])
    assert page.status_code == 200 and "Alliance basics" in page.text
    assert db.session.scalar(select(LtiLink.kind)) == "course"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"



@pytest.mark.parametrize("field", ["sub", "name", "email"])
def test_a_nul_character_in_a_verified_claim_is_refused_plainly(app, db, catalog, field):
    from app.lti import launches

    platform = platforms.add(platforms.NewPlatform("P", "https://p.example", "c", ("d",), *["https://p.example/x"] * 3))
    claims = {CLAIM + "deployment_id": "d", "sub": "learner-1", "name": "Ana", "email": "ana@example.org"}
    claims[field] = claims[field][:2] + "\x00" + claims[field][2:]
    with app.test_request_context(), pytest.raises(launches.LaunchError, match="NUL character"):
        launches.resource_launch(platform, claims, catalog)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LtiAccount)) == 0

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    claims=st.fixed_dictionaries(
        {},
        optional={
            "sub": JSON | st.text(max_size=300),
            "name": JSON,
            "given_name": JSON,
            "email": JSON,
            CLAIM + "roles": JSON
            | st.lists(st.sampled_from([LEARNER, INSTRUCTOR, ADMINISTRATOR]) | st.text(max_size=20)),
            CLAIM + "context": JSON | st.fixed_dictionaries({"id": JSON | st.text(max_size=300), "title": JSON}),
            CLAIM + "resource_link": JSON | st.fixed_dictionaries({"id": JSON | st.text(max_size=300)}),
            CLAIM + "custom": JSON | st.fixed_dictionaries({"alliance_item": JSON | st.text(max_size=120)}),
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": JSON,
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": JSON,
        },
    )
)
def test_whatever_a_verified_launch_claims_is_acted_on_or_refused_plainly(app, db, catalog, claims):
    from app.lti import launches

    platform = db.session.scalar(select(LtiPlatform)) or platforms.add(
        platforms.NewPlatform("P", "https://p.example", "c", ("d",), *["https://p.example/x"] * 3)
    )
    with app.test_request_context():
        try:
            launched = launches.resource_launch(platform, {CLAIM + "deployment_id": "d", **claims}, catalog)
            assert launched.target.startswith(("/learn/", "/teach/"))
        except launches.LaunchError as exc:
            assert str(exc)
        finally:
            db.session.rollback()
