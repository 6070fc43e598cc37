"""Alliance: e-learning for building a therapeutic alliance. `create_app` is the factory."""

import os
import sqlite3
from pathlib import Path

from flask import Flask, current_app, g, request
from flask_login import current_user
from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config, db_safety, ondemand
from app.content import content_dirs, load_once
from app.converters import IdConverter
from app.extensions import csrf, db, limiter, login_manager
from app.models import indexes
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
    # No page needs a device or a payment: a script slipped in could not ask for one either.
    "Permissions-Policy": ", ".join(
        f"{feature}=()"
        for feature in (
            "accelerometer",
            "camera",
            "display-capture",
            "geolocation",
            "gyroscope",
            "hid",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        )
    ),
}
# One year, as browsers' preload lists ask; sent only behind the TLS proxy, never over plain HTTP.
_HSTS = "max-age=31536000; includeSubDomains"


def _refuse_oversized_body() -> None:
    """Refuse a body longer than the limit from its declared length, before anything reads it.

    A body sent in chunks has no declared length: it is read up to the limit, and refused if more
    follows (Werkzeug alone would silently cut it at the limit and go on with half a form).
    """
    limit = request.max_content_length  # the app's, or a view's own (the class-list upload)
    if limit is None:
        return
    if (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        request.get_data(cache=True)  # kept for the form parser; the stream stops at the limit
        request.stream.read(1)  # past the limit: RequestEntityTooLarge


def _is_personal(response) -> bool:
    """Whether the response may show personal data: to a signed-in person, or a page with a form on it."""
    if request.endpoint == "static":
        return False
    try:
        if current_user.is_authenticated:
            return True
    except SQLAlchemyError:
        # The database went away before this request loaded the person: assume the page is theirs.
        return True
    # A form's CSRF token belongs to this visitor's session; a shared cache must not hand it on.
    if g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
        return True
    return response.mimetype == "text/html" and not response.is_streamed and b"<form" in response.get_data()


def _security_headers(response):
    """Add the security headers every response carries, and keep personal pages out of every cache."""
    # One pass over the response's headers, not one per header added (each setdefault scans them all).
    present = {name.lower() for name in response.headers.keys()}
    response.headers.extend([(name, value) for name, value in _SECURITY_HEADERS.items() if name.lower() not in present])
    if current_app.config["BEHIND_PROXY"]:
        response.headers.setdefault("Strict-Transport-Security", _HSTS)
    if "no-store" not in response.headers.get("Cache-Control", "") and _is_personal(response):
        response.headers["Cache-Control"] = "no-store"
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
    # Ids in addresses: ASCII digits within the database's range, so "/admin/users/١" is no page.
    app.url_map.converters["int"] = IdConverter
    # First of all: an oversized body is refused before the CSRF check or anything else reads it.
    app.before_request(_refuse_oversized_body)
    # Parsed once per process; a cold start reads it from the instance folder when nothing changed (app/content/cache.py).
    app.extensions["alliance.catalog"] = load_once(
        content_dirs(app.config["CONTENT_DIRS"]), Path(app.instance_path) / "cache"
    )

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
    indexes.declare_for(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name())
    with app.app_context():
        # SQLite: the WAL's checkpoints, truncation and limit (its pragmas follow the limit).
        db_safety.bound_wal(db.engine, app.config["SQLITE_WAL_MAX_BYTES"])
    # Flask-Migrate (and Alembic) are imported when a migration or `alliance db` runs, never in a server's start.
    ondemand.init_migrate(app, db, directory=str(shipped("migrations")), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from app import admin, auth, author, credentials, errors, learn, lti, observe, public, teach, templating
    from app.exchange.scorm import routes as scorm

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(learn.bp, url_prefix="/learn")
    app.register_blueprint(teach.bp, url_prefix="/teach")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(scorm.bp, url_prefix="/teach")  # SCORM packages of a module (docs/scorm.md)
    app.register_blueprint(lti.bp, url_prefix="/lti")  # LTI 1.3 tool (docs/lti.md)
    app.register_blueprint(author.bp, url_prefix="/author")  # quizzes written in the browser
    observe.register(app)  # observed stations: staff /observe, learners /stations, patients' links /rate
    credentials.init_app(app)  # certificates, Open Badges, /verify (docs/credentials.md)
    errors.register(app)
    app.after_request(_security_headers)
    templating.register(app)
    return app
