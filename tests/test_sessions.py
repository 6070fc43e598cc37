"""Sessions kept on the server: signing out ends them for good, they expire, and the account page manages them."""

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from app.models import User, UserSession
from app.models.types import utcnow
from app.services import password_links, sessions
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import rows
from tests.test_auth import is_signed_in

NEW_PASSWORD = "brisk walrus topaz"


def browser(app, **cookies):
    """Another browser holding only the given cookies."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def sign_in(client, email: str = "student@example.org", password: str = PASSWORD, remember: bool = False):
    """Sign in through the form, with "keep me signed in" when asked."""
    data = {"email": email, "password": password} | ({"remember": "y"} if remember else {})
    response = client.post("/auth/sign-in", data=data)
    assert response.status_code == 302, response.text[:500]
    return response


def session_id(app, client) -> str:
    """The Flask-Login id inside the client's session cookie."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(client.get_cookie("session").value)["_user_id"]


class Clock:
    """Moves the sessions' clock forward, as if time passed."""

    def __init__(self, monkeypatch):
        self.offset = timedelta()
        monkeypatch.setattr(sessions, "utcnow", lambda: utcnow() + self.offset)

    def advance(self, **how_long) -> None:
        """Let this much time pass."""
        self.offset += timedelta(**how_long)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """A clock the test moves forward."""
    return Clock(monkeypatch)


# --- signing out ends the session for good


def test_a_copied_session_cookie_opens_nothing_after_sign_out(app, client, auth):
    auth.create("student")
    sign_in(client)
    copied = client.get_cookie("session").value
    assert is_signed_in(browser(app, session=copied))  # the copy works while the session lives
    auth.sign_out()
    assert not is_signed_in(browser(app, session=copied))


def test_a_copied_remember_cookie_opens_nothing_after_sign_out(app, client, auth):
    auth.create("student")
    sign_in(client, remember=True)
    copied = client.get_cookie("remember_token").value
    thief = browser(app, remember_token=copied)
    assert is_signed_in(thief)  # the remember cookie alone signs in while the session lives
    auth.sign_out()
    assert not is_signed_in(browser(app, remember_token=copied))
    assert not is_signed_in(thief)  # nor does the session the copy had opened


def test_every_sign_in_gets_a_new_session_id_and_only_its_hash_is_stored(app, client, db, auth):
    user = auth.create("student")
    first = sign_in(client, remember=True)
    first_id, first_cookie = session_id(app, client), client.get_cookie("remember_token").value
    auth.sign_out()
    sign_in(client, remember=True)
    second_id, second_cookie = session_id(app, client), client.get_cookie("remember_token").value
    assert first_id != second_id and first_cookie != second_cookie
    assert first_id.startswith(f"{user.id}:") and second_id.startswith(f"{user.id}:")
    assert "remember_token=" in "\n".join(first.headers.getlist("Set-Cookie"))
    stored = db.session.scalars(select(UserSession.key_hash).where(UserSession.user_id == user.id)).all()
    keys = [first_id.split(":", 1)[1], second_id.split(":", 1)[1]]
    assert sessions.key_hash(keys[1]) in stored
    assert not any(key in value for key in keys for value in stored)  # never the key itself
    assert not is_signed_in(browser(app, remember_token=first_cookie))  # the old one ended at sign-out


def test_signing_up_and_setting_a_password_through_a_link_open_a_session(client, db, auth):
    data = {"email": "new@example.org", "display_name": "New", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post("/auth/sign-up", data=data).status_code == 302
    new = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert rows(db, UserSession, user_id=new.id) == 1
    auth.sign_out()
    imported = auth.create("student", email="imported@example.org")
    imported.password_hash = password_links.unusable_password()
    token = password_links.make(imported.id, None)
    db.session.commit()
    response = client.post(f"/auth/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and is_signed_in(client)
    assert rows(db, UserSession, user_id=imported.id) == 1


def test_a_session_cookie_not_made_by_a_sign_in_opens_nothing(app, client, db, auth):
    user = auth.create("student")
    sign_in(client)
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("session").value)
    key = data["_user_id"].split(":", 1)[1]
    for forged in (f"{user.id}:{'A' * 43}", str(user.id), f"{user.id}:", "x:y", f"{user.id + 1}:{key}", f"0:{key}"):
        assert not is_signed_in(browser(app, session=serializer.dumps({**data, "_user_id": forged})))


# --- sessions expire


def test_a_session_without_keep_me_signed_in_ends_after_the_idle_time(app, client, auth, clock):
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    auth.as_role("student")
    clock.advance(seconds=idle.total_seconds() - 60)
    assert is_signed_in(client)  # used within the idle time: it goes on
    clock.advance(seconds=idle.total_seconds() - 60)
    assert is_signed_in(client)
    clock.advance(seconds=idle.total_seconds() + 60)
    assert not is_signed_in(client)


def test_keep_me_signed_in_lasts_the_stated_period_and_no_longer(app, client, auth, clock):
    period = app.config["REMEMBER_COOKIE_DURATION"]
    assert period == timedelta(days=30)
    auth.create("student")
    response = sign_in(client, remember=True)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs(expires - (utcnow() + period)) < timedelta(minutes=1)
    clock.advance(days=29)
    client.delete_cookie("session")  # the browser was closed, long after the idle time
    assert is_signed_in(client)
    clock.advance(days=2)
    assert not is_signed_in(client)
    client.delete_cookie("session")
    assert not is_signed_in(client)


def test_pages_mark_the_session_seen_at_most_every_five_minutes(client, db, auth, clock):
    user = auth.as_role("student")

    def last_seen():
        db.session.expire_all()
        return db.session.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id))

    first = last_seen()
    clock.advance(minutes=4)
    assert is_signed_in(client) and last_seen() == first
    clock.advance(minutes=2)
    assert is_signed_in(client) and last_seen() > first


# --- the account page: where you are signed in, sign out everywhere


def test_the_account_page_lists_where_you_are_signed_in(app, client, auth):
    auth.create("student")
    phone = app.test_client()
    phone.post(
        "/auth/sign-in",
        data={"email": "student@example.org", "password": PASSWORD, "remember": "y"},
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"},
    )
    client.post(
        "/auth/sign-in",
        data={"email": "student@example.org", "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
    )
    page = client.get("/auth/account").text
    assert "Firefox on Linux (this one)" in page and "Chrome on Android" in page
    assert "Chrome on Android (this one)" not in page
    assert "Kept signed in until" in page and "After 12 hours unused" in page


def test_sign_out_everywhere_ends_every_session_this_one_too(app, client, db, auth):
    user = auth.create("student")
    phone = app.test_client()
    sign_in(phone, remember=True)
    remembered = phone.get_cookie("remember_token").value
    sign_in(client)
    response = client.post("/auth/account/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "You are signed out everywhere" in client.get("/").text
    assert not is_signed_in(client) and not is_signed_in(phone)
    assert not is_signed_in(browser(app, remember_token=remembered))
    assert rows(db, UserSession, user_id=user.id, revoked_at=None) == 0
    assert sign_in(client) and is_signed_in(client)  # the password still signs in


# --- changing the password


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, db, auth):
    auth.create("student")
    phone = app.test_client()
    sign_in(phone, remember=True)
    remembered = phone.get_cookie("remember_token").value
    sign_in(client)
    page = client.get("/auth/account/password")
    assert page.status_code == 200 and "<h1>Change your password</h1>" in page.text
    data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = client.post("/auth/account/password", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    assert "Your password is changed. You were signed out on 1 other device." in client.get("/auth/account").text
    assert is_signed_in(client)
    assert not is_signed_in(phone) and not is_signed_in(browser(app, remember_token=remembered))
    auth.sign_out()
    assert auth.sign_in(password=PASSWORD).status_code == 422
    assert auth.sign_in(password=NEW_PASSWORD).status_code == 302


CHANGE_ERRORS = {
    "wrong current password": (
        {"current_password": "not my password"},
        "That is not your current password. Nothing was changed: type the password you sign in with now.",
    ),
    "current password missing": ({"current_password": ""}, "Type the password you sign in with now."),
    "new passwords differ": ({"confirm": NEW_PASSWORD + "!"}, "The two new passwords differ."),
    "new password too short": ({"password": "short", "confirm": "short"}, "Use at least 10 characters."),
    "new password common": ({"password": "password1234", "confirm": "password1234"}, "This is a very common password."),
    "new password is the email": (
        {"password": "student@example.org", "confirm": "student@example.org"},
        "Choose a password that is harder to guess.",
    ),
}


@pytest.mark.parametrize("changes, message", CHANGE_ERRORS.values(), ids=CHANGE_ERRORS.keys())
def test_a_refused_password_change_says_why_and_changes_nothing(app, client, db, auth, changes, message):
    user = auth.create("student")
    phone = app.test_client()
    sign_in(phone)
    sign_in(client)
    before = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD} | changes
    response = client.post("/auth/account/password", data=data)
    assert response.status_code == 422 and "<title>Error: Change your password" in response.text
    assert message in response.text
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash).where(User.id == user.id)) == before
    assert is_signed_in(phone) and is_signed_in(client)


# --- deactivation


def test_deactivating_an_account_revokes_every_session_for_good(app, client, db, auth):
    auth.as_role("admin")
    person = auth.create("student", email="person@example.org", name="Pat")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, person.email)
    sign_in(phone, person.email, remember=True)
    remembered = phone.get_cookie("remember_token").value
    assert client.post(f"/admin/users/{person.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert rows(db, UserSession, user_id=person.id) == 2
    assert rows(db, UserSession, user_id=person.id, revoked_at=None) == 0
    assert client.post(f"/admin/users/{person.id}/reactivate").status_code == 302
    # Reactivating lets them sign in again, but brings back none of the old sessions.
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    assert not is_signed_in(browser(app, remember_token=remembered))
    assert sign_in(laptop, person.email) and is_signed_in(laptop)


# --- labels


@pytest.mark.parametrize(
    "agent, label",
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on macOS"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
        ("x" * 300, "x" * 100),
    ],
)
def test_a_browser_gets_a_short_recognisable_label(agent, label):
    assert sessions.browser_label(agent) == label


# --- CSRF on, as in production


class TestWithCsrfProtection:
    """The new account forms are refused without their token and work with it."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """The real setting: CSRF protection on."""
        app_settings["WTF_CSRF_ENABLED"] = True
        return app_settings

    def test_sign_out_everywhere(self, client, auth):
        auth.create("student")
        token = csrf_token(client.get("/auth/sign-in").text)
        client.post("/auth/sign-in", data={"email": "student@example.org", "password": PASSWORD, "csrf_token": token})
        refused = client.post("/auth/account/sign-out-everywhere")
        assert refused.status_code == 400 and "<h1>Form expired</h1>" in refused.text
        assert is_signed_in(client)
        page = client.get("/auth/account").text
        form = re.search(r'<form method="post" action="/auth/account/sign-out-everywhere">.*?</form>', page, re.S)
        response = client.post("/auth/account/sign-out-everywhere", data={"csrf_token": csrf_token(form.group(0))})
        assert response.status_code == 302 and not is_signed_in(client)

    def test_change_password(self, client, auth):
        auth.create("student")
        token = csrf_token(client.get("/auth/sign-in").text)
        client.post("/auth/sign-in", data={"email": "student@example.org", "password": PASSWORD, "csrf_token": token})
        data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert client.post("/auth/account/password", data=data).status_code == 400
        token = csrf_token(client.get("/auth/account/password").text)
        assert client.post("/auth/account/password", data={**data, "csrf_token": token}).status_code == 302


def test_a_session_id_with_digits_int_cannot_read_opens_nothing(app, db):
    """A superscript digit passes str.isdigit() but not int(): the loader refuses it instead of failing."""
    from app.services import sessions

    with app.test_request_context():
        assert sessions.load("²:" + "a" * 43, touch=False) == (None, False)
