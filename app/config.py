"""Configuration read from the environment."""

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, generating and keeping one on first start."""
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    # Create with 0600 from the start so the key is never world-readable, even briefly.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


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
        # Guessing passwords: a handful of tries a minute per address is plenty for a person.
        "SIGN_IN_RATE_LIMIT": os.environ.get("ALLIANCE_SIGN_IN_RATE_LIMIT", "10 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
    }
    settings.update(overrides)
    return settings
