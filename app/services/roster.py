"""Roster import: a CSV file of students (email, name) checked whole, then imported in one transaction.

`check` reads the file and validates every row before anything is written: a file that cannot
be read as a roster (not UTF-8 text, no email and name header, too large, too many rows) is
refused with one message; otherwise each row is either valid or reported with its line number
and every reason it was refused. `import_rows` then writes the valid rows: existing accounts
(matched by email, case-insensitively) join the cohort, new ones are created as students with
an unusable password and a one-time link to set one. Like every service it only flushes: the
view commits once, so a roster lands whole or not at all.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Cohort, CohortMember, User
from app.models.types import MAX_ID, utcnow
from app.services import accounts, addresses, cohorts, invitations, password_links

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
EMAIL_MAX = 254
NAME_MAX = 100
COLUMNS = ("email", "name")
_DELIMITERS = (",", ";")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHOWN_MAX = 80  # characters of a refused value repeated back in the report
_CHUNK = 500  # values per IN (...) list

SAVE_AS_CSV = "In Excel or Numbers choose “Save as” (or Export) and the format “CSV UTF-8”; in Google Sheets, File › Download › CSV."


class RosterError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass(frozen=True)
class Row:
    """A valid row: the student's email (normalised) and name, and the line it came from."""

    line: int
    email: str
    name: str


@dataclass(frozen=True)
class Invalid:
    """A row that was not imported: its line, what it held (shortened) and why."""

    line: int
    email: str
    name: str
    reason: str


@dataclass(frozen=True)
class Checked:
    """A roster file read and validated: the rows to import and the rows refused."""

    rows: list[Row]
    invalid: list[Invalid]


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "…"


def _decode(data: bytes) -> str:
    """The file as text, or RosterError if it is not UTF-8 text."""
    if len(data) > MAX_BYTES:
        raise RosterError(
            f"The file is larger than {MAX_BYTES // 1_000_000} MB. Split the roster into smaller files and import each."
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RosterError(f"The file is saved as UTF-16 text; a roster must be a CSV file in UTF-8. {SAVE_AS_CSV}")
    if b"\x00" in data:
        raise RosterError(
            f"This is not a CSV file (it holds binary data, like a spreadsheet or an image). {SAVE_AS_CSV}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RosterError(
            f"The file is not UTF-8 text (the first character that is not is on line {line}). {SAVE_AS_CSV}"
        ) from None
    if not text.strip():
        raise RosterError("The file is empty. Put a header row “email,name” first, then one student per row.")
    if _CONTROL.search(text):
        raise RosterError(f"This is not a CSV file (it holds control characters, like a binary file). {SAVE_AS_CSV}")
    return text


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, trimmed fields) for every record that is not blank."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RosterError(
                f"Line {line} cannot be read as CSV ({exc}). Check its quotes, or save the file again as CSV."
            ) from None
        fields = _without_trailing_blanks([" ".join(f.split()) for f in fields])
        if any(fields):
            yield line, fields


def _header(fields: list[str]) -> dict[str, int] | None:
    """Column positions if the header names exactly the columns email and name, in any order and case."""
    names = [f.strip().lower() for f in _without_trailing_blanks(fields)]
    if sorted(names) != sorted(COLUMNS):
        return None
    return {name: names.index(name) for name in COLUMNS}


def _without_trailing_blanks(fields: list[str]) -> list[str]:
    """A row without the empty cells spreadsheets add after its columns ("a,b,,"); a blank name stays."""
    while len(fields) > len(COLUMNS) and not fields[-1].strip():
        fields = fields[:-1]
    return fields


def _sniffed(text: str) -> str:
    """The delimiter (comma or semicolon) csv.Sniffer finds in the first lines, comma if unsure."""
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _open(text: str) -> tuple[str, dict[str, int], Iterator[tuple[int, list[str]]]]:
    """The delimiter, the columns and the remaining records, trying the sniffed delimiter first."""
    sniffed = _sniffed(text)
    first_seen = None
    for delimiter in dict.fromkeys((sniffed, *_DELIMITERS)):
        records = _records(text, delimiter)
        first = next(records, None)
        if first is None:
            raise RosterError("The file is empty. Put a header row “email,name” first, then one student per row.")
        first_seen = first_seen or first
        columns = _header(first[1])
        if columns is not None:
            return delimiter, columns, records
    if "\t" in text.lstrip().partition("\n")[0]:
        raise RosterError(
            "The file is separated by tabs; a roster must separate its values with commas or semicolons. " + SAVE_AS_CSV
        )
    found = ", ".join(f"“{_shown(f)}”" for f in first_seen[1][:5]) if first_seen else "nothing"
    raise RosterError(
        "The first row must name the two columns, email and name (like “email,name”), and no others; "
        f"this file's first row holds {found}. Fix the header row, or save the file as CSV."
    )


def _email_problem(email: str) -> str | None:
    if not email:
        return "The email is missing."
    if len(email) > EMAIL_MAX:
        return f"The email is longer than {EMAIL_MAX} characters."
    # Look-alike, invisible and direction-changing characters first: the validator's own message
    # about them would not tell the educator the address may be a forgery.
    confusing = addresses.problem(email)
    if confusing:
        return confusing
    from email_validator import EmailNotValidError, validate_email  # here: only an import of a class list needs it

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"The email is not valid: {exc}"
    return None


def _name_problem(name: str) -> str | None:
    if not name:
        return "The name is missing."
    if len(name) > NAME_MAX:
        return f"The name is longer than {NAME_MAX} characters."
    return None


def check(data: bytes) -> Checked:
    """Read a roster file and validate every row; RosterError if the file as a whole cannot be used."""
    text = _decode(data)
    delimiter, columns, records = _open(text)
    body = list(records)
    if not body:
        raise RosterError("The file has a header row but no students. Add one student per row below it.")
    if len(body) > MAX_ROWS:
        raise RosterError(
            f"The file has {len(body):,} students; import at most {MAX_ROWS:,} at a time. Split it into smaller files."
        )
    rows: list[Row] = []
    invalid: list[Invalid] = []
    first_line: dict[str, int] = {}
    for line, fields in body:
        email = fields[columns["email"]] if len(fields) > columns["email"] else ""
        name = fields[columns["name"]] if len(fields) > columns["name"] else ""
        if len(fields) < len(COLUMNS):
            reasons = ["The row has one value where 2 are expected (email and name)."]
        elif len(fields) > len(COLUMNS):
            reasons = [
                f"The row has {len(fields)} values where 2 are expected (email and name). "
                f"Put a name that contains “{delimiter}” in double quotes."
            ]
        else:
            reasons = [p for p in (_email_problem(email), _name_problem(name)) if p]
        key = accounts.normalise_email(email)
        if not reasons:
            if key in first_line:
                reasons.append(f"The same email as line {first_line[key]}; each student appears once.")
            else:
                first_line[key] = line
        if reasons:
            invalid.append(Invalid(line, _shown(email), _shown(name), " ".join(reasons)))
        else:
            rows.append(Row(line, key, name))
    return Checked(rows, invalid)


# --- import


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
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
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
