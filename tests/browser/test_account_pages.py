"""Accounts people run themselves, in a real browser: a reset link signs a learner in once, an admin creates an
account and is asked before deactivating one, a person changes their name and email, and a forgotten password
is reset by email where the site sends mail. axe finds nothing on any of these pages at 1280 and 375 px.

Set ALLIANCE_SCREENSHOT_DIR to keep a full-page screenshot of every page state checked, at both widths, and its HTML.
"""

import os
import re
import threading
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app
from app.auth import forgot
from app.extensions import db
from app.services import accounts, cohorts
from tests.browser.checks import assert_accessible
from tests.browser.conftest import TIMEOUT_MS, LiveServer, Student, _QuietRequestHandler, _settings
from tests.smtp import SENDER, Inbox, free_port

NEW_PASSWORD = "violet harbour lantern"
_WIDER_THAN_THE_WINDOW = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def check_both_widths(page, axe_path, name: str) -> None:
    """axe finds nothing at 1280 and at 375 px wide, where the page does not scroll sideways either."""
    folder = os.environ.get("ALLIANCE_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(f"{folder}/{name}.html").write_text(page.content())  # before axe is injected
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER_THAN_THE_WINDOW), f"{page.url} scrolls sideways at {width}px"
        if folder:
            page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def make_account(server: LiveServer, label: str, role: str = "student") -> Student:
    """A new account of `role`, straight into the database."""
    account = server.create_student(label)
    if role != "student":
        with server.app.app_context():
            accounts.find_by_email(account.email).role = role
            db.session.commit()
    return account


def sign_in(page, account: Student, base: str = "") -> None:
    """Sign in through the form and arrive on My learning."""
    page.goto(f"{base}/auth/sign-in")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My learning")).to_be_visible()


@pytest.fixture
def other_page(browser, live_server):
    """A second browser, with its own cookies: another person, or the same person on another device."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800}, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


third_page = other_page


# --- without mail: links people issue


@pytest.mark.browser
def test_forgot_your_password_says_whom_to_ask(page, axe_path):
    page.goto("/auth/sign-in")
    check_both_widths(page, axe_path, "sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1, name="Forgot your password?")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("This site does not send email")
    expect(page.get_by_role("main")).to_contain_text("Students: ask your educator")
    check_both_widths(page, axe_path, "forgot-without-mail")


@pytest.mark.browser
def test_a_reset_link_from_the_educator_signs_the_learner_in_once(page, other_page, third_page, live_server, axe_path):
    educator = make_account(live_server, "teacher", "educator")
    learner = make_account(live_server, "forgetful")
    with live_server.app.app_context():
        cohort = cohorts.create(accounts.find_by_email(educator.email), "Evening class")
        cohorts.add_member(cohort, accounts.find_by_email(learner.email).id, "code")
        db.session.commit()
    sign_in(third_page, learner)  # the learner is still signed in on another device

    # The educator makes the link from the cohort page.
    sign_in(page, educator)
    page.get_by_role("navigation", name="Main").first.get_by_role("link", name="Teaching").click()
    page.get_by_role("link", name="Evening class").first.click()
    expect(page.get_by_role("heading", level=1, name="Evening class")).to_be_visible()
    check_both_widths(page, axe_path, "cohort-with-password-links")
    page.get_by_role("button", name=f"New password link for {learner.name}").click()
    expect(page.get_by_role("heading", level=1, name=f"New password link for {learner.name}")).to_be_visible()
    box = page.get_by_label(f"Password reset link for {learner.name}")
    link = box.input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/auth/set-password/[A-Za-z0-9_-]{43}", link)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the link").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("Copied|Selected"))
    check_both_widths(page, axe_path, "educator-password-link")

    # The learner opens it in their own browser: a clear page, a mistake explained, then in.
    other_page.goto(link)
    expect(other_page.get_by_role("heading", level=1, name="Choose a new password")).to_be_visible()
    expect(other_page.get_by_role("main")).to_contain_text(f"{educator.name} made this link")
    check_both_widths(other_page, axe_path, "choose-a-new-password")
    other_page.get_by_label("New password").fill(NEW_PASSWORD)
    other_page.get_by_label("Repeat the password").fill(NEW_PASSWORD + "!")
    other_page.get_by_role("button", name="Save the new password").click()
    expect(other_page.get_by_role("alert")).to_contain_text("The two passwords differ.")
    check_both_widths(other_page, axe_path, "choose-a-new-password-error")
    other_page.get_by_label("New password").fill(NEW_PASSWORD)
    other_page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    other_page.get_by_role("button", name="Save the new password").click()
    expect(other_page.get_by_role("heading", level=1, name="My learning")).to_be_visible()
    expect(other_page.get_by_role("status")).to_contain_text("Your new password is saved and you are signed in.")

    # Once only: the same link now gets a clear page saying so.
    other_page.goto(link)
    expect(other_page.get_by_role("heading", level=1, name="This link cannot be used")).to_be_visible()
    expect(other_page.get_by_role("main")).to_contain_text("This link has already been used to choose a new password.")
    check_both_widths(other_page, axe_path, "link-already-used")

    # Every other session ended: the other device is asked to sign in again.
    third_page.goto("/learn/")
    expect(third_page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    third_page.get_by_label("Email").fill(learner.email)
    third_page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    third_page.get_by_role("button", name="Sign in").click()
    expect(third_page.get_by_role("heading", level=1, name="My learning")).to_be_visible()


@pytest.mark.browser
def test_an_admin_creates_an_account_and_its_owner_sets_a_password(page, other_page, live_server, axe_path):
    admin = make_account(live_server, "admin", "admin")
    sign_in(page, admin)
    page.get_by_role("navigation", name="Main").first.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1, name="Accounts")).to_be_visible()
    check_both_widths(page, axe_path, "accounts")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1, name="Create an account")).to_be_visible()
    check_both_widths(page, axe_path, "create-account")

    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the person's name")
    check_both_widths(page, axe_path, "create-account-error")
    page.get_by_label("Name").fill("Noor Haddad")
    page.get_by_label("Email").fill("noor.haddad@example.org")
    page.get_by_label("Role").select_option(label="Educator")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1, name="Account created")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(
        "Noor Haddad (noor.haddad@example.org) now has an educator account."
    )
    link = page.get_by_label("Set-password link for Noor Haddad").input_value()
    check_both_widths(page, axe_path, "account-created")

    other_page.goto(link)
    expect(other_page.get_by_role("heading", level=1, name="Set your password")).to_be_visible()
    expect(other_page.get_by_role("main")).to_contain_text(f"{admin.name} made an account for you")
    check_both_widths(other_page, axe_path, "set-your-password")
    other_page.get_by_label("New password").fill(NEW_PASSWORD)
    other_page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    other_page.get_by_role("button", name="Set password and sign in").click()
    expect(other_page.get_by_role("heading", level=1, name="My learning")).to_be_visible()
    expect(other_page.get_by_role("navigation", name="Main").first).to_contain_text("Noor Haddad (educator)")

    # The admin finds the account again by part of the name, without its accents or capitals.
    page.goto("/admin/users")
    page.get_by_label("Name or email contains").fill("HADDAD")
    page.get_by_role("main").get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Noor Haddad", exact=True)).to_be_visible()


@pytest.mark.browser
def test_deactivating_asks_first(page, live_server, axe_path):
    admin = make_account(live_server, "admin", "admin")
    person = make_account(live_server, "leaver")
    sign_in(page, admin)
    page.goto("/admin/users")
    page.get_by_label("Name or email contains").fill(person.email)
    page.get_by_role("main").get_by_role("button", name="Search").click()
    page.get_by_role("link", name=person.name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=person.name)).to_be_visible()
    check_both_widths(page, axe_path, "admin-account")

    # A password link, from the account page.
    page.get_by_role("button", name="Make a password link").click()
    expect(page.get_by_role("heading", level=1, name=f"New password link for {person.name}")).to_be_visible()
    check_both_widths(page, axe_path, "admin-password-link")
    page.get_by_role("link", name=f"Back to {person.name}'s account").click()

    # Deactivating asks first; cancelling keeps the account.
    page.get_by_role("link", name="Deactivate account…").click()
    expect(page.get_by_role("heading", level=1, name=f"Deactivate {person.name}?")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Their records are kept")
    check_both_widths(page, axe_path, "deactivate-confirm")
    page.get_by_role("link", name="Cancel, keep the account active").click()
    expect(page.get_by_role("cell", name="Active", exact=True)).to_be_visible()

    page.get_by_role("link", name="Deactivate account…").click()
    page.get_by_role("button", name=f"Deactivate {person.name}").click()
    expect(page.get_by_role("status")).to_contain_text(f"{person.name}'s account is deactivated")
    expect(page.get_by_role("cell", name="Deactivated: cannot sign in")).to_be_visible()
    check_both_widths(page, axe_path, "admin-account-deactivated")


@pytest.mark.browser
def test_a_person_changes_their_name_and_email(page, live_server, axe_path):
    person = make_account(live_server, "renamer")
    sign_in(page, person)
    page.get_by_role("navigation", name="Main").first.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1, name="Your account")).to_be_visible()
    check_both_widths(page, axe_path, "account")

    page.get_by_role("link", name="Change your name").click()
    expect(page.get_by_role("heading", level=1, name="Change your name")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value(person.name)
    check_both_widths(page, axe_path, "change-name")
    page.get_by_label("Your name").fill("   ")
    page.get_by_role("button", name="Save your name").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the name to show in the app.")
    check_both_widths(page, axe_path, "change-name-error")
    page.get_by_label("Your name").fill("Zoë Álvarez")
    page.get_by_role("button", name="Save your name").click()
    expect(page.get_by_role("status")).to_contain_text("Your name is now Zoë Álvarez.")

    page.get_by_role("link", name="Change your email address").click()
    expect(page.get_by_role("heading", level=1, name="Change your email address")).to_be_visible()
    check_both_widths(page, axe_path, "change-email")
    page.get_by_label("New email address").fill("zoe.alvarez@example.org")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Change email address").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not your password. Nothing was changed")
    check_both_widths(page, axe_path, "change-email-error")
    page.get_by_label("Your password").fill(person.password)
    page.get_by_role("button", name="Change email address").click()
    expect(page.get_by_role("status")).to_contain_text("Your email address is now zoe.alvarez@example.org.")
    expect(page.get_by_role("cell", name="zoe.alvarez@example.org")).to_be_visible()


# --- with mail: a real SMTP server on loopback, and a second app that sends to it


@pytest.fixture(scope="module")
def mail_site(live_server, tmp_path_factory):
    """The app with mail configured, on its own port and database: (its address, its inbox, the app)."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    database = tmp_path_factory.mktemp("mail-db") / "mail.sqlite"
    settings = {
        **_settings(f"sqlite:///{database}"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_DEFAULT_SENDER": SENDER,
    }
    app = create_app(settings)
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="mail-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", inbox, app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        smtp.stop()
        with app.app_context():
            db.engine.dispose()


def _mail_account(app, email: str, name: str) -> Student:
    with app.app_context():
        accounts.create_user(email, name, Student(email, name).password)
        db.session.commit()
    return Student(email, name)


def _link(message, route: str) -> str:
    match = re.search(rf"(https?://\S+/auth/{route}/[A-Za-z0-9_-]+)\s", message.get_content())
    assert match, message.get_content()
    return match.group(1)


@pytest.mark.browser
def test_a_forgotten_password_is_reset_by_email(page, other_page, mail_site, axe_path):
    base, inbox, app = mail_site
    person = _mail_account(app, "mailed.learner@example.org", "Mai Ling")
    page.goto(f"{base}/auth/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("button", name="Email me a link")).to_be_visible()
    check_both_widths(page, axe_path, "forgot-with-mail")
    page.get_by_label("Email").fill("not an address")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid email address")
    check_both_widths(page, axe_path, "forgot-with-mail-error")
    page.get_by_label("Email").fill(person.email.upper())
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1, name="Check your email")).to_be_visible()
    check_both_widths(page, axe_path, "check-your-email")

    forgot.wait_for_mail()
    link = _link(inbox.messages[-1], "set-password")
    other_page.goto(link)
    expect(other_page.get_by_role("main")).to_contain_text("You asked for a new password for Mai Ling")
    check_both_widths(other_page, axe_path, "choose-a-new-password-mailed")
    other_page.get_by_label("New password").fill(NEW_PASSWORD)
    other_page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    other_page.get_by_role("button", name="Save the new password").click()
    expect(other_page.get_by_role("heading", level=1, name="My learning")).to_be_visible()
    other_page.goto(link)
    expect(other_page.get_by_role("heading", level=1, name="This link cannot be used")).to_be_visible()
    check_both_widths(other_page, axe_path, "mailed-link-used")


@pytest.mark.browser
def test_a_new_email_address_is_confirmed_from_its_inbox(page, other_page, mail_site, axe_path):
    base, inbox, app = mail_site
    person = _mail_account(app, "mover@example.org", "Mo Ver")
    sign_in(page, person, base)
    page.goto(f"{base}/auth/account/email")
    expect(page.get_by_role("main")).to_contain_text("We email a link to the new address")
    check_both_widths(page, axe_path, "change-email-with-mail")
    page.get_by_label("New email address").fill("moved@example.org")
    page.get_by_label("Your password").fill(person.password)
    page.get_by_role("button", name="Change email address").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link to moved@example.org.")
    expect(page.get_by_role("button", name="Cancel the change")).to_be_visible()
    check_both_widths(page, axe_path, "account-email-pending")

    link = _link(inbox.messages[-1], "confirm-email")
    other_page.goto(link)
    expect(other_page.get_by_role("heading", level=1, name="Email address changed")).to_be_visible()
    check_both_widths(other_page, axe_path, "email-changed")
    other_page.goto(link)
    expect(other_page.get_by_role("heading", level=1, name="This link cannot be used")).to_be_visible()
    check_both_widths(other_page, axe_path, "email-link-used")
    page.reload()
    expect(page.get_by_role("cell", name="moved@example.org")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the change")).to_have_count(0)


@pytest.mark.browser
def test_an_admin_account_is_emailed_its_link(page, mail_site, axe_path):
    base, inbox, app = mail_site
    admin = _mail_account(app, "mail.admin@example.org", "Ada Admin")
    with app.app_context():
        accounts.find_by_email(admin.email).role = "admin"
        db.session.commit()
    sign_in(page, admin, base)
    page.goto(f"{base}/admin/users/new")
    page.get_by_label("Name").fill("Émile Durand")
    page.get_by_label("Email").fill("emile@example.org")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("main")).to_contain_text("We emailed the link to emile@example.org.")
    check_both_widths(page, axe_path, "account-created-mailed")
    assert inbox.messages[-1]["To"] == "emile@example.org"
