"""CSV files that open safely in a spreadsheet."""

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from app.services.reports.text import number

# --- CSV that opens safely in a spreadsheet

#: A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = frozenset("=+-@\t\r")


def neutralise(value: Any) -> Any:
    """A cell value that a spreadsheet shows as text: formulas are prefixed with a single quote."""
    if isinstance(value, str):
        return "'" + value if value[:1] in FORMULA_STARTS else value
    if isinstance(value, float):
        return number(value)
    return value


def to_csv(rows: Iterable[list]) -> bytes:
    """Rows as a CSV file for spreadsheets: UTF-8 with a byte order mark (so Excel reads accents),
    CRLF line ends as the csv module writes them, formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralise(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def filename(*parts: str) -> str:
    """An ASCII file name made of the parts, safe in a Content-Disposition header."""
    words = "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)
    return (re.sub(r"-{2,}", "-", words).strip("-") or "report")[:120] + ".csv"
