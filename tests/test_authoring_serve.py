"""A publish reaches every worker without a restart: two `alliance serve` servers on one database (as on two
machines), the second with two gunicorn workers; publishing through the first, the second serves the new
version within a few seconds, on every request after that."""

import re
import subprocess
import sys
import time

from app.content.live import POLL_SECONDS
from tests.authoring_helpers import scenario_form
from tests.conftest import PASSWORD
from tests.test_serve import ROOT, Served, install, login

#: A publish must show on the other servers within the poll interval plus a request's time.
WITHIN = POLL_SECONDS + 3


def _post(browser, path: str, data: dict) -> tuple[int, dict, str]:
    token = browser.token(path if not path.endswith(("/publish", "/items")) else re.sub(r"/(publish|items)$", "", path))
    return browser.request("POST", path, {"csrf_token": token, **data})


def _first_seen(server: Served, browser, path: str, text: str) -> float:
    """Seconds until `path` on `server` shows `text`, polling; fails after twice the allowed time."""
    start = time.monotonic()
    while time.monotonic() - start < 2 * WITHIN:
        status, _, page = browser.request("GET", path)
        if status == 200 and text in page:
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{path} never showed {text!r}")


def test_a_publish_through_one_server_reaches_the_other_servers_workers_within_seconds(tmp_path):
    env = install(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "create", "--email", "e@example.org", "--name", "Eve"]
        + ["--role", "educator", "--password-file", "-"],
        input=PASSWORD, env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    with Served(env, tmp_path, 1) as one, Served(env, tmp_path, 2) as two:
        author = login(one.port, "e@example.org")
        status, headers, _ = _post(
            author, "/author/new", {"title": "Goals in primary care", "module": "bordin-components"}
        )
        assert status == 302
        quiz_path = headers["Location"]
        for n in range(3):
            status, headers, _ = _post(author, f"{quiz_path}/items", {"type": "scenario"})
            assert _post(author, headers["Location"], scenario_form(n))[0] == 302
        ref = re.search(r"<code>(a-\d+-[a-z0-9-]+)</code>", author.request("GET", quiz_path)[2])[1]
        learner = login(two.port, "a@example.org")
        for _ in range(4):  # both of its workers (most likely) have read the revision: the quiz is not there
            assert learner.request("GET", f"/learn/quizzes/{ref}")[0] == 404
        assert _post(author, f"{quiz_path}/publish", {})[0] == 302
        assert _first_seen(two, learner, f"/learn/quizzes/{ref}", "Goals in primary care") < WITHIN
        time.sleep(POLL_SECONDS)  # the other worker reads the revision at most this much later than the first
        for _ in range(6):  # and every request after, whichever worker answers
            assert learner.request("GET", f"/learn/quizzes/{ref}")[0] == 200

        settings = {"title": "Goals in primary care, revised", "module": "bordin-components", "pass_mark": "80"}
        assert _post(author, quiz_path, settings)[0] == 302
        assert _post(author, f"{quiz_path}/publish", {})[0] == 302
        assert _first_seen(two, learner, f"/learn/quizzes/{ref}", "Goals in primary care, revised") < WITHIN
        time.sleep(POLL_SECONDS)
        for _ in range(6):
            assert "Goals in primary care, revised" in learner.request("GET", f"/learn/quizzes/{ref}")[2]
    assert "Traceback" not in one.log.read_text() + two.log.read_text()
