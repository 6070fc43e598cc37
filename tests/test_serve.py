"""`alliance serve`, the production server: gunicorn's settings, and the real server started, used and stopped."""

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.serve import ACCESS_LOG_FORMAT, MAX_DEFAULT_WORKERS, default_workers, redact, settings
from tests.conftest import PASSWORD
from tests.test_cli import environment, write_broken_tree

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`alliance serve` in a subprocess on a free loopback port; its error log and access log in files."""

    def __init__(self, env: dict, cwd: Path, workers: int = 2, preexec_fn=None):
        self.port = free_port()
        self.log = cwd / f"serve-{self.port}.log"
        self.access_log = cwd / f"access-{self.port}.log"
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--workers", str(workers)]
        with self.log.open("w") as errors, self.access_log.open("w") as access:
            self.process = subprocess.Popen(
                command, env=env, cwd=cwd, stdout=access, stderr=errors, preexec_fn=preexec_fn
            )

    def url(self, path: str) -> str:
        """The address of a path on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_until_serving(self) -> None:
        """Wait for the first page, or fail with the server's log."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"alliance serve stopped ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                if requests.get(self.url("/auth/sign-in"), timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        pytest.fail(f"alliance serve did not answer:\n{self.log.read_text()}")

    def lesson_path(self) -> str:
        """A lesson of the first module with a quiz."""
        from app.content import content_dirs, load_once

        catalog = load_once(content_dirs())
        module = catalog.module(catalog.quizzes[0].module_id)
        return f"/learn/modules/{module.id}/lessons/{module.lessons[0].id}"

    def stop(self) -> int:
        """Stop gracefully (TERM) and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=TIMEOUT)

    def __enter__(self) -> "Served":
        self.wait_until_serving()
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.stop()


class Browser(requests.Session):
    """A cookie-keeping client for one server that can read a page's CSRF token."""

    def __init__(self, port: int):
        super().__init__()
        self.base = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        """One request, redirects not followed; status, headers and body."""
        response = super().request(method, self.base + path, data=data, allow_redirects=False, timeout=30)
        return response.status_code, response.headers, response.text

    def token(self, path: str) -> str:
        """The CSRF token of a page's first form."""
        status, _, page = self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def login(port: int, email: str) -> Browser:
    """A browser signed in as `email` (with the tests' password)."""
    browser = Browser(port)
    form = {"csrf_token": browser.token("/auth/sign-in"), "email": email, "password": PASSWORD}
    status, _, page = browser.request("POST", "/auth/sign-in", form)
    assert status == 302, page[:500]
    return browser


def install(tmp_path: Path, **extra: str) -> dict:
    """A migrated SQLite install with one learner; its environment."""
    env = environment(tmp_path, **extra)
    subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "create", "--email", "a@example.org", "--name", "Ann"]
        + ["--password-file", "-"],
        input=PASSWORD,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return env


# --- gunicorn's settings


def test_gunicorn_settings_preload_sync_workers_graceful_timeouts_and_an_access_log(app):
    options = settings(app, host="127.0.0.1", port=8123, workers=3, access_log="-")
    assert options["bind"] == ["127.0.0.1:8123"]
    assert options["workers"] == 3 and options["worker_class"] == "sync"
    assert options["preload_app"] is True  # built once, in the master, before the workers fork
    assert options["accesslog"] == "-" and options["access_log_format"] == ACCESS_LOG_FORMAT
    assert options["timeout"] == 60 and options["graceful_timeout"] == 30
    assert settings(app, host="::1", port=80, workers=1, access_log=None)["bind"] == ["[::1]:80"]
    assert settings(app, host="0.0.0.0", port=80, workers=1, access_log=None)["accesslog"] is None


def test_the_settings_are_ones_gunicorn_accepts(app):
    from gunicorn.config import Config

    config = Config()
    for name, value in settings(app, host="127.0.0.1", port=8000, workers=2, access_log="-").items():
        if name in config.settings:
            config.set(name, value)
    assert config.workers == 2 and config.preload_app and config.address == [("127.0.0.1", 8000)]


def test_workers_default_to_two_per_core_and_one_more_within_a_cap(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1})
    assert default_workers() == 5
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(64)))
    assert default_workers() == MAX_DEFAULT_WORKERS


def test_the_access_log_keeps_the_secrets_of_emailed_links_out():
    assert redact("GET /auth/set-password/s3cr3t-t0ken HTTP/1.1") == "GET /auth/set-password/… HTTP/1.1"
    assert redact("/auth/verify-email/abc.def?x=1") == "/auth/verify-email/…?x=1"
    assert redact("/auth/confirm-email/abc") == "/auth/confirm-email/…"
    assert redact("/learn/join/K7Q2-PLMX") == "/learn/join/…"
    assert redact("/learn/modules/join-me/lessons/a") == "/learn/modules/join-me/lessons/a"


# --- the real server


def test_alliance_serve_serves_logs_without_link_secrets_reloads_and_stops_gracefully(tmp_path):
    env = install(tmp_path)
    server = Served(env, tmp_path, 2)
    with server:
        browser = login(server.port, "a@example.org")
        status, headers, page = browser.request("GET", "/learn/progress")
        assert status == 200 and "Ann" in page
        assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
        browser.request("GET", "/auth/set-password/s3cr3t-t0ken-value")
        log = server.log.read_text()
        frozen = int(re.search(r"(\d+) start-up objects frozen", log).group(1))
        assert frozen > 50_000  # the catalog and the app, out of the collector's reach
        assert "Listening at: http://127.0.0.1:" in log and "Using worker: sync" in log

        server.process.send_signal(signal.SIGHUP)  # workers replaced, the master and its socket stay
        deadline = time.monotonic() + TIMEOUT
        while "Hang up" not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert browser.request("GET", "/learn/progress")[0] == 200  # still signed in, still served
        assert server.stop() == 0
    log = server.log.read_text()
    assert "Handling signal: term" in log and "Shutting down: Master" in log and "Traceback" not in log
    access = server.access_log.read_text()  # standard output: one line a request, with its time
    assert re.search(r'"GET /learn/progress HTTP/1.1" 200 \d+ \d+ms', access), access
    assert "/auth/set-password/…" in access and "s3cr3t" not in access
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("/auth/sign-in"), timeout=5)


def test_alliance_serve_refuses_broken_content_with_the_report_and_exit_3(tmp_path):
    write_broken_tree(tmp_path / "bad")
    env = environment(tmp_path, ALLIANCE_CONTENT_DIRS=str(tmp_path / "bad"))
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 3
    assert "Alliance cannot start: the content has problems." in result.stderr
    assert "Traceback" not in result.stderr and "Listening at" not in result.stderr


@pytest.mark.parametrize("database", ["sqlite file that is no database", "postgresql on a closed port"])
def test_under_gunicorn_an_unusable_database_gets_the_apps_503_page_not_a_bare_500(tmp_path, database):
    if database.startswith("sqlite"):
        path = tmp_path / "broken.sqlite"
        path.write_bytes(b"not a database at all " * 100)
        url = f"sqlite:///{path}"
    else:
        url = f"postgresql://alliance@127.0.0.1:{free_port()}/alliance"
    env = environment(tmp_path, DATABASE_URL=url)
    with Served(env, tmp_path, 1) as server:  # it starts: nothing reads the database before a request
        browser = Browser(server.port)
        form = {"csrf_token": browser.token("/auth/sign-in"), "email": "a@example.org", "password": PASSWORD}
        status, headers, page = browser.request("POST", "/auth/sign-in", form)
    assert status == 503, page
    # 30 s, or later where a rate limit on the route (the sign-in form's) resets later.
    assert int(headers["Retry-After"]) >= 30
    assert "Temporarily unavailable" in page and "Internal Server Error" not in page
    assert "Traceback" not in server.log.read_text()
