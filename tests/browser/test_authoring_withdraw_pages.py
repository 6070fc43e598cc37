"""Withdrawing an authored conversation and the reply statistics beside a node, in a real browser: the node
editor's table of replies chosen per version, the withdraw confirmation, the history's notice afterwards, and the
learner's refusal page. axe and the Nu HTML checker find nothing on each, at 1280 and 375 px. Screenshots go to
/tmp/shots/withdraw-*.png."""

import re
from pathlib import Path

from playwright.sync_api import expect

from app.content import catalog as request_catalog
from app.content import live
from app.extensions import db
from app.models import AuthoredQuiz
from app.services import accounts, authoring, cohorts, conversations, quizzes
from app.services import authored_conversations as talks
from tests.authoring_conversation_helpers import TITLE, mapping
from tests.browser.checks import assert_accessible

SHOTS = Path("/tmp/shots")
_WIDER = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def check(page, axe_path, name: str) -> None:
    """axe and Nu find nothing at 1280 and 375 px; no sideways scrolling; a screenshot at each width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER), f"{page.url} scrolls sideways at {width}px"
        page.screenshot(path=str(SHOTS / f"withdraw-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_author_sees_reply_counts_withdraws_and_a_learner_is_told(page, learner, live_server, axe_path):
    author = live_server.create_student("withdrawer")
    student = live_server.create_student("replier")
    newcomer = live_server.create_student("newcomer")
    app = live_server.app
    with app.app_context():
        owner = accounts.find_by_email(author.email)
        owner.role = "educator"
        talk = talks.create_conversation(owner, TITLE, "bordin-components")
        talks.replace_draft(talk, mapping(talk.ref))
        db.session.commit()
        talk_id, ref = talk.id, talk.ref
    with app.test_request_context():
        found = db.session.get(AuthoredQuiz, talk_id)
        authoring.publish(found, accounts.find_by_email(author.email), request_catalog())
        db.session.commit()
    live.changed(app)  # this process reads the new revision at once, as the publish view does
    with app.test_request_context():
        played = request_catalog().conversation(ref)
        owner = accounts.find_by_email(author.email)
        cohort = cohorts.create(owner, "Rehab placement")
        replier = accounts.find_by_email(student.email)
        cohorts.add_member(cohort, replier.id, "code")
        attempt = quizzes.start_attempt(replier.id, played)
        conversations.reply(replier.id, attempt, played, 1, played.node("opening").replies[0].id)
        db.session.commit()

    learner.sign_in(author)
    page.goto(f"/author/{talk_id}/nodes/opening")
    expect(page.locator("#reply-stats-caption")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Version 1 (1 answer)")).to_be_visible()
    check(page, axe_path, "node-stats")

    page.goto(f"/author/{talk_id}/history")
    page.get_by_role("link", name="Withdraw it from learners").click()
    expect(page.get_by_role("heading", level=1, name=f"Withdraw “{TITLE}”?")).to_be_visible()
    check(page, axe_path, "confirm")
    page.get_by_role("button", name="Withdraw it").click()
    expect(page.get_by_text("Withdrawn since")).to_be_visible()
    check(page, axe_path, "history-withdrawn")

    page.context.clear_cookies()
    learner.sign_in(newcomer)
    page.goto(f"/learn/conversations/{ref}")
    expect(page.get_by_text("it cannot be started any more")).to_be_visible()  # said where Start was
    expect(page.get_by_role("button", name=re.compile("Start|Practise"))).to_have_count(0)
    check(page, axe_path, "withdrawn-notice")
    # A page opened before the withdrawal still holds its Start button: sending it gets the 410 page.
    page.evaluate(
        """(action) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            form.appendChild(document.querySelector("input[name=csrf_token]").cloneNode());
            document.body.appendChild(form);
            form.submit();
        }""",
        f"/learn/conversations/{ref}/attempts",
    )
    expect(page.get_by_text(f"“{TITLE}” has been withdrawn")).to_be_visible()
    check(page, axe_path, "refused")
