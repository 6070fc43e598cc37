"""Alliance: e-learning for building a therapeutic alliance. `create_app` is the factory."""

import os
import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config
from app.content import content_dirs, load_once
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.paths import shipped


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers and a writer work at once; SQLite enforces foreign keys only when asked."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # In WAL mode NORMAL stays corruption-safe and skips an fsync per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
        # SQLite's own lower() folds only A-Z; searches by name must fold "É" as PostgreSQL does.
        dbapi_connection.create_function(
            "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
        )


# Pages use no inline script or style and load nothing from elsewhere, so the policy can be strict.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _security_headers(response):
    """Add the security headers every response carries."""
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: settings, content (validated once, or ContentError), database, blueprints."""
    instance_path = os.environ.get("ALLIANCE_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        static_folder=str(shipped("static")),
    )
    app.config.update(config.from_environment(Path(app.instance_path), overrides))
    app.extensions["alliance.catalog"] = load_once(content_dirs(app.config["CONTENT_DIRS"]))

    if app.config["BEHIND_PROXY"]:
        # Trust one proxy's X-Forwarded-For/-Proto, so redirects and secure cookies see https.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    try:
        db.init_app(app)  # builds the engine, so a malformed DATABASE_URL fails here
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise config.ConfigError(
            f"DATABASE_URL cannot be used ({exc}). Give an address such as "
            "sqlite:////path/alliance.sqlite or postgresql://user@host/dbname "
            "(PostgreSQL needs: pip install 'alliance[postgresql]')."
        ) from None
    migrate.init_app(app, db, directory=str(shipped("migrations")), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from app import admin, auth, errors, learn, public, teach, templating

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(learn.bp, url_prefix="/learn")
    app.register_blueprint(teach.bp, url_prefix="/teach")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    errors.register(app)
    app.after_request(_security_headers)
    templating.register(app)
    return app
