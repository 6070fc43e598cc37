"""Atomic writes that hold under concurrent requests, on SQLite and PostgreSQL alike.

Reading a row, changing it in Python and writing it back loses updates when two requests
overlap, and savepoints are unreliable under pysqlite's transaction handling. These helpers
leave the arithmetic and the conflict handling to the database instead.
"""

from typing import Any

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def insert_for(model):
    """A Core INSERT into `model`'s table in the current dialect, which has ON CONFLICT.

    Core, not ORM: only a Core statement reports its real rowcount on every driver.
    """
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model.__table__)


def upsert(model, rows: list[dict[str, Any]], conflict: list[str], update: dict[str, Any], where=None) -> None:
    """Insert rows; on a conflict over `conflict` columns apply `update` (built from `excluded`).

    `update` maps column names to functions of (table, excluded) so that increments such as
    `table.c.count + excluded.count` happen in the database.
    """
    if not rows:
        return
    statement = insert_for(model).values(rows)
    excluded = statement.excluded
    table = model.__table__
    statement = statement.on_conflict_do_update(
        index_elements=conflict,
        index_where=where,
        set_={name: build(table, excluded) for name, build in update.items()},
    )
    db.session.execute(statement)


def insert_if_absent(model, row: dict[str, Any], conflict: list[str], where=None) -> bool:
    """Insert one row unless it would break the unique index on `conflict`; True if inserted."""
    table = model.__table__
    statement = (
        insert_for(model)
        .values(row)
        .on_conflict_do_nothing(index_elements=conflict, index_where=where)
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT.
        .returning(*table.primary_key.columns)
    )
    return db.session.execute(statement).first() is not None


def greatest(a, b):
    """The larger of two SQL expressions (GREATEST is PostgreSQL-only, MAX(a, b) SQLite-only)."""
    return case((a >= b, a), else_=b)
