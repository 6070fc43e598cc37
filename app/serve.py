"""The production server behind `alliance serve`: the app built once, then gunicorn's workers forked from it.

The app (with the whole content catalog, about 140,000 objects) is built in the master, then
those objects are frozen out of the garbage collector's reach: every collection in a worker
would otherwise walk them all again. Workers fork from the master and share its
memory pages. Gunicorn is imported only where a server is started, so app/wsgi.py (which
builds the app the same way) also works under servers that are not gunicorn.
"""

import gc
import os
import re
import sys

from flask import Flask

#: Path segments after these carry a secret (a set-password, verification or join link): kept out of the access log.
_SECRET_IN_PATH = re.compile(r"(/(?:set-password|verify-email|confirm-email|join)/)[^/?#\s]+")
#: Who asked, when, what, the answer and its time: no referrer (it may hold a link's secret) nor browser.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
MAX_DEFAULT_WORKERS = 12
#: Settings only newer gunicorn releases know; older ones run without them.
_OPTIONAL = {"control_socket_disable"}


def build_app() -> Flask:
    """Build the app for a server, with its start-up objects frozen; on invalid content or settings, exit 3."""
    from app import create_app
    from app.config import ConfigError
    from app.content import ContentError
    from app.errors import startup_failure

    try:
        app = create_app()
    except (ContentError, ConfigError) as exc:
        sys.stderr.write(startup_failure(exc) + "\n")
        # Exit status 3 is gunicorn's "worker failed to boot": a master halts instead of
        # restarting workers forever; `alliance serve` stops with it before it listens.
        raise SystemExit(3) from None
    frozen = freeze_startup_objects()
    app.extensions["alliance.frozen_objects"] = frozen
    return app


def freeze_startup_objects() -> int:
    """Move every object alive now out of the collector's reach (they live as long as the process); return how many."""
    # Loading leaves cycles of garbage (about 77,000 objects): collected first, or frozen for good.
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def default_workers() -> int:
    """Gunicorn's starting point, two per usable core and one more (sync workers wait while slow clients read)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(2 * cores + 1, MAX_DEFAULT_WORKERS)


def redact(line: str) -> str:
    """A request line or path with the secrets of emailed links replaced by '…'."""
    return _SECRET_IN_PATH.sub(r"\1…", line)


def settings(app: Flask, *, host: str, port: int, workers: int, access_log: str | None, timeout: int = 60) -> dict:
    """Gunicorn's settings for serving `app`: preloaded, sync workers, graceful restarts, access log or None."""
    from gunicorn.glogging import Logger

    class AccessLogger(Logger):
        """Gunicorn's logger, with the secrets of emailed links kept out of the access log."""

        def atoms(self, resp, req, environ, request_time):
            """The access log's fields, with secret link segments replaced."""
            atoms = super().atoms(resp, req, environ, request_time)
            atoms["r"], atoms["U"] = redact(atoms["r"]), redact(atoms["U"] or "")
            return atoms

    def post_fork(_server, _worker) -> None:
        # A connection the master might have opened must not be shared by two processes.
        with app.app_context():
            from app.extensions import db

            db.engine.dispose(close=False)

    def when_ready(server) -> None:
        server.log.info(
            "Alliance is ready at http://%s:%s with %d workers; %d start-up objects frozen out of the "
            "garbage collector's reach. Stop with TERM (requests in progress finish first); HUP replaces the "
            "workers gracefully.",
            f"[{host}]" if ":" in host else host,
            port,
            workers,
            app.extensions.get("alliance.frozen_objects", 0),
        )

    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": "sync",
        "preload_app": True,
        "accesslog": access_log,
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": AccessLogger,
        "errorlog": "-",
        "loglevel": "info",
        # A streamed export of a large cohort may take longer than gunicorn's 30 s default.
        "timeout": timeout,
        "graceful_timeout": 30,
        # Workers' heartbeat files in memory, not on a disk that may be slow or full.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        "proc_name": "alliance",
        "post_fork": post_fork,
        "when_ready": when_ready,
        # Recent gunicorn releases open a control socket in ~/.gunicorn, one path for every server of the
        # account: two sites would fight over it, and nothing here uses it.
        "control_socket_disable": True,
    }


def run(app: Flask, options: dict) -> None:
    """Serve `app` with gunicorn until stopped (TERM: gracefully)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        """Gunicorn serving the app already built, with exactly these settings (no gunicorn.conf.py, no GUNICORN_CMD_ARGS)."""

        def load_config(self) -> None:
            """Apply the settings."""
            for name, value in options.items():
                if name in self.cfg.settings or name not in _OPTIONAL:
                    self.cfg.set(name, value)

        def load(self) -> Flask:
            """The app, built before gunicorn started."""
            return app

    Server().run()
