"""The quiz editor in a real browser, as an educator uses it: a three-item scenario quiz written from empty (the
first item by keyboard alone), a problem shown at its field and fixed, a preview answered as a learner, publishing,
adding the quiz to a course; then a student takes it. axe and the Nu HTML checker find nothing on any editor page
state, at 1280 and 375 px, and none scrolls sideways. Screenshots of each state go to /tmp/shots/authoring-*.png."""

import re
from pathlib import Path

from playwright.sync_api import expect

from app.content import catalog as request_catalog
from app.extensions import db
from app.services import accounts, cohorts, courses
from tests.authoring_helpers import SCENARIOS, scenario_form
from tests.browser.checks import assert_accessible

SHOTS = Path("/tmp/shots")
_WIDER = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
TITLE = "Goals in primary care"


def check(page, axe_path, name: str) -> None:
    """axe and Nu find nothing at 1280 and 375 px; no sideways scrolling; a screenshot at each width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER), f"{page.url} scrolls sideways at {width}px"
        page.screenshot(path=str(SHOTS / f"authoring-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _educator(live_server):
    account = live_server.create_student("author")
    with live_server.app.app_context():
        accounts.find_by_email(account.email).role = "educator"
        db.session.commit()
    return account


def tab_to(page, label: str) -> None:
    """Press Tab until the button with this text has the focus (at most 20 times)."""
    for _ in range(20):
        if page.evaluate("() => document.activeElement.textContent.trim()") == label:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {label!r}")


def type_item_by_keyboard(page, form: dict[str, str], skip: str) -> None:
    """Fill the scenario form with the keyboard alone, from its first field, Tab by Tab; leave `skip` empty; save."""
    page.locator("#f-vignette-patient").focus()
    order = ["vignette.patient", "vignette.setting", "vignette.says", "prompt"]
    for n in range(5):
        order += [f"options.{n}.text", f"options.{n}.grade", f"options.{n}.feedback", f"options.{n}.competencies"]
    grades = {"best": "Best", "acceptable": "Acceptable", "unhelpful": "Unhelpful", "harmful": "Harmful"}
    for name in order:
        focused = page.evaluate("() => document.activeElement.name")
        assert focused == name, f"Tab reached {focused}, not {name}"
        value = form.get(name, "") if name != skip else ""
        if name.endswith(".grade"):
            if value:
                page.keyboard.type(grades[value][:3])  # a select takes the typed start of an option's label
        elif value:
            page.keyboard.type(value)
        page.keyboard.press("Tab")
    tab_to(page, "Save the item")
    page.keyboard.press("Enter")


def test_an_educator_writes_previews_publishes_and_a_student_takes_the_quiz(page, learner, live_server, axe_path):
    author = _educator(live_server)
    learner.sign_in(author)
    page.goto("/teach/")
    page.get_by_role("link", name="Write your own quizzes").click()
    expect(page.get_by_role("heading", level=1, name="Write quizzes")).to_be_visible()
    check(page, axe_path, "index-empty")
    page.get_by_role("link", name="Start a new quiz").click()
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_role("link", name="Give the quiz a title.")).to_be_visible()
    check(page, axe_path, "new-error")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Module it goes with").select_option("bordin-components")
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    check(page, axe_path, "quiz-empty")
    quiz_path = re.search(r"/author/\d+", page.url)[0]

    # Item 1 by keyboard, with one feedback left out: the problem shows at its field and in the summary.
    page.get_by_label("Add an item").select_option("scenario")
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("heading", level=1, name="Item 1 of 1")).to_be_visible()
    check(page, axe_path, "item-new")
    first = scenario_form(0)
    type_item_by_keyboard(page, first, skip="options.3.feedback")
    expect(page.locator(".flash")).to_contain_text("The checker finds 1 problem")
    error = page.locator("#f-options-3-feedback-error")
    expect(error).to_contain_text("option 4 has no feedback")
    expect(page.locator("#f-options-3-feedback")).to_have_attribute("aria-invalid", "true")
    check(page, axe_path, "item-lint-error")
    page.get_by_role("link", name=re.compile("option 4 has no feedback")).focus()
    page.keyboard.press("Enter")
    page.locator("#f-options-3-feedback").focus()
    page.keyboard.type(first["options.3.feedback"])
    page.keyboard.press("Tab")
    tab_to(page, "Save the item")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("The checker finds no problems")

    for n in (1, 2):
        page.goto(quiz_path)
        page.get_by_label("Add an item").select_option("scenario")
        page.get_by_role("button", name="Add the item").click()
        for name, value in scenario_form(n).items():
            field = page.locator(f'[name="{name}"]')
            if name.endswith(".grade"):
                field.select_option(value)
            else:
                field.fill(value)
        page.get_by_role("button", name="Save the item").click()
        expect(page.locator(".flash")).to_contain_text("The checker finds no problems")
    check(page, axe_path, "item-saved")

    page.goto(quiz_path)
    expect(page.get_by_text("The checker finds no problems")).to_be_visible()
    check(page, axe_path, "quiz-ready")
    page.get_by_role("button", name="Move down item 1").click()
    expect(page.locator(".flash")).to_contain_text("Item moved to position 2")
    page.get_by_role("button", name="Move up item 2").click()
    page.get_by_role("link", name="Delete item 3").click()
    check(page, axe_path, "delete-confirm")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("link", name="Preview", exact=True).click()
    check(page, axe_path, "preview")
    for case in SCENARIOS:
        best = case["replies"][case["best"]][0]
        page.get_by_role("radio", name=best, exact=True).check()
    page.get_by_role("button", name="Submit answers (nothing is recorded)").click()
    expect(page.get_by_text(re.compile(r"^(\d+) of \1 points \(3 of 3 items answered"))).to_be_visible()
    check(page, axe_path, "preview-graded")

    page.goto(quiz_path)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1, name=f"History of {TITLE}")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Version 1")).to_be_visible()
    check(page, axe_path, "history")
    page.get_by_role("link", name="Import", exact=True).click()
    check(page, axe_path, "import")
    page.goto(quiz_path)
    page.get_by_label("Pass mark (%)").fill("75")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#version-2 ~ table.diff, section:has(#version-2) table.diff")).to_contain_text("pass_mark: 75")
    check(page, axe_path, "history-diff")
    page.goto("/author/")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    check(page, axe_path, "index-with-quiz")

    # The course builder offers it beside the module's shipped quiz; the educator adds it to a new course.
    page.goto("/teach/courses/new")
    page.get_by_label("Title").fill("Placement week 2")
    page.get_by_role("button", name="Create the course").click()
    page.get_by_role("checkbox", name=re.compile(TITLE)).check()
    page.get_by_role("button", name=re.compile("^Add")).first.click()
    expect(page.locator("main")).to_contain_text(TITLE)
    course_id = int(re.search(r"/courses/(\d+)", page.url)[1])

    student = live_server.create_student("taker")
    with live_server.app.app_context():
        owner = accounts.find_by_email(author.email)
        course = db.session.get(courses.Course, course_id)
        courses.set_published(course, True)
        cohort = cohorts.create(owner, "Placement group")
        cohorts.add_member(cohort, accounts.find_by_email(student.email).id, "code")
        cohorts.assign(cohort, course, owner, None, None)
        db.session.commit()
    with live_server.app.test_request_context():
        quiz = next(q for q in request_catalog().quizzes if q.title == TITLE)

    page.context.clear_cookies()
    learner.sign_in(student)
    expect(page.get_by_text("Placement week 2").first).to_be_visible()
    learner.take_quiz(quiz, {item.id: item.handler.right_answer(item) for item in quiz.items})
    expect(page.locator(".verdict")).to_contain_text(
        "Passed: the pass mark was 75%. You got 3 of 3 items wholly right."
    )

    # Back in the editor, the item shows how the cohort answered it.
    page.context.clear_cookies()
    learner.sign_in(author)
    # The cohort's progress report counts the authored quiz like any other: one student, passed.
    page.goto(f"/teach/cohorts/{cohort.id}/courses/{course_id}/report")
    expect(page.locator("main")).to_contain_text(TITLE)
    expect(page.locator("main")).to_contain_text("1 passed; 0 attempted, not passed")
    page.goto(f"{quiz_path}/items/1")
    expect(page.locator("table.item-stats")).to_contain_text("Placement group")
    check(page, axe_path, "item-stats")
