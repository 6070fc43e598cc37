"""Core statements compiled once per database dialect and run on the session's connection as driver SQL.

A write path that runs the same few statements on every request (a quiz submission writes about
55 rows in ten statements) spends most of its time in SQLAlchemy's per-execution work: looking
the compiled form up, building each row's parameters through it, and setting up a result. Here a
statement is compiled once per dialect by SQLAlchemy itself (so the SQL is exactly what
`connection.execute` would send), its columns' own bind processors are kept (so every value is
converted exactly as SQLAlchemy converts it: JSON encoded, timestamps normalised to UTC, booleans
and floats as the driver wants them), and each run goes through `exec_driver_sql`, in the
session's transaction, with the engine's events (statement counts, logging) still firing.

What this cannot do is refused when the statement is first compiled, not worked around: a column
left to a Python-side default (its value would silently go missing), parameters that expand at
execution time (IN lists), or bind names the driver would need escaped. It reads a few of
SQLAlchemy 2's compiled-statement attributes (the bind and result processors, the placeholder
order); tests/test_submission_rows.py compares what it stores with what the ORM stores, byte for
byte, on both databases, so a SQLAlchemy upgrade that changed them would fail there.
"""

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, DateTime, Time
from sqlalchemy.engine import Dialect
from sqlalchemy.types import NullType

from app.extensions import db


def _is_timestamp(type_) -> bool:
    """Whether a bind parameter's type holds timestamps (immutable, and usually one moment for every row written)."""
    return issubclass(type_._type_affinity or NullType, (DateTime, Date, Time))


def _remembering(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert`, answering again at once for the very object it converted last.

    The rows of one write share one moment (`now`): converting it once instead of once per row and
    column saves most of the timestamps' cost. Only for immutable values, whose conversion cannot change.
    """
    # One (value, result) pair, replaced whole: a thread never sees one's value with another's result.
    last: list[tuple[Any, Any]] = [(_NOTHING, None)]

    def converted(value: Any) -> Any:
        held = last[0]
        if value is held[0]:
            return held[1]
        result = convert(value)
        last[0] = (value, result)
        return result

    return converted


_NOTHING = object()


class _Plan:
    """One dialect's SQL for a statement, and how to turn a row (a dict) into the driver's parameters."""

    __slots__ = ("sql", "_getter", "_converted", "_names", "_positional", "_results", "_constants")

    def __init__(self, statement, dialect: Dialect, keys: Sequence[str] | None):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if compiled.insert_prefetch or compiled.update_prefetch:
            missing = [c.name for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
            raise ValueError(f"columns left to a Python default would be skipped; give them: {missing}")
        if compiled.escaped_bind_names or compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a prebuilt statement needs plain bind parameters (no IN lists, no escaped names)")
        self.sql: str = compiled.string
        self._positional = dialect.positional
        names = list(compiled.positiontup) if dialect.positional else list(compiled.bind_names.values())
        self._names = names
        processors = compiled._bind_processors
        # Values written into the statement itself (the 1 of `count + 1`) rather than given with each row.
        given = set(keys or ())
        self._constants = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if name in names and name not in given and not bind.required
        }
        # Only the columns whose type converts values cost a call per row; the rest pass through.
        self._converted = [
            (
                index,
                name,
                _remembering(processors[name]) if _is_timestamp(compiled.binds[name].type) else processors[name],
            )
            for index, name in enumerate(names)
            if name in processors
        ]
        if len(names) > 1:
            self._getter = itemgetter(*names)
        else:  # itemgetter of one name returns the value, not a tuple
            self._getter = lambda row, names=tuple(names): tuple(row[name] for name in names)
        # What the columns a statement returns need converting from the driver's values (JSON text on SQLite).
        self._results = [
            (index, convert)
            for index, entry in enumerate(compiled._result_columns)
            if (convert := entry.type._cached_result_processor(dialect, None)) is not None
        ]

    def converted(self, rows) -> list[tuple]:
        """Rows the statement returned, each column converted from the driver's value as SQLAlchemy converts it."""
        if not self._results:
            return [tuple(r) for r in rows]
        found = []
        for r in rows:
            values = list(r)
            for index, convert in self._results:
                values[index] = convert(values[index])
            found.append(tuple(values))
        return found

    def parameters(self, row: dict[str, Any]):
        """The row's values in the driver's form: a tuple in placeholder order, or a dict by name."""
        if self._constants:
            row = {**row, **self._constants}
        if self._positional:
            values = self._getter(row)
            if self._converted:
                values = list(values)
                for index, _name, convert in self._converted:
                    values[index] = convert(values[index])
                values = tuple(values)
            return values
        values = {name: row[name] for name in self._names}
        for _index, name, convert in self._converted:
            values[name] = convert(values[name])
        return values


class Prebuilt:
    """A statement built by `build(dialect_name)`, compiled once per dialect, run with rows as dicts of its parameters.

    `keys` names an INSERT's columns (every row gives each of them); other statements name their
    parameters with `bindparam`.
    """

    def __init__(self, build: Callable[[str], Any], keys: Sequence[str] | None = None):
        self.build = build
        self.keys = tuple(keys) if keys is not None else None
        self._plans: dict[str, _Plan] = {}

    def plan(self, dialect: Dialect | None = None) -> _Plan:
        """The compiled form for a dialect (the session's database by default), compiled on first use."""
        dialect = dialect or db.session.get_bind().dialect
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.build(dialect.name), dialect, self.keys)
        return plan

    def run(self, row: dict[str, Any]):
        """Run the statement once with one row's parameters; the driver's result (rows when it returns any)."""
        connection = db.session.connection()  # the session's transaction; its dialect names the plan
        plan = self.plan(connection.dialect)
        return connection.exec_driver_sql(plan.sql, plan.parameters(row))

    def fetch(self, row: dict[str, Any]) -> list[tuple]:
        """Run the statement once (a SELECT, or a write with RETURNING); the rows it returned, converted."""
        connection = db.session.connection()
        plan = self.plan(connection.dialect)
        return plan.converted(connection.exec_driver_sql(plan.sql, plan.parameters(row)))

    def run_many(self, rows: Sequence[dict[str, Any]]) -> int:
        """Run the statement for every row in one executemany; the number of rows it changed (0 for none)."""
        if not rows:
            return 0
        connection = db.session.connection()
        plan = self.plan(connection.dialect)
        parameters = plan.parameters
        return connection.exec_driver_sql(plan.sql, [parameters(row) for row in rows]).rowcount


class PrebuiltMany:
    """One statement writing up to `page` rows at once (a multi-row VALUES list), for statements that RETURN rows.

    The driver's executemany cannot return rows, so `build(dialect_name, count)` makes the statement
    for `count` rows, whose parameters are named `<key>_<n>` for row n; one compiled form is kept per
    dialect and count.
    """

    def __init__(self, build: Callable[[str, int], Any], keys: Sequence[str], page: int = 100):
        self.build = build
        self.keys = tuple(keys)
        self.page = page
        self._plans: dict[tuple[str, int], _Plan] = {}

    def _plan(self, dialect: Dialect, count: int) -> _Plan:
        plan = self._plans.get((dialect.name, count))
        if plan is None:
            plan = self._plans[(dialect.name, count)] = _Plan(self.build(dialect.name, count), dialect, None)
        return plan

    def run(self, rows: Sequence[dict[str, Any]]) -> list[tuple]:
        """Write the rows (a statement per `page` rows); every row the statements returned."""
        returned: list[tuple] = []
        connection = db.session.connection()
        for start in range(0, len(rows), self.page):
            chunk = rows[start : start + self.page]
            plan = self._plan(connection.dialect, len(chunk))
            named = {f"{key}_{n}": row[key] for n, row in enumerate(chunk) for key in self.keys}
            returned.extend(plan.converted(connection.exec_driver_sql(plan.sql, plan.parameters(named))))
        return returned
