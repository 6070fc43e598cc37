"""Passwords: easily guessed ones are refused everywhere one is chosen; sign-in time does not tell accounts apart."""

import argon2._password_hasher as argon2_hasher
import pytest
from markupsafe import escape
from sqlalchemy import select

from app.cli import cli
from app.models import User
from app.services import accounts, password_links
from tests.conftest import PASSWORD

NO_MATCH = "That email and password do not match an account. Check both and try again."
STRONG = "brisk walrus topaz"

# (password, what the refusal says); each is at least 10 characters, so only its strength is judged.
WEAK = {
    "very common": ("password1234", "This is a very common password."),
    "top 100": ("qwertyuiop", "This is a top-100 common password."),
    "repeats": ("abcabcabcabc", "Repeats like"),
    "keyboard row": ("1qaz2wsx3edc", "Choose a password that is harder to guess."),
}


def _error(response, message: str) -> bool:
    return str(escape(message)) in response.text


def test_the_suites_shared_password_is_strong_enough():
    assert accounts.password_problem(PASSWORD, "student@example.org", "Student") is None


@pytest.mark.parametrize("password, message", WEAK.values(), ids=WEAK.keys())
def test_sign_up_refuses_an_easily_guessed_password_and_says_why(client, db, password, message):
    data = {"email": "new@example.org", "display_name": "New Person", "password": password, "confirm": password}
    response = client.post("/auth/sign-up", data=data)
    assert response.status_code == 422
    assert _error(response, "Choose a password that is harder to guess.") and _error(response, message)
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None


@pytest.mark.parametrize(
    "password",
    ["maria.gonzalez@example.org", "Maria Gonzalez", "mariagonzalez1", "MariaGonzalez"],
)
def test_sign_up_refuses_a_password_made_of_the_email_or_name(client, db, password):
    data = {"email": "maria.gonzalez@example.org", "display_name": "Maria Gonzalez", "password": password}
    response = client.post("/auth/sign-up", data=data | {"confirm": password})
    assert response.status_code == 422 and _error(response, "Choose a password that is harder to guess.")


def test_a_refusal_always_says_what_to_do(app):
    with app.app_context():
        for password in ("mariagonzalez1", "password1234", "abcabcabcabc", "1qaz2wsx3edc"):
            problem = accounts.password_problem(password, "maria.gonzalez@example.org", "Maria Gonzalez")
            assert problem and problem.startswith("Choose a password that is harder to guess. ")
            assert len(problem.rstrip(".").split(". ")) >= 3, problem  # why, and a suggestion, each a sentence


def test_only_the_first_hundred_characters_are_judged(app, client, monkeypatch):
    judged = []
    import zxcvbn  # loaded by the first password judged (app/services/accounts.py imports it there)

    real = zxcvbn.zxcvbn
    monkeypatch.setattr(zxcvbn, "zxcvbn", lambda password, **kw: judged.append(password) or real(password, **kw))
    longest = ("quiet orchard lantern " * 12)[:256]
    data = {"email": "long@example.org", "display_name": "Long", "password": longest, "confirm": longest}
    assert client.post("/auth/sign-up", data=data).status_code == 302
    assert judged == [longest[:100]]


def test_a_set_password_link_refuses_an_easily_guessed_password(client, db, auth):
    user = auth.create("student", email="imported@example.org", name="Imported Person")
    user.password_hash = password_links.unusable_password()
    token = password_links.make(user.id, None)
    db.session.commit()
    weak = client.post(f"/auth/set-password/{token}", data={"password": "password1234", "confirm": "password1234"})
    assert weak.status_code == 422 and _error(weak, "This is a very common password.")
    own = client.post(f"/auth/set-password/{token}", data={"password": "imported person", "confirm": "imported person"})
    assert own.status_code == 422 and _error(own, "Choose a password that is harder to guess.")
    assert client.post(f"/auth/set-password/{token}", data={"password": STRONG, "confirm": STRONG}).status_code == 302


def test_changing_the_password_refuses_an_easily_guessed_one(client, auth):
    auth.as_role("student")
    data = {"current_password": PASSWORD, "password": "password1234", "confirm": "password1234"}
    response = client.post("/auth/account/password", data=data)
    assert response.status_code == 422 and _error(response, "This is a very common password.")


def test_the_cli_refuses_an_easily_guessed_password(app, db):
    runner = app.test_cli_runner()
    args = ["users", "create", "--email", "admin@example.org", "--name", "Ada Admin", "--role", "admin"]
    weak = runner.invoke(cli, [*args, "--password-file", "-"], input="password1234\n")
    assert weak.exit_code == 1 and "This is a very common password." in weak.output
    assert db.session.scalar(select(User).where(User.email == "admin@example.org")) is None
    made = runner.invoke(cli, [*args, "--password-file", "-"], input=f"{STRONG}\n")
    assert made.exit_code == 0, made.output
    assert db.session.scalar(select(User.role).where(User.email == "admin@example.org")) == "admin"


# --- sign-in takes the same work whatever the case


@pytest.fixture
def argon2_verifications(monkeypatch) -> list[int]:
    """Counts the real argon2 verifications (argon2's own computation, not the parsing before it)."""
    calls: list[int] = []
    real = argon2_hasher.verify_secret
    monkeypatch.setattr(argon2_hasher, "verify_secret", lambda *args: calls.append(1) or real(*args))
    return calls


def test_every_sign_in_runs_exactly_one_argon2_verification(client, db, auth, argon2_verifications):
    auth.create("student")
    imported = auth.create("student", email="imported@example.org")
    imported.password_hash = password_links.unusable_password()  # made from a class list, no password yet
    db.session.commit()
    cases = {
        "missing account": ("nobody@example.org", PASSWORD, 422),
        "imported account without a password": ("imported@example.org", PASSWORD, 422),
        "wrong password": ("student@example.org", "not the password", 422),
        "right password": ("student@example.org", PASSWORD, 302),
    }
    for case, (email, password, status) in cases.items():
        argon2_verifications.clear()
        response = client.post("/auth/sign-in", data={"email": email, "password": password})
        assert response.status_code == status, case
        assert len(argon2_verifications) == 1, case
        if status == 422:
            assert NO_MATCH in response.text
        else:
            client.post("/auth/sign-out")


def test_a_site_hashes_with_the_memory_hard_profile_unless_told_otherwise(app_settings, db, monkeypatch, tmp_path):
    # The suites choose argon2's cheapest parameters for speed; a real site must not inherit that.
    from app import create_app

    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path / "site"))
    site = create_app({key: value for key, value in app_settings.items() if key != "ARGON2_PROFILE"})
    with site.app_context():
        accounts.create_user("site@example.org", "Site", STRONG)
        site.extensions["sqlalchemy"].session.commit()
    stored = db.session.scalar(select(User.password_hash).where(User.email == "site@example.org"))
    assert site.config["ARGON2_PROFILE"] == "RFC_9106_LOW_MEMORY"
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
