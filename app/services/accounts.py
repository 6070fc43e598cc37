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


def create_user(email: str, display_name: str, password: str | None, role: str = "student") -> User:
    """Create an account; raise AccountError if the email is taken or the role unknown.

    With no password, the account gets an unusable one until its owner sets one through a link.
    """
    from app.services.password_links import unusable_password  # password_links builds on this module

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
            "password_hash": _hasher().hash(password) if password is not None else unusable_password(),
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
    # Imported here: its word lists take about 13 MB, in every process, and only setting a password needs them.
    from zxcvbn import zxcvbn

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


# --- the person's own name and email

#: How long the link mailed to a new address (to confirm an email change) works.
EMAIL_CHANGE_LIFETIME = timedelta(days=1)

EMAIL_CHANGE_PROBLEMS = {
    "unknown": "This link to confirm a new email address is not one we know, or the change was cancelled or "
    "replaced by a newer one. Check that you copied all of it, or ask for the change again on your account page.",
    "expired": "This link to confirm a new email address has expired. Your email address has not changed: ask for "
    "the change again on your account page.",
    "taken": "Another account now uses this email address, so yours has not changed. Choose another address on "
    "your account page.",
}


class EmailChangeError(ValueError):
    """A link to confirm a new address cannot be used; `reason` is a key of EMAIL_CHANGE_PROBLEMS."""

    def __init__(self, reason: str):
        super().__init__(EMAIL_CHANGE_PROBLEMS[reason])
        self.reason = reason


def change_name(user: User, display_name: str) -> bool:
    """Give the account a new display name (trimmed); False if it was the same already. Flushes."""
    name = display_name.strip()
    if name == user.display_name:
        return False
    user.display_name = name
    db.session.flush()
    return True


def check_new_email(user: User, email: str) -> str:
    """The address in its stored form, once it may become the account's; AccountError says why not.

    Refused: the account's own address, an address that is not the one it seems (look-alike,
    invisible or direction-changing characters), and an address another account has.
    """
    confusing = addresses.problem(email)
    if confusing:
        raise AccountError(confusing)
    normal = normalise_email(email)
    if normal == user.email:
        raise AccountError("This is already your email address. Type the new address you want to use.")
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == normal, User.id != user.id)):
        raise AccountError("Another account already uses this email address. Use another address.")
    return normal


def change_email(user: User, email: str) -> str:
    """Change the address at once (where no mail can confirm it); the old one, for the record. Flushes.

    The new address is not verified. The unique index decides between two accounts racing for one
    address: the loser's flush raises IntegrityError.
    """
    from app.services import password_links  # password_links builds on this module

    old = user.email
    user.email = check_new_email(user, email)
    user.email_verified_at = None
    user.email_token_hash = user.email_token_expires_at = None
    cancel_email_change(user)
    password_links.expire_emailed(user.id)
    db.session.flush()
    return old


def request_email_change(user: User, email: str) -> str:
    """Remember the new address until the owner follows the link mailed to it; the link's token. Flushes.

    A newer request replaces an earlier one (whose link then stops working).
    """
    user.pending_email = check_new_email(user, email)
    token = secrets.token_urlsafe(32)
    user.pending_email_token_hash = _token_hash(token)
    user.pending_email_expires_at = utcnow() + EMAIL_CHANGE_LIFETIME
    db.session.flush()
    return token


def cancel_email_change(user: User) -> bool:
    """Forget an address waiting for confirmation; False if there was none. Flushes."""
    if user.pending_email is None and user.pending_email_token_hash is None:
        return False
    user.pending_email = user.pending_email_token_hash = user.pending_email_expires_at = None
    db.session.flush()
    return True


def confirm_email_change(token: str) -> tuple[User, str]:
    """Follow the link mailed to a new address: it becomes the account's, verified. (account, old address).

    EmailChangeError says why it cannot be. Links mailed to the old address to reset the password stop working.
    """
    from app.services import password_links  # password_links builds on this module

    user = None
    if _TOKEN_SHAPE.fullmatch(token):
        user = db.session.scalar(select(User).where(User.pending_email_token_hash == _token_hash(token)))
    if user is None or user.pending_email is None:
        raise EmailChangeError("unknown")
    now = utcnow()
    if user.pending_email_expires_at is None or user.pending_email_expires_at <= now:
        raise EmailChangeError("expired")
    new = user.pending_email
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == new, User.id != user.id)):
        raise EmailChangeError("taken")
    old = user.email
    # The conditional update is the once-only guard: of two clicks racing, one changes no row.
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.pending_email_token_hash == _token_hash(token))
        .values(
            email=new,
            email_verified_at=now,
            email_token_hash=None,
            email_token_expires_at=None,
            pending_email=None,
            pending_email_token_hash=None,
            pending_email_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if claimed != 1:
        raise EmailChangeError("unknown")
    password_links.expire_emailed(user.id)
    return user, old
