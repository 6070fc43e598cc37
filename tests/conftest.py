"""Fixture chain app -> db -> client -> auth, run against SQLite and (when configured) PostgreSQL.

ALLIANCE_TEST_POSTGRES_URL names a PostgreSQL database (`.ci/postgres.sh start` prints one);
every database test then runs on both backends. In CI the variable is required: a missing
server fails the run instead of quietly testing less.
"""

import contextvars
import os
import re
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy import SQLAlchemy
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, make_url, text
from werkzeug.routing.rules import Rule

from app import create_app
from app.extensions import db as _db
from app.models import User
from app.services import accounts

PG_URL = os.environ.get("ALLIANCE_TEST_POSTGRES_URL")
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI needs ALLIANCE_TEST_POSTGRES_URL: start a server with .ci/postgres.sh start")


def _reuse_compiled_rules() -> None:
    """Compile each URL rule once per test process, not once per app the tests build.

    Building the app cost about 85 ms, 75 of them werkzeug parsing every rule and turning it into
    Python code for url_for; the suite builds an app for each of its thousands of tests. What a
    rule compiles to depends only on its text, defaults and the map's settings and converters, so
    a rule of a later app takes the parts, converters and builder code of the first app's (bound to
    itself). Werkzeug's converters keep their map but never read it.
    """
    compile_rule = Rule.compile
    compiled: dict = {}

    def compile(self):
        key = (
            self.rule,
            self.subdomain,
            self.host,
            self.merge_slashes,
            self.map.host_matching,
            repr(sorted((self.defaults or {}).items())),
            tuple(sorted(self.map.converters.items())),
        )
        if key not in compiled:
            compile_rule(self)
            compiled[key] = (
                self._parts,
                self._trace,
                self._converters,
                set(self.arguments),
                self._build.__func__,
                self._build_unknown.__func__,
            )
            return
        parts, trace, converters, arguments, build, build_unknown = compiled[key]
        self._parts, self._trace, self._converters = parts, trace, converters
        self.arguments |= arguments
        self._build = build.__get__(self, None)
        self._build_unknown = build_unknown.__get__(self, None)

    Rule.compile = compile


_reuse_compiled_rules()


_ENGINES: dict[tuple[str, str], object] = {}


def _share_postgresql_engines() -> None:
    """One SQLAlchemy engine per PostgreSQL test database and set of options, not one per app built.

    A new engine's first connection asks the server about itself (version, settings, schema) before
    it is usable: about 10 ms, in thousands of tests. Engines for these databases carry no listeners
    of the app's (app/db_safety.py adds its own to SQLite files only), and each test's teardown still
    closes its connections, so a test finds the engine as a fresh one would be, only already introduced.
    """
    make_engine = SQLAlchemy._make_engine

    def _make_engine(self, bind_key, options, app):
        url = make_url(options["url"]).render_as_string(hide_password=False)
        if url not in _MIGRATED.values() or not url.startswith("postgresql"):
            return make_engine(self, bind_key, options, app)
        key = (url, repr(sorted((name, repr(value)) for name, value in options.items())))
        if key not in _ENGINES:
            _ENGINES[key] = make_engine(self, bind_key, options, app)
        return _ENGINES[key]

    SQLAlchemy._make_engine = _make_engine


_share_postgresql_engines()


class _TemplateCodeCache(BytecodeCache):
    """Each template compiled once per test process, not once per app: about 15 ms a test.

    Every app the tests build sets the same Jinja options, and Jinja checks each template's
    source against the checksum stored with its code.
    """

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        """Fill the bucket from the process's store, if the template was compiled before."""
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket):
        """Keep a newly compiled template for the next app."""
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _TemplateCodeCache()


def pytest_configure(config):
    """In the run's main process: a directory where the browser tests' one Nu HTML checker is found."""
    if not hasattr(config, "workerinput"):  # not a pytest-xdist worker: they inherit the variable
        config.alliance_nu_dir = tempfile.mkdtemp(prefix="alliance-nu-")
        os.environ["ALLIANCE_NU_DIR"] = config.alliance_nu_dir


def pytest_unconfigure(config):
    """End the run's Nu HTML checker, if a browser test started one."""
    directory = getattr(config, "alliance_nu_dir", None)
    if directory:
        from tests.browser import nu

        nu.stop_shared(Path(directory))
        shutil.rmtree(directory, ignore_errors=True)


# The files that take longest (seconds summed over their tests, in CI), handed to the workers first: with
# pytest-xdist's one-file-per-worker scheduling, a long file started last would keep one core busy while
# the other sits idle. Only the order changes; a file renamed or gone from here just runs in its place.
_LONGEST_FIRST = [
    "test_fuzz_routes.py",
    "test_access.py",
    "browser/test_drag_and_drop.py",
    "browser/test_teaching_pages.py",
    "browser/test_curriculum_pages.py",
    "browser/test_report_pages.py",
    "browser/test_quiz_drafts_pages.py",
    "browser/test_account_pages.py",
    "test_reports.py",
    "test_cli.py",
    "test_report_paging.py",
    "browser/test_scorm_pages.py",
]


def pytest_collection_modifyitems(config, items):
    """Run the longest files first (the same order in every worker, as pytest-xdist requires)."""
    rank = {name: number for number, name in enumerate(_LONGEST_FIRST)}
    tests = Path(__file__).parent

    def place(item) -> int:
        return (
            rank.get(item.path.relative_to(tests).as_posix(), len(rank))
            if item.path.is_relative_to(tests)
            else len(rank)
        )

    items.sort(key=place)  # stable: each file keeps its tests' order, the other files theirs


BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery"


#: Each backend's migrated database, made once per test process (see `database_url`).
_MIGRATED: dict[str, str] = {}


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database per backend, shared by the session's tests.

    pytest runs this again whenever a worker's next test is on the other backend, which under
    pytest-xdist's one-file-at-a-time scheduling is twice per file: the database is made and
    migrated once, then handed out again (every test leaves it empty; see `app`).
    """
    url = _MIGRATED.get(request.param)
    if url is not None:
        return url
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite'}"
    else:
        url = _private_postgres_database(request, until_the_end=True)
    app = create_app(_settings(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()  # the schema comes from the migrations, so they are tested on every backend
        _db.engine.dispose()
    _MIGRATED[request.param] = url
    return url


def _private_postgres_database(request, until_the_end: bool = False) -> str:
    """A database of this test session's own, so parallel runs never share tables; dropped after the
    requesting fixture, or when the test process ends."""
    server = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"alliance_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    if until_the_end:
        request.config.add_cleanup(drop)
    else:
        request.addfinalizer(drop)
    return server.set(database=name).render_as_string(hide_password=False)


def _settings(url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_MIN_LENGTH": 10,
        "RATELIMIT_ENABLED": False,  # tests/test_rate_limit.py turns it on
        # Hashing as in production costs 0.1 s per password; the tests sign in thousands of times.
        "ARGON2_PROFILE": "CHEAPEST",
    }


@pytest.fixture
def app_settings(database_url, tmp_path) -> dict:
    """Settings for the app under test; tests may change them before `app` is built."""
    return _settings(database_url, tmp_path)


@pytest.fixture
def app(app_settings, monkeypatch, tmp_path):
    """The app, on a clean database."""
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(app_settings)
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    yield app
    with app.app_context():
        _db.session.remove()
        # Emptied in one round trip on PostgreSQL, and past SQLAlchemy's per-statement work on
        # SQLite: forty DELETEs after every test of thousands.
        deletes = [f'DELETE FROM "{table.name}"' for table in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Without triggers: the report counters they keep are being emptied too, and a test that
                # wrote thousands of rows would pay for each row's trigger again on the way out.
                conn.exec_driver_sql("; ".join(["SET LOCAL session_replication_role = replica", *deletes]))
            else:
                cursor = conn.connection.cursor()
                for delete in deletes:
                    cursor.execute(delete)
                cursor.close()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database session inside an app context."""
    with app.app_context():
        yield _db
        _db.session.rollback()


class ServerLikeClient(FlaskClient):
    """A test client whose every request runs in its own app context, as under a real server.

    Without this, requests would reuse the test's app context: its database session and `g`
    (with Flask-Login's cached user) would carry over, and sign-out or deactivation could pass
    without being tested.
    """

    def open(self, *args, **kwargs):
        """Send one request from an empty context; only cookies carry over.

        The body is read inside that context too, as a server reads a streamed body in the
        request's own thread.
        """
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app, db):
    """A test client that keeps only cookies between requests."""
    app.test_client_class = ServerLikeClient
    return app.test_client()


class AuthActions:
    """Create accounts and sign in or out through the real forms."""

    def __init__(self, client, db):
        self._client = client
        self._db = db

    def create(self, role: str = "student", email: str | None = None, name: str | None = None) -> User:
        """An account with the shared test password."""
        user = accounts.create_user(email or f"{role}@example.org", name or role.title(), PASSWORD, role)
        self._db.session.commit()
        return user

    def sign_in(self, email: str = "student@example.org", password: str = PASSWORD):
        """Sign in through the sign-in form."""
        return self._client.post("/auth/sign-in", data={"email": email, "password": password})

    def as_role(self, role: str) -> User | None:
        """Become a fresh signed-in user of `role`, or stay anonymous for 'anonymous'."""
        if role == "anonymous":
            return None
        user = self.create(role)
        response = self.sign_in(user.email)
        assert response.status_code == 302, response.text
        return user

    def sign_out(self):
        """Sign out."""
        return self._client.post("/auth/sign-out")


@pytest.fixture
def auth(client, db) -> AuthActions:
    """Account helpers bound to the client."""
    return AuthActions(client, db)


@pytest.fixture
def catalog(app):
    """The loaded content catalog."""
    return app.extensions["alliance.catalog"]


@pytest.fixture
def quiz(catalog):
    """The shipped scenario quiz."""
    return catalog.quizzes[0]


class QueryCounter:
    """Counts SQL statements sent while active."""

    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        """Statements seen, ignoring savepoint bookkeeping."""
        return len([s for s in self.statements if not re.match(r"\s*(RELEASE )?SAVEPOINT", s)])


@pytest.fixture
def count_queries(app, db):
    """Context manager counting the queries a block runs."""

    @contextmanager
    def counting():
        counter = QueryCounter()

        def before(conn, cursor, statement, *args):
            # The catalog's revision poll is per process, at most every few seconds, not per page (app/content/live.py).
            if "FROM content_revision" not in statement:
                counter.statements.append(statement)

        engine = _db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def smtp():
    """A real SMTP server on a free loopback port: (its inbox, its port)."""
    from tests.smtp import start

    inbox, server = start()
    yield inbox, server.port
    server.stop()


@pytest.fixture
def inbox(smtp):
    """What the test's SMTP server received."""
    return smtp[0]


@pytest.fixture
def mail_on(app_settings, smtp) -> dict:
    """Settings with mail pointed at the test's SMTP server."""
    from tests.smtp import SENDER

    return {**app_settings, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp[1], "MAIL_DEFAULT_SENDER": SENDER}
