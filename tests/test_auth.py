"""Accounts through the real forms: sign up, sign in, remember me, sign out, CSRF, password storage."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import ItemResponse, LessonProgress, QuizAttempt, User
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import answers_by_grade

NO_MATCH = "That email and password do not match an account. Check both and try again."


def sign_up_data(**changes) -> dict:
    """A valid sign-up form, with some fields changed."""
    data = {"email": "new.person@example.org", "display_name": "New Person", "password": PASSWORD, "confirm": PASSWORD}
    data.update(changes)
    return data


def is_signed_in(client) -> bool:
    """Whether the client's cookies open My learning (rather than being sent to sign in)."""
    response = client.get("/learn/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def user_count(db) -> int:
    """How many accounts exist."""
    return db.session.scalar(select(func.count()).select_from(User))


def error_summary(html: str) -> str:
    """The error summary box of a form page."""
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def input_value(html: str, name: str) -> str | None:
    """The value a form input shows, or None when it has none."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    assert tag, f"no input named {name}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


# --- sign up


def test_sign_up_creates_a_signed_in_student_who_lands_on_my_learning(client, db):
    assert "<h1>Create an account</h1>" in client.get("/auth/sign-up").text
    response = client.post("/auth/sign-up", data=sign_up_data(email="New.Person@Example.ORG"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/learn/"
    home = client.get("/learn/")
    assert "<h1>My learning</h1>" in home.text
    assert "Welcome, New Person. Your account is ready." in home.text
    assert '<li class="who">New Person' in home.text
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert user is not None and user.role == "student" and user.display_name == "New Person"
    assert db.session.scalar(select(User).where(User.email == "New.Person@Example.ORG")) is None


def test_an_email_signed_up_in_mixed_case_signs_in_in_any_case(client, auth):
    client.post("/auth/sign-up", data=sign_up_data(email="New.Person@Example.ORG"))
    auth.sign_out()
    assert not is_signed_in(client)
    assert auth.sign_in("NEW.PERSON@example.org").headers["Location"] == "/learn/"
    assert is_signed_in(client)


TAKEN = "taken@example.org"
SIGN_UP_ERRORS = {
    "all missing": (
        dict(email="", display_name="", password="", confirm=""),
        [
            "Enter your email address.",
            "Enter the name to show in the app.",
            "Choose a password.",
            "Repeat the password.",
        ],
    ),
    "email missing": (dict(email=""), ["Enter your email address."]),
    "name missing": (dict(display_name=""), ["Enter the name to show in the app."]),
    "name only spaces": (dict(display_name="   "), ["Enter the name to show in the app."]),
    "password missing": (dict(password="", confirm=""), ["Choose a password.", "Repeat the password."]),
    "confirmation missing": (dict(confirm=""), ["Repeat the password."]),
    "invalid email": (dict(email="not-an-email"), ["Enter a valid email address, like name@example.org."]),
    "email without domain": (dict(email="someone@"), ["Enter a valid email address, like name@example.org."]),
    "email with two @": (dict(email="two@@example.org"), ["Enter a valid email address, like name@example.org."]),
    "password too short": (dict(password="nine chrs", confirm="nine chrs"), ["Use at least 10 characters."]),
    "passwords differ": (dict(confirm=PASSWORD + "!"), ["The two passwords differ."]),
    "email already used": (
        dict(email=TAKEN),
        ["An account with this email already exists. Sign in instead, or use another email."],
    ),
    "email already used, other case": (
        dict(email="Taken@EXAMPLE.org"),
        ["An account with this email already exists. Sign in instead, or use another email."],
    ),
    "name too long": (dict(display_name="N" * 101), ["Keep your name under 100 characters."]),
    "password too long": (dict(password="p" * 257, confirm="p" * 257), ["Use at most 256 characters."]),
}


@pytest.mark.parametrize("changes, messages", SIGN_UP_ERRORS.values(), ids=SIGN_UP_ERRORS.keys())
def test_bad_sign_up_input_is_refused_with_a_clear_message_and_the_typed_values_kept(
    client, db, auth, changes, messages
):
    auth.create("student", email=TAKEN, name="Already Here")
    before = user_count(db)
    data = sign_up_data(**changes)
    response = client.post("/auth/sign-up", data=data)
    assert response.status_code == 422
    assert "<title>Error: Create an account" in response.text
    summary = error_summary(response.text)
    for message in messages:
        assert str(escape(message)) in summary
    assert (input_value(response.text, "email") or "") == str(escape(data["email"]))
    assert (input_value(response.text, "display_name") or "") == str(escape(data["display_name"]))
    assert not input_value(response.text, "password") and not input_value(response.text, "confirm")
    assert user_count(db) == before
    assert not is_signed_in(client)


LONGEST = ("quiet orchard lantern " * 12)[:256]


@pytest.mark.parametrize(
    "changes",
    [
        dict(password="Tq8#vLm2@z", confirm="Tq8#vLm2@z"),
        dict(password=LONGEST, confirm=LONGEST),
        dict(display_name="N" * 100),
    ],
    ids=["10-character password", "256-character password", "100-character name"],
)
def test_sign_up_accepts_values_at_the_limits(client, db, changes):
    response = client.post("/auth/sign-up", data=sign_up_data(**changes))
    assert response.headers.get("Location") == "/learn/", response.text[:500]
    assert user_count(db) == 1
    assert is_signed_in(client)


def test_passwords_are_stored_as_argon2_hashes_never_in_plain_text(client, db, auth):
    client.post("/auth/sign-up", data=sign_up_data(email="one@example.org"))
    auth.sign_out()
    client.post("/auth/sign-up", data=sign_up_data(email="two@example.org"))
    auth.sign_out()
    users = db.session.execute(select(User.__table__)).mappings().all()
    assert len(users) == 2
    for row in users:
        assert row["password_hash"].startswith("$argon2")
        assert all(PASSWORD not in str(value) for value in row.values()), "the password is stored readable"
    assert users[0]["password_hash"] != users[1]["password_hash"], "the same password must hash differently (salt)"
    assert auth.sign_in("one@example.org").headers["Location"] == "/learn/"  # the stored hash verifies


# --- sign in


@pytest.mark.parametrize(
    "typed", ["student@example.org", "  Student@Example.ORG  "], ids=["as stored", "cased, spaced"]
)
def test_sign_in_with_the_right_password_lands_on_my_learning(client, db, auth, typed):
    user = auth.create("student", name="Sam Student")
    assert "<h1>Sign in</h1>" in client.get("/auth/sign-in").text
    response = auth.sign_in(typed)
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    home = client.get("/learn/")
    assert "<h1>My learning</h1>" in home.text and '<li class="who">Sam Student' in home.text
    assert db.session.scalar(select(User.last_sign_in_at).where(User.id == user.id)) is not None


def test_wrong_password_and_unknown_email_get_the_same_message(client, auth):
    auth.create("student")
    wrong_password = auth.sign_in("student@example.org", "not the password at all")
    unknown_email = auth.sign_in("nobody@example.org", PASSWORD)
    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert NO_MATCH in error_summary(response.text)
    assert error_summary(wrong_password.text) == error_summary(unknown_email.text)
    for response in (wrong_password, unknown_email):
        text = response.text.lower()
        assert "no account with" not in text and "wrong password" not in text and "incorrect password" not in text
    assert input_value(wrong_password.text, "email") == "student@example.org"
    assert not input_value(wrong_password.text, "password")
    assert not is_signed_in(client)


def test_missing_sign_in_fields_are_named(client):
    response = client.post("/auth/sign-in", data={"email": "", "password": ""})
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert "Enter your email address." in summary and "Enter your password." in summary


def _set_cookies(response) -> str:
    """All Set-Cookie headers of a response, joined."""
    return "\n".join(response.headers.getlist("Set-Cookie"))


def test_keep_me_signed_in_sets_a_remember_cookie_that_outlives_the_session(client, auth):
    auth.create("student")
    response = client.post(
        "/auth/sign-in", data={"email": "student@example.org", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    remember = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert "HttpOnly" in remember
    client.delete_cookie("session")  # the browser was closed
    assert is_signed_in(client)


def test_without_keep_me_signed_in_there_is_no_remember_cookie(client, auth):
    auth.create("student")
    response = client.post("/auth/sign-in", data={"email": "student@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert "remember_token" not in _set_cookies(response)
    assert is_signed_in(client)
    client.delete_cookie("session")  # the browser was closed
    assert not is_signed_in(client)


# --- sign out


def test_sign_out_is_post_only(client, auth):
    auth.as_role("student")
    response = client.get("/auth/sign-out")
    assert response.status_code == 405
    assert is_signed_in(client)


def test_sign_out_signs_out_and_says_so(client, auth):
    auth.as_role("student")
    response = client.post("/auth/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    landing = client.get("/")
    assert landing.status_code == 200 and "You are signed out." in landing.text
    assert 'href="/auth/sign-in">Sign in</a>' in landing.text
    assert not is_signed_in(client)


def test_sign_out_also_forgets_the_remember_cookie(client, auth):
    auth.create("student")
    client.post("/auth/sign-in", data={"email": "student@example.org", "password": PASSWORD, "remember": "y"})
    client.post("/auth/sign-out")
    client.delete_cookie("session")
    assert not is_signed_in(client)


# --- CSRF on, as in production


def table_rows(db) -> dict[str, int]:
    """Rows per table, to show that a refused request wrote nothing."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in _db.metadata.sorted_tables
    }


class TestWithCsrfProtection:
    """Every state-changing form is refused without its token and works with the token from the page."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """The real setting: CSRF protection on."""
        app_settings["WTF_CSRF_ENABLED"] = True
        return app_settings

    def sign_in(self, client, email: str = "student@example.org") -> None:
        """Sign in through the form, token included."""
        token = csrf_token(client.get("/auth/sign-in").text)
        response = client.post("/auth/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.text[:500]

    def refused(self, client, db, path: str, data: dict) -> None:
        """POST without a token: 400, the friendly "Form expired" page, and no row written anywhere."""
        before = table_rows(db)
        response = client.post(path, data=data)
        assert response.status_code == 400
        assert "<h1>Form expired</h1>" in response.text
        assert "Nothing was saved" in response.text
        assert "Traceback" not in response.text
        assert table_rows(db) == before

    def test_sign_up(self, client, db):
        self.refused(client, db, "/auth/sign-up", sign_up_data())
        assert user_count(db) == 0 and not is_signed_in(client)
        token = csrf_token(client.get("/auth/sign-up").text)
        response = client.post("/auth/sign-up", data={**sign_up_data(), "csrf_token": token})
        assert response.headers["Location"] == "/learn/"
        assert user_count(db) == 1 and is_signed_in(client)

    def test_sign_in(self, client, db, auth):
        user = auth.create("student")
        self.refused(client, db, "/auth/sign-in", {"email": user.email, "password": PASSWORD})
        assert not is_signed_in(client)
        assert db.session.scalar(select(User.last_sign_in_at).where(User.id == user.id)) is None
        self.sign_in(client)
        assert is_signed_in(client)

    def test_sign_out(self, client, db, auth):
        auth.create("student")
        self.sign_in(client)
        self.refused(client, db, "/auth/sign-out", {})
        assert is_signed_in(client)
        token = csrf_token(client.get("/learn/progress").text)
        response = client.post("/auth/sign-out", data={"csrf_token": token})
        assert response.headers["Location"] == "/"
        assert not is_signed_in(client)

    def test_a_token_from_another_visitors_page_is_refused(self, app, client, db, auth):
        auth.create("student")
        self.sign_in(client)
        stolen = csrf_token(app.test_client().get("/auth/sign-in").text)
        response = client.post("/auth/sign-out", data={"csrf_token": stolen})
        assert response.status_code == 400 and "<h1>Form expired</h1>" in response.text
        assert is_signed_in(client)

    def test_lesson_complete(self, client, db, auth, catalog):
        module = catalog.modules[0]
        lesson = module.lessons[0]
        path = f"/learn/modules/{module.id}/lessons/{lesson.id}/complete"
        auth.create("student")
        self.sign_in(client)
        self.refused(client, db, path, {})
        page = client.get(f"/learn/modules/{module.id}/lessons/{lesson.id}").text
        assert db.session.scalar(select(LessonProgress.completed_at)) is None
        response = client.post(path, data={"csrf_token": csrf_token(page)})
        assert response.headers["Location"] == f"/learn/modules/{module.id}/lessons/{module.lessons[1].id}"
        assert db.session.scalar(select(LessonProgress.completed_at)) is not None

    def test_quiz_start(self, client, db, auth, catalog):
        quiz = catalog.quizzes[0]
        auth.create("student")
        self.sign_in(client)
        self.refused(client, db, f"/learn/quizzes/{quiz.id}/attempts", {})
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0
        token = csrf_token(client.get(f"/learn/quizzes/{quiz.id}").text)
        response = client.post(f"/learn/quizzes/{quiz.id}/attempts", data={"csrf_token": token})
        assert re.fullmatch(r"/learn/attempts/\d+", response.headers["Location"])
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1

    def test_quiz_submit(self, client, db, auth, catalog):
        quiz = catalog.quizzes[0]
        answers = answers_by_grade(quiz, "best")
        auth.create("student")
        self.sign_in(client)
        token = csrf_token(client.get(f"/learn/quizzes/{quiz.id}").text)
        attempt_path = client.post(f"/learn/quizzes/{quiz.id}/attempts", data={"csrf_token": token}).headers["Location"]
        self.refused(client, db, attempt_path, answers)
        assert db.session.scalar(select(QuizAttempt.submitted_at)) is None
        assert db.session.scalar(select(func.count()).select_from(ItemResponse)) == 0
        token = csrf_token(client.get(attempt_path).text)
        response = client.post(attempt_path, data={**answers, "csrf_token": token})
        assert response.headers["Location"] == f"{attempt_path}/results"
        assert db.session.scalar(select(QuizAttempt.submitted_at)) is not None
        assert db.session.scalar(select(func.count()).select_from(ItemResponse)) == len(quiz.items)


def test_an_email_typed_with_a_combining_accent_is_the_same_account(db, auth):
    from app.services import accounts

    auth.create("student", email="m\u00fcller@example.org", name="M")
    assert accounts.find_by_email("mu\u0308ller@example.org") is not None
    with pytest.raises(accounts.AccountError):
        accounts.create_user("MU\u0308LLER@example.org", "Again", "correct horse battery")
