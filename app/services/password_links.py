"""One-time links to set or reset a password.

Three kinds (`PasswordLink.kind`): "set", an account's first password (accounts made from a class
list or by an admin); "reset", a new password an admin (any account) or the learner's educator
(a current student of a cohort they teach) issued; "forgot", a link the person asked for by email.

The token travels only in the link; the database keeps its SHA-256 hash, so a leaked table
opens no account. A link works once (claimed by a conditional UPDATE, so two submissions racing
for it cannot both win), expires (`LIFETIMES`), and works only while the account keeps the role
it had when the link was made. Making a link ends the account's earlier unused ones. Accounts made
without a password carry an unusable one (`UNUSABLE_PREFIX`, never an argon2 hash, so no password
matches it) until their owner sets one through a link.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import Cohort, CohortMember, PasswordLink, User
from app.models.types import MAX_ID, utcnow
from app.services import accounts, invitations, sessions

#: A first password: long enough for a class list handed out at the start of term.
LIFETIME = timedelta(days=14)
#: A reset link a person issued and passes on by hand.
RESET_LIFETIME = timedelta(days=3)
#: A reset link mailed on request: whoever reads the mailbox later must find it dead.
FORGOT_LIFETIME = timedelta(hours=1)
LIFETIMES = {"set": LIFETIME, "reset": RESET_LIFETIME, "forgot": FORGOT_LIFETIME}



def lifetime_in_words(lifetime: timedelta) -> str:
    """How long a link works, as people say it: "1 hour", "3 days"."""
    hours = int(lifetime.total_seconds() // 3600)
    count, unit = (hours // 24, "day") if hours >= 48 and hours % 24 == 0 else (hours, "hour")
    return f"{count} {unit}{'' if count == 1 else 's'}"


#: Marks a password hash no password can match (argon2 rejects it as not a hash of its own).
UNUSABLE_PREFIX = "!unset:"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")

# What a link's holder is told when it cannot be used, and what to do, by kind of link.
_ASK_AGAIN = {
    "set": "Ask your educator for a new one.",
    "reset": "Ask your educator or an administrator for a new one.",
    "forgot": "Ask for a new one with “Forgot your password?” on the sign-in page.",
}
PROBLEMS = {
    "unknown": "This link is not one we know. Check that you copied all of it, or ask your educator for a new link.",
    "used": "This link has already been used to set a password. Sign in with that password, or ask your educator "
    "for a new link if you have forgotten it.",
    "expired": "This link has expired. Ask your educator for a new one.",
    "inactive": "The account this link is for has been deactivated. Ask your educator or an administrator.",
    "changed": "This link no longer works: the account's role has changed since it was made. "
    "Ask an administrator for a new link.",
}
_RESET_PROBLEMS = {
    "used": "This link has already been used to choose a new password. Sign in with that password; if you have "
    "forgotten it again, ",
    "expired": "This link has expired. ",
}


class LinkError(ValueError):
    """The link cannot be used; `reason` is a key of PROBLEMS, `kind` the link's kind when it is known."""

    def __init__(self, reason: str, kind: str | None = None):
        message = PROBLEMS[reason]
        if kind in ("reset", "forgot") and reason in _RESET_PROBLEMS:
            ask = _ASK_AGAIN[kind]
            message = _RESET_PROBLEMS[reason] + (ask[0].lower() + ask[1:] if reason == "used" else ask)
        super().__init__(message)
        self.reason = reason
        self.kind = kind


def unusable_password() -> str:
    """A stored password value that no password matches, different for every account."""
    return UNUSABLE_PREFIX + secrets.token_urlsafe(16)


def has_usable_password(user: User) -> bool:
    """False for an account whose owner has not yet set a password (made from a class list or by an admin)."""
    return not user.password_hash.startswith(UNUSABLE_PREFIX)


def awaits_password(user: User) -> bool:
    """An imported student who has never set a password nor signed in: a new link may be made for them."""
    return user.role == "student" and user.is_active and not has_usable_password(user) and user.last_sign_in_at is None


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in place of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def make_many(
    user_ids: list[int], created_by_id: int | None, *, kind: str = "set", role: str = "student"
) -> dict[int, str]:
    """A fresh link for each account (one INSERT for all), as {user_id: token}; earlier unused links stop working.

    `role` is the accounts' role now (a class list makes students): the links work only while it stays so.
    """
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
                "kind": kind,
                "role": role,
                "created_by_id": created_by_id,
                "created_at": now,
                "expires_at": now + LIFETIMES[kind],
            }
            for user_id, token in tokens.items()
        ],
    )
    return tokens


def make(user_id: int, created_by_id: int | None, *, kind: str = "set", role: str = "student") -> str:
    """A fresh one-time link token for one account."""
    return make_many([user_id], created_by_id, kind=kind, role=role)[user_id]


def issue(user: User, by: User | None) -> tuple[str, str]:
    """A new link for the account, issued by `by` (None: asked for by email): (token, kind).

    An account still without a password gets a link to set its first one; any other a reset link.
    """
    if by is None:
        kind = "forgot"
    else:
        kind = "reset" if has_usable_password(user) else "set"
    return make(user.id, by.id if by else None, kind=kind, role=user.role), kind


def expire_emailed(user_id: int) -> None:
    """End the account's unused emailed links (its address changed: they went to the old one); flushes."""
    now = utcnow()
    db.session.execute(
        update(PasswordLink)
        .where(
            PasswordLink.user_id == user_id,
            PasswordLink.kind == "forgot",
            PasswordLink.used_at.is_(None),
            PasswordLink.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


# --- who may issue a reset link


class IssueRefused(ValueError):
    """A reset link may not be made for this account by this person; the message says why and what to do.

    `status`: 404 no such student here, 409 the account cannot use a link now, 403 not this educator's to make.
    """

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def student_of(educator: User, cohort: Cohort, user_id: int) -> User:
    """The current student of `cohort` (which `educator` teaches) a reset link is asked for; IssueRefused if none.

    Never a staff account (an educator could otherwise take over a colleague's), never a deactivated
    one. An imported student still waiting to set a first password gets a new link only from the
    educator whose class list made the account (or an admin), as on the class-list page.
    """
    not_a_student = IssueRefused(
        "There is no current student of this cohort at this address. Students removed from the cohort, and "
        "educators, get a new link from an administrator.",
        404,
    )
    if not 0 < user_id <= MAX_ID:
        raise not_a_student
    user = db.session.scalar(
        select(User)
        .join(CohortMember, CohortMember.user_id == User.id)
        .where(CohortMember.cohort_id == cohort.id, CohortMember.removed_at.is_(None), User.id == user_id)
    )
    if user is None or user.role != "student":
        raise not_a_student
    if not user.is_active:
        raise IssueRefused(
            f"{user.display_name}'s account is deactivated, so a link would not work. Ask an administrator.", 409
        )
    if awaits_password(user) and not educator.is_admin:
        imported_by_them = db.session.scalar(select(invitations.made_by(educator)).where(User.id == user.id))
        if not imported_by_them:
            raise IssueRefused(
                f"{user.display_name} has not set a password yet: the educator whose class list made the account "
                "makes them a new link from the class-list page, or an administrator can.",
                403,
            )
    return user


# --- using a link


@dataclass(frozen=True)
class Found:
    """A usable link and the account it sets a password for."""

    link: PasswordLink
    user: User
    issued_by: str | None

    @property
    def kind(self) -> str:
        """What the link is for: "set", "reset" or "forgot"."""
        return self.link.kind


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
        raise LinkError("used", link.kind)
    if link.expires_at <= utcnow():
        raise LinkError("expired", link.kind)
    if not user.is_active:
        raise LinkError("inactive", link.kind)
    if user.role != link.role:
        # A link an educator made for a student must never open the account once it is staff.
        raise LinkError("changed", link.kind)
    issued_by = None
    if link.created_by_id is not None:
        issued_by = db.session.scalar(select(User.display_name).where(User.id == link.created_by_id))
    return Found(link, user, issued_by)


def use(token: str, password: str) -> User:
    """Set the account's password through the link, once, and end every session it has; the caller signs in.

    A link that was mailed to the account's address also proves the address is the owner's.
    """
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
        raise LinkError("used", found.kind)
    user = found.user
    accounts.set_password(user, password)
    # Whoever knew the old password (or still holds a session) is signed out everywhere.
    sessions.end_all(user.id)
    user.last_sign_in_at = now
    if found.kind == "forgot" and user.email_verified_at is None:
        user.email_verified_at = now
    db.session.flush()
    return user
