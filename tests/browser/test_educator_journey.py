"""An educator's whole path in a real browser: build a course, open a cohort, assign the course, follow a student.

Every element is found by its accessible role and name (or its label), as assistive technology finds it.
The student works in a second browser context, so the two sessions never share cookies.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.learn.courses import today
from app.services import accounts, reports

UTF8_BOM = b"\xef\xbb\xbf"


def create_account(live_server, role: str, label: str):
    """A new account of `role` (conftest's Student: email, name, password), ready to sign in through the form."""
    account = live_server.create_student(label)
    with live_server.app.app_context():
        accounts.find_by_email(account.email).role = role
        db.session.commit()
    return account


def add_item(page, label: str) -> None:
    """Tick content in the builder's catalogue, by its visible label, and add it."""
    page.get_by_role("group", name="Content to add").get_by_role("checkbox", name=label, exact=True).check()
    page.get_by_role("button", name="Add to the course").click()
    expect(page.get_by_role("status")).to_contain_text("to the course.")


@pytest.mark.browser
def test_educator_builds_a_course_assigns_it_and_follows_a_student_who_passes_its_quiz(
    browser, page, learner, live_server, learning_module, module_quiz
):
    catalog = live_server.catalog
    conversation = catalog.conversations[0]
    educator = create_account(live_server, "educator", "educator")
    student = live_server.create_student("journey")
    course_title, cohort_name = "Alliance basics, spring", "Physio year 2 (journey)"
    due = today() + timedelta(days=14)
    main_nav = page.get_by_role("navigation", name="Main")

    # --- The educator signs in and builds a course in the Teaching area.
    learner.sign_in(educator)
    main_nav.get_by_role("link", name="Teaching").click()
    expect(page.get_by_role("heading", level=1, name="Teaching")).to_be_visible()
    page.get_by_role("link", name="Create a course").click()
    expect(page.get_by_role("heading", level=1, name="New course")).to_be_visible()
    page.get_by_label("Title").fill(course_title)
    page.get_by_label("Description").fill("The first module and its quiz, then a conversation to practise.")
    page.get_by_role("button", name="Create the course").click()
    expect(page.get_by_role("heading", level=1, name=course_title)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Course created as a draft.")
    expect(page.get_by_role("region", name="Items, in order")).to_contain_text("No items yet.")

    # The quiz first, then its module and a conversation; the module is moved above its quiz.
    add_item(page, f"Quiz: {module_quiz.title}")
    add_item(page, f"Module: {learning_module.title}")
    add_item(page, f"Conversation: {conversation.title}")
    page.get_by_role("button", name=f"Move up “{learning_module.title}”", exact=True).click()
    page.get_by_role("button", name=f"Make optional “{conversation.title}”", exact=True).click()
    items = page.get_by_role("region", name="Items, in order").get_by_role("listitem")
    expect(items).to_have_text(
        [
            re.compile(rf"^\s*Module:\s+{re.escape(learning_module.title)}\s+Required"),
            re.compile(rf"^\s*Quiz:\s+{re.escape(module_quiz.title)}\s+Required"),
            re.compile(rf"^\s*Conversation:\s+{re.escape(conversation.title)}\s+Optional"),
        ]
    )
    # The first item cannot move further up, nor the last further down.
    expect(page.get_by_role("button", name=f"Move up “{learning_module.title}”", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name=f"Move down “{conversation.title}”", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Publish the course").click()
    expect(page.get_by_role("status")).to_contain_text("The course is published")
    expect(page.get_by_role("main")).to_contain_text("Published · 3 items")

    # --- A cohort, with its join code read from the page.
    main_nav.get_by_role("link", name="Teaching").click()
    page.get_by_role("link", name="Create a cohort").click()
    page.get_by_label("Cohort name").fill(cohort_name)
    page.get_by_role("button", name="Create the cohort").click()
    expect(page.get_by_role("heading", level=1, name=cohort_name)).to_be_visible()
    joining = page.get_by_role("region", name="Joining")
    found = re.search(r"join with the code (\w+) at", joining.inner_text())
    assert found, f"no join code on the cohort page: {joining.inner_text()!r}"
    join_code = found.group(1)
    expect(page.get_by_role("status")).to_contain_text(f"Students join with the code {join_code}.")

    # The course is assigned with a due date.
    page.get_by_label("Course", exact=True).select_option(label=course_title)
    page.get_by_label("Due date (optional)").fill(due.isoformat())
    page.get_by_role("button", name="Assign the course").click()
    expect(page.get_by_role("status")).to_contain_text(f"“{course_title}” is assigned to {cohort_name}.")
    assigned = page.get_by_role("table", name="Courses assigned to this cohort")
    row = assigned.get_by_role("row").filter(has=page.get_by_role("rowheader", name=course_title))
    expect(row.get_by_role("cell")).to_have_text(
        [
            "Now",
            due.strftime("%-d %b %Y"),
            f"Course complete · Change what the certificate of {course_title} needs",  # (the site's default: 0)
            f"Progress report for {course_title}",
        ]
    )
    cohort_url = page.url

    # --- The student, in a browser of their own, joins with the code and passes the quiz.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5_000)
    try:
        pupil = type(learner)(context.new_page(), live_server)
        other = pupil.page
        pupil.sign_in(student)
        other.get_by_role("link", name="Join a cohort").click()
        expect(other.get_by_role("heading", level=1, name="Join a cohort")).to_be_visible()
        # Typed as a person might: lower case, with a dash in the middle.
        other.get_by_label("Join code").fill(f"{join_code[:4].lower()}-{join_code[4:].lower()}")
        other.get_by_role("button", name="Join", exact=True).click()
        expect(other.get_by_role("heading", level=1, name="My learning")).to_be_visible()
        expect(other.get_by_role("status")).to_contain_text(f"You joined {cohort_name}.")

        card = (
            other.get_by_role("region", name="Assigned to you")
            .get_by_role("listitem")
            .filter(has=other.get_by_role("heading", level=3, name=course_title))
        )
        expect(card).to_contain_text(f"{cohort_name} · due {due.strftime('%-d %B %Y')}")
        bar = card.get_by_role("progressbar", name=f"Progress in {course_title}")
        expect(bar).to_have_js_property("value", 0)
        expect(card).to_contain_text("0% · 0 of 2 required items done")
        expect(card).not_to_contain_text("Overdue")

        card.get_by_role("link", name=course_title).click()
        expect(other.get_by_role("heading", level=1, name=course_title)).to_be_visible()
        expect(other.get_by_role("main")).to_contain_text(f"Assigned through {cohort_name}")
        course_items = other.get_by_role("table", name="The course's items in order, with your state and best score")
        expect(course_items.get_by_role("row")).to_have_count(4)
        course_items.get_by_role("link", name=module_quiz.title).click()
        expect(other.get_by_role("heading", level=1, name=module_quiz.title)).to_be_visible()
        other.get_by_role("button", name="Start the quiz").click()
        pupil.choose(module_quiz, {item.id: item.handler.right_answer(item) for item in module_quiz.items})
        pupil.submit_answers()
        expect(other.get_by_role("heading", level=1, name=f"Results: {module_quiz.title}")).to_be_visible()
        points = f"{module_quiz.max_score:g}"
        expect(other.get_by_role("main")).to_contain_text(f"You scored 100% ({points} of {points} points).")
        expect(other.get_by_role("main")).to_contain_text("Passed")

        # The course page now counts the quiz as done.
        other.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
        card.get_by_role("link", name=course_title).click()
        quiz_row = course_items.get_by_role("row").filter(has=other.get_by_role("link", name=module_quiz.title))
        expect(quiz_row.get_by_role("cell")).to_have_text(
            ["2", module_quiz.title, "Quiz", "Required", "Passed", "100%"]
        )
        expect(other.get_by_role("progressbar", name=f"Progress in {course_title}")).to_have_js_property("value", 50)
    finally:
        context.close()

    # --- Back as the educator: the progress matrix.
    page.goto(cohort_url)
    page.get_by_role("link", name=f"Progress report for {course_title}").click()
    expect(page.get_by_role("heading", level=1, name=f"Progress report: {course_title}")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"1 current student · due {due.strftime('%-d %b %Y')}")
    matrix = page.get_by_role(
        "table", name=re.compile(rf"^Progress of each current student of {re.escape(cohort_name)}")
    )
    quiz_heading = f"Quiz: {module_quiz.title}"
    headers = matrix.get_by_role("columnheader").all_inner_texts()
    assert quiz_heading in headers, headers
    assert f"Conversation: {conversation.title} (optional)" in headers, headers
    student_row = matrix.get_by_role("row").filter(has=page.get_by_role("rowheader", name=student.name))
    cells = student_row.get_by_role("cell")
    expect(cells.nth(0)).to_have_text("50%")
    expect(cells.nth(headers.index(quiz_heading) - 1)).to_have_text(re.compile(r"^Passed\s*best 100%, 1 attempt$"))

    # The CSV export: named after the cohort and course, with a byte order mark for spreadsheets.
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download every student as CSV").click()
    download = caught.value
    assert download.suggested_filename == reports.filename(cohort_name, course_title, "progress")
    assert download.suggested_filename == "physio-year-2-journey-alliance-basics-spring-progress.csv"
    body = open(download.path(), "rb").read()
    assert body.startswith(UTF8_BOM), body[:20]
    header, *rows = csv.reader(io.StringIO(body[len(UTF8_BOM) :].decode("utf-8")))
    assert header[:5] == ["Student", "Email", "Last signed in (UTC)", "Course progress %", "Overdue"], header
    by_email = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert student.email in by_email, rows
    exported = by_email[student.email]
    assert exported["Student"] == student.name and exported["Course progress %"] == "50", exported
    assert exported[quiz_heading] == "Passed (best 100%, 1 attempt)", exported
    assert exported[f"{module_quiz.title}: best %"] == "100", exported

    # Item analysis of the quiz, from its column heading: the student's attempt is counted.
    matrix.get_by_role("columnheader").get_by_role("link", name=quiz_heading).click()
    expect(page.get_by_role("heading", level=1, name=f"Item analysis: {module_quiz.title}")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("1 of 1 current student submitted this quiz")
    analysis = page.get_by_role("table", name=re.compile(r"^Facility, discrimination and the commonest wrong answer"))
    first_item = analysis.get_by_role("row").nth(1)
    expect(first_item.get_by_role("cell").first).to_have_text("1")
    expect(first_item.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^100%\s*\(1 of 1\)$"))

    # The learner's drill-down, from the matrix: the attempt, passed, with its score and answers.
    page.go_back()
    matrix.get_by_role("link", name=student.name).click()
    expect(page.get_by_role("heading", level=1, name=f"Learning record: {student.name}")).to_be_visible()
    attempts = page.get_by_role("table", name=f"Marked attempts at Quiz: {module_quiz.title}, newest first")
    expect(attempts.get_by_role("row")).to_have_count(2)
    attempt_row = attempts.get_by_role("row").nth(1)
    expect(attempt_row.get_by_role("cell").nth(0)).to_have_text("Passed")
    expect(attempt_row.get_by_role("cell").nth(1)).to_contain_text(f"{points} of {points} (100%)")
    answers = page.get_by_role("table", name=re.compile(r"^Answers in attempt no\. \d+ at "))
    expect(answers).to_be_hidden()  # folded away until asked for
    attempt_row.get_by_role("rowheader").get_by_role("link").click()
    expect(answers.get_by_role("row")).to_have_count(len(module_quiz.items) + 1)
