"""A cohort's learning records as xAPI statements, downloaded as a JSON file by its educators."""

import re

from flask import current_app

from app.content import catalog
from app.learn.records import download_limit, json_download
from app.models.types import utcnow
from app.records import Site
from app.services import records
from app.teach import bp
from app.teach.cohorts import cohort_or_404


def _slug(text: str) -> str:
    """ASCII words joined by hyphens, safe in a Content-Disposition header."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "cohort"


@bp.get("/cohorts/<int:cohort_id>/records.json", endpoint="cohort_records")
@download_limit
def cohort_records(cohort_id: int):
    """Every statement of the cohort's current students (xAPI 1.0.3), oldest first."""
    cohort = cohort_or_404(cohort_id)
    site = Site.from_config(current_app.config)
    statements = records.statements(catalog(), site, cohort_id=cohort.id)
    return json_download(statements, f"{_slug(cohort.name)}-learning-records-{utcnow():%Y-%m-%d}.json")
