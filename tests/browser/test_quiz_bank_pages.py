"""The quiz bank downloads in the course builder, in a real browser: the links beside each quiz and the note
saying what a harmful reply is worth in them pass axe and the Nu checker at 1280 and 375 px, and a click
downloads the file the link names, carrying the penalty the note states."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_course_builder_pages import _draft, _educator, check_both_widths


@pytest.fixture
def educator(page, learner, live_server):
    """A new educator, signed in through the form in the test's page."""
    account = _educator(live_server)
    learner.sign_in(account)
    return account


def test_an_educator_downloads_a_quiz_bank_beside_the_quiz_and_reads_what_harmful_is_worth(
    page, educator, live_server, axe_path
):
    catalog = live_server.catalog
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    course_id = _draft(live_server, educator, "Banks for the campus", f"module:{module.id}", f"quiz:{quiz.id}")
    page.goto(f"/teach/courses/{course_id}")
    quiz_row = page.locator("ol.course-items > li").filter(has_text=f"Quiz: {quiz.title}")
    for label in ("GIFT file", "Moodle XML file", "QTI 2.1 package"):
        expect(quiz_row.get_by_role("link", name=f"{label} of “{quiz.title}”")).to_be_visible()
    module_row = page.locator("ol.course-items > li").filter(has_text=f"Module: {module.title}")
    expect(module_row.get_by_text("Download for another platform")).to_have_count(0)
    note = page.locator("#quiz-bank-note")
    expect(note).to_contain_text("Here a harmful reply scores 0")
    stated = re.search(r"worth (-\d+)% of the question", note.inner_text()).group(1)
    check_both_widths(page, axe_path, "quiz-banks")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        quiz_row.scroll_into_view_if_needed()
        page.screenshot(path=f"/tmp/shots/quiz-bank-links-{width}.png")
    page.set_viewport_size({"width": 1280, "height": 800})
    with page.expect_download() as download:
        quiz_row.get_by_role("link", name=f"GIFT file of “{quiz.title}”").click()
    assert download.value.suggested_filename == f"{quiz.id}.gift.txt"
    gift = open(download.value.path(), encoding="utf-8").read()
    assert f"harmful {stated}%" in gift and f"~%{stated}%" in gift
