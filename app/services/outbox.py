"""Leasing rows of an outbox (learning records for an LRS, grades for a learning platform) to one sender."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db


def claim(model, due, limit: int, lease: timedelta, now: datetime) -> str:
    """Lease up to `limit` rows of `model` matching `due` to a new token (returned); the caller commits at once.

    The UPDATE re-checks that each row is still due, so of two senders racing for a row one gets it
    and the other skips it (PostgreSQL also skips rows another sender has locked).
    """
    token = secrets.token_hex(16)
    candidates = select(model.id).where(due).order_by(model.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL may run a LIMIT subquery inside an UPDATE more than once (and claim more than
        # `limit` rows), so the ids are picked first, locked, skipping rows another sender has locked.
        candidates = list(db.session.scalars(candidates.with_for_update(skip_locked=True)))
        if not candidates:
            return token
    # SQLite runs the whole UPDATE under its one write lock, so picking and claiming cannot interleave.
    db.session.execute(
        update(model)
        .where(model.id.in_(candidates), due)
        .values(lease_token=token, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return token
