"""Account administration: finding accounts, changing roles, deactivating and reactivating.

Rules: an admin cannot demote or deactivate themselves, and the last active admin can never be
demoted or deactivated. The second rule is decided by the database, not by what a request read
earlier: the change is one conditional UPDATE that only matches while another active admin exists,
taken after locking the active admins' rows (PostgreSQL; SQLite serialises writers anyway), so two
admins demoting each other at once cannot leave the app without one.

Deactivating keeps every record; the account can no longer sign in, and every session it has
open is revoked, so none works again, even after reactivation.
"""

from dataclasses import dataclass

from sqlalchemy import and_, exists, false, func, or_, select, true, update
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import ROLES, LessonProgress, QuizAttempt, User
from app.models.types import MAX_ID
from app.services import sessions

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


def search_users(
    text: str = "", role: str | None = None, status: str | None = None, page: int = 1, per_page: int = PER_PAGE
) -> UserPage:
    """Accounts whose name or email contains `text` (any case), of `role` and `status`, by name.

    `page` is clamped to the pages that exist, so a stale or made-up page number shows the nearest one.
    """
    conditions = []
    text = text.strip()
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        conditions.append(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
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
