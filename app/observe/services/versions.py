"""The version of a station's form its ratings were made on.

A shipped form has one version (its file). An authored form is published as numbered, immutable
versions (`authored_version`), and the catalog holds only the newest. A station keeps the version
its first rating was made on: every later rating there is made on the same one, and its scoring,
pages and report use it, so publishing version 2 never changes what a rating on version 1 meant.
A station with no rating yet takes the newest version.
"""

import threading

from flask import current_app
from sqlalchemy import select

from app.content import Catalog
from app.content import authored as checking
from app.content.authored_ids import is_authored
from app.content.observations import ObservationForm
from app.extensions import db
from app.models import AuthoredQuiz, AuthoredVersion, Observation, Station

#: Where an app keeps the forms it built, by version row and content version: a published version never
#: changes, so each is built once per process (per app, as each app has its own database).
_KEY = "alliance.observation_versions"
_lock = threading.Lock()


def form_at(catalog: Catalog, form_ref: str, form_version: str | None) -> ObservationForm | None:
    """The form `form_ref` as it was at `form_version` (the catalog's own when that is the one, or unknown)."""
    current = catalog.observation(form_ref)
    if form_version is None or (current is not None and current.version == form_version) or not is_authored(form_ref):
        return current
    row = db.session.execute(
        select(AuthoredVersion.id, AuthoredVersion.content)
        .join(AuthoredQuiz, AuthoredQuiz.id == AuthoredVersion.quiz_id)
        .where(AuthoredQuiz.ref == form_ref, AuthoredVersion.content_version == form_version)
        .order_by(AuthoredVersion.number)
        .limit(1)
    ).first()
    if row is None:
        return current
    key = (row.id, form_version)
    with _lock:
        built = current_app.extensions.setdefault(_KEY, {})
        if key not in built:
            found = checking.build(row.content, catalog, form_ref, form_version)
            built[key] = found if isinstance(found, ObservationForm) else None
    return built[key] or current


def first_version(station_id: int) -> str | None:
    """The form version of the station's first rating, if it has one."""
    return db.session.scalar(
        select(Observation.form_version).where(Observation.station_id == station_id).order_by(Observation.id).limit(1)
    )


def station_form(catalog: Catalog, station: Station) -> ObservationForm | None:
    """The form a station uses: the version its first rating was made on, else the newest."""
    if not is_authored(station.form_ref):
        return catalog.observation(station.form_ref)
    return form_at(catalog, station.form_ref, first_version(station.id))
