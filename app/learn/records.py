"""The learner's own learning records as xAPI statements, downloaded as a JSON file."""

from flask import Response, current_app, stream_with_context
from flask_login import current_user

from app.content import catalog
from app.learn import bp
from app.models.types import utcnow
from app.records import Site
from app.services import records


def json_download(statements, filename: str) -> Response:
    """A JSON array as a file to save, never kept in shared caches."""
    # Streamed, a batch of rows at a time: a large cohort's records are never all in memory. The
    # request's context (and its database session) lasts until the last chunk is sent.
    response = Response(stream_with_context(records.json_chunks(statements)), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/records.json", endpoint="records")
def records_download():
    """Every statement of the signed-in learner (xAPI 1.0.3), oldest first."""
    site = Site.from_config(current_app.config)
    statements = records.statements(catalog(), site, user_id=current_user.id)
    return json_download(statements, f"alliance-learning-records-{utcnow():%Y-%m-%d}.json")
