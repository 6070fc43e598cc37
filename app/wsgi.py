"""WSGI entry point for production servers: `gunicorn 'app.wsgi:app'`."""

import sys

from app import create_app
from app.config import ConfigError
from app.content import ContentError

try:
    app = create_app()
except (ContentError, ConfigError) as exc:
    # Print the reason, not a traceback, and stop the server from booting.
    reason = f"the content has problems.\n{exc.report()}" if isinstance(exc, ContentError) else str(exc)
    sys.stderr.write(f"Alliance cannot start: {reason}\n")
    # Exit status 3 is gunicorn's "worker failed to boot": the master halts instead of
    # restarting workers forever.
    raise SystemExit(3) from None
