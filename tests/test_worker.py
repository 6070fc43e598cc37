# ruff: noqa: F811  (the LRS fixtures are imported from tests/test_records_lrs.py, then named as arguments)
"""`alliance worker`: one process drains every outbox, backs off while something fails, stops cleanly.

The learning-records outbox is drained into a real LRS (ralph on loopback, as in
tests/test_records_lrs.py); other outboxes are registered the way another part of the app
registers its own, with one call.
"""

import signal
import subprocess
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from app import worker
from app.worker import Drained, backoff, register
from tests.test_cli import ALLIANCE
from tests.test_records_lrs import app_settings, history, installed, lrs, outbox, ralph, run  # noqa: F401


def start_worker(env, tmp_path, *args: str) -> subprocess.Popen:
    """`alliance worker ARGS` in the background."""
    return subprocess.Popen(
        [str(ALLIANCE), "worker", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, seconds: float = 30) -> bool:
    """Poll until `condition()` is true or the time is up; whether it came true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def stop(process: subprocess.Popen, signum=signal.SIGTERM) -> tuple[str, str]:
    """Ask a worker to stop; what it printed."""
    process.send_signal(signum)
    return process.communicate(timeout=30)


# --- the command, against a real LRS


def test_the_worker_drains_the_records_outbox_and_stops_cleanly_on_sigterm(installed, lrs, tmp_path):
    env, total = installed
    process = start_worker(env, tmp_path, "--interval", "0.2")
    try:
        assert wait_for(lambda: len(lrs.stored_ids()) >= total)
    finally:
        out, err = stop(process)
    assert process.returncode == 0, err
    first = out.splitlines()[0]
    assert first.startswith("Draining statements") and first.endswith(" every 0.2 s; stop with SIGTERM or Ctrl-C.")
    sent = sum(int(line.split("sent ")[1].split(",")[0]) for line in out.splitlines() if line.startswith("statements:"))
    assert sent == total and out.rstrip().endswith("Stopped.")
    stored = lrs.stored_ids()
    assert len(stored) == len(set(stored)) == total
    assert "Traceback" not in err


def test_two_workers_at_once_send_each_statement_once_and_ctrl_c_stops_them(installed, lrs, tmp_path):
    env, total = installed
    processes = [start_worker(env, tmp_path, "--interval", "0.1") for _ in range(2)]
    try:
        assert wait_for(lambda: len(lrs.stored_ids()) >= total)
        time.sleep(0.5)  # a second copy, were one to be sent, would arrive by now
    finally:
        outputs = [stop(p, signal.SIGINT) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    stored = lrs.stored_ids()
    assert len(stored) == len(set(stored)) == total


def test_with_the_lrs_down_the_worker_keeps_running_backs_off_and_catches_up(installed, lrs, tmp_path):
    env, total = installed
    lrs.stop()
    env = env | {"ALLIANCE_LRS_RETRY_BASE": "1", "ALLIANCE_LRS_RETRY_MAX": "1"}
    process = start_worker(env, tmp_path, "--interval", "0.2", "--max-backoff", "1")
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(process.stdout), daemon=True)
    reader.start()
    try:
        # Three failed passes in a row (however long the worker takes to start on a busy machine).
        assert wait_for(lambda: sum("Next try in" in line for line in said) >= 3, 60), said
        assert process.poll() is None
        lrs.start()
        caught_up = wait_for(lambda: len(lrs.stored_ids()) >= total)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        reader.join(10)
        err = process.stderr.read()
    assert caught_up, (len(lrs.stored_ids()), total, said, err)
    assert process.returncode == 0 and "Traceback" not in err
    failures = [line for line in said if "to retry later" in line and "Last error" in line]
    assert failures and all("ConnectionError" in line for line in failures)
    waits = [float(line.rsplit("Next try in ", 1)[1].split(" s")[0]) for line in failures if "Next try in" in line]
    assert waits[:3] == [0.4, 0.8, 1.0]  # doubled, then capped
    assert said[-1].strip() == "Stopped."
    stored = lrs.stored_ids()
    assert len(stored) == len(set(stored)) == total


def test_the_worker_says_when_there_is_nothing_to_drain(installed, tmp_path):
    env, _ = installed
    off = {key: value for key, value in env.items() if key != "ALLIANCE_LRS_ENDPOINT"}
    result = run(off, "worker", "--only", "statements", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Not draining statements: forwarding is off: set ALLIANCE_LRS_ENDPOINT" in result.stderr
    assert "Nothing to drain: no outbox is switched on." in result.stderr
    unknown = run(env, "worker", "--only", "pigeons", cwd=tmp_path)
    assert unknown.returncode == 2 and "no outbox is called 'pigeons'; there are: statements" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert run(env, "worker", "--interval", "0", cwd=tmp_path).returncode == 2


def test_records_worker_is_still_there_as_the_records_only_worker(installed, lrs, tmp_path):
    env, total = installed
    process = subprocess.Popen(
        [str(ALLIANCE), "records", "worker", "--interval", "0.2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: len(lrs.stored_ids()) >= total)
    finally:
        out, err = stop(process)
    assert process.returncode == 0 and "Sending learning records to" in out and "Stopped." in out, err


# --- the loop, in-process: every outbox registered, on both databases


@pytest.fixture
def registry(monkeypatch):
    """The worker's registry, put back as it was after the test."""
    monkeypatch.setattr(worker, "DRAINERS", dict(worker.DRAINERS))
    return worker.DRAINERS


def run_loop(app, drainers, *, until, seconds: float = 20, **options) -> list[str]:
    """Run the worker's loop in a thread until `until()` (or the time is up); the lines it said."""
    said: list[str] = []
    stop_event = threading.Event()
    thread = threading.Thread(
        target=worker.run, args=(app, drainers, stop_event), kwargs={"say": said.append, **options}, daemon=True
    )
    thread.start()
    try:
        assert wait_for(until, seconds), said
    finally:
        stop_event.set()
        thread.join(30)
    assert not thread.is_alive()
    return said


def test_a_drainer_registered_in_one_line_is_drained_beside_the_records(app, db, auth, catalog, lrs, registry):
    total = history(db, auth, catalog)
    app.config["SITE_URL_IS_SET"] = True
    grades = ["grade 1", "grade 2", "grade 3"]
    delivered = []

    def send_grades(should_stop) -> Drained:
        batch = grades[:2]
        del grades[:2]
        delivered.extend(batch)
        return Drained(sent=len(batch))

    register("lti-grades", send_grades)
    ready, off = worker.enabled_drainers(app)
    assert [d.name for d in ready] == ["statements", "lti-grades"]
    assert [reason.split(":")[0] for reason in off] == ["mail"]  # no mail server here (tests/test_mail_outbox.py)
    said = run_loop(app, ready, until=lambda: not grades and len(lrs.stored_ids()) >= total, interval=0.1)
    assert delivered == ["grade 1", "grade 2", "grade 3"]
    assert "lti-grades: sent 2, refused 0, 0 to retry later." in said
    assert "lti-grades: sent 1, refused 0, 0 to retry later." in said
    assert any(line.startswith("statements: sent ") for line in said)
    assert not any("sent 0, refused 0, 0 to retry later." in line for line in said)  # quiet passes say nothing
    stored = lrs.stored_ids()
    assert len(stored) == len(set(stored)) == total and outbox(db, sent_at=...) == total


def test_two_workers_in_parallel_never_send_the_same_statement(app, db, auth, catalog, lrs):
    total = history(db, auth, catalog) + history(db, auth, catalog, email="second@example.org")
    app.config["SITE_URL_IS_SET"] = True
    ready, _ = worker.enabled_drainers(app, ("statements",))
    said: list[list[str]] = [[], []]
    stop_event = threading.Event()
    loops = [
        threading.Thread(
            target=worker.run, args=(app, ready, stop_event), kwargs={"interval": 0.05, "say": lines.append}
        )
        for lines in said
    ]
    for loop in loops:
        loop.start()
    try:
        assert wait_for(lambda: len(lrs.stored_ids()) >= total)
        time.sleep(0.3)  # a second copy, were one sent, would arrive by now
    finally:
        stop_event.set()
        for loop in loops:
            loop.join(30)
    stored = lrs.stored_ids()
    assert len(stored) == len(set(stored)) == total and outbox(db, sent_at=...) == total
    sent = [sum(int(line.split("sent ")[1].split(",")[0]) for line in lines) for lines in said]
    assert sum(sent) == total


def test_a_failing_drainer_backs_off_while_the_others_go_on(app, registry):
    calls = {"broken": 0, "fine": 0}

    def broken(should_stop) -> Drained:
        calls["broken"] += 1
        if calls["broken"] <= 3:
            raise OperationalError("SELECT", None, Exception("could not connect to server"))
        return Drained(sent=1)

    def fine(should_stop) -> Drained:
        calls["fine"] += 1
        return Drained()

    drainers = [register("broken", broken), register("fine", fine)]
    said = run_loop(app, drainers, until=lambda: calls["broken"] >= 4, interval=0.05, max_backoff=0.2)
    failures = [line for line in said if line.startswith("broken:")]
    assert failures[:3] == [
        f"broken: the pass could not run (OperationalError: could not connect to server). Next try in {wait:g} s."
        for wait in (0.1, 0.2, 0.2)
    ]
    assert "broken: sent 1, refused 0, 0 to retry later." in said  # back to normal once it works
    assert calls["fine"] > calls["broken"]  # the healthy outbox kept its own pace


def test_backoff_doubles_per_failure_up_to_the_cap():
    assert [backoff(10, failures, 300) for failures in range(7)] == [10, 20, 40, 80, 160, 300, 300]
