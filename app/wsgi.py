"""WSGI entry point for production servers: `gunicorn 'app.wsgi:app'`."""

import sys

from app import create_app
from app.content import ContentError

try:
    app = create_app()
except ContentError as exc:
    # Print the content report, not a traceback, and stop the server from booting.
    sys.stderr.write("Alliance cannot start: the content has problems.\n" + exc.report() + "\n")
    raise SystemExit(1) from None
