"""Every response tells the browser to run only our own scripts and never frame the page."""

import pytest


@pytest.mark.parametrize("path", ["/", "/auth/sign-in", "/no-such-page", "/static/alliance.css"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client, auth):
    auth.as_role("student")
    for path in ("/learn/", "/learn/progress", "/learn/modules/bordin-components"):
        page = client.get(path).text
        assert "<script" not in page and "style=" not in page and "<style" not in page


# --- devices, HTTPS and caches


@pytest.mark.parametrize("path", ["/", "/auth/sign-in", "/no-such-page", "/static/alliance.css"])
def test_every_response_denies_devices_and_payments(client, path):
    policy = client.get(path).headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "display-capture"):
        assert f"{feature}=()" in policy


def test_no_strict_transport_security_without_the_https_proxy(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


class TestBehindTheProxy:
    """Served behind the TLS-terminating proxy (ALLIANCE_BEHIND_PROXY)."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """The proxy setting on."""
        return {**app_settings, "BEHIND_PROXY": True}

    @pytest.mark.parametrize("path", ["/", "/auth/sign-in", "/no-such-page", "/static/alliance.css"])
    def test_browsers_are_told_to_use_https_for_a_year(self, client, path):
        response = client.get(path, headers={"X-Forwarded-Proto": "https"})
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def _stored(response) -> bool:
    """Whether a browser or proxy may keep a copy of the response."""
    return "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/auth/sign-in", "/auth/sign-up"])
def test_a_page_with_a_form_is_never_stored_by_a_cache(client, path):
    response = client.get(path)
    assert response.status_code == 200 and "<form" in response.text
    assert not _stored(response)


def test_pages_without_personal_data_keep_their_caching(client):
    assert _stored(client.get("/"))  # the public home page, no form on it
    static = client.get("/static/alliance.css")
    assert static.status_code == 200 and _stored(static)


def test_every_response_to_a_signed_in_person_is_never_stored(client, auth):
    auth.as_role("student")
    for path in ("/learn/", "/learn/progress", "/auth/account", "/no-such-page", "/"):
        response = client.get(path)
        assert not _stored(response), path
    assert _stored(client.get("/static/alliance.css"))  # the same file for everyone


class TestWithCsrfTokens:
    """As in production: forms carry a CSRF token tied to the visitor's session."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """CSRF protection on."""
        return {**app_settings, "WTF_CSRF_ENABLED": True}

    def test_a_page_carrying_a_csrf_token_is_never_stored(self, client):
        response = client.get("/auth/sign-in")
        assert 'name="csrf_token"' in response.text
        assert response.headers["Cache-Control"] == "no-store"
