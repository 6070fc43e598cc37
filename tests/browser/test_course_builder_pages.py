"""The course builder in a real browser, as an educator uses it: ticking several items and adding them at once,
previewing content as students see it, being warned before assigning a draft or a past due date, being asked
before an item or a student is removed, and copying a cohort's join link. axe and the Nu HTML checker find
nothing on any of these page states, at 1280 and 375 px; none scrolls sideways.

Set ALLIANCE_SCREENSHOT_DIR to keep a full-page screenshot of every page state checked, at both widths.
"""

import itertools
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.learn.courses import today
from app.services import accounts, cohorts, courses
from tests.browser.checks import assert_accessible

_numbers = itertools.count(1)
_WIDER_THAN_THE_WINDOW = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def check_both_widths(page, axe_path, name: str) -> None:
    """axe and the Nu checker find nothing at 1280 and at 375 px wide, where the page does not scroll sideways."""
    folder = os.environ.get("ALLIANCE_SCREENSHOT_DIR")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER_THAN_THE_WINDOW), f"{page.url} scrolls sideways at {width}px"
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{folder}/builder-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def _educator(live_server):
    """A new educator account (conftest's Student record), ready to sign in."""
    account = live_server.create_student("builder")
    with live_server.app.app_context():
        accounts.find_by_email(account.email).role = "educator"
        db.session.commit()
    return account


@pytest.fixture
def educator(page, learner, live_server):
    """A new educator, signed in through the form in the test's page."""
    account = _educator(live_server)
    learner.sign_in(account)
    return account


def _draft(live_server, account, title: str, *choices: str) -> int:
    """A draft course of the educator's with these items ('kind:id'); its id."""
    with live_server.app.app_context():
        owner = accounts.find_by_email(account.email)
        course = courses.create(owner, title, "")
        for choice in choices:
            courses.add_item(live_server.catalog, course, choice)
        db.session.commit()
        return course.id


def _cohort(live_server, account, name: str, published: str | None = None, members: int = 1) -> tuple[int, list]:
    """A cohort of the educator's with new students, and a published course of theirs to assign; (id, students)."""
    students = [live_server.create_student("member") for _ in range(members)]
    with live_server.app.app_context():
        owner = accounts.find_by_email(account.email)
        cohort = cohorts.create(owner, name)
        for student in students:
            cohorts.add_member(cohort, accounts.find_by_email(student.email).id, "code")
        if published:
            course = courses.create(owner, published, "")
            courses.add_item(live_server.catalog, course, f"quiz:{live_server.catalog.quizzes[0].id}")
            courses.set_published(course, True)
        db.session.commit()
        return cohort.id, students


@pytest.mark.browser
def test_an_educator_ticks_several_items_and_adds_them_at_once(page, live_server, educator, axe_path):
    catalog = live_server.catalog
    module = catalog.modules[1]
    quiz, talk = catalog.quizzes_for(module.id)[0], catalog.conversations_for(module.id)[0]
    course_id = _draft(live_server, educator, f"Several at once {next(_numbers)}")
    page.goto(f"/teach/courses/{course_id}")
    items = page.get_by_role("region", name="Items, in order")
    expect(items).to_contain_text("No items yet.")
    expect(page.get_by_role("main")).to_contain_text(
        "This course is a draft, so it cannot be assigned to a cohort yet."
    )
    check_both_widths(page, axe_path, "empty")

    # Nothing ticked: the message says what to do and points at the list.
    page.get_by_role("button", name="Add to the course").click()
    expect(page.get_by_role("alert")).to_contain_text("Content to add: Tick at least one module, quiz or conversation")
    expect(page.get_by_role("group", name="Content to add")).to_have_accessible_description(
        re.compile(r"Tick as many as you like.*Error: Tick at least one")
    )
    check_both_widths(page, axe_path, "add-error")

    # The catalogue is grouped by module: the module, its quiz and its conversation ticked in one group.
    group = page.get_by_role("group", name=module.title, exact=True)
    for label in (f"Module: {module.title}", f"Quiz: {quiz.title}", f"Conversation: {talk.title}"):
        group.get_by_role("checkbox", name=label, exact=True).check()
    page.get_by_role("button", name="Add to the course").click()
    expect(page.get_by_role("status")).to_contain_text("Added 3 items to the course:")
    expect(items.get_by_role("listitem")).to_have_text(
        [
            re.compile(rf"^\s*Module:\s+{re.escape(module.title)}\s+Required"),
            re.compile(rf"^\s*Quiz:\s+{re.escape(quiz.title)}\s+Required"),
            re.compile(rf"^\s*Conversation:\s+{re.escape(talk.title)}\s+Required"),
        ]
    )
    # What is in the course is marked, not offered again.
    expect(group.get_by_role("checkbox")).to_have_count(0)
    expect(group).to_contain_text("In the course")
    check_both_widths(page, axe_path, "three-items")

    # The draft is published from the warning that said it could not be assigned.
    page.get_by_role("button", name="Publish the course").click()
    expect(page.get_by_role("status")).to_contain_text("The course is published")
    expect(page.get_by_role("main")).not_to_contain_text("cannot be assigned")


@pytest.mark.browser
def test_any_item_is_previewed_as_students_see_it(page, live_server, educator, axe_path):
    catalog = live_server.catalog
    module, quiz, talk = catalog.modules[1], catalog.quizzes[1], catalog.conversations[0]
    title = f"Previews {next(_numbers)}"
    course_id = _draft(live_server, educator, title, f"module:{module.id}", f"quiz:{quiz.id}")
    page.goto(f"/teach/courses/{course_id}")

    # An item of the course: the module, every lesson on one page.
    page.get_by_role("region", name="Items, in order").get_by_role("link", name=f"Preview “{module.title}”").click()
    expect(page.get_by_role("heading", level=1, name=f"Preview: {module.title}")).to_be_visible()
    for number, lesson in enumerate(module.lessons, start=1):
        expect(page.get_by_role("heading", level=2, name=f"Lesson {number}: {lesson.title}")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Next"))).to_have_count(0)
    check_both_widths(page, axe_path, "preview-module")
    page.get_by_role("link", name=f"Back to “{title}”").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()

    # The quiz: its items and options, nothing chosen, nothing to submit; choosing saves nothing.
    page.get_by_role("link", name=f"Preview “{quiz.title}”").click()
    expect(page.get_by_role("heading", level=1, name=f"Preview: {quiz.title}")).to_be_visible()
    groups = page.get_by_role("group", name=re.compile(rf"^Item \d+ of {len(quiz.items)}\."))
    expect(groups).to_have_count(len(quiz.items))
    expect(page.get_by_role("radio", checked=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Submit answers")).to_have_count(0)
    check_both_widths(page, axe_path, "preview-quiz")

    # Catalogue content not yet in the course: the conversation's opening and the replies on offer.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=title).click()
    page.get_by_role("group", name=re.compile(re.escape(catalog.module(talk.module_id).title))).get_by_role(
        "link", name=f"Preview Conversation: {talk.title}"
    ).click()
    expect(page.get_by_role("heading", level=1, name=f"Preview: {talk.title}")).to_be_visible()
    opening = talk.node(talk.start)
    expect(page.get_by_role("region", name="The opening")).to_contain_text(opening.patient)
    expect(page.get_by_role("group", name=re.compile("^What do you say to")).get_by_role("radio")).to_have_count(
        len(opening.replies)
    )
    check_both_widths(page, axe_path, "preview-conversation")


@pytest.mark.browser
def test_removing_an_item_asks_first_and_cancel_keeps_it(page, live_server, educator, axe_path):
    catalog = live_server.catalog
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    title = f"Removals {next(_numbers)}"
    course_id = _draft(live_server, educator, title, f"module:{module.id}", f"quiz:{quiz.id}")
    page.goto(f"/teach/courses/{course_id}")
    items = page.get_by_role("region", name="Items, in order").get_by_role("listitem")

    page.get_by_role("link", name=f"Remove “{quiz.title}”").click()
    expect(page.get_by_role("heading", level=1, name=f"Remove “{quiz.title}” from “{title}”?")).to_be_visible()
    check_both_widths(page, axe_path, "remove-item")
    page.get_by_role("link", name="Cancel, keep it in the course").click()
    expect(items).to_have_count(2)

    # By keyboard this time: Enter on the link, Enter on the button.
    page.get_by_role("link", name=f"Remove “{quiz.title}”").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name=f"Remove “{quiz.title}”").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Removed “{quiz.title}” from the course.")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(module.title)


@pytest.mark.browser
def test_removing_a_student_asks_first(page, live_server, educator, axe_path):
    cohort_id, (student,) = _cohort(live_server, educator, f"Removal class {next(_numbers)}")
    page.goto(f"/teach/cohorts/{cohort_id}")
    students = page.get_by_role("table", name="Students in this cohort")
    page.get_by_role("link", name=f"Remove {student.name}").click()
    expect(page.get_by_role("heading", level=1, name=re.compile(rf"^Remove {student.name} from"))).to_be_visible()
    check_both_widths(page, axe_path, "remove-student")
    page.get_by_role("link", name="Cancel, keep them in the cohort").click()
    expect(students).to_contain_text(student.name)
    page.get_by_role("link", name=f"Remove {student.name}").click()
    page.get_by_role("button", name=f"Remove {student.name}").click()
    expect(page.get_by_role("status")).to_contain_text("The student was removed from the cohort.")
    expect(page.get_by_role("main")).not_to_contain_text(student.name)


@pytest.mark.browser
def test_the_join_link_is_copied_with_a_button_and_stays_selectable_without_javascript(
    page, browser, live_server, educator, axe_path
):
    cohort_id, _ = _cohort(live_server, educator, f"Copy class {next(_numbers)}")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/teach/cohorts/{cohort_id}")
    joining = page.get_by_role("region", name="Joining")
    link = joining.get_by_label(re.compile("^Join link for"))
    expect(link).to_have_js_property("readOnly", True)
    url = link.input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/learn/join/[A-Z0-9]{{8}}", url)
    joining.get_by_role("button", name="Copy the link").click()
    expect(joining.get_by_role("status")).to_have_text("Copied. Paste it into a message.")
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    check_both_widths(page, axe_path, "cohort-copied")

    # Without JavaScript there is no button: the link is plain, selectable text in its box.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        context.add_cookies(page.context.cookies())
        bare = context.new_page()
        bare.goto(f"/teach/cohorts/{cohort_id}")
        box = bare.get_by_role("region", name="Joining").get_by_label(re.compile("^Join link for"))
        expect(box).to_have_value(url)
        expect(bare.get_by_role("button", name="Copy the link")).to_have_count(0)
        box.click()
        bare.keyboard.press("Control+A")
        assert bare.evaluate(
            "() => document.activeElement.selectionEnd - document.activeElement.selectionStart"
        ) == len(url)
    finally:
        context.close()


@pytest.mark.browser
def test_drafts_and_past_due_dates_are_warned_about_before_assigning(page, live_server, educator, axe_path):
    n = next(_numbers)
    draft_id = _draft(live_server, educator, f"Unfinished draft {n}", f"module:{live_server.catalog.modules[0].id}")
    published = f"Ready to assign {n}"
    cohort_id, _ = _cohort(live_server, educator, f"Assign class {n}", published=published)
    page.goto(f"/teach/cohorts/{cohort_id}")
    assignments = page.get_by_role("region", name="Assigned courses")
    expect(assignments).to_contain_text("A draft of yours cannot be assigned yet: only published courses can.")
    course = page.get_by_label("Course", exact=True)
    expect(course.get_by_role("option", name=f"Unfinished draft {n}")).to_have_count(0)

    # A due date in the past: the form comes back asking, with the date kept.
    past = today() - timedelta(days=2)
    course.select_option(label=published)
    page.get_by_label("Due date (optional)").fill(past.isoformat())
    page.get_by_role("button", name="Assign the course").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{past.strftime('%-d %B %Y')} has already passed")
    expect(page.get_by_label("Due date (optional)")).to_have_value(past.isoformat())
    expect(page.get_by_label("Course", exact=True)).to_have_value(re.compile(r"^\d+$"))
    check_both_widths(page, axe_path, "past-due")
    page.get_by_role("button", name="Assign with this past due date").click()
    expect(page.get_by_role("status")).to_contain_text(f"“{published}” is assigned to Assign class {n}.")
    row = page.get_by_role("table", name="Courses assigned to this cohort").get_by_role("row").nth(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text(past.strftime("%-d %b %Y"))
    check_both_widths(page, axe_path, "cohort-draft-warning")

    # The warning's link opens the draft at its own warning.
    assignments.get_by_role("link", name=f"Unfinished draft {n}").click()
    expect(page).to_have_url(re.compile(rf"/teach/courses/{draft_id}#draft$"))
    expect(page.get_by_role("main")).to_contain_text(
        "This course is a draft, so it cannot be assigned to a cohort yet."
    )


@pytest.mark.browser
def test_error_pages_speak_in_the_apps_voice(page, educator, axe_path):
    page.goto("/teach/no-such-page")
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    expect(page).to_have_title("Page not found · Alliance")
    check_both_widths(page, axe_path, "not-found")
    page.goto("/teach/courses/1/publish")  # an address for a button, opened as a link
    expect(page.get_by_role("heading", level=1, name="That can’t be done here")).to_be_visible()
    check_both_widths(page, axe_path, "not-allowed")
