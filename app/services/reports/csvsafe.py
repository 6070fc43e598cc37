"""CSV downloads of reports: cells made safe by app.services.spreadsheet, and a file name for each."""

import re

# The rules live in one place for every CSV the app writes (reports, class-list templates).
from app.services.spreadsheet import FORMULA_STARTS, neutralise, to_csv  # noqa: F401  (re-exported)


def filename(*parts: str) -> str:
    """An ASCII file name made of the parts, safe in a Content-Disposition header."""
    words = "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)
    return (re.sub(r"-{2,}", "-", words).strip("-") or "report")[:120] + ".csv"
