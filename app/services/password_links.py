"""One-time links to set a password, for accounts an educator created from a roster.

The token travels only in the link; the database keeps its SHA-256 hash, so a leaked table
opens no account. A link works once (claimed by a conditional UPDATE, so two submissions racing
for it cannot both win) and expires after `LIFETIME`. Accounts made from a roster carry an
unusable password (`UNUSABLE_PREFIX`, never an argon2 hash, so no password matches it) until
their owner sets one through a link.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import PasswordLink, User
from app.models.types import utcnow
from app.services import accounts

LIFETIME = timedelta(days=14)
#: Marks a password hash no password can match (argon2 rejects it as not a hash of its own).
UNUSABLE_PREFIX = "!unset:"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")

# What a link's holder is told when it cannot be used, and what to do.
PROBLEMS = {
    "unknown": "This link is not one we know. Check that you copied all of it, or ask your educator for a new link.",
    "used": "This link has already been used to set a password. Sign in with that password, or ask your educator for a new link if you have forgotten it.",
    "expired": "This link has expired. Ask your educator for a new one.",
    "inactive": "The account this link is for has been deactivated. Ask your educator or an administrator.",
}


class LinkError(ValueError):
    """The link cannot be used; `reason` is a key of PROBLEMS."""

    def __init__(self, reason: str):
        super().__init__(PROBLEMS[reason])
        self.reason = reason


def unusable_password() -> str:
    """A stored password value that no password matches, different for every account."""
    return UNUSABLE_PREFIX + secrets.token_urlsafe(16)


def has_usable_password(user: User) -> bool:
    """False for an imported account whose owner has not yet set a password."""
    return not user.password_hash.startswith(UNUSABLE_PREFIX)


def awaits_password(user: User) -> bool:
    """An imported student who has never set a password nor signed in: a new link may be made for them."""
    return user.role == "student" and user.is_active and not has_usable_password(user) and user.last_sign_in_at is None


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in place of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def make_many(user_ids: list[int], created_by_id: int | None) -> dict[int, str]:
    """A fresh link for each account (one INSERT for all), as {user_id: token}; earlier unused links stop working."""
    if not user_ids:
        return {}
    now = utcnow()
    db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id.in_(user_ids), PasswordLink.used_at.is_(None), PasswordLink.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    tokens = {user_id: secrets.token_urlsafe(32) for user_id in user_ids}
    db.session.execute(
        insert(PasswordLink),
        [
            {
                "user_id": user_id,
                "token_hash": token_hash(token),
                "created_by_id": created_by_id,
                "created_at": now,
                "expires_at": now + LIFETIME,
            }
            for user_id, token in tokens.items()
        ],
    )
    return tokens


def make(user_id: int, created_by_id: int | None) -> str:
    """A fresh one-time link token for one account."""
    return make_many([user_id], created_by_id)[user_id]


@dataclass(frozen=True)
class Found:
    """A usable link and the account it sets a password for."""

    link: PasswordLink
    user: User


def find(token: str) -> Found:
    """The usable link for a token, or LinkError saying why it cannot be used."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise LinkError("unknown")
    row = db.session.execute(
        select(PasswordLink, User)
        .join(User, User.id == PasswordLink.user_id)
        .where(PasswordLink.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise LinkError("unknown")
    link, user = row
    if link.used_at is not None:
        raise LinkError("used")
    if link.expires_at <= utcnow():
        raise LinkError("expired")
    if not user.is_active or user.role != "student":
        # A link is made for an imported student; one whose account became staff is never usable.
        raise LinkError("inactive")
    return Found(link, user)


def use(token: str, password: str) -> User:
    """Set the account's password through the link, once; the caller signs the user in and commits."""
    found = find(token)
    now = utcnow()
    # The conditional update is the once-only guard: of two racing submissions, one claims no row.
    claimed = db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.id == found.link.id, PasswordLink.used_at.is_(None), PasswordLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise LinkError("used")
    user = found.user
    accounts.set_password(user, password)
    user.last_sign_in_at = now
    db.session.flush()
    return user
