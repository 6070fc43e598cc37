"""Password guessing is slowed down: sign-in attempts are limited per address."""

import pytest


@pytest.fixture
def app_settings(app_settings):
    """Settings with rate limiting on, at a small limit."""
    return {
        **app_settings,
        "RATELIMIT_ENABLED": True,
        "SIGN_IN_RATE_LIMIT": "3 per minute",
        "ADDRESS_RATE_LIMIT": "6 per minute",
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


def test_guessing_at_one_account_leaves_other_accounts_alone_until_the_address_limit(client, auth):
    auth.create("student", email="target@example.org")
    other = auth.create("student", email="other@example.org")
    for _ in range(3):
        auth.sign_in("target@example.org", "wrong password!")
    assert auth.sign_in("target@example.org").status_code == 429
    assert auth.sign_in(other.email, "wrong password!").status_code == 422
    assert auth.sign_in(other.email).status_code == 302
    auth.sign_out()
    # Refusals count too: the sixth failure from this address uses up its budget for everyone.
    assert auth.sign_in(other.email, "wrong password!").status_code == 422
    assert auth.sign_in(other.email).status_code == 429
