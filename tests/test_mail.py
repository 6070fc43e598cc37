"""Email verification against a real SMTP server (aiosmtpd) on loopback, and the mail settings."""

import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from app import config
from app.models import User
from app.models.types import utcnow
from app.services import accounts
from tests.conftest import PASSWORD
from tests.smtp import SENDER, free_port


@pytest.fixture
def app_settings(app_settings, smtp):
    """Mail configured, pointing at the test's SMTP server."""
    _, port = smtp
    return {**app_settings, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_DEFAULT_SENDER": SENDER}




def sign_up(client, email: str = "new@example.org"):
    """Sign up through the form."""
    data = {"email": email, "display_name": "New Person", "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/auth/sign-up", data=data)
    assert response.status_code == 302, response.text[:500]
    return response


def link_in(message: EmailMessage) -> str:
    """The verification link's path in a received message."""
    match = re.search(r"https?://[^/\s]+(/auth/verify-email/[A-Za-z0-9_-]+)\s", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def account(db, email: str = "new@example.org") -> User:
    """The account, read fresh."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_sign_up_mails_a_link_that_verifies_the_address_once(app, client, db, inbox):
    sign_up(client)
    assert "We sent a link to new@example.org. Open it to verify your email address." in client.get("/learn/").text
    (message,) = inbox.messages
    assert message["To"] == "new@example.org" and message["From"] == SENDER
    assert message["Subject"] == "Verify your email address for Alliance"
    assert "Hello New Person" in message.get_content() and "works once and for 3 days" in message.get_content()
    path = link_in(message)
    page = client.get("/auth/account").text
    assert "Your email address is not verified yet." in page and "Send the link again" in page
    user = account(db)
    assert not accounts.is_email_trusted(user)
    assert path.rsplit("/", 1)[1] not in (user.email_token_hash or "")  # only the token's hash is stored

    followed = client.get(path)
    assert followed.status_code == 302 and followed.headers["Location"] == "/auth/account"
    page = client.get("/auth/account").text
    assert "Thank you: your email address new@example.org is verified." in page
    assert "Your email address is verified (since" in page and "Send the link again" not in page
    assert accounts.is_email_trusted(account(db))

    again = client.get(path)
    assert again.status_code == 410 and "This link has already been used" in again.text
    assert "<h1>This link cannot be used</h1>" in again.text and "Traceback" not in again.text


def test_a_link_opened_in_another_browser_verifies_the_address_too(app, client, db, inbox):
    sign_up(client)
    elsewhere = app.test_client().get(link_in(inbox.messages[0]))
    assert elsewhere.status_code == 200 and "<h1>Email address verified</h1>" in elsewhere.text
    assert elsewhere.headers["Cache-Control"] == "no-store" and elsewhere.headers["Referrer-Policy"] == "no-referrer"
    assert account(db).email_verified_at is not None


@pytest.mark.parametrize("token", ["not-a-real-link-token-at-all-0000", "short", "x" * 200])
def test_an_unknown_link_gets_a_clear_page(client, db, token):
    response = client.get(f"/auth/verify-email/{token}")
    assert response.status_code == 404 and "This verification link is not one we know." in response.text
    assert "ask for a new link on your account page" in response.text


def test_an_expired_link_gets_a_clear_page_and_verifies_nothing(client, db, inbox):
    sign_up(client)
    user = account(db)
    user.email_token_expires_at = utcnow()
    db.session.commit()
    response = client.get(link_in(inbox.messages[0]))
    assert response.status_code == 410 and "This verification link has expired." in response.text
    assert account(db).email_verified_at is None


def test_send_the_link_again_mails_a_new_link_and_the_old_one_stops_working(client, db, inbox):
    sign_up(client)
    response = client.post("/auth/account/email-link")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    assert "We sent a link to new@example.org." in client.get("/auth/account").text
    first, second = inbox.messages
    assert link_in(first) != link_in(second)
    assert client.get(link_in(first)).status_code == 404
    assert client.get(link_in(second)).status_code == 302
    assert account(db).email_verified_at is not None
    client.post("/auth/account/email-link")
    assert len(inbox.messages) == 2  # verified: nothing more is sent
    assert "Your email address is already verified." in client.get("/auth/account").text


class TestResendLimit:
    """Asking for links again and again is limited per account."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """Rate limits on; two links an hour."""
        return {**app_settings, "RATELIMIT_ENABLED": True, "EMAIL_LINK_RATE_LIMIT": "2 per hour"}

    def test_a_third_link_within_the_hour_is_refused_politely(self, client, inbox):
        sign_up(client)
        for _ in range(2):
            assert client.post("/auth/account/email-link").status_code == 302
        refused = client.post("/auth/account/email-link")
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert "You have asked for several links just now. Check your spam folder" in refused.text
        assert re.search(r"wait \d+ minutes? and ask again", refused.text)
        assert len(inbox.messages) == 3  # the sign-up's and two more


class TestMailServerDown:
    """A mail server that cannot be reached does not stop anyone signing up."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """Mail pointed at a port where nothing listens."""
        return {**app_settings, "MAIL_PORT": free_port()}

    def test_sign_up_still_works_and_says_the_mail_was_not_sent(self, client, db, inbox):
        sign_up(client)
        home = client.get("/learn/").text
        assert "Welcome, New Person." in home
        assert "We could not send the email to verify your address just now." in home
        assert account(db) is not None and inbox.messages == []


class TestSiteAddress:
    """The link names the configured site, never whatever Host the request claimed."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """A configured public address."""
        return {**app_settings, "SITE_URL": "https://alliance.example", "SITE_URL_IS_SET": True}

    def test_the_link_uses_the_site_address(self, client, inbox):
        client.post(
            "/auth/sign-up",
            data={"email": "new@example.org", "display_name": "New", "password": PASSWORD, "confirm": PASSWORD},
            headers={"Host": "evil.example"},
        )
        (message,) = inbox.messages
        assert "https://alliance.example/auth/verify-email/" in message.get_content()
        assert "evil.example" not in message.get_content()


class TestWithoutMail:
    """Where no mail server is configured, nothing is sent and the account page says so."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """No mail server (the test's SMTP server still listens, to show nothing reaches it)."""
        return {**app_settings, "MAIL_SERVER": ""}

    def test_nothing_is_sent_and_the_account_page_says_so(self, client, db, inbox):
        sign_up(client)
        assert "We sent a link" not in client.get("/learn/").text
        page = client.get("/auth/account").text
        assert "This site does not send email, so email addresses are not verified here." in page
        assert "Send the link again" not in page
        client.post("/auth/account/email-link")
        assert "This site does not send email, so there is no link to send." in client.get("/auth/account").text
        assert inbox.messages == []
        user = account(db)
        assert user.email_verified_at is None and accounts.is_email_trusted(user)


# --- the settings


@pytest.fixture
def environment(monkeypatch):
    """A clean mail environment to set variables in."""
    for name in ("SERVER", "PORT", "USERNAME", "PASSWORD", "USE_TLS", "USE_SSL", "SENDER"):
        monkeypatch.delenv(f"ALLIANCE_MAIL_{name}", raising=False)
    monkeypatch.delenv("ALLIANCE_SITE_URL", raising=False)
    return monkeypatch


def test_mail_settings_come_from_the_environment(environment, tmp_path: Path):
    environment.setenv("ALLIANCE_MAIL_SERVER", "smtp.example.org")
    environment.setenv("ALLIANCE_MAIL_USE_TLS", "1")
    environment.setenv("ALLIANCE_MAIL_USERNAME", "alliance")
    environment.setenv("ALLIANCE_MAIL_PASSWORD", "secret")
    environment.setenv("ALLIANCE_MAIL_SENDER", SENDER)
    environment.setenv("ALLIANCE_SITE_URL", "https://alliance.example")
    settings = config.from_environment(tmp_path, {"SECRET_KEY": "x"})
    assert settings["MAIL_SERVER"] == "smtp.example.org" and settings["MAIL_PORT"] == 587
    assert settings["MAIL_USE_TLS"] and not settings["MAIL_USE_SSL"]
    assert (settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"]) == ("alliance", "secret")
    assert settings["MAIL_DEFAULT_SENDER"] == SENDER
    environment.delenv("ALLIANCE_MAIL_SERVER")
    assert config.from_environment(tmp_path, {"SECRET_KEY": "x"})["MAIL_SERVER"] == ""


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"ALLIANCE_MAIL_SERVER": "smtp.example.org"}, "ALLIANCE_MAIL_SENDER must be set"),
        ({"ALLIANCE_MAIL_SERVER": "smtp.example.org", "ALLIANCE_MAIL_SENDER": SENDER}, "ALLIANCE_SITE_URL must be set"),
        ({"ALLIANCE_MAIL_USE_TLS": "1", "ALLIANCE_MAIL_USE_SSL": "yes"}, "Set only one of ALLIANCE_MAIL_USE_TLS"),
        ({"ALLIANCE_MAIL_PORT": "smtp"}, "ALLIANCE_MAIL_PORT must be a port number"),
    ],
)
def test_mail_settings_that_cannot_work_stop_the_app_with_a_clear_message(environment, tmp_path, variables, message):
    for name, value in variables.items():
        environment.setenv(name, value)
    with pytest.raises(config.ConfigError, match=message):
        config.from_environment(tmp_path, {"SECRET_KEY": "x"})
