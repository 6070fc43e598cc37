"""Forwarding statements through the outbox to a real Learning Record Store: ralph's, on loopback.

ralph 5.1's filesystem backend refuses a second write to its file unless
`FSDataBackend.default_operation_type` is APPEND, and no setting changes it; `ralph runserver`
starts uvicorn with auto-reload, in a fresh process where a patch cannot reach. So the fixture
runs ralph's own ASGI app (`ralph.api:app`, what runserver serves) under uvicorn from a
three-line launcher that sets APPEND first, bound to 127.0.0.1 only. If ralph does not start,
the tests fail with its output; they never skip.
"""

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import bcrypt
import pytest
import requests
from sqlalchemy import func, select, update

from app.models import LearningEvent, StatementOutbox
from app.models.types import utcnow
from app.records import Site, statement_id
from app.records.lrs import DUPLICATE, REFUSED, SENT, Answer, Client, classify
from app.services import events, progress
from app.services import records as record_service
from tests.helpers import rows
from tests.test_cli import ALLIANCE, environment
from tests.test_records import take_everything

USER, SECRET = "alliance", "a long lrs secret"
LAUNCHER = """
import sys
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend
FSDataBackend.default_operation_type = BaseOperationType.APPEND
import uvicorn
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    """A TCP port nobody listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ralph:
    """A ralph LRS in a subprocess, with its statements in a JSON-lines file; can be stopped and started again."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = root / "data"
        auth_file = root / "auth.json"
        password_hash = bcrypt.hashpw(SECRET.encode(), bcrypt.gensalt(4)).decode()
        auth_file.write_text(
            json.dumps(
                [
                    {
                        "username": USER,
                        "hash": password_hash,
                        "scopes": ["all"],
                        "agent": {"mbox": "mailto:lrs@example.org"},
                    }
                ]
            )
        )
        self.env = {
            **os.environ,
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_AUTH_FILE": str(auth_file),
            "RALPH_APP_DIR": str(root / "app"),
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.data),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it answers (at most 30 s); fail the test with its output otherwise."""
        log = open(self.root / "ralph.log", "ab")  # noqa: SIM115  (kept open by the child)
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(self.port)], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/__heartbeat__", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        pytest.fail("ralph did not start:\n" + (self.root / "ralph.log").read_text(errors="replace"))

    def stop(self) -> None:
        """Stop the server (the LRS is down)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def stored_ids(self) -> list[str]:
        """The id of every statement stored, one per line of the backend's file, duplicates included."""
        file = self.data / "fs_lrs.jsonl"
        if not file.exists():
            return []
        return [json.loads(line)["id"] for line in file.read_text().splitlines() if line.strip()]

    def clear(self) -> None:
        """Forget every statement (between tests)."""
        (self.data / "fs_lrs.jsonl").unlink(missing_ok=True)

    def get(self, statement_id: str) -> dict:
        """One statement read back through the xAPI API."""
        response = requests.get(
            f"{self.url}/xAPI/statements",
            params={"statementId": statement_id},
            auth=(USER, SECRET),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        found = response.json()
        # ralph answers a statementId query with a statement result rather than the bare statement.
        found = found.get("statements", [found]) if "statements" in found else [found]
        assert [s["id"] for s in found] == [statement_id], response.text[:500]
        return found[0]


@pytest.fixture(scope="module")
def ralph(tmp_path_factory):
    """A running ralph LRS for this module's tests."""
    server = Ralph(tmp_path_factory.mktemp("ralph"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lrs(ralph):
    """The LRS, empty and running."""
    if ralph.process is None:
        ralph.start()
    ralph.clear()
    return ralph


@pytest.fixture
def app_settings(app_settings, ralph):
    """Forwarding on, to the test LRS, in small batches."""
    return app_settings | {
        "LRS_ENDPOINT": f"{ralph.url}/xAPI",
        "LRS_KEY": USER,
        "LRS_SECRET": SECRET,
        "LRS_BATCH_SIZE": 7,
        "LRS_TIMEOUT": 5,
        "LRS_LEASE_SECONDS": 120,
        "LRS_RETRY_BASE": 30,
        "LRS_RETRY_MAX": 3600,
    }


class CountingClient(Client):
    """The real HTTP client, noting each batch it posts."""

    def __init__(self, *args, delay: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []
        self.delay = delay
        self.lock = threading.Lock()

    def post(self, statements):
        """Post, then note the ids posted."""
        time.sleep(self.delay)
        answer = super().post(statements)
        with self.lock:
            self.batches.append([s["id"] for s in statements])
        return answer


def sender_for(app, catalog, **client_options) -> record_service.Sender:
    """The app's configured sender, with a client that notes its batches."""
    sender = record_service.Sender.from_config(catalog, app.config)
    c = sender.client
    client = CountingClient(c.url.removesuffix("/statements"), USER, SECRET, c.timeout, **client_options)
    return record_service.Sender(
        catalog,
        sender.site,
        client,
        sender.batch_size,
        sender.lease,
        sender.retry_base,
        sender.retry_max,
    )


def history(db, auth, catalog, email="learner@example.org") -> int:
    """A learner's full history, committed; returns how many events it made."""
    user = auth.create("student", email=email)
    take_everything(user.id, catalog)
    db.session.commit()
    return rows(db, LearningEvent, user_id=user.id)


def outbox(db, **where) -> int:
    """Outbox rows matching the filters (None means IS NULL, ... means IS NOT NULL)."""
    query = select(func.count()).select_from(StatementOutbox)
    for key, value in where.items():
        column = getattr(StatementOutbox, key)
        query = query.where(
            column.is_(None) if value is None else column.is_not(None) if value is ... else column == value
        )
    db.session.expire_all()
    return db.session.scalar(query)


# --- the outbox is written with the events, and only when forwarding is on


def test_each_event_is_queued_in_the_same_transaction(db, auth, catalog, lrs):
    user = auth.create("student")
    module = catalog.modules[0]
    progress.view_lesson(user.id, module, module.lessons[0])
    db.session.rollback()
    assert rows(db, LearningEvent) == 0 and outbox(db) == 0
    progress.view_lesson(user.id, module, module.lessons[0])
    progress.complete_lesson(user.id, module, module.lessons[0])
    db.session.commit()
    assert rows(db, LearningEvent) == 2 and outbox(db, sent_at=None) == 2


def test_without_forwarding_an_event_costs_one_insert_and_no_outbox_row(app, db, auth, count_queries):
    app.config["LRS_ENDPOINT"] = ""
    user = auth.create("student")
    with count_queries() as counted:
        events.record(user.id, "experienced", "module/m/lesson/l", "v", at=utcnow())
    assert counted.count == 1 and "statement_outbox" not in " ".join(counted.statements)
    db.session.commit()
    assert outbox(db) == 0


# --- sending


def test_statements_arrive_in_batches_once_each_and_read_back_the_same(app, db, auth, catalog, lrs):
    total = history(db, auth, catalog)
    assert outbox(db) == total > 14
    sender = sender_for(app, catalog)
    summary = sender.send_due()
    assert (summary.sent, summary.failed, summary.refused) == (total, 0, 0)
    assert [len(batch) for batch in sender.client.batches] == [7] * (total // 7) + ([total % 7] if total % 7 else [])
    assert len(sender.client.batches) == math.ceil(total / 7)
    expected = [
        statement_id(sender.site, e) for e in db.session.scalars(select(LearningEvent.id).order_by(LearningEvent.id))
    ]
    assert sorted(lrs.stored_ids()) == sorted(expected)
    ours = next(record_service.statements(catalog, sender.site))
    back = lrs.get(ours["id"])
    assert back["id"] == ours["id"] and back["verb"] == ours["verb"] and back["actor"] == ours["actor"]
    assert back["object"]["id"] == ours["object"]["id"] and back["timestamp"].startswith(ours["timestamp"][:19])
    assert outbox(db, sent_at=...) == total and outbox(db, lease_token=...) == 0
    assert sender.send_due().sent == 0  # nothing is sent twice
    assert len(lrs.stored_ids()) == total


def test_the_lrs_down_loses_nothing_backs_off_and_catches_up_when_it_returns(app, db, auth, catalog, lrs):
    total = history(db, auth, catalog)
    lrs.stop()
    sender = sender_for(app, catalog)
    start = utcnow()
    summary = sender.send_due(clock=lambda: start)
    # The first batch fails; the pass stops there instead of hammering a dead server.
    assert (summary.sent, summary.failed) == (0, 7) and "ConnectionError" in summary.errors[-1]
    assert outbox(db) == total and outbox(db, attempts=1) == 7 and outbox(db, lease_token=...) == 0
    failed = db.session.scalars(select(StatementOutbox).where(StatementOutbox.attempts == 1)).all()
    assert {row.next_attempt_at for row in failed} == {start + timedelta(seconds=30)}
    assert all("ConnectionError" in row.last_error for row in failed)
    # Still down a little later: the failed rows wait, the others are tried and fail in turn.
    later = start + timedelta(seconds=5)
    assert sender.send_due(clock=lambda: later).failed == 7
    assert outbox(db, attempts=1) == 14
    # After its wait the first batch is due again; failing again doubles the wait.
    retry_at = start + timedelta(seconds=31)
    sender.send_due(clock=lambda: retry_at)
    doubled = db.session.scalars(select(StatementOutbox).where(StatementOutbox.attempts == 2)).all()
    assert len(doubled) == 7 and {row.next_attempt_at for row in doubled} == {retry_at + timedelta(seconds=60)}
    assert record_service.status().failing == 14

    lrs.start()
    back = start + timedelta(hours=2)
    summary = sender.send_due(clock=lambda: back)
    assert (summary.sent, summary.failed) == (total, 0)
    assert outbox(db, sent_at=...) == total
    stored = lrs.stored_ids()
    assert len(stored) == len(set(stored)) == total


def test_backoff_doubles_up_to_its_cap():
    waits = [record_service.backoff(n, 30, 3600).total_seconds() for n in range(10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert record_service.backoff(500, 30, 3600).total_seconds() == 3600


def test_a_statement_sent_before_a_crash_is_marked_sent_without_a_second_copy(app, db, auth, catalog, lrs):
    total = history(db, auth, catalog)
    sender = sender_for(app, catalog)
    assert sender.send_due().sent == total
    # A sender died after the LRS stored a batch but before marking it: the rows are due again.
    db.session.execute(update(StatementOutbox).values(sent_at=None))
    db.session.commit()
    summary = sender.send_due()
    assert summary.sent == total and summary.failed == 0
    assert outbox(db, sent_at=...) == total
    assert sorted(lrs.stored_ids()) == sorted(set(lrs.stored_ids())) and len(lrs.stored_ids()) == total


def test_a_conflicting_statement_in_a_batch_does_not_hold_back_the_others(app, db, auth, catalog, lrs):
    total = history(db, auth, catalog)
    sender = sender_for(app, catalog)
    first = next(record_service.statements(catalog, sender.site))
    # The LRS already holds a different statement under the first event's id: it refuses the batch whole (409).
    other = {**first, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}}
    assert sender.client.post([other]).kind == SENT
    summary = sender.send_due()
    assert summary.sent == total and summary.duplicates == 1 and summary.refused == 0
    assert len(lrs.stored_ids()) == total
    row = db.session.scalar(select(StatementOutbox).order_by(StatementOutbox.id).limit(1))
    assert row.sent_at is not None and "already in the LRS" in row.last_error


def test_wrong_credentials_are_retried_not_dropped(app, db, auth, catalog, lrs):
    app.config["LRS_SECRET"] = "wrong"
    history(db, auth, catalog)
    summary = record_service.Sender.from_config(catalog, app.config).send_due()
    assert summary.failed == 7 and summary.refused == 0 and "HTTP 401" in summary.errors[-1]
    assert outbox(db, rejected_at=...) == 0 and lrs.stored_ids() == []


def test_two_senders_at_once_never_send_the_same_statement(app, db, auth, catalog, lrs):
    total = history(db, auth, catalog) + history(db, auth, catalog, email="second@example.org")
    senders = [sender_for(app, catalog, delay=0.05) for _ in range(2)]
    failures = []

    def run(sender):
        try:
            with app.app_context():
                sender.send_due()
        except Exception as exc:  # noqa: BLE001  (reported below, with the thread's error)
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    posted = [[i for batch in s.client.batches for i in batch] for s in senders]
    assert posted[0] and posted[1], "both senders took part"
    assert not set(posted[0]) & set(posted[1])
    assert len(posted[0]) + len(posted[1]) == total
    stored = lrs.stored_ids()
    assert len(stored) == len(set(stored)) == total
    assert outbox(db, sent_at=...) == total


# --- what the LRS's answers mean; what the sender does with a refusal


def test_answers_are_classified_by_what_a_retry_could_change():
    assert classify(200, "[]").kind == SENT and classify(204, "").kind == SENT
    assert classify(409, "conflict").kind == DUPLICATE
    assert {classify(s, "bad").kind for s in (400, 413, 422)} == {REFUSED}
    assert {classify(s, "later").kind for s in (401, 403, 404, 408, 429, 500, 502, 503)} == {"retry"}


class RefusingOne(Client):
    """An LRS that refuses any batch holding one given statement, and stores the rest."""

    def __init__(self, bad_id: str):
        super().__init__("http://127.0.0.1:9", "", "", 1)
        self.bad_id = bad_id
        self.stored: list[str] = []

    def post(self, statements):
        """Refuse the bad statement (and any batch with it), like an xAPI-strict LRS."""
        if any(s["id"] == self.bad_id for s in statements):
            return Answer(REFUSED, 400, "HTTP 400: invalid statement")
        self.stored += [s["id"] for s in statements]
        return Answer(SENT, 200, "HTTP 200")


def test_a_refused_statement_is_kept_and_flagged_and_the_rest_go(app, db, auth, catalog):
    total = history(db, auth, catalog)
    site = Site.from_config(app.config)
    bad = statement_id(site, db.session.scalar(select(func.min(LearningEvent.id))) + 3)
    client = RefusingOne(bad)
    summary = record_service.Sender(catalog, site, client, batch_size=7).send_due()
    assert summary.refused == 1 and summary.sent == total - 1 and bad not in client.stored
    flagged = db.session.scalars(select(StatementOutbox).where(StatementOutbox.rejected_at.is_not(None))).all()
    assert len(flagged) == 1 and flagged[0].last_error == "HTTP 400: invalid statement"
    assert record_service.Sender(catalog, site, client).send_due().sent == 0  # never retried by itself
    assert record_service.status().refused == 1
    # Once the LRS accepts it (its settings fixed), a requeue sends the refused statement too.
    client.bad_id = None
    assert record_service.requeue_refused(utcnow()) == 1
    db.session.commit()
    assert record_service.Sender(catalog, site, client).send_due().sent == 1
    assert bad in client.stored and record_service.status().refused == 0


# --- the commands, run as an operator runs them


@pytest.fixture
def installed(tmp_path, ralph, monkeypatch):
    """A fresh SQLite install with forwarding to the test LRS, and a learner's history in it."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.services import accounts

    env = environment(
        tmp_path,
        ALLIANCE_LRS_ENDPOINT=f"{ralph.url}/xAPI",
        ALLIANCE_LRS_KEY=USER,
        ALLIANCE_LRS_SECRET=SECRET,
        ALLIANCE_LRS_BATCH_SIZE="5",
        ALLIANCE_SITE_URL="https://alliance.example.org",
    )
    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", env["ALLIANCE_INSTANCE_PATH"])
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "SECRET_KEY": "x",
            "LRS_ENDPOINT": "x",
            "ARGON2_PROFILE": "CHEAPEST",
        }
    )
    with app.app_context():
        upgrade()
        user = accounts.create_user("cli@example.org", "Cli Learner", "long enough password", "student")
        db.session.flush()
        take_everything(user.id, app.extensions["alliance.catalog"])
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(LearningEvent))
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        db.engine.dispose()
    return env, total


def run(env, *args, cwd):
    """Run `alliance ARGS`."""
    return subprocess.run([str(ALLIANCE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_records_send_and_export_from_the_command_line(installed, lrs, tmp_path):
    env, total = installed
    sent = run(env, "records", "send", cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert f"Sent {total} statements (0 already in the LRS); refused 0; 0 to retry later." in sent.stdout
    assert len(lrs.stored_ids()) == total
    exported = run(env, "records", "export", "--learner", "cli@example.org", cwd=tmp_path)
    assert exported.returncode == 0 and sorted(s["id"] for s in json.loads(exported.stdout)) == sorted(lrs.stored_ids())
    assert "cli@example.org" not in exported.stdout and "Cli Learner" not in exported.stdout
    bad = run(env, "records", "export", "--cohort", "seven", cwd=tmp_path)
    assert bad.returncode == 2 and "a cohort id is a whole number, not 'seven'" in bad.stderr
    assert "Traceback" not in bad.stderr and bad.stdout == ""


def test_forwarding_is_refused_until_the_site_address_is_set(installed, tmp_path):
    env, _total = installed
    unset = {key: value for key, value in env.items() if key != "ALLIANCE_SITE_URL"}
    for command in ("send", "worker", "requeue", "backfill"):
        refused = run(unset, "records", command, cwd=tmp_path)
        assert refused.returncode == 2 and "Set ALLIANCE_SITE_URL" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


def test_the_lease_outlasts_the_slowest_pass_over_a_batch(app, catalog):
    settings = {**app.config, "LRS_ENDPOINT": "http://127.0.0.1:9", "LRS_BATCH_SIZE": 50, "LRS_TIMEOUT": 10}
    assert record_service.Sender.from_config(catalog, settings).lease >= timedelta(seconds=51 * 10)


def test_records_send_exits_1_and_says_why_when_the_lrs_is_down(installed, tmp_path):
    env, _ = installed
    env = env | {"ALLIANCE_LRS_ENDPOINT": f"http://127.0.0.1:{free_port()}/xAPI"}
    result = run(env, "records", "send", cwd=tmp_path)
    assert result.returncode == 1 and "Sent 0 statements" in result.stdout and "5 to retry later" in result.stdout
    assert "ConnectionError" in result.stdout and "Traceback" not in result.stderr


def test_the_worker_sends_as_events_come_and_stops_cleanly_on_sigterm(installed, lrs, tmp_path):
    env, total = installed
    worker = subprocess.Popen(
        [str(ALLIANCE), "records", "worker", "--interval", "0.2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(lrs.stored_ids()) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(lrs.stored_ids()) == total
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "Stopped." in out and "Traceback" not in err
    bad = run(env, "records", "worker", "--interval", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "--interval" in bad.stderr
