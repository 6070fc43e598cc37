"""Flask-Migrate bound to the app without importing it (and Alembic, about a tenth of a cold start) until used.

A server never migrates, so importing Alembic in every start only costs time. `init_migrate`
puts a stand-in where Flask-Migrate keeps its settings (`app.extensions["migrate"]`) and a
stand-in `db` command group on the app's CLI; the first use of either (a `alliance db ...`
command, `flask_migrate.upgrade()` in a script or test, migrations/env.py reading the settings)
binds the real Flask-Migrate with exactly the options given here, which replaces both.
"""

import click
from flask import Flask


def _bind(app: Flask, db, options: dict) -> None:
    """Bind the real Flask-Migrate (it replaces the stand-ins with its settings and its `db` group)."""
    from flask_migrate import Migrate

    Migrate(app, db, **options)


class _Settings:
    """Stands in for Flask-Migrate's settings until something reads them."""

    def __init__(self, app: Flask, db, options: dict):
        self._app, self._db, self._options = app, db, options

    def __getattr__(self, name: str):
        _bind(self._app, self._db, self._options)
        return getattr(self._app.extensions["migrate"], name)


class _DbCommands(click.Group):
    """Stands in for Flask-Migrate's `db` command group: binds the real one when a command is looked up."""

    def __init__(self, app: Flask, db, options: dict):
        super().__init__("db", help="Perform database migrations.")
        self._app, self._db, self._options = app, db, options

    def _real(self) -> click.Group:
        if isinstance(self._app.extensions.get("migrate"), _Settings):
            _bind(self._app, self._db, self._options)
        from flask_migrate.cli import db as group

        return group

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """The real group parses the arguments and runs (its options and callback included)."""
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The real group's commands."""
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """One of the real group's commands."""
        return self._real().get_command(ctx, name)


def init_migrate(app: Flask, db, **options) -> None:
    """Bind Flask-Migrate to `app` with these options, importing it only once something uses it."""
    app.extensions["migrate"] = _Settings(app, db, options)
    app.cli.add_command(_DbCommands(app, db, options))
