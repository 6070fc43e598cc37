"""CSV downloads of reports: cells made safe by app.services.spreadsheet, and a file name for each."""

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator

# The rules live in one place for every CSV the app writes (reports, class-list templates).
from app.services.spreadsheet import FORMULA_STARTS, neutralise, to_csv  # noqa: F401  (re-exported)

#: Rows written per piece of a streamed CSV.
CHUNK_ROWS = 200


def filename(*parts: str) -> str:
    """An ASCII file name made of the parts, safe in a Content-Disposition header."""
    words = "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)
    return (re.sub(r"-{2,}", "-", words).strip("-") or "report")[:120] + ".csv"


def csv_chunks(rows: Iterable[list], chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The file `to_csv` makes (byte order mark, CRLF, every cell quoted, formulas defused), written a few hundred
    rows at a time so a download of any size holds one piece in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    yield codecs.BOM_UTF8
    for n, row in enumerate(rows, start=1):
        writer.writerow([neutralise(value) for value in row])
        if n % chunk_rows == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
