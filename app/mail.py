"""Sending email (PyPI flask-mailman over SMTP), only where the operator configured a mail server.

Settings come from the environment (ALLIANCE_MAIL_*); with no ALLIANCE_MAIL_SERVER nothing is ever
sent, and the app says so where it matters (the account page). Flask-Mailman is imported only where
a mail server is configured: a site that sends no mail does not carry it in every worker.

Every message goes through the mail outbox (app.services.mail_outbox): sent at once where the
server answers, retried by `alliance worker` (its "mail" drainer, registered here) where it did not.
"""

import os
from datetime import timedelta

from flask import Flask, current_app


def _flag(name: str) -> bool:
    """A yes/no environment variable: 1, true, yes or on mean yes."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def settings_from_environment() -> dict:
    """Flask-Mailman's MAIL_* settings from ALLIANCE_MAIL_*; ConfigError when they cannot work together."""
    from app.config import ConfigError  # app.config imports this module

    server = os.environ.get("ALLIANCE_MAIL_SERVER", "").strip()
    use_tls, use_ssl = _flag("ALLIANCE_MAIL_USE_TLS"), _flag("ALLIANCE_MAIL_USE_SSL")
    sender = os.environ.get("ALLIANCE_MAIL_SENDER", "").strip()
    if use_tls and use_ssl:
        raise ConfigError(
            "Set only one of ALLIANCE_MAIL_USE_TLS (STARTTLS, usually port 587) and ALLIANCE_MAIL_USE_SSL "
            "(TLS from the start, usually port 465)."
        )
    if server and not sender:
        raise ConfigError("ALLIANCE_MAIL_SENDER must be set when ALLIANCE_MAIL_SERVER is: the address mail comes from.")
    if server and not os.environ.get("ALLIANCE_SITE_URL", "").strip():
        # Links in mail must name the real site, never whatever Host header a request claimed.
        raise ConfigError(
            "ALLIANCE_SITE_URL must be set when ALLIANCE_MAIL_SERVER is: links in the mail point to that address."
        )
    raw_port = os.environ.get("ALLIANCE_MAIL_PORT", "").strip()
    if raw_port and not (raw_port.isdigit() and 0 < int(raw_port) < 65536):
        raise ConfigError(f"ALLIANCE_MAIL_PORT must be a port number such as 587, not {raw_port!r}.")
    port = int(raw_port) if raw_port else (465 if use_ssl else 587 if use_tls else 25)
    return {
        "MAIL_SERVER": server,
        "MAIL_PORT": port,
        "MAIL_USERNAME": os.environ.get("ALLIANCE_MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("ALLIANCE_MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_DEFAULT_SENDER": sender or None,
        # A slow mail server must not hold a request (and its worker) for long.
        "MAIL_TIMEOUT": 10,
        # Flask-Mailman keeps mail in memory when TESTING; the tests use a real SMTP server instead.
        "MAIL_BACKEND": "smtp",
    }


def init_app(app: Flask) -> None:
    """Bind the mail settings to the app (where a mail server is configured; `send` does nothing otherwise)."""
    if is_configured(app):
        _bind(app)


def _bind(app: Flask) -> None:
    from flask_mailman import Mail

    Mail().init_app(app)


def is_configured(app: Flask | None = None) -> bool:
    """Whether a mail server is configured, so the app can send email at all."""
    app = app or current_app
    return bool(app.config.get("MAIL_SERVER"))


def send(
    to: str,
    subject: str,
    body: str,
    *,
    user_id: int,
    purpose: str,
    valid_for: timedelta | None = None,
    retry: bool = True,
) -> None:
    """Send a plain-text message to one address for account `user_id`; raises OSError (or smtplib's errors) when it cannot.

    The message goes through the outbox (app.services.mail_outbox): queued in a transaction of its own,
    whatever the caller's session holds, then sent at once. If that fails it stays queued for
    `alliance worker` to retry (unless `retry` is False: the caller has undone what it announced), until
    `valid_for` has passed (the life of the link inside). `purpose` is a short name for logs and
    `alliance mail list`. Call it after committing: on SQLite a write still open in the caller's
    session would lock the outbox's own transaction out. Does nothing where no mail server is configured.
    """
    if not is_configured():
        return
    from app.services import mail_outbox

    mail_outbox.send_now(to, subject, body, user_id=user_id, purpose=purpose, valid_for=valid_for, retry=retry)


# --- the worker's mail drainer


def drainer_enabled(app: Flask) -> str | None:
    """Why mail cannot be sent from this site, or None when it can."""
    if not is_configured(app):
        return "no mail server is configured: set ALLIANCE_MAIL_SERVER (and ALLIANCE_MAIL_SENDER, ALLIANCE_SITE_URL)."
    return None


def drain(should_stop):
    """The worker's drainer for mail (see app.worker): send what is due until nothing is or `should_stop()`."""
    from app.services import mail_outbox
    from app.worker import Drained

    summary = mail_outbox.send_due(should_stop=should_stop)
    return Drained(summary.sent, summary.refused, summary.failed, summary.errors[-1] if summary.errors else None)


def _register_drainer() -> None:
    from app import worker

    worker.register("mail", drain, drainer_enabled)


_register_drainer()
