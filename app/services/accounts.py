"""Accounts: creation, password rules and checking, sign-in bookkeeping, email verification."""

import hashlib
import re
import secrets
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update
from zxcvbn import zxcvbn

from app import mail
from app.extensions import db
from app.models import ROLES, User
from app.models.types import utcnow
from app.services import addresses, sql


@lru_cache(maxsize=4)
def _hashing(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher for an argon2 parameter profile, and a hash of a password no account has."""
    hasher = PasswordHasher.from_parameters(getattr(profiles, profile))
    # Verifying against this when no account matches keeps sign-in time the same either way,
    # so timing does not reveal which emails have accounts.
    return hasher, hasher.hash("not a real password")


def _hasher() -> PasswordHasher:
    return _hashing(current_app.config["ARGON2_PROFILE"])[0]


_create_account = sql.InsertIfAbsent(User, conflict=["email"])


class AccountError(ValueError):
    """A rule about accounts was broken; the message is fit to show the user."""


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively, in Unicode's composed form, without surrounding spaces,
    with the domain in one form.

    "ü" typed as one character or as "u" plus a combining mark is the same address, and so are a
    domain's Unicode and punycode ("xn--") spellings.
    """
    return addresses.canonical(email)


def find_by_email(email: str) -> User | None:
    """The account with this email, if any."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(email: str, display_name: str, password: str, role: str = "student") -> User:
    """Create an account; raise AccountError if the email is taken or the role unknown."""
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}': choose one of {', '.join(ROLES)}.")
    taken = AccountError("An account with this email already exists. Sign in instead, or use another email.")
    if find_by_email(email) is not None:
        raise taken
    # The unique index decides between two sign-ups racing for one email (a double click).
    inserted = _create_account(
        {
            "email": normalise_email(email),
            "display_name": display_name.strip(),
            "password_hash": _hasher().hash(password),
            "role": role,
            "is_active": True,
            "created_at": utcnow(),
        }
    )
    if not inserted:
        raise taken
    return find_by_email(email)


def set_password(user: User, password: str) -> None:
    """Give the account a new password (hashed here, with the one set of hashing parameters)."""
    user.password_hash = _hasher().hash(password)
    db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The active account matching email and password, or None (without saying which was wrong).

    Exactly one argon2 verification runs whatever the case, so the time taken does not tell a
    missing account, or an imported one with no password yet, from a wrong password.
    """
    user = find_by_email(email)
    hasher, dummy = _hashing(current_app.config["ARGON2_PROFILE"])
    # An imported account's "!unset:" value is no argon2 hash: argon2 would refuse it at once.
    usable = user is not None and user.password_hash.startswith("$argon2")
    try:
        hasher.verify(user.password_hash if usable else dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if not usable or not user.is_active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_sign_in_at = utcnow()
    db.session.flush()
    return user


def check_password(user: User, password: str) -> bool:
    """Whether `password` is the account's own (one argon2 verification, as at sign-in, and no bookkeeping)."""
    hasher, dummy = _hashing(current_app.config["ARGON2_PROFILE"])
    usable = user.password_hash.startswith("$argon2")
    try:
        hasher.verify(user.password_hash if usable else dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return usable


def count_users() -> int:
    """How many accounts exist."""
    return db.session.scalar(select(func.count()).select_from(User))


# --- password strength

#: zxcvbn's score (0 to 4) a new password must reach: 3 is "safely unguessable" for an online attack.
MIN_PASSWORD_SCORE = 3
#: Only this much of a password is judged: zxcvbn's time grows with length, and 100 characters is plenty.
JUDGED_LENGTH = 100


def password_problem(password: str, *about_the_person: str) -> str | None:
    """Why a new password is too easy to guess (a message for the person), or None when it will do.

    `about_the_person` (email, name) counts as easy to guess: a password made of it is refused.
    """
    hints = []
    for value in about_the_person:
        value = (value or "").strip()
        # The whole value, its words, and its words run together ("mariagonzalez").
        hints += [value, *re.split(r"[\s@._+-]+", value), re.sub(r"[\s@._+-]+", "", value)] if value else []
    result = zxcvbn(password[:JUDGED_LENGTH], user_inputs=[h for h in hints if h], max_length=JUDGED_LENGTH)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result["feedback"]
    why = feedback.get("warning") or "It is close to a common password, a simple pattern, or your name or email."
    advice = next(iter(feedback.get("suggestions") or []), "") or "Add a few more words that do not go together."
    return f"Choose a password that is harder to guess. {why} {advice}"


# --- email verification

#: How long a verification link works.
EMAIL_LINK_LIFETIME = timedelta(days=3)
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")

EMAIL_LINK_PROBLEMS = {
    "unknown": "This verification link is not one we know. Check that you copied all of it, or ask for a new "
    "link on your account page.",
    "used": "This link has already been used: your email address is verified. There is nothing more to do.",
    "expired": "This verification link has expired. Sign in and ask for a new link on your account page.",
}


class EmailLinkError(ValueError):
    """A verification link cannot be used; `reason` is a key of EMAIL_LINK_PROBLEMS."""

    def __init__(self, reason: str):
        super().__init__(EMAIL_LINK_PROBLEMS[reason])
        self.reason = reason


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_email_link(user: User) -> str:
    """A fresh one-time verification token for the account's address (earlier links stop working); flushes."""
    token = secrets.token_urlsafe(32)
    user.email_token_hash = _token_hash(token)
    user.email_token_expires_at = utcnow() + EMAIL_LINK_LIFETIME
    db.session.flush()
    return token


def verify_email(token: str) -> User:
    """Mark the address of the link's account verified, once; EmailLinkError says why it cannot be."""
    user = None
    if _TOKEN_SHAPE.fullmatch(token):
        user = db.session.scalar(select(User).where(User.email_token_hash == _token_hash(token)))
    if user is None:
        raise EmailLinkError("unknown")
    if user.email_verified_at is not None:
        raise EmailLinkError("used")
    now = utcnow()
    if user.email_token_expires_at is None or user.email_token_expires_at <= now:
        raise EmailLinkError("expired")
    # The conditional update is the once-only guard: of two clicks racing, one changes no row.
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.email_verified_at.is_(None))
        .values(email_verified_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if claimed != 1:
        raise EmailLinkError("used")
    return user


def is_email_trusted(user: User) -> bool:
    """Whether the account's address may be relied on: verified, or no mail is configured to verify it with."""
    return user.email_verified_at is not None or not mail.is_configured()
