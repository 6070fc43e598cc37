"""Account administration: finding and creating accounts, password links, roles, deactivating and reactivating.

Rules: an admin cannot demote or deactivate themselves, and the last active admin can never be
demoted or deactivated. The second rule is decided by the database, not by what a request read
earlier: the change is one conditional UPDATE that only matches while another active admin exists,
taken after locking the active admins' rows (PostgreSQL; SQLite serialises writers anyway), so two
admins demoting each other at once cannot leave the app without one.

Deactivating keeps every record; the account can no longer sign in, and every session it has
open is revoked, so none works again, even after reactivation.
"""

import sqlite3
import unicodedata
from dataclasses import dataclass

from sqlalchemy import String, and_, event, exists, false, func, or_, select, true, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db
from app.models import ROLES, LessonProgress, QuizAttempt, User
from app.models.types import MAX_ID
from app.services import accounts, addresses, password_links, sessions

PER_PAGE = 50
STATUSES = ("active", "deactivated")


class AdminError(ValueError):
    """A rule about accounts was broken; the message is fit to show the admin."""


class LastAdmin(AdminError):
    """The change would leave no active admin."""


@dataclass(frozen=True)
class UserPage:
    """One page of a search: the accounts on it and where it sits among all matches."""

    users: list[User]
    page: int
    pages: int
    total: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        """The position of the first account shown, counting from 1 (0 when none match)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        """The position of the last account shown."""
        return self.first_number + len(self.users) - 1 if self.total else 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- searching without minding accents or case: "jose", "JOSÉ" and "José" find one another


def _folded_char(char: str) -> str:
    """One letter without its accents, in lower case ("É" -> "e"); letters with no such form unchanged."""
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)).lower()
    bare = _NO_DECOMPOSITION.get(bare, bare)
    return bare if len(bare) == 1 else char


#: Letters Unicode does not decompose into a base letter and an accent, but a person types as one.
_NO_DECOMPOSITION = {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ŧ": "t", "ı": "i", "ƀ": "b", "ɨ": "i"}
_SPANS = ((0xC0, 0x250), (0x370, 0x400), (0x400, 0x530), (0x1E00, 0x1F00))
#: Every accented (or capital) letter of the Latin, Greek and Cyrillic blocks, and its folded form.
_FOLDS = {
    char: folded
    for start, end in _SPANS
    for char in map(chr, range(start, end))
    if (folded := _folded_char(char)) != char
}
#: Combining accents typed apart from their letter ("e" then U+0301): dropped.
_COMBINING = "".join(chr(c) for c in range(0x300, 0x370))
_TRANSLATE = str.maketrans({**_FOLDS, **dict.fromkeys(_COMBINING)})


def fold(text: str | None) -> str | None:
    """Text as the search compares it: without accents, in lower case, in one Unicode form."""
    if text is None:
        return None
    return unicodedata.normalize("NFD", text).translate(_TRANSLATE).lower()


class _Folded(FunctionElement):
    """SQL: a text column folded as `fold` folds text."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(_Folded, "sqlite")
def _folded_sqlite(element, compiler, **kw) -> str:
    # SQLite calls `fold` itself, registered on every connection below.
    return f"alliance_fold({compiler.process(element.clauses, **kw)})"


@compiles(_Folded, "postgresql")
def _folded_postgresql(element, compiler, **kw) -> str:
    # translate() maps each accented letter to its bare one and drops separate accents (the
    # characters past the end of the second string); lower() then folds the case.
    source = "".join(_FOLDS) + _COMBINING
    target = "".join(_FOLDS.values())
    return f"lower(translate({compiler.process(element.clauses, **kw)}, '{source}', '{target}'))"


@event.listens_for(Engine, "connect")
def _register_fold(dbapi_connection, _record) -> None:
    """Give every SQLite connection the search's folding function."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("alliance_fold", 1, fold, deterministic=True)


def search_users(
    text: str = "", role: str | None = None, status: str | None = None, page: int = 1, per_page: int = PER_PAGE
) -> UserPage:
    """Accounts whose name or email contains `text` (any case, with or without accents), of `role` and `status`, by name.

    `page` is clamped to the pages that exist, so a stale or made-up page number shows the nearest one.
    """
    conditions = []
    text = text.strip()
    if text:
        pattern = f"%{_escape_like(fold(text))}%"
        conditions.append(
            or_(
                _Folded(User.display_name).like(pattern, escape="\\"),
                _Folded(User.email).like(pattern, escape="\\"),
            )
        )
    if role:
        if role not in ROLES:
            raise AdminError(f"Unknown role '{role}': choose one of {', '.join(ROLES)}.")
        conditions.append(User.role == role)
    if status:
        if status not in STATUSES:
            raise AdminError(f"Unknown status '{status}': choose active or deactivated.")
        conditions.append(User.is_active.is_(status == "active"))
    total = db.session.scalar(select(func.count()).select_from(User).where(*conditions))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    users = db.session.scalars(
        select(User)
        .where(*conditions)
        .order_by(func.lower(User.display_name), User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return UserPage(users=list(users), page=page, pages=pages, total=total, per_page=per_page)


def get_user(user_id: int) -> User | None:
    """The account with this id, or None (also for ids no database column could hold)."""
    if not 1 <= user_id <= MAX_ID:
        return None
    return db.session.get(User, user_id)


@dataclass(frozen=True)
class Records:
    """What an account has on record, shown so an admin sees that deactivating keeps it."""

    quiz_attempts: int
    lessons: int


def records_of(user: User) -> Records:
    """How many quiz attempts and lessons the account has on record."""
    attempts = select(func.count()).select_from(QuizAttempt).where(QuizAttempt.user_id == user.id)
    lessons = select(func.count()).select_from(LessonProgress).where(LessonProgress.user_id == user.id)
    row = db.session.execute(select(attempts.scalar_subquery(), lessons.scalar_subquery())).one()
    return Records(quiz_attempts=row[0], lessons=row[1])


def _lock_active_admins() -> None:
    """Lock the active admins' rows (in id order, so two requests never deadlock).

    A concurrent demotion or deactivation waits here until this transaction ends, then sees its
    outcome. SQLite renders no FOR UPDATE: it lets one writer at a time in instead.
    """
    db.session.execute(
        select(User.id).where(User.role == "admin", User.is_active.is_(true())).order_by(User.id).with_for_update()
    ).all()


def _keeps_an_admin(user_id: int):
    """SQL condition: the account is not an active admin, or another active admin exists."""
    other = aliased(User)
    return or_(
        User.role != "admin",
        User.is_active.is_(false()),
        exists().where(and_(other.role == "admin", other.is_active.is_(true()), other.id != user_id)),
    )


def _last_admin(user: User, doing: str) -> LastAdmin:
    return LastAdmin(
        f"{user.display_name} is the last active admin, so they cannot be {doing}: "
        "Alliance always needs one. Make another account an admin first."
    )


def _update(user: User, values: dict, *conditions) -> bool:
    """Apply `values` to the account if `conditions` hold in the database; reload it either way."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)
    return result.rowcount == 1


def change_role(actor: User, user: User, role: str) -> bool:
    """Give `user` the role `role`; False if they had it already. Raises AdminError when refused."""
    if role not in ROLES:
        raise AdminError(f"Unknown role '{role}': choose one of {', '.join(ROLES)}.")
    if user.role == role:
        return False
    if role == "admin":
        return _update(user, {"role": role})
    if user.id == actor.id:
        raise AdminError("You cannot remove your own admin role. Ask another admin to do it.")
    _lock_active_admins()
    if not _update(user, {"role": role}, _keeps_an_admin(user.id)):
        if user.role == role:  # changed by someone else meanwhile
            return False
        raise _last_admin(user, f"made {'an' if role == 'educator' else 'a'} {role}")
    return True


def deactivate(actor: User, user: User) -> bool:
    """Deactivate `user`, keeping their records; False if they were already. AdminError when refused."""
    if user.id == actor.id:
        raise AdminError("You cannot deactivate your own account. Ask another admin to do it.")
    if not user.is_active:
        return False
    _lock_active_admins()
    if not _update(user, {"is_active": False}, User.is_active.is_(true()), _keeps_an_admin(user.id)):
        if not user.is_active:  # deactivated by someone else meanwhile
            return False
        raise _last_admin(user, "deactivated")
    sessions.end_all(user.id)  # every session ends for good: reactivating does not bring one back
    return True


def reactivate(user: User) -> bool:
    """Let `user` sign in again; False if they were active already."""
    return _update(user, {"is_active": True}, User.is_active.is_(false()))


def create_account(actor: User, email: str, display_name: str, role: str) -> tuple[User, str]:
    """A new account of any role, with no password yet, and the token of its one-time link to set one.

    AdminError when the role is unknown, the address is not the one it seems, or an account has it.
    """
    if role not in ROLES:
        raise AdminError(f"Unknown role '{role}': choose one of {', '.join(ROLES)}.")
    confusing = addresses.problem(email)
    if confusing:
        raise AdminError(confusing)
    try:
        user = accounts.create_user(email, display_name, None, role)
    except accounts.AccountError as error:
        raise AdminError(
            "An account with this email already exists. Find it in the list of accounts, or use another email."
        ) from error
    token = password_links.make(user.id, actor.id, kind="set", role=role)
    return user, token


def issue_password_link(actor: User, user: User) -> tuple[str, str]:
    """A new one-time password link for the account (earlier ones stop working): (token, kind). AdminError when refused."""
    if user.id == actor.id:
        raise AdminError("This is your own account: change your password on your account page instead.")
    if not user.is_active:
        raise AdminError(
            f"{user.display_name}'s account is deactivated, so a link would not work. Reactivate it first."
        )
    return password_links.issue(user, actor)
