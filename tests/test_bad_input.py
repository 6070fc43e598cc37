"""Bad input never costs a 500 or a worker's memory: oversized bodies, numbers too large or in other
scripts' digits, and downloads that are streamed and limited per account."""

import contextvars
import json
import socket
import threading
import time

import pytest
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app.content.certainty import parse_level
from app.converters import page_number, positive_number, whole_number
from app.models import ItemResponse, LearningEvent
from app.models.types import MAX_ID
from app.services import account_download, accounts, admin, practice, quizzes
from tests.conftest import PASSWORD
from tests.helpers import answers_by_grade, given_answers, rows

HUGE = 200 * 1024 * 1024  # the 200 MB sign-in body that once took a worker to 755 MiB


class Unreadable:
    """A request body that fails the test if anything reads it."""

    def __init__(self):
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        raise AssertionError("the body was read")

    readline = readinto = read

    def tell(self) -> int:
        """Werkzeug's test client asks where the stream starts."""
        return 0

    def seek(self, *args) -> int:
        """Werkzeug's test client goes back to the start before sending."""
        return 0


def assert_too_large(response) -> None:
    """Our own 413 page, in the app's words."""
    assert response.status_code == 413
    assert "<h1>Too large</h1>" in response.text and "Request Entity Too Large" not in response.text
    assert "none of it was read or saved" in response.text


# --- bodies over the app-wide limit


@pytest.mark.parametrize("path", ["/auth/sign-in", "/auth/sign-up", "/learn/join", "/teach/courses/new", "/no-such-page"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(client, path):
    body = Unreadable()
    response = client.post(
        path,
        input_stream=body,
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"CONTENT_LENGTH": str(HUGE)},
    )
    assert_too_large(response)
    assert body.reads == 0


def test_the_limit_is_a_setting_and_a_body_within_it_is_read(client, app, auth):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    auth.create("student")
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] - 2000)
    response = client.post("/auth/sign-in", data={"email": "student@example.org", "password": "wrong!", "p": padding})
    assert response.status_code == 422  # read and answered: a wrong password, not a refusal
    response = client.post("/auth/sign-in", data={"email": "a@example.org", "p": padding + "x" * 4000})
    assert_too_large(response)


@pytest.fixture
def live_server(app):
    """The app served by Werkzeug's real HTTP server on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(5)


def _send(port: int, head: bytes, body: bytes) -> tuple[bytes, float]:
    """Send a POST to the sign-in form with these extra headers and body; the answer and the seconds it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /auth/sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n" + head + b"\r\n" + body
        )
        answer = b""
        while b"</html>" not in answer:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    return answer, time.monotonic() - started


def test_a_real_server_answers_a_200_mb_claim_at_once_without_waiting_for_the_body(live_server):
    answer, seconds = _send(live_server, b"Content-Length: %d\r\n" % HUGE, b"email=a")
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"<h1>Too large</h1>" in answer
    assert seconds < 5


def test_a_chunked_body_is_cut_off_at_the_limit_and_refused(live_server, app):
    over = b"email=" + b"a" * app.config["MAX_CONTENT_LENGTH"]
    answer, _ = _send(live_server, b"Transfer-Encoding: chunked\r\n", b"%x\r\n%s\r\n0\r\n\r\n" % (len(over), over))
    assert answer.startswith(b"HTTP/1.1 413 ")
    small = b"email=someone%40example.org"
    answer, _ = _send(live_server, b"Transfer-Encoding: chunked\r\n", b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small))
    assert answer.startswith(b"HTTP/1.1 422 ") and b"someone@example.org" in answer  # read whole, answered


# --- whole numbers: ASCII digits only, within the database's range


def test_whole_numbers_are_ascii_digits_within_the_database_range():
    assert [whole_number(v) for v in ("0", "7", " 12 ", "-3", str(MAX_ID))] == [0, 7, 12, -3, MAX_ID]
    for bad in ("١", "²", "1.5", "1e3", "", "+", str(MAX_ID + 1), "9" * 309, "9" * 5000, None, "1\x00"):
        with pytest.raises(ValueError):
            whole_number(bad)
    with pytest.raises(ValueError):
        positive_number("0")
    assert positive_number("1") == 1


# Arabic-Indic, Devanagari and fullwidth digits: Werkzeug's own int converter read each as a number.
SCRIPTS = {"arabic-indic": 0x0660, "devanagari": 0x0966, "fullwidth": 0xFF10}


def in_digits(number: int, script: str) -> str:
    """`number` written with another script's digits."""
    return "".join(chr(SCRIPTS[script] + int(d)) for d in str(number))


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_id_written_in_another_scripts_digits_is_no_address(client, db, auth, catalog, script):
    me = auth.as_role("admin")
    assert client.get(f"/admin/users/{me.id}").status_code == 200
    response = client.get(f"/admin/users/{in_digits(me.id, script)}")  # the same account, other digits
    assert response.status_code == 404 and "Nothing is at this address" in response.text
    attempt = quizzes.start_attempt(me.id, catalog.quizzes[0])
    db.session.commit()
    assert client.get(f"/learn/attempts/{attempt.id}").status_code == 200
    assert client.get(f"/learn/attempts/{in_digits(attempt.id, script)}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/{id}",
        "/learn/attempts/{id}",
        "/learn/conversations/attempts/{id}",
        "/learn/practice/attempts/{id}",
        "/teach/cohorts/{id}",
        "/teach/cohorts/{id}/courses/{id}/report",
    ],
)
def test_an_id_beyond_the_database_range_is_no_address(client, auth, path):
    auth.as_role("admin")
    for written in (str(MAX_ID + 1), "0" * 30 + "1" * 11, "9" * 309, "9" * 5000):
        response = client.get(path.format(id=written))
        assert response.status_code == 404, (written[:12], response.status_code)
        assert "Traceback" not in response.text


@pytest.fixture
def conversation_play(client, auth, catalog):
    """A student at the first step of the first conversation: the play page's path and the conversation."""
    auth.as_role("student")
    conversation = catalog.conversations[0]
    path = client.post(f"/learn/conversations/{conversation.id}/attempts").location
    return path, conversation


@pytest.mark.parametrize("step", ["9" * 309, "9" * 20, "\u0661", "-1", "1.0", ""])
def test_a_conversation_step_that_is_no_step_is_refused_clearly(client, db, conversation_play, step):
    path, conversation = conversation_play
    response = client.post(path, data={"step": step, "reply": conversation.best_path[0], "confidence": "2"})
    assert response.status_code == 422
    assert "This page is out of date" in response.text
    assert rows(db, ItemResponse) == 0
    # The right step still works.
    response = client.post(path, data={"step": "1", "reply": conversation.best_path[0], "confidence": "2"})
    assert response.status_code == 302 and rows(db, ItemResponse) == 1


def test_a_confidence_in_other_scripts_digits_is_not_a_level():
    assert parse_level("\u0662") is None and parse_level("２") is None and parse_level("9" * 5000) is None
    assert parse_level(" 2 ") == 2 and parse_level("02") == 2


def test_a_practice_position_in_other_scripts_digits_records_nothing(client, db, auth, catalog):
    user = auth.as_role("student")
    quiz = catalog.quizzes[0]
    attempt = practice.start_quiz(user.id, quiz)
    db.session.commit()
    item = quiz.items[0]
    answer = {f"confidence-{item.id}": "2", **item.handler.form_data(item, item.handler.right_answer(item))}
    for position in ("\u0661", "9" * 309):
        response = client.post(f"/learn/practice/attempts/{attempt.id}", data={"position": position, **answer})
        assert response.status_code == 302 and rows(db, ItemResponse) == 0
    response = client.post(f"/learn/practice/attempts/{attempt.id}", data={"position": "1", **answer})
    assert response.status_code == 302 and rows(db, ItemResponse) == 1


def test_an_ordering_position_in_other_scripts_digits_is_not_a_position(catalog):
    from app.content.items import AnswerError, field_name

    item = next((i for q in catalog.quizzes for i in q.items if i.type == "ordering"), None)
    if item is None:
        pytest.fail("the shipped content has no ordering item to try")
    count = len(item.steps_html)
    arabic = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    form = {field_name(item, n): arabic[n + 1] for n in range(count)}
    with pytest.raises(AnswerError):
        item.handler.answer_from_form(item, form)
    assert item.handler.answer_from_form(item, {field_name(item, n): str(n + 1) for n in range(count)}) == list(
        range(1, count + 1)
    )


@pytest.mark.parametrize(
    ("page", "shown"),
    [("\u0662", 1), ("\uff12", 1), ("9" * 309, 2), ("9" * 5000, 2), ("-1", 1), ("x", 1), ("2", 2)],
)
def test_a_page_number_is_read_in_ascii_digits_and_any_size_shows_the_nearest_page(client, db, auth, page, shown):
    auth.as_role("admin")
    for n in range(admin.PER_PAGE):
        accounts.create_user(f"person{n}@example.org", f"Person {n:02}", PASSWORD, "student")
    db.session.commit()
    response = client.get(f"/admin/users?page={page}")
    assert response.status_code == 200 and f"Page {shown} of 2" in response.text  # "٢" was read as page 2


def test_page_numbers_are_ascii_digits_and_beyond_the_range_mean_the_last_page():
    assert [page_number(v) for v in ("1", " 02 ", "-3", "9" * 5000, "-" + "9" * 400)] == [1, 2, -3, MAX_ID, -MAX_ID]
    for bad in ("\u0662", "1.5", "", "-", "x1", None):
        with pytest.raises(ValueError):
            page_number(bad)


# --- downloads: streamed, and limited per account


def streamed(client, path: str):
    """GET `path` unbuffered and read its body as the server would send it: the response and its pieces.

    Both happen in one fresh context (the streamed body runs in the request's context).
    """

    def get():
        response = FlaskClient.open(client, path, buffered=False)
        pieces = [piece for piece in response.response if piece]
        response.close()
        return response, pieces

    return contextvars.Context().run(get)


def test_the_personal_data_download_is_streamed_a_row_at_a_time(client, db, auth, catalog):
    user = auth.as_role("student")
    quiz = catalog.quizzes[0]
    given = given_answers(quiz, answers_by_grade(quiz, "best"))
    for _ in range(3):
        quizzes.submit_attempt(user.id, quizzes.start_attempt(user.id, quiz), quiz, given)
        db.session.commit()
    chunks = account_download.export_chunks(user.id)
    assert not isinstance(chunks, str | bytes | list | dict) and iter(chunks) is chunks  # a generator, not a body
    written = json.loads("".join(chunks))
    whole = account_download.export(user.id)
    assert {k: v for k, v in written.items() if k != "generated_at"} == {
        k: v for k, v in whole.items() if k != "generated_at"
    }
    assert len(written["quiz_attempts"]) == 3 and all(a["responses"] for a in written["quiz_attempts"]) and rows(db, LearningEvent, user_id=user.id) > 0
    response, pieces = streamed(client, "/auth/account/data.json")
    assert response.status_code == 200 and response.is_streamed
    assert len(pieces) > 10  # written section by section and row by row, not as one body
    assert json.loads(b"".join(pieces))["account"]["email"] == user.email


def test_an_account_without_rows_streams_empty_lists(client, db, auth):
    user = auth.as_role("educator")
    data = json.loads("".join(account_download.export_chunks(user.id)))
    assert data["quiz_attempts"] == [] and data["account"]["role"] == "educator"
    assert account_download.export_chunks(MAX_ID) is None


@pytest.mark.parametrize("path", ["/learn/records.json", "/auth/account/data.json"])
def test_downloads_are_streamed(client, auth, path):
    auth.as_role("student")
    response, pieces = streamed(client, path)
    assert response.status_code == 200
    assert len(pieces) > 1
    json.loads(b"".join(pieces))


class TestDownloadLimit:
    """Downloads with rate limiting on, at a small limit."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """Rate limits on; two downloads a minute."""
        return {**app_settings, "RATELIMIT_ENABLED": True, "DOWNLOAD_RATE_LIMIT": "2 per minute"}

    @pytest.mark.parametrize("path", ["/learn/records.json", "/auth/account/data.json", "/teach/cohorts/{cohort}/records.json"])
    def test_a_download_over_the_limit_is_refused_politely_per_account(self, client, db, auth, path):
        from app.services import cohorts

        educator = auth.as_role("educator")
        cohort = cohorts.create(educator, "Ward 7 class")
        db.session.commit()
        path = path.format(cohort=cohort.id)
        for _ in range(2):
            assert client.get(path).status_code == 200
        refused = client.get(path)
        assert refused.status_code == 429
        assert "You have asked for this download many times in a short while" in refused.text
        assert "Wait a minute" in refused.text and "Traceback" not in refused.text
        # The allowance is the account's, not one session's: signing in afresh elsewhere gives no more.
        elsewhere = client.application.test_client()
        assert elsewhere.post("/auth/sign-in", data={"email": educator.email, "password": PASSWORD}).status_code == 302
        assert elsewhere.get(path).status_code == 429
        auth.sign_out()
        auth.sign_in(auth.create("admin", email="other@example.org").email)  # an admin may open every cohort
        assert client.get(path).status_code == 200  # another account has its own allowance
