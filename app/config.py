"""Configuration read from the environment."""

import os
import secrets
import tempfile
from pathlib import Path


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
        # argon2-cffi's parameter profile for password hashes; the default is RFC 9106's low-memory one.
        "ARGON2_PROFILE": "RFC_9106_LOW_MEMORY",
        "RATELIMIT_HEADERS_ENABLED": True,
    }
    settings.update(overrides)
    return settings
