"""The catalog a request sees: the shipped content plus the published authored quizzes, one revision at a time.

The catalog stays immutable. Each publish bumps a one-row counter (`content_revision`). Every
process keeps the combined catalog of the revision it last saw and reads the counter at most once
every `POLL_SECONDS` (one primary-key read on its own pooled connection, no query at all in
between); when the counter has moved it rebuilds the combined catalog, reusing the quizzes of
unchanged versions. A request fixes its catalog at the first `app.content.catalog()` call and
keeps it to the end, so it sees one consistent catalog even if a publish lands meanwhile. So a
publish reaches every worker, on every machine sharing the database, within `POLL_SECONDS`.
"""

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, g, has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.content import authored
from app.content.catalog import Catalog, Quiz
from app.content.conversations import Conversation
from app.content.observations import ObservationForm

#: How long a process trusts the revision it last read. A publish reaches other workers within this.
POLL_SECONDS = 2.0
_KEY = "alliance.live_catalog"
#: Where a request holds its catalog (in its WSGI environ, which lives exactly as long as the request).
ENVIRON_KEY = "alliance.request_catalog"
_log = logging.getLogger(__name__)


@dataclass
class _State:
    """One app's combined catalog in this process, and the revision it was built for."""

    revision: int | None = None
    checked_at: float = float("-inf")
    catalog: Catalog | None = None
    #: Built quizzes by version row id: versions never change, so each is parsed once per process.
    built: dict[int, "Quiz | Conversation | ObservationForm | None"] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _state(app: Flask) -> _State:
    state = app.extensions.get(_KEY)
    if state is None:
        state = app.extensions.setdefault(_KEY, _State())
    return state


def _read_revision(app: Flask) -> int | None:
    """The published revision (0 before any publish), or None when the database cannot say."""
    from app.extensions import db
    from app.models.authoring import ContentRevision

    try:
        with db.engine.connect() as connection:
            found = connection.execute(select(ContentRevision.revision).where(ContentRevision.id == 1)).scalar()
    except SQLAlchemyError:
        return None
    return found or 0


def _published(
    app: Flask, shipped: Catalog, state: _State
) -> tuple[list["Quiz | Conversation | ObservationForm"], frozenset[str]]:
    """Every authored quiz's (conversation's, observation form's) newest version, built (from the per-process cache when already seen),
    and the ids of those withdrawn (kept for the attempts already taken on them)."""
    from app.extensions import db
    from app.models.authoring import AuthoredQuiz, AuthoredVersion

    newest = (
        select(AuthoredVersion.quiz_id, func.max(AuthoredVersion.number).label("number"))
        .group_by(AuthoredVersion.quiz_id)
        .subquery()
    )
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(
                AuthoredVersion.id,
                AuthoredVersion.content,
                AuthoredVersion.content_version,
                AuthoredQuiz.ref,
                AuthoredQuiz.withdrawn_at,
            )
            .join(newest, (newest.c.quiz_id == AuthoredVersion.quiz_id) & (newest.c.number == AuthoredVersion.number))
            .join(AuthoredQuiz, AuthoredQuiz.id == AuthoredVersion.quiz_id)
        ).all()
    quizzes = []
    withdrawn = frozenset(row.ref for row in rows if row.withdrawn_at is not None)
    for row in rows:
        if row.id not in state.built:
            state.built[row.id] = authored.build(row.content, shipped, row.ref, row.content_version)
            if state.built[row.id] is None:
                _log.warning("authored quiz %s (version row %s) no longer passes the checks: left out", row.ref, row.id)
        if state.built[row.id] is not None:
            quizzes.append(state.built[row.id])
    return quizzes, withdrawn


def _current(app: Flask) -> Catalog:
    """This process's combined catalog, rebuilt when the revision moved (checked at most every POLL_SECONDS)."""
    shipped: Catalog = app.extensions["alliance.catalog"]
    state = _state(app)
    now = time.monotonic()
    if state.catalog is not None and now - state.checked_at < POLL_SECONDS:
        return state.catalog
    with state.lock:
        if state.catalog is not None and now - state.checked_at < POLL_SECONDS:
            return state.catalog
        revision = _read_revision(app)
        if revision is None:  # no database (a command without one) or no table yet: what was last known
            state.checked_at = now
            return state.catalog or shipped
        if revision != state.revision or state.catalog is None:
            try:
                # Revision 0: nothing was ever published, so there is nothing to read.
                found, withdrawn = _published(app, shipped, state) if revision else ([], frozenset())
                state.catalog = authored.combine(shipped, found, withdrawn)
            except SQLAlchemyError:
                return state.catalog or shipped
            state.revision = revision
        state.checked_at = now
        return state.catalog


def request_catalog(app: Flask) -> Catalog:
    """The catalog of the current request (fixed at its first use), or of this moment outside a request."""
    if has_request_context():
        held = request.environ.get(ENVIRON_KEY)
        if held is None:
            held = request.environ[ENVIRON_KEY] = _current(app)
        return held
    if "_alliance_catalog" in g:
        return g._alliance_catalog
    found = _current(app)
    g._alliance_catalog = found
    return found


def changed(app: Flask) -> None:
    """Forget when the revision was last read, so this process's next request reads it (after a publish here)."""
    _state(app).checked_at = float("-inf")
