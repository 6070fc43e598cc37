"""Sending email (PyPI flask-mailman over SMTP), only where the operator configured a mail server.

Settings come from the environment (ALLIANCE_MAIL_*); with no ALLIANCE_MAIL_SERVER nothing is ever
sent, and the app says so where it matters (the account page). Flask-Mailman is imported only where
a mail server is configured: a site that sends no mail does not carry it in every worker.
"""

import os

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


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to one address; raises OSError (or smtplib's errors) when it cannot.

    Does nothing where no mail server is configured.
    """
    if not is_configured():
        return
    from flask_mailman import EmailMessage

    if "mailman" not in current_app.extensions:  # a mail server configured after the app was built
        _bind(current_app)
    EmailMessage(subject=subject, body=body, to=[to]).send()
