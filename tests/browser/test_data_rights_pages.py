"""The account pages in a real browser: axe finds nothing, and a student downloads their data and deletes the account."""

import json

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services import accounts
from tests.browser.checks import assert_accessible, assert_reflows
from tests.browser.conftest import Student


@pytest.mark.browser
def test_a_student_downloads_their_data_then_deletes_the_account(page, learner, student, axe_path):
    learner.sign_in(student)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1, name="Your account")).to_be_visible()
    expect(page.get_by_role("cell", name=student.email)).to_be_visible()
    assert_accessible(page, axe_path)
    assert_reflows(page, axe_path)
    page.set_viewport_size({"width": 1280, "height": 800})

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download all my data (JSON)").click()
    data = json.loads(downloading.value.path().read_text())
    assert data["account"]["email"] == student.email
    assert downloading.value.suggested_filename.endswith(".json")

    page.get_by_role("link", name="What deleting removes and keeps, and delete my account").click()
    expect(page.get_by_role("heading", level=1, name="Delete your account")).to_be_visible()
    assert_accessible(page, axe_path)

    # A wrong password: the form comes back with the error, focusable from the summary, nothing deleted.
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label("I understand that my account and all my learning records will be deleted for good").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not your password. Nothing was deleted")
    expect(page.get_by_label("Your password")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, axe_path)
    assert_reflows(page, axe_path)

    page.get_by_label("Your password").fill(student.password)
    page.get_by_label("I understand that my account and all my learning records will be deleted for good").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account and all your data have been deleted.")
    expect(page.get_by_role("heading", level=1, name="Learn to build a therapeutic alliance")).to_be_visible()
    assert_accessible(page, axe_path)

    # The account is gone: signing in again is refused.
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(student.email)
    page.get_by_label("Password", exact=True).fill(student.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")


@pytest.mark.browser
def test_an_educator_is_told_to_ask_an_admin_and_offered_no_form(page, learner, live_server, axe_path):
    educator = Student(email="data-rights-educator@example.org", name="Educator Eames")
    with live_server.app.app_context():
        accounts.create_user(educator.email, educator.name, educator.password, "educator")
        db.session.commit()
    learner.sign_in(educator)
    page.goto("/auth/account/delete")
    expect(page.get_by_role("heading", level=1, name="Delete your account")).to_be_visible()
    expect(page.get_by_text("Ask an admin to change your role to student first")).to_be_visible()
    expect(page.get_by_label("Your password")).to_have_count(0)
    assert_accessible(page, axe_path)
