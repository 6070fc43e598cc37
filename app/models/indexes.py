"""Partial indexes declared once for both databases, without loading PostgreSQL's dialect on SQLite.

To check a `postgresql_where` argument SQLAlchemy imports PostgreSQL's whole dialect package,
2 MB in every worker of a site that runs on SQLite and never needs it. The condition is given to
PostgreSQL when an app whose database is PostgreSQL is built (app/__init__.py), before any
schema is created or compared there.
"""

from sqlalchemy import Index, text

_PARTIAL: list[tuple[Index, str]] = []


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of only the rows matching `where` (SQL), on SQLite now and on PostgreSQL once an app uses it."""
    index = Index(name, *columns, unique=unique, sqlite_where=text(where))
    _PARTIAL.append((index, where))
    return index


def declare_for(backend: str) -> None:
    """Give the partial indexes their condition on `backend` too, when that is PostgreSQL (again is harmless)."""
    if backend == "postgresql":
        for index, where in _PARTIAL:
            index.dialect_options["postgresql"]["where"] = text(where)
