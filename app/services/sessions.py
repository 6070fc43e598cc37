"""Signed-in sessions kept on the server, so that signing out ends a session for good.

Every sign-in (signing up and setting a password through a link count too) makes a `UserSession`
row holding the SHA-256 hash of a new random key. Flask-Login keeps "<account id>:<key>" in the
session cookie and in the remember-me cookie, so that id changes at every sign-in. The user loader
accepts it only while the row exists, is not revoked and has not expired: signing out revokes the
row, and a copied cookie then opens nothing.

A session with "keep me signed in" lasts REMEMBER_COOKIE_DURATION from its sign-in; one without
ends after SESSION_IDLE_TIMEOUT without a request. `last_seen_at` (and the idle expiry) is written
at most every TOUCH_EVERY, so pages do not write on every request.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select, true, update

from app.extensions import db
from app.models import User, UserSession
from app.models.types import MAX_ID, utcnow

TOUCH_EVERY = timedelta(minutes=5)
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{40,64}")

# Recognisable names for the person's list of sessions, tried in order (Edge and Opera also say "Chrome").
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def key_hash(key: str) -> str:
    """The SHA-256 hex digest stored in place of a session key."""
    return hashlib.sha256(key.encode()).hexdigest()


def browser_label(user_agent: str) -> str:
    """A short, recognisable name for a browser ("Firefox on Linux") from its User-Agent header."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    label = browser or system or user_agent.split("/", 1)[0].strip()
    return label[:100] or "Unknown browser"


def start(user: User, *, remembered: bool, user_agent: str = "") -> str:
    """Open a new session for the account and return its key (also kept on `user` for Flask-Login); flushes.

    The account's ended sessions are deleted on the way: none is ever needed again.
    """
    now = utcnow()
    db.session.execute(
        delete(UserSession)
        .where(UserSession.user_id == user.id, or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now))
        .execution_options(synchronize_session=False)
    )
    key = secrets.token_urlsafe(32)
    config = current_app.config
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remembered else config["SESSION_IDLE_TIMEOUT"]
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=key_hash(key),
            is_remembered=remembered,
            user_agent=browser_label(user_agent or ""),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.flush()
    user.session_key = key
    return key


def _parse(session_id: str) -> tuple[int, str] | None:
    """(account id, key) from a Flask-Login id, or None when it is not one of ours."""
    user_id, separator, key = session_id.partition(":")
    if not separator or not (user_id.isascii() and user_id.isdigit()) or not 1 <= int(user_id) <= MAX_ID or not _KEY_SHAPE.fullmatch(key):
        return None
    return int(user_id), key


# Built once (building the statement costs more than running it): the account, with only the
# session's columns that deciding on a touch needs.
_LOAD = (
    select(User, UserSession.id, UserSession.last_seen_at, UserSession.is_remembered)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.key_hash == bindparam("key_hash"),
        User.id == bindparam("user_id"),
        User.is_active.is_(true()),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > bindparam("now"),
    )
)


def load(session_id: str, *, touch: bool) -> tuple[User | None, bool]:
    """The active account whose live session this id names, or None; and whether a write was flushed.

    One query joins the account and its session. With `touch`, a session last seen more than
    TOUCH_EVERY ago is marked seen now (and, without "keep me signed in", its idle expiry moves on).
    """
    parsed = _parse(session_id)
    if parsed is None:
        return None, False
    user_id, key = parsed
    now = utcnow()
    row = db.session.execute(_LOAD, {"key_hash": key_hash(key), "user_id": user_id, "now": now}).first()
    if row is None:
        return None, False
    user, live_id, last_seen_at, is_remembered = row
    user.session_key = key
    if not touch or now - last_seen_at < TOUCH_EVERY:
        return user, False
    values = {"last_seen_at": now}
    if not is_remembered:
        values["expires_at"] = now + current_app.config["SESSION_IDLE_TIMEOUT"]
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == live_id, UserSession.last_seen_at < now - TOUCH_EVERY)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return user, True


def _revoke(*conditions) -> int:
    """Revoke the live sessions matching `conditions`; how many there were."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def end(user: User) -> None:
    """End the session `user` was loaded or signed in with (signing out); flushes."""
    if user.session_key:
        _revoke(UserSession.key_hash == key_hash(user.session_key))


def end_all(user_id: int, keep: User | None = None) -> int:
    """End every session of the account, except `keep`'s current one when given; how many ended."""
    conditions = [UserSession.user_id == user_id]
    if keep is not None and keep.session_key:
        conditions.append(UserSession.key_hash != key_hash(keep.session_key))
    return _revoke(*conditions)


@dataclass(frozen=True)
class Live:
    """A live session, as the account page lists it."""

    browser: str
    signed_in_at: datetime
    last_seen_at: datetime
    is_remembered: bool
    is_this_one: bool


def live(user: User) -> list[Live]:
    """The account's sessions that still work, newest first; `is_this_one` marks the one `user` was loaded with."""
    mine = key_hash(user.session_key) if user.session_key else None
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > utcnow())
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
    )
    return [
        Live(s.user_agent, s.created_at, s.last_seen_at, s.is_remembered, s.key_hash == mine) for s in rows
    ]
