"""WSGI entry point for other servers: `gunicorn --preload 'app.wsgi:app'` (`alliance serve` does this for you).

Invalid content or settings print the report and exit with status 3, gunicorn's "worker failed
to boot": the master halts instead of restarting workers forever.
"""

from app.serve import build_app

app = build_app()
