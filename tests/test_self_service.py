"""Accounts people run themselves: signing up counts as signing in, a person changes their own name and email
(re-verified where mail is configured), and an admin creates accounts, searches them and is asked before
deactivating one."""

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from app.models import PasswordLink, User
from app.models.types import utcnow
from app.services import accounts, admin
from tests.conftest import PASSWORD
from tests.helpers import rows
from tests.smtp import free_port

NEW_PASSWORD = "violet harbour lantern"


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








# --- signing up is the first sign-in


def test_signing_up_counts_as_the_first_sign_in(client, db):
    data = {"email": "new@example.org", "display_name": "New Person", "password": PASSWORD, "confirm": PASSWORD}
    before = utcnow()
    assert client.post("/auth/sign-up", data=data).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.last_sign_in_at is not None and user.last_sign_in_at >= before
    assert "<td>Never</td>" not in client.get("/auth/account").text


# --- the person's own name


def test_the_account_page_leads_to_changing_name_email_and_password(client, auth):
    auth.as_role("student")
    page = client.get("/auth/account").text
    for href, label in [
        ("/auth/account/name", "Change your name"),
        ("/auth/account/email", "Change your email address"),
        ("/auth/account/password", "Change your password"),
    ]:
        assert f'<a href="{href}">{label}</a>' in page


def test_a_person_changes_their_name(client, db, auth):
    me = auth.as_role("student")
    page = client.get("/auth/account/name")
    assert page.status_code == 200 and h1(page.text) == "Change your name"
    assert re.search(r'<input[^>]*name="display_name"[^>]*value="Student"', page.text)  # the name now, to edit
    response = client.post("/auth/account/name", data={"display_name": "  Zoë Álvarez  "})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    home = client.get("/auth/account").text
    assert "Your name is now Zoë Álvarez." in home and '<li class="who">Zoë Álvarez' in home
    assert fresh(db, me.id).display_name == "Zoë Álvarez"
    client.post("/auth/account/name", data={"display_name": "Zoë Álvarez"})
    assert "That is already your name; nothing changed." in client.get("/auth/account").text


@pytest.mark.parametrize(
    "name, message",
    [("", "Enter the name to show in the app."), ("   ", "Enter the name to show in the app."),
     ("x" * 101, "Keep your name under 100 characters.")],
)
def test_a_bad_name_is_explained_and_nothing_changes(client, db, auth, name, message):
    me = auth.as_role("student")
    response = client.post("/auth/account/name", data={"display_name": name})
    assert response.status_code == 422 and message in response.text
    assert "<title>Error: Change your name" in response.text
    assert fresh(db, me.id).display_name == "Student"


# --- the person's own email, where no mail is sent: it changes at once, given the password


def change_email(client, email: str, password: str = PASSWORD):
    """Ask to change the address; the response."""
    return client.post("/auth/account/email", data={"email": email, "password": password})


def test_without_mail_the_address_changes_at_once(app, client, db, auth):
    me = auth.as_role("student")
    page = client.get("/auth/account/email")
    assert h1(page.text) == "Change your email address" and "The new address replaces it at once" in page.text
    response = change_email(client, "  New.Address@Example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    assert "Your email address is now new.address@example.org." in client.get("/auth/account").text
    assert fresh(db, me.id).email == "new.address@example.org"
    other = app.test_client()
    assert sign_in(other, "student@example.org").status_code == 422
    assert sign_in(other, "NEW.address@example.org").status_code == 302


@pytest.mark.parametrize(
    "email, password, field, message",
    [
        ("new@example.org", "not my password", "password", "That is not your password. Nothing was changed"),
        ("", PASSWORD, "email", "Enter the new email address."),
        ("not an address", PASSWORD, "email", "Enter a valid email address"),
        ("taken@example.org", PASSWORD, "email", "Another account already uses this email address."),
        ("TAKEN@Example.org", PASSWORD, "email", "Another account already uses this email address."),
        ("Student@example.org", PASSWORD, "email", "This is already your email address."),
        ("p\u0430ul@example.org", PASSWORD, "email", "The email mixes alphabets"),  # a Cyrillic "а"
        ("paul\u200b@example.org", PASSWORD, "email", "The email holds an invisible character"),
        ("new@example.org", "", "password", "Type your password to confirm it is you."),
    ],
)
def test_a_refused_email_change_says_why_and_changes_nothing(client, db, auth, email, password, field, message):
    me = auth.as_role("student")
    auth.create("student", email="taken@example.org", name="Taken")
    response = change_email(client, email, password)
    assert response.status_code == 422, response.text[:300]
    assert f'<a href="#{field}">' in response.text and escape(message) in response.text
    assert fresh(db, me.id).email == "student@example.org"


# --- where mail is configured: the new address confirms the change


class TestWithMail:
    """The change waits for the link mailed to the new address."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Mail on."""
        return mail_on

    @staticmethod
    def link_in(message) -> str:
        match = re.search(r"https?://[^/\s]+(/auth/confirm-email/[A-Za-z0-9_-]+)\s", message.get_content())
        assert match, message.get_content()
        return match.group(1)

    def test_the_change_applies_once_the_new_address_is_confirmed(self, app, client, db, auth, inbox):
        me = auth.as_role("student")
        assert "It becomes your email address once you open the link" in client.get("/auth/account/email").text.replace(
            "We email a link to the new address: it becomes", "It becomes"
        )
        response = change_email(client, "moved@example.org")
        assert response.status_code == 302
        account = client.get("/auth/account").text
        assert "We sent a link to moved@example.org. Open it within 24 hours" in account
        assert "You asked to change your email address to <strong>moved@example.org</strong>" in account
        assert fresh(db, me.id).email == "student@example.org"  # not yet
        assert sign_in(app.test_client(), "student@example.org").status_code == 302

        (message,) = inbox.messages
        assert message["To"] == "moved@example.org" and message["Subject"] == "Confirm your new email address for Alliance"
        path = self.link_in(message)
        assert path.rsplit("/", 1)[1] not in (fresh(db, me.id).pending_email_token_hash or "")  # only its hash

        followed = client.get(path)
        assert followed.status_code == 302 and followed.headers["Location"] == "/auth/account"
        assert "Your email address is now moved@example.org." in client.get("/auth/account").text
        user = fresh(db, me.id)
        assert user.email == "moved@example.org" and user.email_verified_at is not None and user.pending_email is None
        told = inbox.messages[1]
        assert told["To"] == "student@example.org" and told["Subject"] == "Your Alliance email address was changed"
        assert "tell an administrator" in told.get_content()

        again = client.get(path)
        assert again.status_code == 404 and "This link to confirm a new email address is not one we know" in again.text
        assert sign_in(app.test_client(), "moved@example.org").status_code == 302
        assert sign_in(app.test_client(), "student@example.org").status_code == 422

    def test_the_waiting_address_is_in_the_persons_data_download(self, client, auth, inbox):
        auth.as_role("student")
        change_email(client, "moved@example.org")
        account = client.get("/auth/account/data.json").json["account"]
        assert account["email"] == "student@example.org" and account["pending_email"] == "moved@example.org"

    def test_a_link_opened_in_another_browser_works_too(self, app, client, db, auth, inbox):
        auth.as_role("student")
        change_email(client, "moved@example.org")
        page = app.test_client().get(self.link_in(inbox.messages[0]))
        assert page.status_code == 200 and h1(page.text) == "Email address changed"
        assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"

    def test_cancelling_kills_the_link(self, client, db, auth, inbox):
        me = auth.as_role("student")
        change_email(client, "moved@example.org")
        response = client.post("/auth/account/email/cancel")
        assert response.status_code == 302
        assert "The change to moved@example.org is cancelled." in client.get("/auth/account").text
        assert client.get(self.link_in(inbox.messages[0])).status_code == 404
        assert fresh(db, me.id).email == "student@example.org"
        client.post("/auth/account/email/cancel")
        assert "No change of email address was waiting" in client.get("/auth/account").text

    def test_an_expired_link_changes_nothing(self, client, db, auth, inbox):
        me = auth.as_role("student")
        change_email(client, "moved@example.org")
        db.session.execute(update(User).where(User.id == me.id).values(pending_email_expires_at=utcnow()))
        db.session.commit()
        response = client.get(self.link_in(inbox.messages[0]))
        assert response.status_code == 410 and "has expired. Your email address has not changed" in response.text
        assert fresh(db, me.id).email == "student@example.org"

    def test_an_address_taken_meanwhile_is_refused_at_the_link(self, client, db, auth, inbox):
        me = auth.as_role("student")
        change_email(client, "moved@example.org")
        auth.create("student", email="moved@example.org", name="Quicker")
        response = client.get(self.link_in(inbox.messages[0]))
        assert response.status_code == 409 and "Another account now uses this email address" in response.text
        assert fresh(db, me.id).email == "student@example.org"

    def test_reset_links_mailed_to_the_old_address_stop_working(self, client, db, auth, inbox):
        from app.services import password_links

        me = auth.as_role("student")
        token, _ = password_links.issue(me, None)
        db.session.commit()
        change_email(client, "moved@example.org")
        client.get(self.link_in(inbox.messages[0]))
        assert client.get(f"/auth/set-password/{token}").status_code == 410



class TestMailServerDown:
    """A mail server that cannot be reached: nothing changes, and the page says so."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Mail pointed at a port where nothing listens."""
        return {**mail_on, "MAIL_PORT": free_port()}

    def test_an_email_change_leaves_the_address_as_it_was(self, client, db, auth):
        me = auth.as_role("student")
        change_email(client, "moved@example.org")
        assert "We could not send the email to your new address just now" in client.get("/auth/account").text
        assert fresh(db, me.id).pending_email is None and fresh(db, me.id).email == "student@example.org"

    def test_a_new_account_gets_its_link_shown_instead(self, client, auth):
        auth.as_role("admin")
        response = create_account(client)
        assert "We could not email the link to nia@example.org just now" in response.text
        assert "/auth/set-password/" in response.text


class TestEmailChangeLimit:
    """Links mailed to new addresses are limited per account."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Rate limits on; two links an hour."""
        return {**mail_on, "RATELIMIT_ENABLED": True, "EMAIL_LINK_RATE_LIMIT": "2 per hour"}

    def test_a_third_link_within_the_hour_is_refused_politely(self, client, auth, inbox):
        auth.as_role("student")
        for n in range(2):
            assert change_email(client, f"moved{n}@example.org").status_code == 302
        refused = change_email(client, "moved9@example.org")
        assert refused.status_code == 429 and "You have asked for several links just now." in refused.text
        assert len(inbox.messages) == 2


# --- admins create accounts


def create_account(client, name: str = "Nia Newcomer", email: str = "nia@example.org", role: str = "educator"):
    """Create an account through the admin's form; the response."""
    return client.post("/admin/users/new", data={"display_name": name, "email": email, "role": role})


def test_the_accounts_page_leads_to_creating_one(client, auth):
    auth.as_role("admin")
    assert '<a class="button" href="/admin/users/new">Create an account</a>' in client.get("/admin/users").text
    page = client.get("/admin/users/new").text
    assert h1(page) == "Create an account" and '<option selected value="student">' in page
    assert "You get a one-time link to pass on to them, shown once." in page


@pytest.mark.parametrize("role", ["student", "educator", "admin"])
def test_an_admin_creates_an_account_of_any_role_with_a_link_shown_once(app, client, db, auth, role):
    auth.as_role("admin")
    response = create_account(client, role=role)
    assert response.status_code == 200 and h1(response.text) == "Account created"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Copy this link now: it is shown only once." in response.text
    user = db.session.scalar(select(User).where(User.email == "nia@example.org"))
    assert user.role == role and user.display_name == "Nia Newcomer" and user.last_sign_in_at is None
    assert sign_in(app.test_client(), "nia@example.org", "").status_code == 422  # no password yet
    match = re.search(r'value="https?://[^/"]+(/auth/set-password/[A-Za-z0-9_-]+)"', response.text)
    token = match.group(1).rsplit("/", 1)[1]
    assert token not in client.get(f"/admin/users/{user.id}").text
    assert "Not chosen yet" in client.get(f"/admin/users/{user.id}").text

    newcomer = app.test_client()
    page = newcomer.get(match.group(1))
    assert h1(page.text) == "Set your password" and "Admin made an account for you" in page.text
    assert newcomer.post(match.group(1), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert f'<li class="who">Nia Newcomer{f" ({role})" if role != "student" else ""}' in newcomer.get("/learn/").text
    assert sign_in(app.test_client(), "nia@example.org", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "data, message",
    [
        ({"display_name": "", "email": "x@example.org", "role": "student"}, "Enter the person&#39;s name"),
        ({"display_name": "X", "email": "", "role": "student"}, "Enter the person&#39;s email address"),
        ({"display_name": "X", "email": "nope", "role": "student"}, "Enter a valid email address"),
        ({"display_name": "X", "email": "admin@example.org", "role": "student"}, "An account with this email already exists."),
        ({"display_name": "X", "email": "ADMIN@example.org", "role": "student"}, "An account with this email already exists."),
        ({"display_name": "X", "email": "p\u0430ul@example.org", "role": "student"}, "The email mixes alphabets"),
        ({"display_name": "X", "email": "x@example.org", "role": "wizard"}, "Choose a role from the list."),
        ({"display_name": "X" * 101, "email": "x@example.org", "role": "student"}, "Keep the name under 100 characters."),
    ],
)
def test_bad_account_details_are_explained(client, db, auth, data, message):
    auth.as_role("admin")
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 422 and message in response.text
    assert "<title>Error: Create an account" in response.text
    assert rows(db, User) == 1 and rows(db, PasswordLink) == 0


def test_a_student_or_educator_cannot_create_accounts(client, db, auth):
    auth.as_role("educator")
    assert create_account(client).status_code == 403
    assert rows(db, User) == 1


class TestCreatingWithMail:
    """Where mail is configured, the new account's link is emailed rather than shown."""

    @pytest.fixture
    def app_settings(self, mail_on):
        """Mail on."""
        return mail_on

    def test_the_link_is_emailed_and_not_shown(self, client, auth, inbox):
        auth.as_role("admin")
        assert "We email them a one-time link to do so." in client.get("/admin/users/new").text
        response = create_account(client)
        assert response.status_code == 200 and "We emailed the link to nia@example.org." in response.text
        assert "/auth/set-password/" not in response.text
        (message,) = inbox.messages
        assert message["To"] == "nia@example.org" and message["Subject"] == "Your Alliance account is ready"
        assert "Admin made you an Alliance account" in message.get_content()
        assert re.search(r"/auth/set-password/[A-Za-z0-9_-]+\s", message.get_content())


# --- admins find accounts whatever the accents and case


@pytest.fixture
def accented(db, auth):
    """An admin (signed in) and accounts with accented names and addresses."""
    auth.as_role("admin")
    for email, name in [
        ("jose@example.org", "José Núñez"),
        ("zoe@example.org", "ZOË ÅSTRÖM"),
        ("lech@example.org", "Łukasz Żółć"),
        ("francois@bücher.example", "Francoise Dupont"),
        ("decomposed@example.org", "Rene\u0301e Lefe\u0300vre"),  # accents typed as separate marks
    ]:
        db.session.add(User(email=email, display_name=name, password_hash="x", role="student", created_at=utcnow()))
    db.session.commit()


SEARCHES = {
    "without the accents": ("jose nunez", ["José Núñez"]),
    "in capitals with accents": ("JOSÉ", ["José Núñez"]),
    "accents the name does not have": ("Françoise", ["Francoise Dupont"]),
    "lower case of capitals": ("åström", ["ZOË ÅSTRÖM"]),
    "letters without a decomposition": ("lukasz zolc", ["Łukasz Żółć"]),
    "separate accent marks in the name": ("renée", ["Rene\u0301e Lefe\u0300vre"]),
    "separate accent marks in the search": ("lefe\u0300vre", ["Rene\u0301e Lefe\u0300vre"]),
    "part of an accented domain": ("BUCHER", ["Francoise Dupont"]),
}


@pytest.mark.parametrize("query, names", SEARCHES.values(), ids=SEARCHES.keys())
def test_search_ignores_accents_and_case(client, accented, query, names):
    html = client.get("/admin/users", query_string={"q": query}).text
    found = re.findall(r'<th scope="row"><a href="/admin/users/\d+">([^<]+)</a>', html)
    assert found == [str(escape(n)) for n in names]


def test_the_service_folds_the_same_way(db, accented):
    assert [u.display_name for u in admin.search_users("ÑÚ").users] == ["José Núñez"]
    assert admin.fold("Ångström Øre İstanbul") == "angstrom ore istanbul"


# --- deactivating asks first


def test_deactivating_asks_first_and_cancelling_changes_nothing(client, db, auth):
    auth.as_role("admin")
    person = auth.create("student", email="person@example.org", name="Pat Person")
    account = client.get(f"/admin/users/{person.id}").text
    assert f'href="/admin/users/{person.id}/deactivate">Deactivate account…</a>' in account
    assert f'action="/admin/users/{person.id}/deactivate"' not in account  # no one-click deactivation

    page = client.get(f"/admin/users/{person.id}/deactivate")
    assert page.status_code == 200 and h1(page.text) == "Deactivate Pat Person?"
    assert "no longer be able to sign in" in page.text and "Their records are kept" in page.text
    assert f'action="/admin/users/{person.id}/deactivate"' in page.text and ">Deactivate Pat Person</button>" in page.text
    assert f'<a href="/admin/users/{person.id}">Cancel, keep the account active</a>' in page.text
    assert fresh(db, person.id).is_active  # asking changed nothing

    assert client.post(f"/admin/users/{person.id}/deactivate").status_code == 302
    assert not fresh(db, person.id).is_active
    again = client.get(f"/admin/users/{person.id}/deactivate")
    assert again.status_code == 302 and "already deactivated" in client.get(again.headers["Location"]).text


def test_an_admin_is_not_asked_to_deactivate_themselves(client, auth):
    me = auth.as_role("admin")
    response = client.get(f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 409 and "You cannot deactivate your own account." in response.text


def test_the_confirmation_page_of_an_unknown_account_is_a_friendly_404(client, auth):
    auth.as_role("admin")
    for user_id in ("999", "2147483648"):
        for method in ("GET", "POST"):
            assert client.open(f"/admin/users/{user_id}/deactivate", method=method).status_code == 404


def test_no_password_link_survives_in_the_database(db, auth):
    """Only hashes: a link's token appears nowhere the database keeps."""
    from app.services import password_links

    user = auth.create("student")
    token = password_links.make(user.id, None, kind="reset")
    db.session.commit()
    stored = db.session.scalars(select(PasswordLink.token_hash)).all()
    assert token not in stored and password_links.token_hash(token) in stored
    link = db.session.scalar(select(PasswordLink))
    assert link.expires_at - link.created_at == timedelta(days=3)
    assert accounts.find_by_email("student@example.org").id == user.id
