"""Every kind of page passes axe-core with no violations, has one h1 and the four landmarks.

Pages that need a learner with history use accounts prepared once per session (`shared_accounts`:
their cookies are copied into each test's fresh context), so sign-in and the quiz are not repeated.
"""

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible

LANDMARKS = ("banner", "navigation", "main", "contentinfo")


@dataclass
class Visit:
    """What a page's arrival step needs: the learner on the test's page, the content and the shared accounts."""

    learner: object  # conftest.Learner
    accounts: object  # conftest.SharedAccounts
    module: object
    quiz: object
    answers: dict

    @property
    def page(self):
        """The test's page."""
        return self.learner.page

    def as_account(self, kind: str) -> None:
        """Become the shared `kind` account in this test's browser context."""
        self.page.context.add_cookies(self.accounts.cookies(kind))


def landing(visit: Visit) -> None:
    """The public landing page."""
    visit.page.goto("/")


def sign_up(visit: Visit) -> None:
    """The empty sign-up form."""
    visit.page.goto("/auth/sign-up")


def sign_up_with_errors(visit: Visit) -> None:
    """The sign-up form sent with a bad email, no name, a short password and a mismatch."""
    page = visit.page
    page.goto("/auth/sign-up")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("different")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert").get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_attribute("aria-invalid", "true")


def sign_in(visit: Visit) -> None:
    """The sign-in form."""
    visit.page.goto("/auth/sign-in")


def sign_in_with_errors(visit: Visit) -> None:
    """The sign-in form after a wrong password: it must come back (422) with the error summary."""
    page = visit.page
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password", exact=True).fill("wrong password")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Sign in").click()
    assert sent.value.status == 422, f"a wrong password answered {sent.value.status}, not the form with an error"
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")


def my_learning(visit: Visit) -> None:
    """My learning with a module in progress: progress bar and the resume link."""
    visit.as_account("veteran")
    visit.page.goto("/learn/")
    expect(visit.page.get_by_role("region", name="Continue where you left off")).to_be_visible()


def module(visit: Visit) -> None:
    """A module page."""
    visit.as_account("newcomer")
    visit.page.goto(f"/learn/modules/{visit.module.id}")


def lesson(visit: Visit) -> None:
    """A lesson page reached by completing the one before, so the "Lesson completed" message shows too."""
    visit.learner.sign_in(visit.learner.server.create_student("reader"))
    visit.learner.complete_first_lesson(visit.module)
    expect(visit.page.get_by_role("status")).to_contain_text("Lesson completed")


def quiz_front_page(visit: Visit) -> None:
    """A quiz's front page before any attempt."""
    visit.as_account("newcomer")
    visit.page.goto(f"/learn/quizzes/{visit.quiz.id}")
    expect(visit.page.get_by_role("button", name="Start the quiz")).to_be_visible()


def quiz_front_page_with_history(visit: Visit) -> None:
    """A quiz's front page with the table of past attempts."""
    visit.as_account("veteran")
    visit.page.goto(f"/learn/quizzes/{visit.quiz.id}")
    expect(visit.page.get_by_role("table")).to_be_visible()


def attempt(visit: Visit) -> None:
    """The attempt form with its scenario items."""
    visit.as_account("quiz-taker")
    visit.learner.start_quiz(visit.quiz)


def attempt_with_errors(visit: Visit) -> None:
    """The attempt form sent with the last item unanswered, showing the error summary."""
    visit.as_account("quiz-taker")
    visit.learner.start_quiz(visit.quiz)
    visit.learner.choose(visit.quiz, visit.answers, skip=(len(visit.quiz.items),))
    visit.learner.submit_answers()
    expect(visit.page.get_by_role("alert")).to_contain_text("There is a problem")


def results(visit: Visit) -> None:
    """The results page of a submitted attempt."""
    visit.as_account("veteran")
    visit.page.goto(visit.accounts.results_path)
    expect(visit.page.get_by_role("heading", level=1, name=f"Results: {visit.quiz.title}")).to_be_visible()


def results_with_all_feedback_open(visit: Visit) -> None:
    """The results page with every item's "Feedback on every reply" disclosure opened."""
    results(visit)
    disclosures = visit.page.get_by_text("Feedback on every reply to this item")
    expect(disclosures).to_have_count(sum(1 for item in visit.quiz.items if item.type == "scenario"))
    for disclosure in disclosures.all():
        disclosure.click()
    expect(visit.page.get_by_role("list").filter(has_text="Competencies:").first).to_be_visible()


def progress(visit: Visit) -> None:
    """The progress page after a completed lesson and a quiz attempt."""
    visit.as_account("veteran")
    visit.page.goto("/learn/progress")


def not_found(visit: Visit) -> None:
    """The 404 page for a visitor."""
    response = visit.page.goto("/no-such-page")
    assert response.status == 404


def not_found_signed_in(visit: Visit) -> None:
    """The 404 page for a signed-in learner following a stale module link."""
    visit.as_account("newcomer")
    response = visit.page.goto("/learn/modules/no-such-module")
    assert response.status == 404


PAGES = [
    landing,
    sign_up,
    sign_up_with_errors,
    sign_in,
    sign_in_with_errors,
    my_learning,
    module,
    lesson,
    quiz_front_page,
    quiz_front_page_with_history,
    attempt,
    attempt_with_errors,
    results,
    results_with_all_feedback_open,
    progress,
    not_found,
    not_found_signed_in,
]


@pytest.mark.browser
@pytest.mark.parametrize("arrive", PAGES, ids=lambda f: f.__name__.replace("_", "-"))
def test_page_is_accessible(arrive, page, learner, shared_accounts, axe_path, learning_module, module_quiz, answer_key):
    arrive(Visit(learner, shared_accounts, learning_module, module_quiz, answer_key))

    assert_accessible(page, axe_path)
    for landmark in LANDMARKS:
        assert page.get_by_role(landmark).count() >= 1, f"{page.url} has no {landmark} landmark"
    for unique in ("banner", "main", "contentinfo"):
        expect(page.get_by_role(unique)).to_have_count(1)
