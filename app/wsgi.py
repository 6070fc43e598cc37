"""WSGI entry point for production servers: `gunicorn 'app.wsgi:app'`."""

import sys

from app import create_app
from app.config import ConfigError
from app.content import ContentError
from app.errors import startup_failure

try:
    app = create_app()
except (ContentError, ConfigError) as exc:
    # Print the reason, not a traceback, and stop the server from booting.
    sys.stderr.write(startup_failure(exc) + "\n")
    # Exit status 3 is gunicorn's "worker failed to boot": the master halts instead of
    # restarting workers forever.
    raise SystemExit(3) from None
