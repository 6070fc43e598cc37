"""CSV files that open safely in any spreadsheet, whatever separator it splits cells on.

A spreadsheet runs a cell that starts with =, +, - or @ as a formula (OWASP's "CSV injection").
Prefixing such a cell with a single quote makes it text, but only if the spreadsheet splits the
file where we did: one set to the semicolon (the default where the comma is the decimal mark)
reads the cell "Ann;=HYPERLINK(...)" as two cells, the second a formula. So every cell is quoted,
and a formula start after any separator a reader may split on (comma, semicolon, tab, a line
break) is defused as well as one at the start of the cell.
"""

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

#: A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = frozenset("=+-@\t\r")
#: Where a spreadsheet (or a program splitting lines and fields naively) may start a new cell.
SEPARATORS = ",;\t\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# A separator, then any spaces or quotes, then a formula character: the quote goes before that character.
_AFTER_SEPARATOR = re.compile(rf"([{SEPARATORS}][\s\"]*)(?=[=+\-@])")
# Spaces and quotes a reader may drop before it looks at a cell's first character.
_LEADING = " \t\r\n\"\x0b\x0c\u00a0"


def number(value: float | None) -> str:
    """A number without needless decimals (2.5, 3), as the reports show it."""
    return "" if value is None else f"{round(value, 4):g}"


def neutralise(value: Any) -> Any:
    """A cell value that a spreadsheet shows as text: formulas are prefixed with a single quote,
    at the start of the cell and after every separator inside it."""
    if isinstance(value, str):
        text = _AFTER_SEPARATOR.sub(r"\1'", value)
        if text[:1] in FORMULA_STARTS or text.lstrip(_LEADING)[:1] in FORMULA_STARTS:
            return "'" + text
        return text
    if isinstance(value, float):
        return number(value)
    return value


def to_csv(rows: Iterable[list]) -> bytes:
    """Rows as a CSV file for spreadsheets: UTF-8 with a byte order mark (so Excel reads accents),
    CRLF line ends as the csv module writes them, every cell quoted, formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerows([neutralise(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")
