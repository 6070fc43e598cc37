"""A new student's whole path in a real browser, and the same path by keyboard alone.

Elements are found only by accessible role, name and label, as assistive technology finds them.
"""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from app.content.items import GRADE_LABELS
from app.services import mastery


def _percent(value: float) -> str:
    """A percentage as the app prints it (the `percent` template filter)."""
    return f"{value:.0f}%"


@pytest.mark.browser
def test_new_student_signs_up_learns_takes_the_quiz_and_sees_progress(
    page, learner, live_server, learning_module, module_quiz, answer_key
):
    catalog = live_server.catalog
    first, second = learning_module.lessons[0], learning_module.lessons[1]
    steps_total = len(learning_module.lessons) + len(catalog.quizzes_for(learning_module.id))
    main_nav = page.get_by_role("navigation", name="Main")

    # The landing page invites a visitor to sign up.
    page.goto("/")
    expect(page.get_by_role("heading", level=1, name="Learn to build a therapeutic alliance")).to_be_visible()
    page.get_by_role("link", name="Create a free account").click()

    expect(page.get_by_role("heading", level=1, name="Create an account")).to_be_visible()
    page.get_by_label("Email").fill("new.student@example.org")
    page.get_by_label("Your name").fill("Noor Student")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Repeat the password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()

    # Signed in on My learning, with the module not started.
    expect(page.get_by_role("heading", level=1, name="My learning")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Welcome, Noor Student. Your account is ready.")
    expect(main_nav).to_contain_text("Noor Student")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", level=3, name=learning_module.title))
    expect(card).to_be_visible()
    bar = card.get_by_role("progressbar", name=f"Progress in {learning_module.title}")
    expect(bar).to_have_js_property("value", 0)
    expect(card).to_contain_text(f"0% · 0 of {steps_total} steps")
    expect(card).to_contain_text("Not started")

    # The module, then its first lesson.
    card.get_by_role("link", name=learning_module.title).click()
    expect(page.get_by_role("heading", level=1, name=learning_module.title)).to_be_visible()
    page.get_by_role("region", name="Lessons").get_by_role("link", name=first.title, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=first.title)).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text(
        f"Lesson 1 of {len(learning_module.lessons)}"
    )

    # Completing it moves on to the next lesson.
    page.get_by_role("button", name=f"Next: {second.title}").click()
    expect(page.get_by_role("heading", level=1, name=second.title)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Lesson completed: {first.title}.")

    # Back on My learning the bar has moved and a link leads back to where the student stopped.
    main_nav.get_by_role("link", name="My learning").click()
    expect(page.get_by_role("heading", level=1, name="My learning")).to_be_visible()
    moved = round(100 * 1 / steps_total)
    expect(bar).to_have_js_property("value", moved)
    assert bar.evaluate("bar => bar.value") > 0
    expect(card).to_contain_text(f"{moved}% · 1 of {steps_total} steps")
    resume = page.get_by_role("region", name="Continue where you left off")
    expect(resume.get_by_role("link", name=f"Continue with “{second.title}”")).to_be_visible()

    # The module's quiz.
    card.get_by_role("link", name=learning_module.title).click()
    page.get_by_role("region", name="Scenario quiz").get_by_role("link", name=module_quiz.title).click()
    expect(page.get_by_role("heading", level=1, name=module_quiz.title)).to_be_visible()
    page.get_by_role("button", name="Start the quiz").click()

    total = len(module_quiz.items)
    expect(learner.item_group(1, total)).to_be_visible()
    expect(page.get_by_role("group", name=re.compile(r"^Item \d+ of "))).to_have_count(total)

    # Submitting with the last item unanswered shows the error summary and keeps the other answers.
    learner.choose(module_quiz, answer_key, skip=(total,))
    learner.submit_answers()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    # Each missing thing is listed once; saying how sure is optional on this quiz, so only the answer is missing.
    expect(summary.get_by_role("link", name=f"Item {total} has no answer")).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(learner.item_group(total, total)).to_have_accessible_description("Error: Choose one reply.")
    for number, item in enumerate(module_quiz.items[:-1], start=1):
        if item.type == "scenario":
            expect(learner.option_radio(number, total, item.option(answer_key[item.id]))).to_be_checked()
    last = module_quiz.items[-1]
    assert last.type == "scenario", "this journey expects the quiz to end with a scenario item"
    for option in last.options:
        expect(learner.option_radio(total, total, option)).not_to_be_checked()

    # Answer the last item too and submit.
    learner.answer(module_quiz, total, last, answer_key[last.id])
    learner.submit_answers()

    # The results: score and verdict as the catalog's answer key says, then every item's feedback.
    graded = [item.handler.grade(item, answer_key[item.id]) for item in module_quiz.items]
    score = sum(g.score for g in graded)
    max_score = sum(item.max_score for item in module_quiz.items)
    percent = 100 * score / max_score
    passed = percent >= module_quiz.pass_mark
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1, name=f"Results: {module_quiz.title}")).to_be_visible()
    expect(main).to_contain_text(f"You scored {_percent(percent)} ({score:g} of {max_score:g} points).")
    verdict, other = ("Passed", "Not passed") if passed else ("Not passed", "Passed")
    expect(main).to_contain_text(f"{verdict}: the pass mark was {module_quiz.pass_mark}%.")
    expect(main).not_to_contain_text(f"{other}: the pass mark")
    for number, item in enumerate(module_quiz.items, start=1):
        result = page.get_by_role("region", name=re.compile(rf"^Item {number}\. "))
        expect(result).to_be_visible()
        if item.type != "scenario":  # answered right: its own layout, checked in test_curriculum_pages
            expect(result).to_contain_text(f"Right · {item.max_score:g} of {item.max_score:g} points")
            continue
        option = item.option(answer_key[item.id])
        names = ", ".join(catalog.competency(c).name for c in option.competencies)
        expect(result.get_by_role("term")).to_have_text(
            ["Patient", "Setting", "You chose", "How sure you were", "Grade", "Feedback", "Competencies"]
        )
        expect(result.get_by_role("definition")).to_have_text(
            [
                item.vignette.patient,
                item.vignette.setting,
                learner.text_of(option.text_html),
                "You said you were fairly sure.",  # the confidence stays in the chosen reply's card
                f"{GRADE_LABELS[option.grade]} · {option.score:g} of {item.max_score:g} points",
                learner.text_of(option.feedback_html),
                names,
            ]
        )

    # Progress: the module row and every competency row reflect the lesson and the attempt.
    main_nav.get_by_role("link", name="Progress").click()
    expect(page.get_by_role("heading", level=1, name="My progress")).to_be_visible()
    modules_table = page.get_by_role("table", name="Lessons completed and quiz results per module")
    module_row = modules_table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=learning_module.title))
    steps_done = 1 + passed  # the completed lesson, and the quiz when passed
    expect(module_row.get_by_role("progressbar")).to_have_js_property("value", round(100 * steps_done / steps_total))
    quiz_text = (
        f"{module_quiz.title}: passed, best {_percent(percent)}"
        if passed
        else f"{module_quiz.title}: not passed yet: best {_percent(percent)} in 1 attempt; the pass mark is now {module_quiz.pass_mark}%"
    )
    expect(module_row.get_by_role("cell")).to_have_text(
        [
            re.compile(rf"{round(100 * steps_done / steps_total)}% · {steps_done} of {steps_total} steps"),
            f"1 of {len(learning_module.lessons)}",
            quiz_text,
        ]
    )

    # Mastery: every competency of the framework has a row with the rule's numbers, its state in words,
    # all its answers and the lessons teaching it that were completed.
    rule = mastery.Rule()
    standings = mastery.standings(
        [mastery.Answer(g.competency_refs, g.is_correct, g.grade, datetime.now(UTC)) for g in graded], rule
    )
    competency_table = page.get_by_role("table", name="Mastery, answers and lessons completed per competency")
    for competency in catalog.competencies:
        teaching = catalog.lessons_teaching(competency.id)
        done = sum(1 for lesson in teaching if (lesson.module_id, lesson.id) == (learning_module.id, first.id))
        s = standings.get(competency.id) or mastery.not_started(competency.id)
        row = competency_table.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=competency.name, exact=True)
        )
        expect(row.get_by_role("cell")).to_have_text(
            [
                f"{s.correct_in_window} of {s.answers_in_window}" if s.total else "– no answers",
                re.compile(rf"^{re.escape(s.label)}"),
                f"{s.total_correct} of {s.total} ({s.percent_correct}%)" if s.total else "none answered yet",
                str(s.harmful),
                f"{done} of {len(teaching)}",
                "– not observed",  # no observed station rated yet
            ]
        )


_FOCUS_STATE = """el => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || el.getAttribute('aria-label') || el.id || '').trim().slice(0, 60),
    focusVisible: el.matches(':focus-visible'),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
    visibility: style.visibility,
    opacity: parseFloat(style.opacity),
    inViewport: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < window.innerHeight && box.left < window.innerWidth,
  };
}"""


def _assert_focus_is_visible(page) -> dict:
    """Check the focused element is on screen and drawn with a focus ring (outline or box-shadow); return its state."""
    state = page.evaluate(f"({_FOCUS_STATE})(document.activeElement)")
    assert state["tag"] not in ("body", "html"), "Tab left the page content: nothing is focused"
    where = f"focused <{state['tag']}> {state['text']!r}"
    assert state["inViewport"] and state["visibility"] == "visible" and state["opacity"] > 0, (
        f"{where} is not visible: {state}"
    )
    assert state["focusVisible"], f"{where} does not match :focus-visible after keyboard focus"
    ring = (state["outlineStyle"] != "none" and state["outlineWidth"] > 0) or state["boxShadow"] not in ("", "none")
    assert ring, f"{where} has no visible focus indicator: {state}"
    return state


def _tab_to(page, target, limit: int = 80) -> None:
    """Press Tab until `target` has focus, checking the focus ring at every stop on the way."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        _assert_focus_is_visible(page)
        if target.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"{target} was not reached within {limit} presses of Tab")


@pytest.mark.browser
def test_keyboard_only_student_signs_in_and_completes_a_lesson(page, student, learning_module):
    first, second = learning_module.lessons[0], learning_module.lessons[1]
    page.goto("/")

    # The first Tab stop is the skip link; it shows up on focus and moves focus to the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    _assert_focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    # From the main content the next stops are its links; "sign in" opens the sign-in form.
    _tab_to(page, page.get_by_role("main").get_by_role("link", name="sign in", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    _tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(student.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    _assert_focus_is_visible(page)
    page.keyboard.type(student.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="My learning")).to_be_visible()

    # My learning -> the module -> its first lesson -> Complete, all by Tab and Enter.
    _tab_to(page, page.get_by_role("main").get_by_role("link", name=learning_module.title))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=learning_module.title)).to_be_visible()
    _tab_to(page, page.get_by_role("region", name="Lessons").get_by_role("link", name=first.title, exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=first.title)).to_be_visible()
    _tab_to(page, page.get_by_role("button", name=f"Next: {second.title}"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1, name=second.title)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Lesson completed: {first.title}.")
