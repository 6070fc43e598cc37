"""Fault tests at the edges: the database unreachable, a migration stopped part-way, a full disk, backfill counts.

Each fault is made for real where that can be done without root: PostgreSQL goes away behind a
TCP relay that is cut and restored, a SQLite file is replaced by one that is no database (or by
a folder: as root, a file cannot be made unreadable), a
migration is killed with SIGKILL, and a full disk is a file-size limit (RLIMIT_FSIZE) on the
server's processes, raised again to "free space".
"""

import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, func, insert, make_url, select
from sqlalchemy.exc import OperationalError

from app import create_app
from app.cli import cli as alliance
from app.db_safety import backup_path
from app.extensions import db as _db
from app.models import ItemResponse, LearningEvent, StatementOutbox
from app.models.types import utcnow
from app.services import accounts, practice
from app.services.quizzes import response_row
from tests.conftest import BACKENDS, PASSWORD, ServerLikeClient, _settings
from tests.old_rows import insert_learner_with_an_answer
from tests.test_cli import environment

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
#: A revision from before most of the schema's rebuilds, with the rows every learner has.
OLD = "5d1c2a7e9f30"
#: The revision just before practice attempts existed.
BEFORE_PRACTICE = "3a126afef632"
TABLES = ("user", "quiz_attempt", "item_response", "learning_event")


# --- the database unreachable: the app's own 503 page, made without it


class Relay:
    """A TCP relay on loopback to a server: cut it and the server is gone (connections reset, new ones refused)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen (on the same port as before, after a cut) and relay every connection."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Stop listening and end every relayed connection, as a stopped server would."""
        # shutdown() first: a close() alone would not wake the threads blocked in accept() and recv().
        with self._lock:
            for s in [self._listener, *self._open]:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._open.clear()


def _assert_unavailable_page(response) -> None:
    """The app's own 503 page: plain words, a Retry-After, no traceback, not cached."""
    assert response.status_code == 503, response.text[:500]
    assert response.headers["Retry-After"] == "30"
    assert "no-store" in response.headers["Cache-Control"]
    assert "<title>Temporarily unavailable · Alliance</title>" in response.text
    assert "cannot use its database just now" in response.text and "nothing was saved" in response.text
    assert "Traceback" not in response.text and "OperationalError" not in response.text


class Outage:
    """An app on a database of its own that the test can take away and give back."""

    def __init__(self, backend: str, tmp_path: Path, request):
        if backend == "postgresql":
            from tests.conftest import _private_postgres_database

            url = make_url(_private_postgres_database(request))  # dropped when the test ends
            self.relay = Relay((url.host, url.port))
            self.relay.start()
            url = url.set(host="127.0.0.1", port=self.relay.port).render_as_string(hide_password=False)
        else:
            self.path = tmp_path / "alliance.sqlite"
            url = f"sqlite:///{self.path}"
        self.backend = backend
        self.app = create_app(_settings(url, tmp_path))
        with self.app.app_context():
            upgrade()

    def cut(self) -> None:
        """PostgreSQL stops; the SQLite file is swapped for one that is no database."""
        if self.backend == "postgresql":
            self.relay.cut()
            return
        with self.app.app_context():
            _db.engine.dispose()  # pooled connections would keep the old file open
        self.path.rename(self.path.with_name("kept.sqlite"))
        self.path.write_bytes(b"this is not a SQLite database, " * 200)

    def restore(self) -> None:
        """The database is back."""
        if self.backend == "postgresql":
            self.relay.start()
            return
        self.path.unlink()
        self.path.with_name("kept.sqlite").rename(self.path)


@pytest.fixture(params=BACKENDS)
def outage(request, tmp_path, monkeypatch):
    """An Outage on each backend."""
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "instance"))
    outage = Outage(request.param, tmp_path, request)
    yield outage
    with outage.app.app_context():
        _db.engine.dispose()


def _signed_in_client(app):
    """A test client signed in as a new learner, on a page that reads the database."""
    with app.app_context():
        accounts.create_user("learner@example.org", "Learner", PASSWORD)
        _db.session.commit()
    app.test_client_class = ServerLikeClient
    client = app.test_client()
    assert client.post("/auth/sign-in", data={"email": "learner@example.org", "password": PASSWORD}).status_code == 302
    assert client.get("/learn/progress").status_code == 200
    return client


def test_with_the_database_gone_every_request_gets_the_503_page_and_pages_come_back_with_it(outage):
    client = _signed_in_client(outage.app)
    outage.cut()
    for method, path in [("GET", "/learn/progress"), ("GET", "/learn/"), ("GET", "/nowhere"), ("POST", "/auth/sign-out")]:
        _assert_unavailable_page(client.open(path, method=method))
    anonymous = outage.app.test_client()
    _assert_unavailable_page(anonymous.post("/auth/sign-in", data={"email": "a@example.org", "password": "x" * 12}))
    assert anonymous.get("/auth/sign-in").status_code == 200  # a page that needs no database still works
    outage.restore()
    # No restart: the pool tests each connection before use. The same browser is still signed in.
    response = client.get("/learn/progress")
    assert response.status_code == 200 and "Learner" in response.text


def test_with_postgresql_unreachable_from_the_start_pages_are_503(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(_settings(f"postgresql+psycopg://alliance@127.0.0.1:{closed}/alliance", tmp_path))
    client = app.test_client()
    _assert_unavailable_page(client.post("/auth/sign-in", data={"email": "a@example.org", "password": "x" * 12}))
    assert client.get("/auth/sign-in").status_code == 200  # a page that needs no database still works


def test_with_the_sqlite_file_unopenable_pages_are_503_and_come_back_when_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "alliance.sqlite"
    app = create_app(_settings(f"sqlite:///{path}", tmp_path))
    with app.app_context():
        upgrade()
    client = _signed_in_client(app)
    with app.app_context():
        _db.engine.dispose()  # the workers' pooled connections would keep the old file open
    path.rename(tmp_path / "kept.sqlite")
    path.mkdir()  # SQLite: "unable to open database file", as for a file it may not read
    _assert_unavailable_page(client.get("/learn/progress"))
    _assert_unavailable_page(client.get("/nowhere"))
    path.rmdir()
    (tmp_path / "kept.sqlite").rename(path)
    assert client.get("/learn/progress").status_code == 200  # still signed in
    with app.app_context():
        _db.engine.dispose()


# --- SQLite migrations that cannot be stranded


def _database_at(tmp_path, monkeypatch, revision: str):
    """An app on a SQLite file migrated to `revision`."""
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "history.sqlite"
    app = create_app(_settings(f"sqlite:///{path}", tmp_path))
    with app.app_context():
        upgrade(revision=revision)
    return app, path


def _seed_old_rows(app) -> None:
    """One learner with an attempt, an answer and an event, written in the old revision's columns."""
    with app.app_context(), _db.engine.begin() as conn:
        insert_learner_with_an_answer(conn)
        _db.engine.dispose()


def _state(path: Path) -> dict:
    """The revision, the row counts and the leftover tables of a SQLite file, read directly."""
    with closing(sqlite3.connect(path)) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {
            "revision": conn.execute("SELECT version_num FROM alembic_version").fetchone()[0],
            "rows": {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES},
            "leftovers": sorted(t for t in tables if t.startswith("_alembic_tmp")),
        }


def test_a_failure_in_the_middle_of_an_upgrade_puts_the_sqlite_file_back_and_the_next_upgrade_succeeds(
    tmp_path, monkeypatch, capfd
):
    app, path = _database_at(tmp_path, monkeypatch, OLD)
    _seed_old_rows(app)
    before = _state(path)
    with app.app_context():
        engine = _db.engine

        def disk_error_in_a_table_rebuild(conn, cursor, statement, *args):
            # After SQLite already committed this migration's first steps (it runs DDL outside transactions).
            if statement.lstrip().startswith("INSERT INTO _alembic_tmp_"):
                raise sqlite3.OperationalError("disk I/O error")

        event.listen(engine, "before_cursor_execute", disk_error_in_a_table_rebuild)
        with pytest.raises(OperationalError, match="disk I/O error"):
            upgrade()
        event.remove(engine, "before_cursor_execute", disk_error_in_a_table_rebuild)
        assert "put back as it was before it: nothing was changed" in capfd.readouterr().err
        assert _state(path) == before  # no half-changed table, no "_alembic_tmp_" table left behind
        assert not backup_path(path).exists()
        upgrade()
        _db.engine.dispose()
    after = _state(path)
    assert after["rows"] == before["rows"] and after["leftovers"] == []
    assert after["revision"] != OLD


def test_kill_9_during_alliance_db_upgrade_then_the_next_upgrade_recovers_every_row(tmp_path, monkeypatch):
    app, path = _database_at(tmp_path, monkeypatch, OLD)
    _seed_old_rows(app)
    before = _state(path)
    env = environment(tmp_path, DATABASE_URL=f"sqlite:///{path}", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "app.cli", "db", "upgrade"]
    upgrading = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in upgrading.stderr:  # killed as the third migration begins: two are already committed
        seen.append(line)
        if len([s for s in seen if "Running upgrade" in s]) == 3:
            upgrading.send_signal(signal.SIGKILL)
            break
    upgrading.wait(timeout=TIMEOUT)
    assert upgrading.returncode == -signal.SIGKILL, "".join(seen)
    assert backup_path(path).exists()  # the copy taken before the first change
    assert _state(path)["revision"] != OLD  # stopped part-way

    again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert again.returncode == 0, again.stderr
    assert "did not finish (it was stopped part-way)" in again.stderr and "nothing in it was lost" in again.stderr
    assert "Traceback" not in again.stderr
    after = _state(path)
    assert after["rows"] == before["rows"] and after["leftovers"] == []
    assert not backup_path(path).exists()
    current = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "current"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert "(head)" in current.stdout, current.stdout + current.stderr


def test_a_downgrade_that_cannot_finish_leaves_the_sqlite_file_as_it_was(tmp_path, monkeypatch, capfd):
    app, path = _database_at(tmp_path, monkeypatch, "head")
    catalog = app.extensions["alliance.catalog"]
    quiz = catalog.quizzes[0]
    item = quiz.items[0]
    with app.app_context():
        user = accounts.create_user("a@example.org", "A", PASSWORD)
        attempt = practice.start_quiz(user.id, quiz)  # practice was used: the old schema has no place for it
        graded = item.handler.grade(item, item.handler.right_answer(item))
        row = response_row(attempt.id, user.id, quiz.id, item.id, item.type, item.version, 1, graded, utcnow())
        _db.session.execute(insert(ItemResponse), [row])
        _db.session.commit()
        _db.engine.dispose()
    before = _state(path)
    with app.app_context():
        with pytest.raises(SystemExit):  # Flask-Migrate reports the reason and exits 1
            downgrade(revision=BEFORE_PRACTICE)
        _db.engine.dispose()
    assert "put back as it was before it: nothing was changed" in capfd.readouterr().err
    assert _state(path) == before
    assert not backup_path(path).exists()


def test_alliance_db_current_takes_no_copy(tmp_path, monkeypatch):
    app, path = _database_at(tmp_path, monkeypatch, "head")
    copies = []
    real_copy = sys.modules["app.db_safety"]._copy
    monkeypatch.setattr("app.db_safety._copy", lambda *a: copies.append(a) or real_copy(*a))
    from flask_migrate import current

    with app.app_context():
        current()
        upgrade()  # already at head: still guarded, and still nothing left behind
        _db.engine.dispose()
    assert len(copies) == 1
    assert not backup_path(path).exists()


# --- a full disk on SQLite


def test_the_sqlite_wal_is_bounded_by_pragmas(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(_settings(f"sqlite:///{tmp_path / 'wal.sqlite'}", tmp_path))
    with app.app_context(), _db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # pages: about 4 MB
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 32 * 1024 * 1024
    with app.app_context():
        _db.engine.dispose()


def _limit_file_size(pids: list[int], size: int) -> None:
    """No file these processes write may pass `size` bytes: a full disk for SQLite (or, raised, room again)."""
    for pid in pids:  # the soft limit only: raising a hard limit again would need CAP_SYS_RESOURCE
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))


def _family(pid: int) -> list[int]:
    """A process and its children (gunicorn's master and workers)."""
    children = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(proc.name))
        except OSError:
            continue  # gone since listed
    return [pid, *children]


#: The WAL limit the full-disk test sets, and the file-size limit that makes the disk "full".
WAL_LIMIT, FULL = 64 * 1024, 192 * 1024


def test_a_full_disk_keeps_reads_refuses_writes_bounds_the_wal_never_crashes_and_recovers(tmp_path):
    from tests.test_serve import Served, install, login

    env = install(tmp_path, ALLIANCE_SQLITE_WAL_MAX_BYTES=str(WAL_LIMIT))
    path = tmp_path / "alliance.sqlite"
    wal = path.with_name(path.name + "-wal")
    assert path.stat().st_size > FULL  # the limit lies inside the file: checkpoints cannot copy into it
    with Served(env, tmp_path, 1) as server:
        learner = login(server.port, "a@example.org")
        lesson = server.lesson_path()
        assert learner.request("GET", lesson)[0] == 200  # viewing a lesson records the view: a write
        with closing(sqlite3.connect(path)) as conn:  # every session due for its "last seen" write
            conn.execute("UPDATE user_session SET last_seen_at = '2000-01-01 00:00:00'")
            conn.commit()
        _limit_file_size(_family(server.process.pid), FULL)  # the disk is full
        statuses = [learner.request("GET", lesson)[0] for _ in range(40)]
        assert statuses[-1] == 503 and set(statuses) <= {200, 503}  # the app's page, never a 500
        # Without the limit the WAL would grow to the whole file-size limit before writes failed.
        assert wal.stat().st_size < WAL_LIMIT + (FULL - WAL_LIMIT) // 2
        grown = wal.stat().st_size
        status, _, page = learner.request("GET", "/learn/progress")
        assert status == 200 and "Ann" in page  # reading goes on, still signed in
        token = learner.token("/learn/progress")
        status, headers, page = learner.request("POST", "/auth/sign-out", {"csrf_token": token})
        assert status == 503 and "nothing was saved" in page and int(headers["Retry-After"]) >= 30
        assert server.stop() == 0

    # A restart while the disk is still full: it starts, serves reads, refuses writes.
    full_disk = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (FULL, resource.RLIM_INFINITY))  # noqa: E731
    with Served(env, tmp_path, 1, preexec_fn=full_disk) as server:
        learner.base = f"http://127.0.0.1:{server.port}"
        assert learner.request("GET", "/learn/progress")[0] == 200
        assert learner.request("GET", lesson)[0] == 503
        _limit_file_size(_family(server.process.pid), resource.RLIM_INFINITY)  # space freed: no restart
        assert [learner.request("GET", lesson)[0] for _ in range(3)] == [200, 200, 200]
        assert wal.stat().st_size < grown  # emptied by a checkpoint as soon as it could run
        assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text()


# --- records backfill says how many it queued


def test_records_backfill_prints_the_number_it_queued(app, db):
    app.config.update(LRS_ENDPOINT="http://127.0.0.1:9/xAPI", SITE_URL_IS_SET=True)
    user = accounts.create_user("a@example.org", "A", PASSWORD)
    db.session.execute(
        insert(LearningEvent),
        [{"user_id": user.id, "verb": "viewed", "object_ref": f"lesson/{n}", "content_version": "v"} for n in range(7)],
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(alliance, ["records", "backfill"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Queued 7 statements."
    assert db.session.scalar(select(func.count(StatementOutbox.id))) == 7
    again = app.test_cli_runner().invoke(alliance, ["records", "backfill"])
    assert again.output.strip() == "Queued 0 statements."

