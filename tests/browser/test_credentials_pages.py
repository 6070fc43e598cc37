"""Certificates in a real browser: a learner finds their certificate, downloads its badge and opens its public page;
anyone checks the badge by uploading it; the cohort's educator revokes it and the public page and the badge check say
so. axe and the Nu HTML checker find nothing on each page state at 1280 and 375 px, and none scrolls sideways.

Screenshots of each state at both widths go to /tmp/shots/credentials-<state>-<width>.png (ALLIANCE_SCREENSHOT_DIR
to change the folder).
"""

import itertools
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services import accounts, cohorts, courses, quizzes
from tests.browser.checks import assert_accessible
from tests.helpers import answers_by_grade, given_answers

_numbers = itertools.count(1)
_WIDER_THAN_THE_WINDOW = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def check_both_widths(page, axe_path, name: str) -> None:
    """axe and the Nu checker find nothing at 1280 and 375 px, the page does not scroll sideways; a screenshot of each."""
    folder = Path(os.environ.get("ALLIANCE_SCREENSHOT_DIR") or "/tmp/shots")
    folder.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER_THAN_THE_WINDOW), f"{page.url} scrolls sideways at {width}px"
        page.screenshot(path=str(folder / f"credentials-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def _earned_certificate(live_server):
    """An educator's cohort with a one-quiz course assigned, and a student who passed the quiz: (educator, student,
    the cohort's id)."""
    number = next(_numbers)
    educator = live_server.create_student(f"cert-teacher-{number}")
    student = live_server.create_student(f"cert-learner-{number}")
    with live_server.app.app_context():
        teacher = accounts.find_by_email(educator.email)
        teacher.role = "educator"
        learner = accounts.find_by_email(student.email)
        quiz = live_server.catalog.quizzes[0]
        cohort = cohorts.create(teacher, f"Ward {number} class")
        course = courses.create(teacher, "Alliance on placement", "")
        courses.add_item(live_server.catalog, course, f"quiz:{quiz.id}")
        courses.set_published(course, True)
        cohorts.add_member(cohort, learner.id, "code")
        cohorts.assign(cohort, course, teacher, None, None)
        db.session.commit()
        attempt = quizzes.start_attempt(learner.id, quiz)
        quizzes.submit_attempt(learner.id, attempt, quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
        db.session.commit()  # the quiz completed the course: the certificate was issued with it
        return educator, student, cohort.id


def _check_badge(page, badge: Path) -> None:
    page.goto("/verify")
    expect(page.get_by_role("heading", level=1, name="Check a badge")).to_be_visible()
    page.get_by_label("Badge file (.jwt)").set_input_files(str(badge))
    page.get_by_role("button", name="Check the badge").click()
    expect(page.get_by_role("heading", level=2, name="Result")).to_be_visible()


@pytest.mark.browser
def test_a_certificate_is_downloaded_checked_and_revoked(page, learner, live_server, axe_path, tmp_path):
    educator, student, cohort_id = _earned_certificate(live_server)

    learner.sign_in(student)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    page.get_by_role("link", name="My certificates").click()
    expect(page.get_by_role("heading", level=1, name="My certificates")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Alliance on placement")).to_be_visible()
    check_both_widths(page, axe_path, "mine")
    with page.expect_download() as downloading:
        page.get_by_role(
            "link", name=re.compile(r"^Download the Open Badge \(\.jwt\)\W+Alliance on placement$")
        ).click()
    badge = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(badge)
    assert badge.suffix == ".jwt" and badge.read_text().count(".") == 2
    with page.expect_download() as downloading:
        page.get_by_role("link", name=re.compile(r"^Download the certificate \(PDF\)\W+Alliance on placement$")).click()
    assert downloading.value.suggested_filename.endswith(".pdf")
    page.get_by_role("link", name=re.compile(r"^Its public verification page\W+Alliance on placement$")).click()
    verify_address = page.url
    expect(page.get_by_role("heading", level=1, name="Certificate check")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Valid")
    page.get_by_role("button", name="Sign out").first.click()

    # Anyone, without an account: the public page, and the badge file checked by upload.
    page.goto(verify_address)
    expect(page.get_by_role("definition").filter(has_text=student.name)).to_be_visible()
    check_both_widths(page, axe_path, "verify-valid")
    _check_badge(page, badge)
    expect(page.get_by_role("status")).to_contain_text("Valid")
    check_both_widths(page, axe_path, "check-valid")

    # The cohort's educator revokes it: the reason is asked for first.
    learner.sign_in(educator)
    page.goto(f"/teach/cohorts/{cohort_id}")
    page.get_by_role("link", name="Certificates earned in this cohort").click()
    expect(page.get_by_role("heading", level=1, name="Certificates:")).to_be_visible()
    check_both_widths(page, axe_path, "cohort")
    page.get_by_role("link", name=f"Revoke the certificate of {student.name} for Alliance on placement").click()
    expect(page.get_by_role("heading", level=1, name=f"Revoke the certificate of {student.name}?")).to_be_visible()
    page.get_by_role("button", name="Revoke the certificate").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the reason for revoking")
    check_both_widths(page, axe_path, "revoke-error")
    page.get_by_label("Reason (shown on the public verification page)").fill("Completed on a shared account.")
    page.get_by_role("button", name="Revoke the certificate").click()
    expect(page.get_by_role("cell", name="Revoked")).to_contain_text("Completed on a shared account.")
    page.get_by_role("button", name="Sign out").first.click()

    page.goto(verify_address)
    expect(page.get_by_role("status")).to_contain_text("Revoked")
    expect(page.get_by_role("status")).to_contain_text("Completed on a shared account.")
    check_both_widths(page, axe_path, "verify-revoked")
    _check_badge(page, badge)
    expect(page.get_by_role("status")).to_contain_text("Revoked")
    check_both_widths(page, axe_path, "check-revoked")
