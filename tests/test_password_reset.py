"""Forgotten passwords: a link by email where mail is configured (a real SMTP server on loopback), and where it
is not, a link an admin (any account) or the learner's educator (a current student of their cohort) issues.
Links expire, work once, keep only their hash, sign the person in and end every other session."""

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from app.auth import forgot
from app.models import PasswordLink, User
from app.models.types import utcnow
from app.services import cohorts, password_links
from tests.conftest import PASSWORD
from tests.helpers import rows
from tests.smtp import free_port

NEW_PASSWORD = "violet harbour lantern"


def main_of(html: str) -> str:
    """The <main> of a page, without its CSRF tokens (they differ from page to page)."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", main)


def h1(html: str) -> str:
    """The page's one main heading."""
    (heading,) = re.findall(r"<h1>(.*?)</h1>", html, re.S)
    return heading


def fresh(db, user_id: int) -> User:
    """The account as the database holds it now."""
    db.session.expire_all()
    return db.session.get(User, user_id)


def sign_in(client, email: str, password: str = PASSWORD):
    """Sign in through the form; the response."""
    return client.post("/auth/sign-in", data={"email": email, "password": password})


def link_on_page(html: str) -> str:
    """The path of the one-time link shown on a page (in its read-only text box)."""
    match = re.search(r'value="https?://[^/"]+(/auth/set-password/[A-Za-z0-9_-]+)"', html)
    assert match, "no password link on the page"
    return match.group(1)


def link_in_mail(message) -> str:
    """The path of the one-time link in a received message."""
    match = re.search(r"https?://[^/\s]+(/auth/set-password/[A-Za-z0-9_-]+)\s", message.get_content())
    assert match, message.get_content()
    return match.group(1)


# --- by email, where mail is configured








def ask_for_link(client, email: str):
    """Ask for a reset link, and wait for the mail sent in the background."""
    response = client.post("/auth/forgot-password", data={"email": email})
    forgot.wait_for_mail()
    return response


class TestByEmail:
    """Where mail is configured."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Mail on."""
        return mail_on

    def test_sign_in_offers_a_way_back_in(self, client):
        assert '<a href="/auth/forgot-password">Forgot your password?</a>' in client.get("/auth/sign-in").text
        page = client.get("/auth/forgot-password")
        assert page.status_code == 200 and h1(page.text) == "Forgot your password?"
        assert '<label for="email">Email</label>' in page.text and "Email me a link" in page.text
        assert "The link works once, for 1 hour." in page.text

    def test_a_known_and_an_unknown_address_get_the_same_answer(self, client, db, auth, inbox):
        auth.create("student", email="known@example.org", name="Known Person")
        known = ask_for_link(client, "known@example.org")
        unknown = ask_for_link(client, "nobody@example.org")
        assert known.status_code == unknown.status_code == 200
        assert h1(known.text) == "Check your email"
        assert "If an account uses <strong>known@example.org</strong>" in known.text
        assert main_of(known.text).replace("known@", "nobody@") == main_of(unknown.text)
        (message,) = inbox.messages  # only the known address got mail
        assert message["To"] == "known@example.org" and message["Subject"] == "Choose a new password for Alliance"
        assert "Hello Known Person" in message.get_content() and "works once, for 1 hour" in message.get_content()

    def test_the_mailed_link_signs_in_once_and_ends_every_other_session(self, app, client, db, auth, inbox):
        user = auth.create("student", email="learner@example.org", name="Lee Learner")
        elsewhere = app.test_client()
        assert sign_in(elsewhere, user.email).status_code == 302  # a session on another device
        ask_for_link(client, "Learner@Example.org")  # any case
        path = link_in_mail(inbox.messages[0])
        link = db.session.scalar(select(PasswordLink).where(PasswordLink.user_id == user.id))
        assert link.kind == "forgot" and link.token_hash == password_links.token_hash(path.rsplit("/", 1)[1])
        assert path.rsplit("/", 1)[1] not in link.token_hash  # only the hash is stored
        assert link.expires_at - link.created_at == timedelta(hours=1)

        page = client.get(path)
        assert page.status_code == 200 and h1(page.text) == "Choose a new password"
        assert "You asked for a new password for <strong>Lee Learner</strong>" in page.text
        assert "signs you out on every other device" in page.text
        assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
        done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert done.status_code == 302 and done.headers["Location"] == "/learn/"
        home = client.get("/learn/").text
        assert "Your new password is saved and you are signed in." in home and '<li class="who">Lee Learner' in home

        assert elsewhere.get("/learn/").status_code == 302  # the other device is signed out
        again = client.get(path)
        assert again.status_code == 410 and h1(again.text) == "This link cannot be used"
        assert "This link has already been used to choose a new password." in again.text
        assert "Forgot your password?" in again.text
        auth.sign_out()
        assert sign_in(client, user.email).status_code == 422  # the old password no longer works
        assert sign_in(client, user.email, NEW_PASSWORD).status_code == 302
        assert fresh(db, user.id).email_verified_at is not None  # following mail to the address proves it

    def test_an_expired_link_says_so_and_how_to_get_another(self, client, db, auth, inbox):
        auth.create("student")
        ask_for_link(client, "student@example.org")
        db.session.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        response = client.get(link_in_mail(inbox.messages[0]))
        assert response.status_code == 410
        assert "This link has expired. Ask for a new one with “Forgot your password?”" in response.text

    def test_a_second_request_ends_the_first_link(self, client, auth, inbox):
        auth.create("student")
        ask_for_link(client, "student@example.org")
        ask_for_link(client, "student@example.org")
        first, second = (link_in_mail(m) for m in inbox.messages)
        assert client.get(first).status_code == 410 and client.get(second).status_code == 200

    def test_a_deactivated_account_gets_no_mail_and_the_same_answer(self, client, db, auth, inbox):
        user = auth.create("student")
        user.is_active = False
        db.session.commit()
        response = ask_for_link(client, "student@example.org")
        assert response.status_code == 200 and h1(response.text) == "Check your email"
        assert inbox.messages == [] and rows(db, PasswordLink) == 0

    @pytest.mark.parametrize(
        "email, message",
        [
            ("", "Enter the email address you sign in with."),
            ("not an address", "Enter a valid email address, like name@example.org."),
            ("a" * 250 + "@example.org", "Email addresses have at most 254 characters."),
        ],
    )
    def test_bad_input_is_explained(self, client, inbox, email, message):
        response = ask_for_link(client, email)
        assert response.status_code == 422 and message in response.text
        assert "<title>Error: Forgot your password?" in response.text and inbox.messages == []

    def test_a_nul_character_is_refused_as_bad_input(self, client, inbox):
        response = client.post("/auth/forgot-password", data={"email": "a\x00@example.org"})
        assert response.status_code == 400 and "Traceback" not in response.text and inbox.messages == []


class TestMailServerDown:
    """A mail server that cannot be reached changes nothing a visitor can see."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Mail pointed at a port where nothing listens."""
        return {**mail_on, "MAIL_PORT": free_port()}

    def test_the_answer_is_the_same(self, client, auth, inbox):
        auth.create("student")
        response = ask_for_link(client, "student@example.org")
        assert response.status_code == 200 and h1(response.text) == "Check your email"
        assert inbox.messages == []


class TestRequestLimit:
    """Links mailed to one address are limited, whether or not it has an account."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Rate limits on; two links an hour."""
        return {**mail_on, "RATELIMIT_ENABLED": True, "EMAIL_LINK_RATE_LIMIT": "2 per hour"}

    @pytest.mark.parametrize("email", ["student@example.org", "nobody@example.org"])
    def test_a_third_request_within_the_hour_is_refused_politely(self, client, auth, inbox, email):
        auth.create("student")
        for _ in range(2):
            assert ask_for_link(client, email).status_code == 200
        refused = ask_for_link(client, email.upper())
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert "Several links have been sent to this address just now." in refused.text
        assert re.search(r"wait \d+ minutes? and ask again", refused.text)
        assert len(inbox.messages) == (2 if email.startswith("student") else 0)
        assert ask_for_link(client, "other@example.org").status_code == 200  # another address has its own budget


class TestAddressLimit:
    """Requests from one network address are limited too, whatever addresses they name."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Rate limits on; three requests a minute from one address."""
        return {**mail_on, "RATELIMIT_ENABLED": True, "ADDRESS_RATE_LIMIT": "3 per minute"}

    def test_a_fourth_request_within_the_minute_is_refused(self, client, inbox):
        for n in range(3):
            assert ask_for_link(client, f"someone{n}@example.org").status_code == 200
        refused = ask_for_link(client, "someone9@example.org")
        assert refused.status_code == 429 and "Traceback" not in refused.text
        assert client.get("/auth/forgot-password").status_code == 200  # reading the page is never limited


# --- where no mail is sent: whom to ask, and links issued by people


def test_without_mail_the_page_says_whom_to_ask(client):
    for response in (client.get("/auth/forgot-password"), client.post("/auth/forgot-password", data={"email": "x@y.org"})):
        assert response.status_code == 200 and h1(response.text) == "Forgot your password?"
        assert "This site does not send email" in response.text
        assert "Students: ask your educator" in response.text and "It works once, for 3 days." in response.text
        assert 'name="email"' not in response.text


def issue_as_admin(client, user: User):
    """An admin's new password link for the account: the response."""
    return client.post(f"/admin/users/{user.id}/password-link")


@pytest.mark.parametrize("role", ["student", "educator", "admin"])
def test_an_admin_issues_a_link_for_any_account_and_it_works_once(app, client, db, auth, role):
    auth.as_role("admin")
    person = auth.create(role, email="person@example.org", name="Pat Person")
    theirs = app.test_client()
    assert sign_in(theirs, person.email).status_code == 302
    account_page = client.get(f"/admin/users/{person.id}").text
    assert "Make a password link" in account_page and "works for 3 days" in account_page

    response = issue_as_admin(client, person)
    assert response.status_code == 200 and h1(response.text) == "New password link for Pat Person"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Copy this link now: it is shown only once." in response.text
    assert "Their current password keeps working until they use the link." in response.text
    path = link_on_page(response.text)
    assert path.rsplit("/", 1)[1] not in client.get(f"/admin/users/{person.id}").text  # never shown again

    assert sign_in(theirs.__class__(app), person.email).status_code == 302  # the old password still works meanwhile
    visitor = app.test_client()
    page = visitor.get(path)
    assert h1(page.text) == "Choose a new password" and "Admin made this link" in page.text
    done = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert '<li class="who">Pat Person' in visitor.get("/learn/").text
    assert theirs.get("/learn/").status_code == 302  # every other session ended
    assert visitor.get(path).status_code == 410
    assert fresh(db, person.id).role == role and fresh(db, person.id).last_sign_in_at is not None


def test_a_new_link_ends_the_earlier_one(client, db, auth):
    auth.as_role("admin")
    person = auth.create("student", email="person@example.org", name="Pat")
    first = link_on_page(issue_as_admin(client, person).text)
    second = link_on_page(issue_as_admin(client, person).text)
    assert client.get(first).status_code == 410 and client.get(second).status_code == 200
    assert rows(db, PasswordLink, user_id=person.id) == 2


def test_an_admin_is_refused_a_link_for_their_own_or_a_deactivated_account(client, db, auth):
    me = auth.as_role("admin")
    response = issue_as_admin(client, me)
    assert response.status_code == 409 and "change your password on your account page instead" in response.text
    gone = auth.create("student", email="gone@example.org", name="Gone")
    gone.is_active = False
    db.session.commit()
    response = issue_as_admin(client, gone)
    assert response.status_code == 409 and escape("Gone's account is deactivated") in response.text
    assert "Reactivate it first" in client.get(f"/admin/users/{gone.id}").text
    assert rows(db, PasswordLink) == 0


def test_a_link_stops_working_when_the_role_changes(client, db, auth):
    """A link an educator made for a student must never open the account once it is staff."""
    teacher = auth.as_role("educator")
    student = auth.create("student", email="student@example.org", name="Sam")
    cohort = cohorts.create(teacher, "Ward 7")
    cohorts.add_member(cohort, student.id, "code")
    db.session.commit()
    path = link_on_page(client.post(f"/teach/cohorts/{cohort.id}/members/{student.id}/password-link").text)
    db.session.execute(update(User).where(User.id == student.id).values(role="admin"))
    db.session.commit()
    auth.sign_out()
    for response in (client.get(path), client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})):
        assert response.status_code == 410 and escape("the account's role has changed since it was made") in response.text
    assert sign_in(client, student.email, NEW_PASSWORD).status_code == 422


# --- the learner's educator


@pytest.fixture
def classroom(db, auth):
    """An educator (signed in) teaching a cohort with a student who has a password; a colleague; outsiders."""
    teacher = auth.as_role("educator")
    people = {
        "teacher": teacher,
        "sam": auth.create("student", email="sam@example.org", name="Sam Student"),
        "outsider": auth.create("student", email="outsider@example.org", name="Out Sider"),
        "colleague": auth.create("educator", email="colleague@example.org", name="Colleague"),
    }
    cohort = cohorts.create(teacher, "Ward 7")
    cohorts.add_member(cohort, people["sam"].id, "code")
    db.session.commit()
    return cohort, people


def issue_as_educator(client, cohort, user_id: int):
    """The educator's new password link for a student: the response."""
    return client.post(f"/teach/cohorts/{cohort.id}/members/{user_id}/password-link")


def test_the_cohort_page_offers_each_student_a_link(client, classroom):
    cohort, people = classroom
    page = client.get(f"/teach/cohorts/{cohort.id}").text
    assert f'action="/teach/cohorts/{cohort.id}/members/{people["sam"].id}/password-link"' in page
    assert 'New password link<span class="visually-hidden"> for Sam Student</span>' in page


def test_an_educator_issues_a_link_for_their_student(app, client, db, classroom):
    cohort, people = classroom
    response = issue_as_educator(client, cohort, people["sam"].id)
    assert response.status_code == 200 and h1(response.text) == "New password link for Sam Student"
    assert "student of Ward 7" in response.text and "It works once, for 3 days." in response.text
    assert response.headers["Cache-Control"] == "no-store"
    path = link_on_page(response.text)
    link = db.session.scalar(select(PasswordLink))
    assert (link.kind, link.role, link.created_by_id) == ("reset", "student", people["teacher"].id)
    assert link.expires_at - link.created_at == timedelta(days=3)
    learner = app.test_client()
    assert "Educator made this link" in learner.get(path).text
    assert learner.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert sign_in(app.test_client(), "sam@example.org", NEW_PASSWORD).status_code == 302


def test_an_educator_gets_no_link_for_anyone_but_a_current_student(client, db, classroom):
    cohort, people = classroom
    for user_id in (people["outsider"].id, people["colleague"].id, people["teacher"].id, 999_999, 0):
        response = issue_as_educator(client, cohort, user_id)
        assert response.status_code == 404 and "There is no current student of this cohort" in response.text
    cohorts.remove_member(cohort, people["sam"].id)
    db.session.commit()
    assert issue_as_educator(client, cohort, people["sam"].id).status_code == 404
    assert rows(db, PasswordLink) == 0


def test_never_a_staff_account_even_in_a_cohort(client, db, classroom):
    cohort, people = classroom
    cohorts.add_member(cohort, people["colleague"].id, "code")  # an educator who joined as a learner
    db.session.commit()
    page = client.get(f"/teach/cohorts/{cohort.id}").text
    assert f'members/{people["colleague"].id}/password-link' not in page and "From an administrator" in page
    response = issue_as_educator(client, cohort, people["colleague"].id)
    assert response.status_code == 404 and "educators, get a new link from an administrator" in response.text


def test_a_deactivated_student_gets_no_link(client, db, classroom):
    cohort, people = classroom
    db.session.execute(update(User).where(User.id == people["sam"].id).values(is_active=False))
    db.session.commit()
    response = issue_as_educator(client, cohort, people["sam"].id)
    assert response.status_code == 409 and escape("Sam Student's account is deactivated") in response.text


def test_another_educators_cohort_is_not_found(app, client, db, classroom):
    cohort, people = classroom
    other = app.test_client()
    assert sign_in(other, people["colleague"].email).status_code == 302
    response = other.post(f"/teach/cohorts/{cohort.id}/members/{people['sam'].id}/password-link")
    assert response.status_code == 404 and rows(db, PasswordLink) == 0


def test_a_student_waiting_for_a_first_password_gets_a_link_only_from_whoever_imported_them(app, client, db, classroom):
    cohort, people = classroom
    waiting = User(email="waiting@example.org", display_name="Wai Ting", password_hash=password_links.unusable_password())
    db.session.add(waiting)
    db.session.flush()
    password_links.make(waiting.id, people["colleague"].id)  # another educator's class list made the account
    cohorts.add_member(cohort, waiting.id, "roster")
    db.session.commit()
    refused = issue_as_educator(client, cohort, waiting.id)
    assert refused.status_code == 403 and "the educator whose class list made the account" in refused.text

    password_links.make(waiting.id, people["teacher"].id)  # now this educator's import
    db.session.commit()
    response = issue_as_educator(client, cohort, waiting.id)
    assert response.status_code == 200 and "has no password yet" in response.text
    page = app.test_client().get(link_on_page(response.text))
    assert h1(page.text) == "Set your password"


def test_a_student_is_refused_the_educators_button(client, db, auth, classroom):
    cohort, people = classroom
    auth.sign_out()
    assert sign_in(client, "sam@example.org").status_code == 302
    response = issue_as_educator(client, cohort, people["sam"].id)
    assert response.status_code == 403 and rows(db, PasswordLink) == 0


def test_issuing_a_link_reads_a_constant_number_of_rows(client, db, classroom, count_queries):
    """The educator's button costs the same few queries however many students the cohort has."""
    cohort, people = classroom
    with count_queries() as few:
        issue_as_educator(client, cohort, people["sam"].id)
    for n in range(30):
        other = User(email=f"s{n}@example.org", display_name=f"S {n}", password_hash="x")
        db.session.add(other)
        db.session.flush()
        cohorts.add_member(cohort, other.id, "code")
    db.session.commit()
    with count_queries() as many:
        issue_as_educator(client, cohort, people["sam"].id)
    assert many.count == few.count
