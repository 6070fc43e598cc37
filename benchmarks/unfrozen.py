"""Alliance built as app/wsgi.py built it before the garbage collector's freeze: the baseline that measures it.

    gunicorn --preload --workers 2 benchmarks.unfrozen:app
"""

from app import create_app

app = create_app()
