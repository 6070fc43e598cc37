"""Alliance inside a platform's frame in real Chromium: a learner's launch opens the quiz in the course page's
iframe, an instructor picks activities in the picker and the platform accepts them; the pages pass axe-core
and the Nu checker at 1280 and 375 px.

The platform is tests/lti_platform.py (PyPI lti1p3platform) on another loopback port: its course page frames
Alliance, so the frame is cross-origin, as on a campus (same site on 127.0.0.1, so plain HTTP keeps cookies).
"""

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from app.extensions import db
from app.lti import platforms
from app.services import accounts
from tests.browser.checks import assert_accessible, assert_reflows
from tests.browser.conftest import Student, signed_in_cookies
from tests.lti_platform import INSTRUCTOR, LEARNER, LoopbackPlatform, Planned

SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def platform(live_server):
    """The loopback platform, registered in the live app, trusting the tool's published keys."""
    # Alliance tells platforms its addresses from ALLIANCE_SITE_URL: here, the live server's own.
    saved, live_server.app.config["SITE_URL"] = live_server.app.config["SITE_URL"], live_server.url
    with LoopbackPlatform(live_server.url) as running:
        with live_server.app.app_context():
            platforms.add(platforms.NewPlatform(name="Loopback Moodle", **running.registration()))
            db.session.commit()
        running.trust_tool(requests.get(live_server.url + "/lti/jwks", timeout=10).json())
        yield running
    live_server.app.config["SITE_URL"] = saved


@pytest.fixture
def framing_page(browser, live_server):
    """A page whose context enforces every policy (the shared `page` fixture bypasses CSP for axe)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


def _check_at_both_widths(page, axe_path, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
        page.screenshot(path=str(SHOTS / f"lti-{name}-{width}.png"), full_page=True)


def test_a_learner_launch_opens_the_quiz_inside_the_platforms_frame(
    framing_page, page, platform, live_server, axe_path
):
    quiz = live_server.catalog.quizzes[0]
    platform.plan(
        "frame-learner",
        Planned("browser-learner", [LEARNER], name="Bea Browser", custom={"alliance_item": f"quiz:{quiz.id}"}),
    )
    framing_page.goto(f"{platform.issuer}/course/frame-learner")
    frame = framing_page.frame_locator("iframe")
    expect(frame.get_by_role("heading", level=1)).to_have_text(quiz.title)
    expect(frame.locator("li.who").first).to_contain_text("Bea Browser")
    framing_page.screenshot(path=str(SHOTS / "lti-in-frame-1280.png"))
    # Without a launch, Alliance refuses to be framed: the sign-in page stays out of the frame.
    blocked = framing_page.context.browser.new_context()
    other = blocked.new_page()
    other.set_content(f'<iframe title="x" src="{live_server.url}/auth/sign-in"></iframe>')
    other.wait_for_timeout(500)
    assert other.frames[1].url in ("", "about:blank", "chrome-error://chromewebdata/") or not other.frames[
        1
    ].content().count("Sign in</h1>")
    blocked.close()
    # The same launch, top level, for the checks (axe needs the CSP bypassed to inject itself).
    platform.plan("top-learner", Planned("browser-learner", [LEARNER], custom={"alliance_item": f"quiz:{quiz.id}"}))
    page.goto(f"{platform.issuer}/start/top-learner")
    expect(page.get_by_role("heading", level=1)).to_have_text(quiz.title)
    _check_at_both_widths(page, axe_path, "quiz")


def test_an_instructor_picks_activities_in_the_frame_and_the_platform_takes_them(
    framing_page, page, platform, live_server, axe_path
):
    quiz = live_server.catalog.quizzes[0]
    platform.plan(
        "frame-dl", Planned("browser-teacher", [INSTRUCTOR], name="Dr Browser", resource_link=None, deep_linking=True)
    )
    framing_page.goto(f"{platform.issuer}/course/frame-dl")
    frame = framing_page.frame_locator("iframe")
    expect(frame.get_by_role("heading", level=1)).to_have_text("Choose Alliance activities")
    frame.get_by_role("checkbox", name=quiz.title).first.check()
    frame.get_by_role("button", name="Add to my course").click()
    expect(frame.get_by_text("Items added.")).to_be_visible()
    [items] = platform.received.deep_link_items[-1:]
    assert [item["custom"]["alliance_item"] for item in items] == [f"quiz:{quiz.id}"]
    # The picker and a refused launch, top level, for the checks.
    platform.plan("top-dl", Planned("browser-teacher", [INSTRUCTOR], resource_link=None, deep_linking=True))
    page.goto(f"{platform.issuer}/start/top-dl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose Alliance activities")
    _check_at_both_widths(page, axe_path, "picker")
    page.goto(live_server.url + "/lti/login?iss=https://unknown.example&login_hint=x")
    expect(page.get_by_role("heading", level=1)).to_have_text("This launch was refused")
    _check_at_both_widths(page, axe_path, "refused")


def test_an_admin_registers_platforms_on_a_page_that_reads_at_both_widths(
    browser, page, live_server, platform, axe_path
):
    admin = Student(email="lti-admin@example.org", name="Lti Admin")
    with live_server.app.app_context():
        accounts.create_user(admin.email, admin.name, admin.password, "admin")
        db.session.commit()
    page.context.add_cookies(signed_in_cookies(browser, live_server, admin))
    page.goto("/lti/platforms/")
    expect(page.get_by_role("cell", name=platform.issuer, exact=False)).to_be_visible()
    page.get_by_role("button", name="Make a registration link").click()
    expect(page.get_by_label("Registration link (shown once):")).to_have_value(re.compile(r"/lti/register\?link="))
    _check_at_both_widths(page, axe_path, "platforms")
    page.get_by_role("button", name="Register the platform").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    _check_at_both_widths(page, axe_path, "platforms-errors")
    assert_reflows(page, axe_path)
