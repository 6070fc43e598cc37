"""Password guessing is slowed down: sign-in attempts are limited per address."""

import pytest


@pytest.fixture
def app_settings(app_settings):
    """Settings with rate limiting on, at a small limit."""
    return {**app_settings, "RATELIMIT_ENABLED": True, "SIGN_IN_RATE_LIMIT": "3 per minute"}


def test_too_many_sign_in_attempts_are_refused_politely(client, auth):
    auth.create("student")
    for _ in range(3):
        assert auth.sign_in(password="wrong password!").status_code == 422
    refused = auth.sign_in()
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text and "Wait a minute" in refused.text
    assert client.get("/auth/sign-in").status_code == 200  # reading the form is never limited
