"""Atomic writes that hold under concurrent requests, on SQLite and PostgreSQL alike.

Reading a row, changing it in Python and writing it back loses updates when two requests
overlap, and savepoints are unreliable under pysqlite's transaction handling. These statements
leave the arithmetic and the conflict handling to the database instead.

Each statement is built once per dialect and reused with new values: building an
ON CONFLICT statement (its `excluded` columns) costs more than running it.
"""

from collections.abc import Callable
from importlib import import_module
from typing import Any

from sqlalchemy import case

from app.extensions import db
from app.services.prebuilt import Prebuilt


class _Inserts(dict):
    """The INSERT construct of each dialect, which knows ON CONFLICT.

    Imported on first use: a site on SQLite never loads PostgreSQL's dialect (2 MB a worker).
    """

    def __missing__(self, dialect: str):
        insert = self[dialect] = import_module(f"sqlalchemy.dialects.{dialect}").insert
        return insert


INSERTS = _Inserts()


class _Statement:
    """A Core statement on a model's table, built lazily once per database dialect.

    Core, not ORM: only a Core statement reports real results on every driver.
    """

    def __init__(self, model, conflict: list[str], where=None):
        self.table = model.__table__
        self.conflict = conflict
        self.where = where
        self._built: dict[str, Any] = {}

    def _statement(self):
        dialect = db.session.get_bind().dialect.name
        if dialect not in self._built:
            self._built[dialect] = self._build(INSERTS[dialect](self.table))
        return self._built[dialect]

    def _build(self, insert):
        raise NotImplementedError


class Upsert(_Statement):
    """Insert rows; on a conflict over the `conflict` columns apply `update` in the database.

    `update` maps column names to functions of (table, excluded), so that increments such as
    `table.c.count + excluded.count` happen in the database, never read-modify-write in Python.
    """

    def __init__(self, model, conflict: list[str], update: dict[str, Callable], where=None):
        super().__init__(model, conflict, where)
        self.update = update
        self._prebuilt: dict[tuple[str, ...], Prebuilt | bool] = {}

    def _build(self, insert):
        excluded = insert.excluded
        return insert.on_conflict_do_update(
            index_elements=self.conflict,
            index_where=self.where,
            set_={name: build(self.table, excluded) for name, build in self.update.items()},
        )

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        """Write the rows, which all give the same columns (one statement; executemany for several)."""
        if rows:
            # Compiled once per dialect and set of columns, run as driver SQL on the session's
            # connection (same transaction): the values converted as SQLAlchemy would, without its per-row work.
            keys = tuple(rows[0])
            prebuilt = self._prebuilt.get(keys)
            if prebuilt is None:
                prebuilt = self._prebuilt[keys] = (
                    Prebuilt(lambda dialect: self._build(INSERTS[dialect](self.table)), keys)
                    if self._gives_every_default(keys)
                    else False
                )
            if prebuilt:
                prebuilt.run_many(rows)
            else:
                db.session.connection().execute(self._statement(), rows)

    def _gives_every_default(self, keys: tuple[str, ...]) -> bool:
        """Whether rows with these columns leave nothing to a Python-side default, which only SQLAlchemy's own
        execution fills in (such rows take the ordinary path, so no value ever goes missing)."""
        return all(
            column.name in keys and column.onupdate is None
            for column in self.table.c
            if column.default is not None or column.onupdate is not None
        )


class InsertIfAbsent(_Statement):
    """Insert one row unless it would break the unique index on the `conflict` columns."""

    def _build(self, insert):
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT.
        return insert.on_conflict_do_nothing(index_elements=self.conflict, index_where=self.where).returning(
            *self.table.primary_key.columns
        )

    def __call__(self, row: dict[str, Any]) -> bool:
        """True if the row was inserted, False if one with the same key was there already."""
        return db.session.connection().execute(self._statement(), row).first() is not None


def dialect_insert():
    """The INSERT construct of the session's database, which knows ON CONFLICT."""
    return INSERTS[db.session.get_bind().dialect.name]


def greatest(a, b):
    """The larger of two SQL expressions (GREATEST is PostgreSQL-only, MAX(a, b) SQLite-only)."""
    return case((a >= b, a), else_=b)
