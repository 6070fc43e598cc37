"""Practice and certainty-based marking in a real browser: axe-core finds nothing on the quiz page,
an item with an error, its feedback and the summary; the whole practice works by keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_reflows

pytestmark = pytest.mark.browser


def test_practising_a_certainty_marked_quiz_item_by_item(page, learner, live_server, student, axe_path):
    quiz = next(q for q in live_server.catalog.quizzes if q.marking == "certainty")
    total = len(quiz.items)
    learner.sign_in(student)
    page.goto(f"/learn/quizzes/{quiz.id}")
    expect(page.get_by_text("This quiz uses certainty-based marking.")).to_be_visible()
    page.get_by_text("How certainty-based marking works").click()
    expect(page.get_by_role("table", name=re.compile("^Certainty-based marking"))).to_be_visible()
    assert_accessible(page, axe_path)

    page.get_by_role("button", name="Practise this quiz").click()
    expect(page.get_by_role("heading", level=1, name=f"Practice: {quiz.title}")).to_be_visible()
    expect(page.get_by_text(f"Item 1 of {total}", exact=False).first).to_be_visible()

    # Checking an answer without saying how sure: the error names the field and keeps the answer.
    first = quiz.items[0]
    learner.answer_item(learner.item_group(1, total), first, first.handler.right_answer(first))
    page.get_by_role("button", name="Check my answer").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name="Say how sure you are of this answer.")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page, axe_path)

    # Every item by keyboard: the confidence radio is reached and ticked with the keyboard, Enter checks.
    for position, item in enumerate(quiz.items, start=1):
        if position > 1:
            learner.answer_item(learner.item_group(position, total), item, item.handler.right_answer(item))
        very_sure = page.get_by_role("group", name=f"How sure are you of your answer to item {position}?").get_by_role(
            "radio", name="Very sure", exact=True
        )
        very_sure.focus()
        page.keyboard.press("Space")
        expect(very_sure).to_be_checked()
        page.get_by_role("button", name="Check my answer").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Right.")
        expect(page.get_by_text("You said you were very sure").first).to_be_visible()
        if position == 1:
            assert_accessible(page, axe_path)
        following = "See your summary" if position == total else "Next item"
        page.get_by_role("link", name=following).focus()
        page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1, name=f"Practice: {quiz.title}: summary")).to_be_visible()
    figures = page.locator("dl.result-figures")
    expect(figures.get_by_role("definition").filter(has_text="Per item")).to_contain_text("3.00")
    calibration = page.get_by_role("table", name="How often you were right at each level of confidence")
    expect(calibration.get_by_role("row", name=re.compile(rf"^Very sure {total} {total} 100%"))).to_be_visible()
    assert_accessible(page, axe_path)
    assert_reflows(page, axe_path)


def test_an_assessed_results_page_with_calibration_is_accessible(page, learner, live_server, student, axe_path):
    quiz = live_server.catalog.quizzes[0]
    learner.sign_in(student)
    learner.start_quiz(quiz)
    for number, item in enumerate(quiz.items, start=1):
        answer = item.handler.right_answer(item) if number % 2 else item.handler.wrong_answer(item)
        learner.answer(quiz, number, item, answer, confidence="Not sure" if number % 3 else "Very sure")
    learner.submit_answers()
    expect(page.get_by_role("heading", name="How well you judged your answers")).to_be_visible()
    expect(page.get_by_text("You said you were not sure").first).to_be_visible()
    assert_accessible(page, axe_path)
