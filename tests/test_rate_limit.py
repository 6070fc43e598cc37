"""Password guessing is slowed down, and a class behind one address is never locked out.

Per address and account: a hard limit. Per address: failures only are slowed, a right password
always signs in. Sign-ups, join codes and current-password checks have their own budgets.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from app.services import cohorts
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def limiter_left_as_found():
    """Put the one shared Limiter back as it was after each test.

    Flask-Limiter keeps its settings and storage on the Limiter object, not per app, so an app built
    here (limits on, a Redis that stops with its test) would otherwise leave them to every app still
    serving in this process: the browser tests' live server then answered sign-ins with a 500.
    """
    from app.extensions import limiter

    saved = dict(limiter.__dict__)
    yield
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


@pytest.fixture
def app_settings(app_settings):
    """Settings with rate limiting on, at a small limit."""
    return {
        **app_settings,
        "RATELIMIT_ENABLED": True,
        "SIGN_IN_RATE_LIMIT": "3 per minute",
        "ADDRESS_RATE_LIMIT": "6 per minute",
        "SIGN_UP_RATE_LIMIT": "2 per hour",
    }


def test_too_many_sign_in_attempts_are_refused_politely(client, auth):
    auth.create("student")
    for _ in range(3):
        assert auth.sign_in(password="wrong password!").status_code == 422
    refused = auth.sign_in()
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text and "Wait a minute" in refused.text
    assert client.get("/auth/sign-in").status_code == 200  # reading the form is never limited


def test_a_class_signing_in_together_is_never_limited(client, auth):
    for n in range(8):
        user = auth.create("student", email=f"learner{n}@example.org")
        assert auth.sign_in(user.email).status_code == 302
        auth.sign_out()


def test_guessing_at_one_account_leaves_other_accounts_alone(client, auth):
    auth.create("student", email="target@example.org")
    other = auth.create("student", email="other@example.org")
    for _ in range(3):
        auth.sign_in("target@example.org", "wrong password!")
    assert auth.sign_in("target@example.org").status_code == 429
    assert auth.sign_in(other.email, "wrong password!").status_code == 422
    assert auth.sign_in(other.email).status_code == 302


def test_failures_from_one_address_never_lock_out_a_right_password(client, auth):
    """Once the address's budget is spent, failures wait; a classmate's right password still signs in."""
    classmate = auth.create("student", email="classmate@example.org")
    # Six people behind the school's address mistype their passwords (two tries each, within the
    # per-account limit): the address's budget of six failures is spent.
    for n in range(3):
        auth.create("student", email=f"typo{n}@example.org")
        for _ in range(2):
            assert auth.sign_in(f"typo{n}@example.org", "not my password").status_code == 422
    refused = auth.sign_in("typo0@example.org", "still not my password")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    said = re.search(r"The password may be mistyped: check it, then wait (\d+) seconds? before trying again", refused.text)
    # The page and the header read the clock a moment apart: they may differ by the second that passed.
    assert said and abs(int(said.group(1)) - wait) <= 1
    assert 'name="email"' in refused.text  # the form is there to try again
    # A right password from the same address is never refused for other people's failures.
    assert auth.sign_in(classmate.email).status_code == 302
    auth.sign_out()
    assert auth.sign_in(classmate.email, "a typo this time").status_code == 429


def test_successful_sign_ups_from_one_address_are_limited(client, auth):
    for n in range(2):
        data = {"email": f"new{n}@example.org", "display_name": "New", "password": PASSWORD, "confirm": PASSWORD}
        assert client.post("/auth/sign-up", data=data).status_code == 302
        auth.sign_out()
    third = {"email": "third@example.org", "display_name": "Third", "password": PASSWORD, "confirm": PASSWORD}
    refused = client.post("/auth/sign-up", data=third)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "Many accounts have been created from your network just now" in refused.text
    assert re.search(r"Wait \d+ minutes?, then try again", refused.text)
    assert 'value="third@example.org"' in refused.text  # what they typed is kept
    assert auth.sign_in("third@example.org").status_code == 422  # no account was made


def test_refused_sign_ups_do_not_spend_the_sign_up_budget(client, auth):
    auth.create("student", email="taken@example.org")
    taken = {"email": "taken@example.org", "display_name": "Again", "password": PASSWORD, "confirm": PASSWORD}
    for _ in range(3):
        assert client.post("/auth/sign-up", data=taken).status_code == 422
    data = {"email": "fresh@example.org", "display_name": "Fresh", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post("/auth/sign-up", data=data).status_code == 302


def test_opening_join_links_with_wrong_codes_spends_the_join_budget(client, db, auth):
    educator = auth.create("educator", email="teacher@example.org")
    cohort = cohorts.create(educator, "Ward 7 class")
    db.session.commit()
    auth.as_role("student")
    assert client.get(f"/learn/join/{cohort.join_code}").status_code == 200  # a right link costs nothing
    for code in ("AAAA1111", "BBBB2222", "CCCC3333"):
        assert client.get(f"/learn/join/{code}").status_code == 404
    refused = client.post("/learn/join", data={"code": cohort.join_code})
    assert refused.status_code == 429 and "Too many attempts" in refused.text


def test_current_password_guesses_on_the_change_and_delete_forms_share_one_budget(client, auth):
    auth.as_role("student")
    wrong = {"current_password": "not my password", "password": "brisk walrus topaz", "confirm": "brisk walrus topaz"}
    for _ in range(2):
        assert client.post("/auth/account/password", data=wrong).status_code == 422
    assert client.post("/auth/account/delete", data={"password": "guess guess", "confirm": "y"}).status_code == 422
    right = {**wrong, "current_password": PASSWORD}
    assert client.post("/auth/account/password", data=right).status_code == 429
    assert client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y"}).status_code == 429


# --- several workers: the budgets live in a shared store (Redis), so every worker spends from one


WORKER = """
import json, os
from app import create_app
app = create_app(json.loads(os.environ["WORKER_SETTINGS"]))
client = app.test_client()
codes = [
    client.post("/auth/sign-in", data={"email": email, "password": password}).status_code
    for email, password in json.loads(os.environ["WORKER_ATTEMPTS"])
]
print(json.dumps(codes))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real Redis server (Debian's redis-server) on a free loopback port, for this module's tests."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: install Debian's redis-server package (scripts/test.sh does)"
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    store = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                store.ping()
                break
            except redis.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield url
    finally:
        store.close()
        server.terminate()
        server.wait(timeout=10)


class TestSeveralWorkers:
    """Two app processes (workers) pointed at one Redis share every sign-in budget."""

    @pytest.fixture
    def app_settings(self, app_settings, redis_url):
        """This worker's settings: the counters in Redis, emptied first."""
        redis.Redis.from_url(redis_url).flushall()
        return {**app_settings, "RATELIMIT_STORAGE_URI": redis_url}

    def other_worker(self, app_settings, tmp_path, attempts: list[tuple[str, str]]) -> list[int]:
        """Sign-in attempts sent to a second worker: another process, with its own app and limiter."""
        env = {
            **os.environ,
            "WORKER_SETTINGS": json.dumps(app_settings),
            "WORKER_ATTEMPTS": json.dumps(attempts),
            "ALLIANCE_INSTANCE_PATH": str(tmp_path / "worker"),
        }
        done = subprocess.run(
            [sys.executable, "-c", WORKER], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def test_two_workers_spend_one_budget(self, app_settings, tmp_path, client, auth):
        for email in ("target@example.org", "other@example.org", "another@example.org", "classmate@example.org"):
            auth.create("student", email=email)
        for _ in range(3):  # this worker: the target account's budget, and half the address's
            assert auth.sign_in("target@example.org", "wrong password!").status_code == 422
        codes = self.other_worker(
            app_settings,
            tmp_path,
            [
                ("other@example.org", "wrong password!"),
                ("other@example.org", "wrong password!"),
                ("another@example.org", "wrong password!"),  # the sixth failure from this address
                ("another@example.org", "wrong password!"),  # past the address's budget: wait
                ("target@example.org", PASSWORD),  # the target's budget was spent on the first worker
                ("classmate@example.org", PASSWORD),  # a right password is never refused for others' failures
            ],
        )
        assert codes == [422, 422, 422, 429, 429, 302]
        # and back on the first worker, the budget the second one spent is gone here too
        assert auth.sign_in("classmate@example.org", "wrong password!").status_code == 429

    def test_a_worker_with_its_own_memory_would_not_see_the_others_failures(self, app_settings, tmp_path, auth):
        """The control: the test above fails when each worker counts alone."""
        auth.create("student", email="target@example.org")
        for _ in range(3):
            assert auth.sign_in("target@example.org", "wrong password!").status_code == 422
        alone = {**app_settings, "RATELIMIT_STORAGE_URI": "memory://"}
        assert self.other_worker(alone, tmp_path, [("target@example.org", PASSWORD)]) == [302]
