"""The learner's own learning records as xAPI statements, downloaded as a JSON file.

Also the rules every long download follows (records, a cohort's records, all of a person's data):
streamed a batch of rows at a time, never stored by a cache, and limited per signed-in account.
"""

from collections.abc import Iterable

from flask import Response, current_app, stream_with_context
from flask_login import current_user

from app.content import catalog
from app.extensions import limiter
from app.learn import bp
from app.models.types import utcnow
from app.records import Site
from app.services import records


def _downloader() -> str:
    """Downloads are counted per account, across all its sessions (get_id() names one session)."""
    return f"download|{current_user.id}"


#: Each download reads every row it covers: one account asking again and again must not tie up
#: the workers and the database for everyone else (DOWNLOAD_RATE_LIMIT, "10 per minute" by default).
#: Visitors are not counted: they are sent to sign in before anything is read.
download_limit = limiter.limit(
    lambda: current_app.config["DOWNLOAD_RATE_LIMIT"],
    key_func=_downloader,
    exempt_when=lambda: not current_user.is_authenticated,
    error_message="You have asked for this download many times in a short while. Wait a minute, then download it again.",
)


def streamed_download(chunks: Iterable[str], filename: str) -> Response:
    """A JSON document sent piece by piece as a file to save, never kept in shared caches."""
    # The request's context (and its database session) lasts until the last chunk is sent.
    response = Response(stream_with_context(chunks), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def json_download(statements, filename: str) -> Response:
    """A JSON array as a file to save, streamed a batch of rows at a time: a large cohort's records are never all in memory."""
    return streamed_download(records.json_chunks(statements), filename)


@bp.get("/records.json", endpoint="records")
@download_limit
def records_download():
    """Every statement of the signed-in learner (xAPI 1.0.3), oldest first."""
    site = Site.from_config(current_app.config)
    statements = records.statements(catalog(), site, user_id=current_user.id)
    return json_download(statements, f"alliance-learning-records-{utcnow():%Y-%m-%d}.json")
