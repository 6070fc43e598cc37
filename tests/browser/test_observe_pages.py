"""Observed stations in a real browser: an examiner rates a student at 375 px with touch-sized controls and the
keyboard, the student rates themself and sees the gap after release, a patient rates through a one-time link.

axe and the Nu checker find nothing on every page state at 1280 and 375 px, where no page scrolls sideways.
Screenshots go to ALLIANCE_SCREENSHOT_DIR when it is set.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.observe.services import access, stations
from app.services import accounts, cohorts
from tests.browser.checks import assert_accessible
from tests.browser.conftest import TIMEOUT_MS

FORM = "first-consultation-observed"
_WIDER_THAN_THE_WINDOW = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def check_both_widths(page, axe_path, name: str) -> None:
    """axe and Nu find nothing at 1280 and 375 px; the page does not scroll sideways; screenshots if asked."""
    folder = os.environ.get("ALLIANCE_SCREENSHOT_DIR")
    size = page.viewport_size
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER_THAN_THE_WINDOW), f"{page.url} scrolls sideways at {width}px"
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{folder}/observe-{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def account(live_server, role: str, label: str):
    """A new account of `role`, ready to sign in through the form."""
    person = live_server.create_student(label)
    with live_server.app.app_context():
        accounts.find_by_email(person.email).role = role
        db.session.commit()
    return person


def sign_in(page, person) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def new_page(browser, live_server, width: int, touch: bool = False):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 800}, has_touch=touch, bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.mark.browser
def test_examiner_student_and_patient_rate_one_consultation(browser, page, live_server, axe_path):
    form = live_server.catalog.observation(FORM)
    teacher = account(live_server, "educator", "teacher")
    examiner = account(live_server, "educator", "examiner")
    student = live_server.create_student("observed")
    with live_server.app.app_context():
        owner = accounts.find_by_email(teacher.email)
        learner_id = accounts.find_by_email(student.email).id
        cohort = cohorts.create(owner, "Observed class")
        cohorts.add_members(cohort, [learner_id], "roster")
        access.add_examiner(cohort, examiner.email, owner)
        station = stations.create(cohort, form, "Station A", owner)
        db.session.commit()
        station_id = station.id

    # --- The examiner, on a phone: touch-sized choices, a timer, tapping and the keyboard, saved as they go.
    context, phone = new_page(browser, live_server, 375, touch=True)
    sign_in(phone, examiner)
    phone.goto(f"/observe/stations/{station_id}")
    expect(phone.get_by_role("heading", level=1, name="Station A")).to_be_visible()
    check_both_widths(phone, axe_path, "station")
    phone.get_by_role("link", name=re.compile(rf"^Rate {re.escape(student.name)}")).click()
    expect(phone.get_by_role("heading", level=1, name=f"Rate {student.name}")).to_be_visible()
    expect(phone.get_by_role("button", name="Start timer")).to_be_visible()
    check_both_widths(phone, axe_path, "rate-empty")
    for choice in phone.locator(".mark-choice").all()[:6]:
        box = choice.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
    phone.get_by_role("button", name="Start timer").tap()
    expect(phone.get_by_role("button", name="Pause timer")).to_be_visible()
    items = list(form.items)
    for item in items[:-3]:  # by touch: the highest point of each item
        phone.get_by_role("group", name=re.compile(re.escape(item.text))).get_by_role("radio").last.tap()
    expect(phone.get_by_role("status").filter(has_text="Saved at")).to_be_visible()
    for item in items[-3:]:  # by keyboard: focus the first point, arrow to the last
        group = phone.get_by_role("group", name=re.compile(re.escape(item.text)))
        group.get_by_role("radio").first.focus()
        phone.keyboard.press("Space")
        for _ in range(len(item.scale.points) - 1):
            phone.keyboard.press("ArrowRight")
        expect(group.get_by_role("radio").last).to_be_checked()
    phone.get_by_label("Comment on item 3 (optional)").fill("Let the patient finish every time.")
    global_group = phone.get_by_role("group", name=re.compile("Global rating"))
    global_group.get_by_role("radio", name="Good").focus()
    phone.keyboard.press("Space")
    expect(phone.get_by_role("status").filter(has_text="Saved at")).to_be_visible()
    check_both_widths(phone, axe_path, "rate-filled")
    phone.get_by_role("button", name="Submit rating").tap()
    expect(phone.get_by_role("heading", level=1, name="Station A")).to_be_visible()
    expect(phone.get_by_text(f"Rating of {student.name} submitted.")).to_be_visible()
    context.close()

    # --- The student rates themself and is told the ratings are not released yet.
    context, student_page = new_page(browser, live_server, 1280)
    sign_in(student_page, student)
    student_page.get_by_role("link", name="My stations").first.click()
    expect(student_page.get_by_role("heading", level=1, name="My stations")).to_be_visible()
    check_both_widths(student_page, axe_path, "my-stations")
    student_page.get_by_role("link", name="Rate yourself at Station A").click()
    for index, item in enumerate(items):  # a little more modest than the examiner on the first items
        radios = student_page.get_by_role("group", name=re.compile(re.escape(item.text))).get_by_role("radio")
        (radios.nth(len(item.scale.points) - 2) if index < 3 else radios.last).check()
    student_page.get_by_role("group", name=re.compile("Global rating")).get_by_role("radio", name="Clear pass").check()
    check_both_widths(student_page, axe_path, "self")
    student_page.get_by_role("button", name="Submit rating").click()
    expect(student_page.get_by_text("You rated yourself")).to_be_visible()
    student_page.goto(f"/stations/{station_id}")
    expect(student_page.get_by_text("not released yet")).to_be_visible()
    assert "Let the patient finish" not in student_page.content()

    # --- The teacher makes a patient link; the patient rates without an account, once.
    sign_in(page, teacher)
    page.goto(f"/observe/stations/{station_id}")
    page.get_by_role("button", name=f"Patient link for {student.name}").click()
    expect(page.get_by_role("heading", level=1, name=f"Patient link for {student.name}")).to_be_visible()
    expect(page.locator("svg.qr-code")).to_be_visible()
    check_both_widths(page, axe_path, "patient-link")
    link = page.get_by_label("Patient's link").input_value()
    patient_context, patient = new_page(browser, live_server, 375, touch=True)
    patient.goto(link)
    expect(patient.get_by_role("heading", level=1, name="A few questions about your appointment")).to_be_visible()
    check_both_widths(patient, axe_path, "patient")
    for item in form.patient_items:
        patient.get_by_role("group", name=item.text).get_by_role("radio", name="Yes").tap()
    patient.get_by_label("Anything else you would like to say? (optional)").fill("Very kind.")
    patient.get_by_role("button", name="Send my answers").tap()
    expect(patient.get_by_role("heading", level=1, name="Thank you")).to_be_visible()
    check_both_widths(patient, axe_path, "patient-thanks")
    patient.goto(link)
    expect(patient.get_by_role("heading", level=1, name="This link cannot be used")).to_be_visible()
    check_both_widths(patient, axe_path, "patient-used")
    patient_context.close()

    # --- The teacher reads the report and releases the ratings.
    page.get_by_role("link", name="Back to Station A").click()
    page.get_by_role("link", name="Station report").click()
    expect(page.get_by_role("heading", level=1, name="Station report: Station A")).to_be_visible()
    check_both_widths(page, axe_path, "report")
    page.goto(f"/observe/stations/{station_id}")
    page.get_by_role("button", name="Release the ratings").click()
    expect(page.get_by_text("Ratings released")).to_be_visible()

    # --- The student now sees every rater side by side and the gap between their rating and the examiner's.
    student_page.goto(f"/stations/{station_id}")
    expect(student_page.get_by_role("heading", level=1, name="Your ratings: Station A")).to_be_visible()
    expect(student_page.get_by_role("columnheader", name=f"Examiner: {examiner.name}")).to_be_visible()
    expect(student_page.get_by_text("Let the patient finish every time.")).to_be_visible()
    gap_table = student_page.get_by_role("table", name="Gap per item")
    expect(gap_table.get_by_role("row", name=re.compile(re.escape(items[0].text)))).to_contain_text("−")
    expect(student_page.get_by_text("Very kind.")).to_be_visible()
    check_both_widths(student_page, axe_path, "ratings")
    context.close()
