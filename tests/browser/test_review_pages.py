"""The review page in a real browser: axe-core finds nothing with items due and with none, the page
reflows at 320 px, and a learner reaches a review session from the home page by keyboard-reachable links."""

import re
from datetime import timedelta

import pytest
from fsrs import Scheduler
from playwright.sync_api import expect

from app.extensions import db
from app.models.types import utcnow
from app.services import accounts, review
from tests.browser.checks import assert_accessible, assert_reflows

pytestmark = pytest.mark.browser


def _with_due_items(live_server, student, count: int) -> None:
    """Give the student `count` wrong answers from a day ago, so that many items are due now."""
    quiz = live_server.catalog.quizzes[0]
    with live_server.app.app_context():
        user = accounts.find_by_email(student.email)
        answers = [review.Answered(quiz.id, item.id, False, 2) for item in quiz.items[:count]]
        review.record_answers(user.id, answers, utcnow() - timedelta(days=1), Scheduler(enable_fuzzing=False))
        db.session.commit()


def test_the_review_page_with_items_due_is_accessible_and_starts_a_session(
    page, learner, live_server, student, axe_path
):
    _with_due_items(live_server, student, 3)
    learner.sign_in(student)
    page.get_by_role("link", name="3 items due for review").click()
    expect(page.get_by_role("heading", level=1, name="Review")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Review")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("img", name="Items coming due in the next 7 days")).to_be_visible()
    expect(page.get_by_role("table", name="Items falling due each day").get_by_role("row")).to_have_count(8)
    assert_accessible(page, axe_path)
    assert_reflows(page, axe_path)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Start a review session").click()
    expect(page).to_have_url(re.compile(r"/learn/practice/attempts/\d+$"))


def test_the_empty_review_page_is_accessible(page, learner, student, axe_path):
    learner.sign_in(student)
    page.get_by_role("link", name="Your review queue").click()
    expect(
        page.get_by_text("Nothing to review — answers you get wrong or are unsure of will come back here.")
    ).to_be_visible()
    assert_accessible(page, axe_path)
    assert_reflows(page, axe_path)
