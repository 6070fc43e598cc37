"""The mail outbox: mail is tried at once, kept when it fails, and sent once by `alliance worker` or `alliance mail send`.

Against a real SMTP server on loopback (aiosmtpd, tests/smtp.py), on SQLite and PostgreSQL.
"""

import re
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from app import mail, worker
from app.auth import forgot
from app.mail_cli import mail_commands
from app.models import OutgoingMail, User
from app.models.types import utcnow
from app.services import account_data, mail_outbox
from tests.conftest import PASSWORD
from tests.smtp import SENDER, Inbox, free_port


class PickyInbox(Inbox):
    """An inbox whose server refuses, for good, every address at refused.example; and can be made slow."""

    delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's hook)
        """Refuse addresses at refused.example with 550; accept the others."""
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook)
        """Keep the message, after a pause when the test wants the senders to overlap."""
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


class Server:
    """An SMTP server on a fixed port that the test starts (and may stop) when it wants."""

    def __init__(self):
        self.port = free_port()
        self.inbox = PickyInbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen (again) on the port."""
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def server():
    """A mail server that is down until the test starts it."""
    made = Server()
    yield made
    made.stop()


@pytest.fixture
def app_settings(app_settings, server):
    """Mail pointed at the test's server; retries wait 60 s, doubling up to an hour."""
    return {
        **app_settings,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": server.port,
        "MAIL_DEFAULT_SENDER": SENDER,
        "MAIL_RETRY_BASE": 60,
        "MAIL_RETRY_MAX": 3600,
    }


def rows(db) -> list[OutgoingMail]:
    """The outbox, read fresh, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def ask_for_reset(client, email: str):
    """Ask for a password reset link and wait for the mail's background thread."""
    response = client.post("/auth/forgot-password", data={"email": email})
    forgot.wait_for_mail()
    assert response.status_code == 200, response.text[:300]
    return response


def reset_path(message) -> str:
    """The one-time link's path in a received reset mail."""
    match = re.search(r"(/auth/set-password/[A-Za-z0-9_-]+)\s", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def make_due(db) -> None:
    """Let the back-off pass, as if the time had come."""
    db.session.execute(update(OutgoingMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_reset_mail_arrives_once_and_leaves_no_row(client, db, auth, server):
    server.start()
    auth.create("student", email="lee@example.org", name="Lee")
    ask_for_reset(client, "lee@example.org")
    (message,) = server.inbox.messages
    assert message["To"] == "lee@example.org" and message["Subject"] == forgot.SUBJECT
    assert rows(db) == []  # the body held a one-time link: nothing of it stays
    assert mail_outbox.send_due().sent == 0 and len(server.inbox.messages) == 1


def test_with_the_server_down_the_mail_waits_backs_off_and_the_command_sends_it_once(app, client, db, auth, server):
    auth.create("student", email="lee@example.org", name="Lee")
    before = utcnow()
    page = ask_for_reset(client, "lee@example.org")
    assert "Check your email" in page.text  # the same answer as ever: the page says nothing of the failure
    (row,) = rows(db)
    assert row.recipient == "lee@example.org" and row.purpose == "password-reset" and row.attempts == 1
    assert row.lease_token is None and row.refused_at is None and "ConnectionRefusedError" in row.last_error
    assert timedelta(seconds=59) <= row.next_attempt_at - before <= timedelta(seconds=70)
    assert timedelta(minutes=59) <= row.expires_at - before <= timedelta(minutes=61)  # the link's own hour

    assert mail_outbox.send_due().sent == 0  # not due yet: nothing is tried
    later = row.next_attempt_at + timedelta(seconds=1)
    failed = mail_outbox.send_due(clock=lambda: later)
    assert (failed.sent, failed.failed) == (0, 1) and "ConnectionRefusedError" in failed.errors[0]
    (row,) = rows(db)
    assert row.attempts == 2 and row.next_attempt_at - later == timedelta(seconds=120)  # doubled

    server.start()
    make_due(db)
    result = app.test_cli_runner().invoke(mail_commands, ["send"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 emails; refused 0; 0 to retry later." in result.output
    (message,) = server.inbox.messages
    assert client.get(reset_path(message)).status_code == 200  # the link mailed late still works
    assert rows(db) == []
    again = app.test_cli_runner().invoke(mail_commands, ["send"])
    assert "Sent 0 emails" in again.output and len(server.inbox.messages) == 1


def test_one_worker_pass_sends_what_waits(app, client, db, auth, server):
    auth.create("student", email="lee@example.org", name="Lee")
    ask_for_reset(client, "lee@example.org")
    assert len(rows(db)) == 1 and server.inbox.messages == []
    server.start()
    make_due(db)
    ready, off = worker.enabled_drainers(app, ("mail",))
    assert [d.name for d in ready] == ["mail"] and off == []
    stop, said = threading.Event(), []

    def say(line: str) -> None:
        said.append(line)
        stop.set()

    runner = threading.Thread(target=worker.run, args=(app, ready, stop), kwargs={"interval": 0.1, "say": say})
    runner.start()
    runner.join(30)
    assert said == ["mail: sent 1, refused 0, 0 to retry later."]
    assert len(server.inbox.messages) == 1 and rows(db) == []


def test_the_worker_says_why_mail_is_off_without_a_mail_server(app):
    app.config["MAIL_SERVER"] = ""
    ready, off = worker.enabled_drainers(app, ("mail",))
    assert ready == [] and off == [
        "mail: no mail server is configured: set ALLIANCE_MAIL_SERVER (and ALLIANCE_MAIL_SENDER, ALLIANCE_SITE_URL)."
    ]
    result = app.test_cli_runner().invoke(mail_commands, ["send"])
    assert result.exit_code == 2 and "Nothing can be sent: no mail server is configured" in result.output


def test_a_second_request_replaces_the_waiting_mail_so_only_the_working_link_arrives(client, db, auth, server):
    auth.create("student", email="lee@example.org", name="Lee")
    ask_for_reset(client, "lee@example.org")
    ask_for_reset(client, "lee@example.org")
    assert len(rows(db)) == 1
    server.start()
    make_due(db)
    assert mail_outbox.send_due().sent == 1
    (message,) = server.inbox.messages
    assert client.get(reset_path(message)).status_code == 200


def test_mail_whose_link_expired_is_dropped_unsent(client, db, auth, server):
    auth.create("student", email="lee@example.org", name="Lee")
    ask_for_reset(client, "lee@example.org")
    server.start()
    (row,) = rows(db)
    summary = mail_outbox.send_due(clock=lambda: row.expires_at + timedelta(seconds=1))
    assert (summary.sent, summary.expired) == (0, 1) and "Dropped 1 whose link had expired." in summary.line()
    assert rows(db) == [] and server.inbox.messages == []


def _queue(db, count: int) -> list[str]:
    """`count` messages waiting for one account, each with its own subject; the subjects."""
    user = User(email="many@example.org", display_name="Many", password_hash="x", role="student")
    db.session.add(user)
    db.session.commit()
    now = utcnow()
    subjects = [f"Message {n}" for n in range(count)]
    db.session.add_all(
        OutgoingMail(user_id=user.id, recipient=user.email, subject=s, body=s, purpose="test", next_attempt_at=now)
        for s in subjects
    )
    db.session.commit()
    return subjects


def test_two_drainers_racing_send_each_message_exactly_once(app, db, server):
    app.config["MAIL_BATCH_SIZE"] = 3
    subjects = _queue(db, 24)
    server.inbox.delay = 0.01  # each send takes a moment, so the two senders' batches overlap
    server.start()
    results, failures, go = [], [], threading.Barrier(2)

    def drain() -> None:
        try:
            with app.app_context():
                go.wait(10)
                results.append(mail_outbox.send_due())
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    received = sorted(m["Subject"] for m in server.inbox.messages)
    assert received == sorted(subjects)  # every one, none twice
    assert sum(r.sent for r in results) == 24 and all(r.sent for r in results)  # both took part
    assert rows(db) == []


def test_a_refused_address_is_kept_without_its_body_and_never_tried_again(app, client, db, server):
    server.start()
    data = {"email": "gone@refused.example", "display_name": "Gone", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post("/auth/sign-up", data=data).status_code == 302
    assert "We could not send the email to verify your address just now." in client.get("/learn/").text
    (row,) = rows(db)
    assert row.refused_at is not None and row.body == "" and row.lease_token is None and row.attempts == 1
    assert "550" in row.last_error and "refused the address" in row.last_error
    summary = mail_outbox.send_due(clock=lambda: utcnow() + timedelta(days=30))
    assert (summary.sent, summary.failed, summary.refused) == (0, 0, 0)
    assert rows(db)[0].attempts == 1 and server.inbox.messages == []

    listed = app.test_cli_runner().invoke(mail_commands, ["list", "--refused"])
    assert listed.exit_code == 0 and "0 waiting, 1 refused for good." in listed.output
    assert "verify-email\tgone@refused.example" in listed.output and "550" in listed.output
    assert "verify-email" not in app.test_cli_runner().invoke(mail_commands, ["list", "--waiting"]).output
    forgotten = app.test_cli_runner().invoke(mail_commands, ["forget", str(row.id)])
    assert forgotten.exit_code == 0 and f"Message {row.id} is deleted" in forgotten.output
    assert rows(db) == []


def test_a_refusal_in_a_batch_does_not_stop_the_rest(db, server):
    user = User(email="x@refused.example", display_name="X", password_hash="x", role="student")
    db.session.add(user)
    db.session.commit()
    for address in ("x@refused.example", "ok@example.org"):
        db.session.add(OutgoingMail(user_id=user.id, recipient=address, subject="Hi", body="Hi", purpose="test"))
    db.session.commit()
    server.start()
    summary = mail_outbox.send_due()
    assert (summary.sent, summary.refused, summary.failed) == (1, 1, 0)
    assert [m["To"] for m in server.inbox.messages] == ["ok@example.org"]


def test_deleting_the_account_deletes_its_waiting_mail(client, db, auth, server):
    user = auth.create("student", email="lee@example.org", name="Lee")
    other = auth.create("student", email="other@example.org", name="Other")
    ask_for_reset(client, "lee@example.org")
    ask_for_reset(client, "other@example.org")
    assert len(rows(db)) == 2
    account_data.delete(db.session.get(User, user.id))
    db.session.commit()
    assert [row.user_id for row in rows(db)] == [other.id]
    server.start()
    make_due(db)
    mail_outbox.send_due()
    assert [m["To"] for m in server.inbox.messages] == ["other@example.org"]


def test_a_failed_confirmation_of_a_new_address_is_not_kept(client, db, auth, server):
    auth.create("student", email="lee@example.org", name="Lee")
    auth.sign_in("lee@example.org")
    client.post("/auth/account/email", data={"email": "new@example.org", "password": PASSWORD})
    page = client.get("/auth/account").text
    assert "We could not send the email to your new address just now" in page
    assert rows(db) == []  # the change was cancelled: a later copy would carry a dead link


def test_the_command_line_explains_bad_arguments(app, db):
    runner = app.test_cli_runner()
    for args, message in [
        (["list", "--limit", "0"], "Invalid value for '--limit': 0 is not in the range 1<=x<=10000."),
        (["list", "--limit", "many"], "Invalid value for '--limit': 'many' is not a valid integer range."),
        (["forget", "abc"], "Invalid value for 'ID': 'abc' is not a valid integer range."),
        (["forget", "0"], "Invalid value for 'ID': 0 is not in the range 1<=x<=2147483647."),
        (["forget", "12345"], "Invalid value for ID: no message 12345 is in the outbox"),
        (["forget"], "Missing argument 'ID'."),
        (["send", "now"], "Got unexpected extra argument (now)"),
    ]:
        result = runner.invoke(mail_commands, args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_the_list_shows_what_waits_without_bodies(app, client, db, auth, server):
    auth.create("student", email="lee@example.org", name="Lee")
    ask_for_reset(client, "lee@example.org")
    result = app.test_cli_runner().invoke(mail_commands, ["list"])
    assert result.exit_code == 0 and result.output.startswith("1 waiting, 0 refused for good.\n")
    line = result.output.splitlines()[1]
    assert "\tpassword-reset\tlee@example.org\t" in line and "1 tries\tnext try " in line and "dropped at" in line
    assert "set-password" not in result.output and "Hello" not in result.output


def test_queueing_does_not_touch_the_callers_session(app, db, auth, server):
    """The row is written in its own transaction: the caller's pending changes are neither committed nor lost."""
    server.start()
    user = auth.create("student", email="lee@example.org", name="Lee")
    user.display_name = "Not yet saved"
    mail.send(user.email, "Hello", "Hi", user_id=user.id, purpose="test")
    assert len(server.inbox.messages) == 1
    assert db.session.execute(select(func.count(OutgoingMail.id))).scalar() == 0
    db.session.rollback()
    assert db.session.get(User, user.id).display_name == "Lee"


def test_a_message_another_sender_holds_is_left_alone(app, db, server):
    """A sender never settles a row another sender holds now (its lease token is checked)."""
    subjects = _queue(db, 2)
    server.start()
    with app.app_context():
        token = mail_outbox.outbox.claim(OutgoingMail, mail_outbox._due(utcnow()), 1, timedelta(minutes=5), utcnow())
        db.session.commit()
    started = time.monotonic()
    summary = mail_outbox.send_due()
    assert summary.sent == 1 and time.monotonic() - started < 10
    assert [m["Subject"] for m in server.inbox.messages] == [subjects[1]]
    (held,) = rows(db)
    assert held.lease_token == token and held.subject == subjects[0]
