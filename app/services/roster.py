"""Roster import: a class list's checked rows written in one transaction (the file is read by roster_file).

`import_rows` writes the valid rows of a checked file (app/services/roster_file.py): existing
accounts (matched by email, case-insensitively) join the cohort, new ones are created as students
with an unusable password and a one-time link to set one. Like every service it only flushes: the
view commits once, so a roster lands whole or not at all.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import Cohort, CohortMember, User
from app.models.types import MAX_ID, utcnow
from app.services import cohorts, invitations, password_links, sql
from app.services.roster_file import Checked, Invalid, Row

_CHUNK = 500  # values per IN (...) list


@dataclass(frozen=True)
class Created:
    """A new account, and the token of its one-time link to set a password."""

    user_id: int
    line: int
    email: str
    name: str
    token: str


@dataclass
class Outcome:
    """What an import did, row by row."""

    created: list[Created] = field(default_factory=list)
    linked: list[User] = field(default_factory=list)  # accounts this educator made, never used, added again
    already: list[User] = field(default_factory=list)  # existing accounts that were members already
    invited: list[User] = field(default_factory=list)  # existing accounts invited now: they join if they accept
    still_invited: list[User] = field(default_factory=list)  # invited before, not yet answered
    declined: list[User] = field(default_factory=list)  # declined an earlier invitation: not asked again
    invalid: list[Invalid] = field(default_factory=list)

    @property
    def awaiting(self) -> list[User]:
        """Existing members who were imported before and have still not set a password."""
        return [u for u in self.linked + self.already if password_links.awaits_password(u)]


def _chunks(values: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _users_by_email(emails: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(emails):
        found |= {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(chunk)))}
    return found


def _member_ids(cohort: Cohort, user_ids: list[int]) -> set[int]:
    """Which of these accounts are current members of the cohort."""
    found: set[int] = set()
    for chunk in _chunks(user_ids):
        found |= set(
            db.session.scalars(
                select(CohortMember.user_id).where(
                    CohortMember.cohort_id == cohort.id,
                    CohortMember.removed_at.is_(None),
                    CohortMember.user_id.in_(chunk),
                )
            )
        )
    return found


def _create_students(rows: list[Row]) -> dict[str, int]:
    """Insert student accounts with unusable passwords; {email: id} of those inserted.

    An address taken meanwhile (someone signed up during the import) is skipped by the unique
    index, not raised: the caller links that account instead.
    """
    if not rows:
        return {}
    table = User.__table__
    dialect = db.session.get_bind().dialect.name
    insert = sql.INSERTS[dialect]
    statement = insert(table).on_conflict_do_nothing(index_elements=["email"]).returning(table.c.id, table.c.email)
    now = utcnow()
    values = [
        {
            "email": row.email,
            "display_name": row.name,
            "password_hash": password_links.unusable_password(),
            "role": "student",
            "is_active": True,
            "created_at": now,
        }
        for row in rows
    ]
    created: dict[str, int] = {}
    for chunk in _chunks(values):
        created |= {email: user_id for user_id, email in db.session.execute(statement, chunk)}
    return created


def import_rows(cohort: Cohort, checked: Checked, by: User) -> Outcome:
    """Import the valid rows into the cohort (flushes; the caller commits once)."""
    outcome = Outcome(invalid=list(checked.invalid))
    existing = _users_by_email([r.email for r in checked.rows])
    new_rows = [r for r in checked.rows if r.email not in existing]
    created_ids = _create_students(new_rows)
    raced = [r.email for r in new_rows if r.email not in created_ids]
    if raced:
        existing |= _users_by_email(raced)
    members = _member_ids(cohort, [u.id for u in existing.values()])
    # An account this educator's own import made and nobody has used yet holds no work to protect.
    unused = [u.id for u in existing.values() if password_links.awaits_password(u) and u.id not in members]
    own_unused = invitations.created_by(unused, by)
    earlier = invitations.states(cohort, [u.id for u in existing.values() if u.id not in members])
    tokens = password_links.make_many(list(created_ids.values()), by.id)
    joining: list[int] = []
    inviting: list[int] = []
    for row in checked.rows:
        if row.email in created_ids:
            user_id = created_ids[row.email]
            joining.append(user_id)
            outcome.created.append(Created(user_id, row.line, row.email, row.name, tokens[user_id]))
            continue
        user = existing[row.email]
        if not user.is_active:
            reason = "An account with this email exists but is deactivated; an administrator must reactivate it first."
            outcome.invalid.append(Invalid(row.line, row.email, row.name, reason))
        elif user.role != "student":
            # Educators and admins are never enrolled by someone else's class list (nor their records opened to it).
            reason = "This email belongs to a staff account, which a class list cannot add; staff join with the code."
            outcome.invalid.append(Invalid(row.line, row.email, row.name, reason))
        elif user.id in members:
            outcome.already.append(user)
        elif user.id in own_unused:
            joining.append(user.id)
            outcome.linked.append(user)
        elif earlier.get(user.id) == "pending":
            outcome.still_invited.append(user)
        elif earlier.get(user.id) == "declined":
            outcome.declined.append(user)
        else:
            inviting.append(user.id)
            outcome.invited.append(user)
    cohorts.add_members(cohort, joining, "roster")
    invitations.invite(cohort, inviting, by)
    outcome.invalid.sort(key=lambda i: i.line)
    db.session.flush()
    return outcome


def awaiting_member(cohort: Cohort, user_id: int, by: User) -> User | None:
    """A current member of the cohort who was imported and has never set a password nor signed in."""
    if not 0 < user_id <= MAX_ID:
        return None
    query = (
        select(User)
        .join(CohortMember, CohortMember.user_id == User.id)
        .where(
            CohortMember.cohort_id == cohort.id,
            CohortMember.removed_at.is_(None),
            User.id == user_id,
            User.role == "student",
        )
    )
    if not by.is_admin:
        # Only the educator whose import made the account may reissue its link: another educator
        # importing the same address (or sharing a cohort with them) must never be able to claim it.
        query = query.where(invitations.made_by(by))
    user = db.session.scalar(query)
    return user if user is not None and password_links.awaits_password(user) else None


def awaiting_members(cohort: Cohort, by: User) -> list[User]:
    """The cohort's imported students still to set a password whose link `by` may reissue, by name."""
    query = (
        select(User)
        .where(User.id.in_(cohorts.member_ids(cohort.id)), User.role == "student", User.is_active.is_(True))
        .where(User.password_hash.startswith(password_links.UNUSABLE_PREFIX), User.last_sign_in_at.is_(None))
        .order_by(User.display_name, User.id)
    )
    if not by.is_admin:
        query = query.where(invitations.made_by(by))
    return list(db.session.scalars(query))
