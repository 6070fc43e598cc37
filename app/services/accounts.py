"""Accounts: creation, password checking, sign-in bookkeeping."""

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import ROLES, User
from app.models.types import utcnow
from app.services import sql


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
    """Emails are compared case-insensitively, in Unicode's composed form, without surrounding spaces.

    "ü" typed as one character or as "u" plus a combining mark is the same address.
    """
    return unicodedata.normalize("NFC", email.strip()).lower()


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
    """The active account matching email and password, or None (without saying which was wrong)."""
    user = find_by_email(email)
    hasher, dummy = _hashing(current_app.config["ARGON2_PROFILE"])
    try:
        hasher.verify(user.password_hash if user else dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_sign_in_at = utcnow()
    db.session.flush()
    return user


def count_users() -> int:
    """How many accounts exist."""
    return db.session.scalar(select(func.count()).select_from(User))
