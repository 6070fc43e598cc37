"""Under the real Content-Security-Policy the pages load their stylesheet and break no rule."""

import pytest


@pytest.mark.browser
def test_pages_break_no_content_security_rule(browser, live_server):
    context = browser.new_context(base_url=live_server.url)  # no CSP bypass here
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    for path in ("/", "/auth/sign-up", "/auth/sign-in"):
        page.goto(path)
        header = page.get_by_role("banner")
        # The stylesheet applied: the banner has the app's dark background, not the default.
        assert header.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(8, 63, 85)"
    context.close()
    assert violations == []
