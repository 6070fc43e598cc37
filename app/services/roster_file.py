"""A roster file (a CSV of students: email, name) read and every row checked, before anything is written.

`check` reads the file and validates every row: a file that cannot be read as a roster (not UTF-8
text, no email and name header, too large, too many rows) is refused with one message; otherwise
each row is either valid or reported with its line number and every reason it was refused. The
import of the valid rows is app/services/roster.py.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.services import accounts, addresses

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
EMAIL_MAX = 254
NAME_MAX = 100
COLUMNS = ("email", "name")
_DELIMITERS = (",", ";")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHOWN_MAX = 80  # characters of a refused value repeated back in the report

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

