"""Results people can read, in a real browser: a standard quiz's results, certainty-based results passed and failed,
a practice summary and a review session's summary. Each is checked by axe-core at 1280 and 375 px, and used as a
learner would: the overview's links land on their cards, the next module leads after a pass, and patients are named.

Set RESULTS_SHOTS to a folder to keep a screenshot of every state at both widths."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fsrs import Scheduler
from playwright.sync_api import expect

from app.extensions import db
from app.models.types import utcnow
from app.services import accounts, events, practice, quizzes, results, review
from tests.browser.checks import assert_accessible, assert_reflows
from tests.helpers import answers_by_grade

pytestmark = pytest.mark.browser

MINUS = "\u2212"
SHOTS = os.environ.get("RESULTS_SHOTS")


@pytest.fixture
def nu(nu_checker):
    """The run's Nu HTML checker (tests/browser/nu.py)."""
    return nu_checker


def looked_at(page, axe_path, name: str, nu) -> None:
    """The page's HTML validates; axe finds nothing at 1280 and at 375 px (then it reflows at 320); keep
    screenshots when asked."""
    served = page.request.get(page.url.split("#")[0])
    assert served.ok
    errors = nu.errors(served.text())
    assert not errors, f"the Nu checker found {len(errors)} error(s) on {page.url}:\n" + "\n".join(errors)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    assert_reflows(page, axe_path)
    page.set_viewport_size({"width": 1280, "height": 900})


def submitted(live_server, student, quiz, data: dict) -> int:
    """An attempt at `quiz` answered with this form data and submitted through the service; its id."""
    with live_server.app.app_context():
        user = accounts.find_by_email(student.email)
        attempt = quizzes.start_attempt(user.id, quiz)
        answers = quizzes.read_answers(quiz, data)
        assert answers.complete
        quizzes.submit_attempt(user.id, attempt, quiz, answers.given, answers.confidence)
        db.session.commit()
        return attempt.id


def cbm_quiz(live_server):
    """The quiz marked by certainty."""
    return next(q for q in live_server.catalog.quizzes if q.marking == "certainty")


def test_standard_results_lead_with_an_overview_whose_links_land_on_each_card(
    page, learner, live_server, student, axe_path, nu
):
    quiz = live_server.catalog.quizzes[0]
    attempt_id = submitted(live_server, student, quiz, answers_by_grade(quiz, "best", confidence=2))
    learner.sign_in(student)
    page.goto(f"/learn/attempts/{attempt_id}/results")
    expect(page.get_by_role("heading", level=1, name=f"Results: {quiz.title}")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text("You scored 100%")

    overview = page.get_by_role("table", name=re.compile("^Each item with its grade"))
    expect(overview.get_by_role("row")).to_have_count(len(quiz.items) + 1)
    # Patients are named, not seven "What do you say?".
    scenario_number, scenario = next((n, i) for n, i in enumerate(quiz.items, start=1) if i.type == "scenario")
    title = results.item_title(scenario)
    expect(overview).not_to_contain_text("What do you say?")
    link = overview.get_by_role("link", name=f"{scenario_number}. {title}")
    link.click()
    card = page.locator(f"#item-{scenario.id}")
    expect(card).to_be_in_viewport()
    assert page.url.endswith(f"#item-{scenario.id}")
    # The chosen reply's card keeps the learner's confidence inside it.
    expect(card.locator(".confidence-said")).to_have_text("You said you were fairly sure.")

    # After a pass the next module is the main action; retaking is there, but second.
    following = live_server.catalog.modules[[m.id for m in live_server.catalog.modules].index(quiz.module_id) + 1]
    next_module = page.get_by_role("link", name=f"Next module: {following.title}")
    expect(next_module).to_have_class("button")
    expect(page.get_by_role("button", name="Retake the quiz")).to_have_class("button secondary")
    looked_at(page, axe_path, "results-standard", nu)
    next_module.click()
    expect(page.get_by_role("heading", level=1, name=following.title)).to_be_visible()


def test_certainty_based_results_passed_read_as_moodle_gives_them(page, learner, live_server, student, axe_path, nu):
    quiz = cbm_quiz(live_server)
    attempt_id = submitted(live_server, student, quiz, answers_by_grade(quiz, "best", confidence=3))
    learner.sign_in(student)
    page.goto(f"/learn/attempts/{attempt_id}/results")
    verdict = page.locator(".score-summary .verdict")
    expect(verdict).to_contain_text("Passed: you needed an average certainty-based mark of at least 0.70 per item")
    expect(verdict).to_contain_text("and you averaged 3.00.")
    figures = page.locator("dl.result-figures")
    for name, value in (
        ("Accuracy", "100%"),
        ("Average certainty-based mark", "3.00"),
        ("Certainty bonus", "0%"),
        ("Accuracy with the bonus", "100%"),
    ):
        expect(figures.locator("div", has=page.get_by_text(name, exact=True)).locator("dd strong")).to_have_text(value)
    expect(page.get_by_role("main")).not_to_contain_text("300%")
    # The explanation opens on demand.
    page.get_by_text("How these figures are worked out").click()
    expect(page.get_by_text("This is how Moodle reports certainty-based marking.")).to_be_visible()
    overview = page.get_by_role("table", name=re.compile("^Each item with its grade"))
    expect(overview.get_by_role("columnheader", name="Mark")).to_be_visible()
    expect(overview.get_by_role("row").nth(1)).to_contain_text("+6")
    first = quiz.items[0]
    expect(page.locator(f"#item-{first.id} .confidence-said")).to_have_text(
        "You said you were very sure: your 2 of 2 points became a certainty-based mark of +6."
    )
    looked_at(page, axe_path, "results-cbm-passed", nu)


def test_certainty_based_results_failed_show_the_cost_of_confident_mistakes(
    page, learner, live_server, student, axe_path, nu
):
    quiz = cbm_quiz(live_server)
    # Three scenario items wrong at "Very sure", the rest right at "Fairly sure": the marks cancel out.
    wrong = [item.id for item in quiz.items if item.type == "scenario"][: len(quiz.items) // 4]
    data = {}
    for item in quiz.items:
        if item.id in wrong:
            option = next(o for o in item.options if o.score == 0)
            data.update(item.handler.form_data(item, option.id))
            data[f"confidence-{item.id}"] = "3"
        else:
            data.update(item.handler.form_data(item, item.handler.right_answer(item)))
            data[f"confidence-{item.id}"] = "2"
    attempt_id = submitted(live_server, student, quiz, data)
    learner.sign_in(student)
    page.goto(f"/learn/attempts/{attempt_id}/results")
    expect(page.locator(".score-summary .verdict")).to_contain_text("Not passed")
    figures = page.locator("dl.result-figures")
    expect(figures).to_contain_text("75%")
    expect(figures).to_contain_text("0.00")
    expect(figures).to_contain_text(f"{MINUS}10%")
    expect(figures).to_contain_text("How sure you said you were took this off your accuracy.")
    main = page.get_by_role("main")
    expect(main).not_to_contain_text("Your certainty-based mark is")
    # Retaking leads after a fail; no next module is offered.
    expect(page.get_by_role("button", name="Retake the quiz")).to_have_class("button")
    expect(page.get_by_role("link", name=re.compile("^Next module"))).to_have_count(0)
    calibration = page.get_by_role("table", name="How often you were right at each level of confidence")
    expect(calibration.get_by_role("row", name=re.compile(r"^Very sure 3 0 0%"))).to_be_visible()
    looked_at(page, axe_path, "results-cbm-failed", nu)


def test_a_practice_summary_names_its_patients(page, learner, live_server, student, axe_path, nu):
    quiz = live_server.catalog.quizzes[0]
    learner.sign_in(student)
    page.goto(f"/learn/quizzes/{quiz.id}")
    page.get_by_role("button", name="Practise this quiz").click()
    total = len(quiz.items)
    for position, item in enumerate(quiz.items, start=1):
        learner.answer_item(learner.item_group(position, total), item, item.handler.right_answer(item))
        learner.say_confidence(position, "Fairly sure" if position % 2 else "Not sure")
        page.get_by_role("button", name="Check my answer").click()
        page.get_by_role("link", name="See your summary" if position == total else "Next item").click()
    expect(page.get_by_role("heading", level=1, name=f"Practice: {quiz.title}: summary")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"You got {total} of {total} items right")
    overview = page.get_by_role("table", name=re.compile("^Each item with its grade"))
    expect(overview).not_to_contain_text("What do you say?")
    scenario_number, scenario = next((n, i) for n, i in enumerate(quiz.items, start=1) if i.type == "scenario")
    row_link = overview.get_by_role("link", name=f"{scenario_number}. {results.item_title(scenario)}")
    expect(row_link).to_be_visible()
    looked_at(page, axe_path, "practice-summary", nu)
    row_link.click()
    expect(page.get_by_role("status")).to_contain_text("Right.")
    expect(page.locator(f"#item-{scenario.id} .confidence-said")).to_be_visible()


def test_a_review_session_summary_names_its_patients(page, learner, live_server, student, axe_path, nu):
    quiz = live_server.catalog.quizzes[1]
    items = [item for item in quiz.items if item.type == "scenario"][:4]
    with live_server.app.app_context():
        user = accounts.find_by_email(student.email)
        attempt = practice.start_set(
            user.id, events.REVIEW_SET, [f"{quiz.id}/{item.id}" for item in items], live_server.catalog
        )
        db.session.commit()
        attempt_id = attempt.id
    learner.sign_in(student)
    page.goto(f"/learn/practice/attempts/{attempt_id}")
    for position, item in enumerate(items, start=1):
        group = learner.item_group(position, len(items))
        answer = item.handler.right_answer(item) if position != 2 else next(o.id for o in item.options if o.score == 0)
        learner.answer_item(group, item, answer)
        learner.say_confidence(position, "Very sure")
        page.get_by_role("button", name="Check my answer").click()
        page.get_by_role("link", name="See your summary" if position == len(items) else "Next item").click()
    expect(page.get_by_role("heading", level=1, name="Review session: summary")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"You got 3 of {len(items)} items right")
    overview = page.get_by_role("table", name=re.compile("^Each item with its grade"))
    for item in items:
        expect(overview).to_contain_text(item.vignette.patient.split(",")[0])
    expect(overview).not_to_contain_text("What do you say?")
    expect(page.get_by_role("link", name="Back to your review queue")).to_be_visible()
    looked_at(page, axe_path, "review-summary", nu)


def test_the_review_page_names_patients_in_a_learners_words(page, learner, live_server, student, axe_path, nu):
    quiz = live_server.catalog.quizzes[0]
    scenarios = [item for item in quiz.items if item.type == "scenario"][:3]
    with live_server.app.app_context():
        user = accounts.find_by_email(student.email)
        answers = [review.Answered(quiz.id, item.id, False, 2) for item in scenarios]
        review.record_answers(user.id, answers, utcnow() - timedelta(days=1), Scheduler(enable_fuzzing=False))
        db.session.commit()
    learner.sign_in(student)
    page.goto("/learn/review")
    due = page.locator("ol.review-due")
    for item in scenarios:
        expect(due.get_by_role("heading", level=3, name=results.item_title(item))).to_be_visible()
    expect(due).not_to_contain_text("What do you say?")
    rules = page.get_by_role("table", name="When an item comes back, after each kind of answer")
    expect(rules.get_by_role("row", name=re.compile("^Wrong It comes back soonest"))).to_be_visible()
    for word in ("Again", "Hard", "Good", "Easy"):
        expect(rules.get_by_role("cell", name=word, exact=True)).to_have_count(0)
    looked_at(page, axe_path, "review-page", nu)
