"""The baseline: plain Flask apps served the same way as Alliance.

`/` returns a constant string. `/rows` is the ceiling the learner pages are measured against:
one 20-row query through Flask-SQLAlchemy and a Jinja template extending a layout, as a plain
Flask app on the same stack would do, with nothing else (no sign-in, no security headers).
Its SQLite file is BENCH_PLAIN_DATABASE (seeded with `seed`), or a private temporary one.
"""

import os
import tempfile

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROWS = 20

_TEMPLATES = {
    "layout.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title></head>
<body><header><a href="{{ url_for('hello') }}">Home</a></header>
<main>{% block content %}{% endblock %}</main></body></html>""",
    "rows.html": """{% extends "layout.html" %}
{% block title %}Rows{% endblock %}
{% block content %}
<table>
<thead><tr><th>Id</th><th>Name</th><th>Note</th></tr></thead>
<tbody>
{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.note }}</td></tr>
{% endfor %}</tbody>
</table>
{% endblock %}""",
}


class Base(DeclarativeBase):
    """Declarative base of the baseline's one table."""


db = SQLAlchemy(model_class=Base)


class Row(db.Model):
    """One row shown by `/rows`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(200))


def seed(path: str, rows: int = 200) -> None:
    """Create the baseline's SQLite file with `rows` rows."""
    seeding = Flask(__name__)
    seeding.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    db.init_app(seeding)
    with seeding.app_context():
        db.create_all()
        if db.session.scalar(select(Row.id).limit(1)) is None:
            db.session.add_all(Row(name=f"Name {n}", note=f"A note <{n}> & more") for n in range(rows))
            db.session.commit()
        db.engine.dispose()


def _database() -> str:
    path = os.environ.get("BENCH_PLAIN_DATABASE")
    if not path:
        path = os.path.join(tempfile.mkdtemp(prefix="alliance-plain-"), "plain.sqlite")
        seed(path)
    return path


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{_database()}"
app.jinja_loader = DictLoader(_TEMPLATES)
db.init_app(app)


@app.get("/")
def hello() -> str:
    """Return a constant string."""
    return "hello"


@app.get("/rows")
def rows() -> str:
    """One 20-row query and a Jinja render: the plain-Flask ceiling."""
    found = db.session.scalars(select(Row).order_by(Row.id).limit(ROWS)).all()
    return render_template("rows.html", rows=found)
