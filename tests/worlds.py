"""Worlds built once per database: an access table's starting rows, saved after their first build and put back
for each later test.

The access tables try every route as every role, thousands of tests that each start from the same world
(accounts, a cohort, a course, attempts...). Building it through the services takes 100 to 200 ms; putting
its saved rows back takes a few. The first test of each role builds it for real, as before; every later one
gets exactly those rows, the same ids and the same signed-in browser cookie, on a fresh app.

SQLite: the whole file is copied with SQLite's backup API. PostgreSQL: each table is copied into a schema of
its own and back, server side, with triggers off while rows go back (the report counters' triggers would
count them twice; the counters are copied as they were).
"""

import sqlite3
from collections.abc import Callable
from typing import Any

from app.extensions import db as _db

_SAVED: dict[tuple, tuple[Any, Any, list]] = {}


def once(key: tuple, app, client, build: Callable[[], Any]) -> Any:
    """`build()`'s result: built for real the first time on this app's database, its rows put back after."""
    full_key = (app.config["SQLALCHEMY_DATABASE_URI"], *key)
    _db.session.close()  # nothing of the test's own may hold the database while rows are copied
    saved = _SAVED.get(full_key)
    if saved is None:
        result = build()
        _db.session.commit()
        _SAVED[full_key] = (result, _save(len(_SAVED)), _cookies(client))
        return result
    result, copy, cookies = saved
    _restore(copy)
    for cookie in cookies:
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return result


def _cookies(client) -> list:
    """The browser's cookies (the signed-in session)."""
    return list(client._cookies.values())


def _tables() -> list[str]:
    return [table.name for table in _db.metadata.sorted_tables]


def _save(number: int):
    """A copy of every table's rows: an in-memory SQLite database, or a PostgreSQL schema's name."""
    engine = _db.engine
    if engine.dialect.name == "sqlite":
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        with engine.connect() as conn:
            conn.connection.driver_connection.backup(copy)
        return copy
    schema = f"saved_world_{number}"
    statements = [f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"']
    statements += [f'CREATE TABLE "{schema}"."{name}" AS TABLE public."{name}"' for name in _tables()]
    with engine.begin() as conn:
        conn.exec_driver_sql("; ".join(statements))
    return schema


def _restore(copy) -> None:
    """Put the saved rows back into the (empty) database."""
    engine = _db.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            copy.backup(conn.connection.driver_connection)
        return
    statements = ["SET LOCAL session_replication_role = replica"]
    statements += [
        f'INSERT INTO public."{name}" OVERRIDING SYSTEM VALUE SELECT * FROM "{copy}"."{name}"' for name in _tables()
    ]
    with engine.begin() as conn:
        conn.exec_driver_sql("; ".join(statements))
