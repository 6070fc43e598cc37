"""Configuration read from the environment."""

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from app import mail


class ConfigError(Exception):
    """A setting the app cannot work with; the message says which and what to do."""


def _secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, generating and keeping one on first start."""
    key_file = instance_path / "secret_key"
    if not key_file.is_file():
        # Written whole to a private temporary file, then linked into place: processes starting
        # together all end up reading the one key that won, never a half-written file.
        fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            try:
                os.link(temporary, key_file)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return key_file.read_text().strip()


def content_dirs_from_env(value: str | None) -> list[Path]:
    """Split ALLIANCE_CONTENT_DIRS (os.pathsep-separated) into folders, ignoring blanks."""
    if not value:
        return []
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


def _positive_int(name: str, default: int) -> int:
    """A whole number above zero from the environment variable `name`, or `default` when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number above zero, not {raw!r}.")
    return value


def _retention(name: str) -> float | None:
    """A desired retention between 0 and 1 (exclusive) from the environment, or None for the scheduler's own default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < 1:
        raise ConfigError(f"{name} must be a share between 0 and 1, such as 0.9, not {raw!r}.")
    return value


def from_environment(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the app's settings from environment variables and the instance folder."""
    overrides = overrides or {}
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'alliance.sqlite'}"
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy 2 only knows "postgresql".
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    behind_proxy = os.environ.get("ALLIANCE_BEHIND_PROXY", "").lower() in ("1", "true", "yes")
    site_url = (os.environ.get("ALLIANCE_SITE_URL") or "http://127.0.0.1:5000").strip().rstrip("/")
    settings = {
        "BEHIND_PROXY": behind_proxy,
        # Behind a TLS-terminating proxy cookies must never travel over plain HTTP.
        "SESSION_COOKIE_SECURE": behind_proxy,
        "REMEMBER_COOKIE_SECURE": behind_proxy,
        "SECRET_KEY": overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY") or _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CONTENT_DIRS": content_dirs_from_env(os.environ.get("ALLIANCE_CONTENT_DIRS")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "PASSWORD_MIN_LENGTH": 10,
        # Failed attempts only. Per address and email: slows guessing at one account. Per address:
        # slows trying many accounts, yet leaves room for a class behind one NAT address.
        "SIGN_IN_RATE_LIMIT": os.environ.get("ALLIANCE_SIGN_IN_RATE_LIMIT", "10 per minute"),
        "ADDRESS_RATE_LIMIT": os.environ.get("ALLIANCE_ADDRESS_RATE_LIMIT", "60 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Downloads of learning records and personal data, per signed-in account: each one reads every row.
        "DOWNLOAD_RATE_LIMIT": os.environ.get("ALLIANCE_DOWNLOAD_RATE_LIMIT", "10 per minute"),
        # Request bodies over this many bytes are refused (413) before they are read; the class-list
        # upload keeps its own cap (app/teach/roster.py).
        "MAX_CONTENT_LENGTH": _positive_int("ALLIANCE_MAX_REQUEST_BYTES", 1024 * 1024),
        # argon2-cffi's parameter profile for password hashes; the default is RFC 9106's low-memory one.
        "ARGON2_PROFILE": "RFC_9106_LOW_MEMORY",
        "RATELIMIT_HEADERS_ENABLED": True,
        # --- learning records (xAPI); see docs/records.md
        # The site's public address: the actor's home page, and the root of activity ids and statement ids.
        "SITE_URL": site_url,
        "SITE_URL_IS_SET": bool((os.environ.get("ALLIANCE_SITE_URL") or "").strip()),
        "XAPI_ACTIVITY_BASE": os.environ.get("ALLIANCE_XAPI_ACTIVITY_BASE") or f"{site_url}/xapi/activities/",
        # Forwarding to an external Learning Record Store: off unless an endpoint is given.
        "LRS_ENDPOINT": os.environ.get("ALLIANCE_LRS_ENDPOINT", "").strip().rstrip("/"),
        "LRS_KEY": os.environ.get("ALLIANCE_LRS_KEY", ""),
        "LRS_SECRET": os.environ.get("ALLIANCE_LRS_SECRET", ""),
        "LRS_BATCH_SIZE": _positive_int("ALLIANCE_LRS_BATCH_SIZE", 100),
        "LRS_TIMEOUT": _positive_int("ALLIANCE_LRS_TIMEOUT", 10),
        # A claimed row is another sender's only after this many seconds: longer than a request can take.
        "LRS_LEASE_SECONDS": _positive_int("ALLIANCE_LRS_LEASE_SECONDS", 120),
        # Back-off after a failed send: RETRY_BASE seconds, doubled per failure, at most RETRY_MAX.
        "LRS_RETRY_BASE": _positive_int("ALLIANCE_LRS_RETRY_BASE", 30),
        "LRS_RETRY_MAX": _positive_int("ALLIANCE_LRS_RETRY_MAX", 3600),
        # --- the spaced review queue (PyPI fsrs); see docs/review.md
        # The chance of still answering an item right when it comes due; None keeps fsrs's default (0.9).
        "REVIEW_DESIRED_RETENTION": _retention("ALLIANCE_REVIEW_DESIRED_RETENTION"),
        "REVIEW_SESSION_SIZE": _positive_int("ALLIANCE_REVIEW_SESSION_SIZE", 10),
        # fsrs spreads intervals by a few percent so items learnt together do not stay bunched.
        "REVIEW_FUZZING": True,
        # --- mastery per competency (app/services/mastery.py): mastered when at least MASTERY_REQUIRED
        # of the learner's last MASTERY_WINDOW answers on it were right.
        "MASTERY_WINDOW": _positive_int("ALLIANCE_MASTERY_WINDOW", 5),
        "MASTERY_REQUIRED": _positive_int("ALLIANCE_MASTERY_REQUIRED", 3),
        # --- sessions, sign-up limits and email (app/services/sessions.py, app/mail.py); see docs/deployment.md
        # "Keep me signed in" lasts this long from the sign-in; the remember cookie expires with it.
        "REMEMBER_COOKIE_DURATION": timedelta(days=_positive_int("ALLIANCE_REMEMBER_DAYS", 30)),
        # A session without "keep me signed in" ends on the server after this long without a request.
        "SESSION_IDLE_TIMEOUT": timedelta(hours=_positive_int("ALLIANCE_SESSION_IDLE_HOURS", 12)),
        # "basic": a changed address or browser only marks the session not fresh. "strong" would sign
        # people out whenever their phone changes network; sessions end for good on the server anyway.
        "SESSION_PROTECTION": "basic",
        # Accounts made from one address: generous enough for a large class signing up behind one school address.
        "SIGN_UP_RATE_LIMIT": os.environ.get("ALLIANCE_SIGN_UP_RATE_LIMIT", "50 per hour"),
        # Asking for another email verification link, per account.
        "EMAIL_LINK_RATE_LIMIT": os.environ.get("ALLIANCE_EMAIL_LINK_RATE_LIMIT", "3 per hour"),
        **mail.settings_from_environment(),
        # --- a SQLite file's write-ahead log (app/db_safety.py): past this size (the file cannot take
        # its changes, such as on a full disk) writes are refused with a 503 and reading goes on.
        "SQLITE_WAL_MAX_BYTES": _positive_int("ALLIANCE_SQLITE_WAL_MAX_BYTES", 256 * 1024 * 1024),
    }
    settings.update(overrides)
    if not settings["MASTERY_REQUIRED"] <= settings["MASTERY_WINDOW"] <= 20:
        raise ConfigError(
            "ALLIANCE_MASTERY_REQUIRED must be at most ALLIANCE_MASTERY_WINDOW, and the window at most 20 answers, "
            f"not {settings['MASTERY_REQUIRED']} of {settings['MASTERY_WINDOW']}."
        )
    return settings
