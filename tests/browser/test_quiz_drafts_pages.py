"""Taking a quiz never loses an answer, in a real browser, with and without JavaScript.

A learner ticks answers, goes to Progress and comes back: they are still ticked. The page counts what
is answered as it changes, says when answers are saved (and when they cannot be), and pressing
"Submit answers" with items unanswered lists them with links instead of submitting. Every state is
checked by axe-core at 1280 and 375 px. Set QUIZ_DRAFTS_SHOTS to a folder to keep screenshots.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_reflows
from tests.browser.conftest import TIMEOUT_MS, Learner

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("QUIZ_DRAFTS_SHOTS")


def looked_at(page, axe_path, name: str, reflow: bool = True) -> None:
    """axe finds nothing at 1280 and at 375 px (and the page reflows at 320); keep screenshots when asked."""
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    if reflow:
        assert_reflows(page, axe_path)
    page.set_viewport_size({"width": 1280, "height": 900})


def looked_at_without_scripts(scriptless: Learner, viewer, axe_path, name: str) -> None:
    """axe and screenshots of what a browser without JavaScript shows: its page copied, scripts left out, into
    `viewer` (a page at the same address with scripts on, which axe needs to run)."""
    html = re.sub(r"<script\b[^>]*>.*?</script>", "", scriptless.page.content(), flags=re.S)
    viewer.goto("/auth/sign-in")  # the same origin, so the stylesheet and links resolve as they do there
    viewer.set_content(html)
    looked_at(viewer, axe_path, name)


@pytest.fixture
def scriptless(browser, live_server):
    """A learner in a browser with JavaScript turned off."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, java_script_enabled=False, bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield Learner(context.new_page(), live_server)
    context.close()


def scenarios(quiz) -> list[tuple[int, object]]:
    """The quiz's scenario items with their numbers."""
    return [(number, item) for number, item in enumerate(quiz.items, start=1) if item.type == "scenario"]


def count_bar(page):
    return page.locator("[data-answered-count]")


def save_status(page):
    return page.locator(".quiz-bar").get_by_role("status")


def option_of(item, answer_key):
    return item.option(answer_key[item.id])


def test_two_answers_survive_a_visit_to_progress(
    page, learner, live_server, student, module_quiz, answer_key, axe_path
):
    quiz, total = module_quiz, len(module_quiz.items)
    (n1, first), (n2, second) = scenarios(quiz)[:2]
    learner.sign_in(student)
    learner.start_quiz(quiz)
    expect(count_bar(page)).to_have_text(f"0 of {total} answered")
    looked_at(page, axe_path, "attempt-fresh")

    learner.option_radio(n1, total, option_of(first, answer_key)).check()
    learner.say_confidence(n1, "Very sure")
    learner.option_radio(n2, total, option_of(second, answer_key)).check()
    # The count follows each answer at once; saving follows a moment later.
    expect(count_bar(page)).to_have_text(f"2 of {total} answered")
    # Straight to Progress, without waiting for anything.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    expect(page.get_by_role("heading", level=1, name="My progress")).to_be_visible()

    learner.start_quiz(quiz)
    expect(page.get_by_text("Welcome back.")).to_be_visible()
    expect(learner.option_radio(n1, total, option_of(first, answer_key))).to_be_checked()
    expect(learner.option_radio(n2, total, option_of(second, answer_key))).to_be_checked()
    confidence = page.get_by_role("group", name=f"How sure are you of your answer to item {n1}?")
    expect(confidence.get_by_role("radio", name="Very sure", exact=True)).to_be_checked()
    expect(count_bar(page)).to_have_text(f"2 of {total} answered")
    looked_at(page, axe_path, "attempt-resumed")

    # A saved change says so, politely, and survives a reload.
    (n3, third) = scenarios(quiz)[2]
    learner.option_radio(n3, total, option_of(third, answer_key)).check()
    expect(save_status(page)).to_have_text(re.compile(r"^Saved at "))
    page.reload()
    expect(learner.option_radio(n3, total, option_of(third, answer_key))).to_be_checked()


def test_answers_saved_survive_signing_out_and_in(page, learner, live_server, student, module_quiz, answer_key):
    quiz, total = module_quiz, len(module_quiz.items)
    (n1, first) = scenarios(quiz)[0]
    learner.sign_in(student)
    learner.start_quiz(quiz)
    learner.option_radio(n1, total, option_of(first, answer_key)).check()
    expect(save_status(page)).to_have_text(re.compile(r"^Saved at "))
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    learner.sign_in(student)
    learner.start_quiz(quiz)
    expect(learner.option_radio(n1, total, option_of(first, answer_key))).to_be_checked()


def test_without_javascript_save_and_continue_later_keeps_the_answers(
    scriptless, page, live_server, student, module_quiz, answer_key, axe_path
):
    learner, viewer, page = scriptless, page, scriptless.page
    quiz, total = module_quiz, len(module_quiz.items)
    (n1, first), (n2, second) = scenarios(quiz)[:2]
    learner.sign_in(student)
    learner.start_quiz(quiz)
    expect(page.get_by_text("press “Save and continue later”")).to_be_visible()
    learner.option_radio(n1, total, option_of(first, answer_key)).check()
    learner.option_radio(n2, total, option_of(second, answer_key)).check()
    learner.say_confidence(n2, "Not sure")
    page.get_by_role("button", name="Save and continue later").click()

    expect(page.get_by_role("heading", level=1, name=quiz.title)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Your answers are saved: 2 of {total} answered.")
    progress = page.get_by_role("region", name="Your attempt in progress")
    expect(progress).to_contain_text(f"You have answered 2 of {total} items")
    looked_at_without_scripts(learner, viewer, axe_path, "quiz-page-in-progress")

    progress.get_by_role("button", name="Resume your attempt").click()
    expect(learner.option_radio(n1, total, option_of(first, answer_key))).to_be_checked()
    expect(learner.option_radio(n2, total, option_of(second, answer_key))).to_be_checked()
    confidence = page.get_by_role("group", name=f"How sure are you of your answer to item {n2}?")
    expect(confidence.get_by_role("radio", name="Not sure", exact=True)).to_be_checked()
    expect(count_bar(page)).to_have_text(f"2 of {total} answered")
    expect(page.get_by_role("link", name=re.compile(r"^Carry on at item \d+$"))).to_be_visible()
    looked_at_without_scripts(learner, viewer, axe_path, "attempt-resumed-no-script")


def test_without_javascript_submitting_with_items_unanswered_lists_them(
    scriptless, page, live_server, student, module_quiz, answer_key, axe_path
):
    learner, viewer, page = scriptless, page, scriptless.page
    quiz, total = module_quiz, len(module_quiz.items)
    skipped = [n for n, _ in scenarios(quiz)[:2]]
    learner.sign_in(student)
    learner.start_quiz(quiz)
    for number, item in enumerate(quiz.items, start=1):
        if number not in skipped:
            learner.answer_item(learner.item_group(number, total), item, answer_key[item.id])
    learner.submit_answers()

    review = page.get_by_role("alert")
    expect(review.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(review).to_contain_text(
        f"You have answered {total - 2} of {total} items, and your answers so far are saved."
    )
    links = review.get_by_role("link")
    expect(links).to_have_count(2)
    for link, number in zip(links.all(), skipped, strict=True):
        expect(link).to_have_text(f"Item {number} has no answer")
    looked_at_without_scripts(learner, viewer, axe_path, "attempt-review-no-script")
    # What was given is kept on the way back from the review too.
    page.goto(f"/learn/quizzes/{quiz.id}")
    expect(page.get_by_role("region", name="Your attempt in progress")).to_contain_text(
        f"You have answered {total - 2} of {total} items"
    )


def test_submit_with_items_unanswered_reviews_them_then_submits_when_all_are_answered(
    page, learner, live_server, student, module_quiz, answer_key, axe_path
):
    quiz, total = module_quiz, len(module_quiz.items)
    (n1, first), (n2, second) = scenarios(quiz)[:2]
    learner.sign_in(student)
    learner.start_quiz(quiz)
    for number, item in enumerate(quiz.items, start=1):
        if number not in (n1, n2):
            learner.answer_item(learner.item_group(number, total), item, answer_key[item.id])
    expect(count_bar(page)).to_have_text(f"{total - 2} of {total} answered")
    learner.submit_answers()

    # The review is read out and takes the focus; each unanswered item is listed once, with a link to it.
    review = page.get_by_role("alert")
    expect(review).to_be_focused()
    expect(review).to_contain_text(
        f"You have answered {total - 2} of {total} items, and your answers so far are saved."
    )
    expect(review.get_by_role("link")).to_have_text([f"Item {n1} has no answer", f"Item {n2} has no answer"])
    expect(count_bar(page)).to_have_text(f"{total - 2} of {total} answered")
    looked_at(page, axe_path, "attempt-review-script")

    review.get_by_role("link", name=f"Item {n2} has no answer").click()
    expect(page).to_have_url(re.compile(rf"#item-{re.escape(second.id)}$"))
    learner.option_radio(n2, total, option_of(second, answer_key)).check()
    learner.option_radio(n1, total, option_of(first, answer_key)).check()
    expect(count_bar(page)).to_have_text(f"{total} of {total} answered")
    learner.submit_answers()
    expect(page.get_by_role("heading", level=1, name=f"Results: {quiz.title}")).to_be_visible()


def test_a_lost_connection_is_said_plainly_and_the_save_is_tried_again(
    page, learner, live_server, student, module_quiz, answer_key, axe_path
):
    quiz, total = module_quiz, len(module_quiz.items)
    (n1, first) = scenarios(quiz)[0]
    learner.sign_in(student)
    learner.start_quiz(quiz)
    page.context.set_offline(True)
    learner.option_radio(n1, total, option_of(first, answer_key)).check()
    expect(save_status(page)).to_have_text(re.compile(r"^Not saved: the connection was lost\."))
    looked_at(page, axe_path, "attempt-save-failed", reflow=False)
    page.context.set_offline(False)
    expect(save_status(page)).to_have_text(re.compile(r"^Saved at "), timeout=15_000)
    page.goto(f"/learn/quizzes/{quiz.id}")
    expect(page.get_by_role("region", name="Your attempt in progress")).to_contain_text(
        f"You have answered 1 of {total} items"
    )


def test_confidence_is_marked_optional_or_required_where_it_is(page, learner, live_server, student, axe_path):
    learner.sign_in(student)
    for quiz in live_server.catalog.quizzes:
        marker = "(required)" if quiz.is_certainty_marked else "(optional)"
        if quiz.is_certainty_marked or quiz is live_server.catalog.quizzes[0]:
            learner.start_quiz(quiz)
            legend = page.get_by_role("group", name=f"How sure are you of your answer to item 1? {marker}")
            expect(legend).to_be_visible()
    # The certainty-marked quiz's page passes axe with its required markers.
    assert any(q.is_certainty_marked for q in live_server.catalog.quizzes)
    looked_at(page, axe_path, "attempt-certainty", reflow=False)


def test_a_matching_or_ordering_answer_is_counted_saved_and_filled_in_again(
    page, learner, live_server, student, module_quiz, answer_key
):
    quiz, total = module_quiz, len(module_quiz.items)
    number, item = next((n, i) for n, i in enumerate(quiz.items, start=1) if i.type in ("matching", "ordering"))
    learner.sign_in(student)
    learner.start_quiz(quiz)
    learner.answer_item(learner.item_group(number, total), item, answer_key[item.id])
    expect(count_bar(page)).to_have_text(f"1 of {total} answered")
    expect(save_status(page)).to_have_text(re.compile(r"^Saved at "))
    page.reload()
    # The count is worked out again from the controls as the page fills them in: all of this item's parts.
    expect(count_bar(page)).to_have_text(f"1 of {total} answered")
    expect(page.get_by_text("Welcome back.")).to_be_visible()
