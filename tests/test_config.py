"""Settings read from the environment by `create_app`: secret key, database URL, extra content, SQLite defaults."""

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from app import create_app
from app.extensions import db

EXTRA_MODULE = """\
id: extra-mod
title: An institution's own module
summary: Added through ALLIANCE_CONTENT_DIRS.
minutes: 5
order: 1
objectives:
  - Notice that extra folders are read.
lessons:
  - id: only
    title: The only lesson
    file: 01-only.md
    minutes: 5
    key_points: [Extra folders are read., Their modules join the catalogue.]
"""
EXTRA_LESSON = """\
## Local practice
<!-- competencies: bordin.goals -->

Our clinic's way of agreeing goals.
"""


def write_extra_content(root: Path) -> Path:
    """Write a valid content folder holding one module, `extra-mod`; return it."""
    module_dir = root / "modules" / "extra-mod"
    module_dir.mkdir(parents=True)
    (module_dir / "module.yaml").write_text(EXTRA_MODULE, encoding="utf-8")
    (module_dir / "01-only.md").write_text(EXTRA_LESSON, encoding="utf-8")
    return root


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Path:
    """A clean environment whose instance folder (not yet created) is returned."""
    for name in ("SECRET_KEY", "DATABASE_URL", "ALLIANCE_CONTENT_DIRS"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "instance"
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def make_app():
    """Build apps with `create_app()` and close their database connections afterwards."""
    apps = []

    def build():
        """A new app from the current environment."""
        app = create_app()
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


# --- the secret key -----------------------------------------------------------------------


def test_secret_key_is_generated_once_into_the_instance_folder(instance, make_app):
    first = make_app()
    key_file = instance / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = first.config["SECRET_KEY"]
    assert key == key_file.read_text().strip()
    assert len(key) >= 32

    second = make_app()
    assert second.config["SECRET_KEY"] == key  # sessions survive a restart
    assert key_file.read_text().strip() == key


def test_each_instance_gets_its_own_secret_key(instance, make_app, tmp_path, monkeypatch):
    first = make_app()
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "other-instance"))
    other = make_app()
    assert first.config["SECRET_KEY"] != other.config["SECRET_KEY"]


def test_secret_key_from_the_environment_wins(instance, make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = make_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / "secret_key").exists()


def test_secret_key_from_the_environment_wins_over_a_kept_one(instance, make_app, monkeypatch):
    kept = make_app().config["SECRET_KEY"]
    monkeypatch.setenv("SECRET_KEY", "rotated-by-the-operator")
    app = make_app()
    assert app.config["SECRET_KEY"] == "rotated-by-the-operator" != kept


# --- the database URL ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "postgres://alice:s3cret@db.example.org:5432/alliance",
        "postgresql://alice:s3cret@db.example.org:5432/alliance",
        "postgresql+psycopg://alice:s3cret@db.example.org:5432/alliance",
    ],
)
def test_postgres_urls_use_the_psycopg_driver(instance, make_app, monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    app = make_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://alice:s3cret@db.example.org:5432/alliance"
    with app.app_context():
        assert db.engine.url.drivername == "postgresql+psycopg"
        assert db.engine.url.host == "db.example.org" and db.engine.url.database == "alliance"


def test_other_database_urls_are_kept(instance, make_app, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert make_app().config["SQLALCHEMY_DATABASE_URI"] == url


def test_default_database_is_sqlite_in_the_instance_folder_with_wal_and_foreign_keys(instance, make_app):
    app = make_app()
    database = instance / "alliance.sqlite"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database}"
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(exc.IntegrityError):
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
                conn.execute(text("CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id))"))
                conn.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
    assert database.is_file()


# --- extra content ------------------------------------------------------------------------


def test_alliance_content_dirs_adds_an_institutions_module(instance, make_app, monkeypatch, tmp_path):
    extra = write_extra_content(tmp_path / "institution")
    monkeypatch.setenv("ALLIANCE_CONTENT_DIRS", os.pathsep.join(["", str(extra), " "]))
    catalog = make_app().extensions["alliance.catalog"]
    module = catalog.module("extra-mod")
    assert module is not None
    assert module.lesson("only").sections[0].competencies == ("bordin.goals",)
    assert catalog.module("bordin-components") is not None  # the shipped content is still there


def test_without_alliance_content_dirs_only_shipped_content_loads(instance, make_app):
    catalog = make_app().extensions["alliance.catalog"]
    assert catalog.module("bordin-components") is not None
    assert catalog.module("extra-mod") is None
