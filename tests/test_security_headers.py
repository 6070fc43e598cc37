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
