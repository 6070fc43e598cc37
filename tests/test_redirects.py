"""After signing in or up, people land where they were going, but only on a page of this site."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import PASSWORD
from tests.test_auth import _set_cookies, is_signed_in, sign_up_data

SAME_SITE = ["/learn/progress", "/learn/modules/{module}", "/learn/progress?tab=1"]
ELSEWHERE = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "learn/progress",
]


@pytest.mark.parametrize("target", SAME_SITE)
def test_sign_in_follows_next_to_a_page_of_this_site(client, auth, catalog, target):
    auth.create("student")
    target = target.format(module=catalog.modules[0].id)
    credentials = {"email": "student@example.org", "password": PASSWORD}
    response = client.post("/auth/sign-in", query_string={"next": target}, data=credentials)
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", ELSEWHERE)
def test_sign_in_ignores_next_pointing_elsewhere(client, auth, target):
    auth.create("student")
    credentials = {"email": "student@example.org", "password": PASSWORD}
    response = client.post("/auth/sign-in", query_string={"next": target}, data=credentials)
    assert response.status_code == 302
    assert response.headers["Location"] == "/learn/"
    # already signed in, the sign-in page sends people on, but not elsewhere either
    again = client.get("/auth/sign-in", query_string={"next": target})
    assert again.headers["Location"] == "/learn/"


@pytest.mark.parametrize("target, lands", [("/learn/progress", "/learn/progress"), ("//evil.example", "/learn/")])
def test_sign_up_follows_next_only_within_the_site(client, target, lands):
    response = client.post("/auth/sign-up", query_string={"next": target}, data=sign_up_data())
    assert response.headers["Location"] == lands


# A line break in `next` used to reach the Location header and give a 500 (the header cannot hold one).
LINE_BREAKS = ["/learn/%0d%0aSet-Cookie:x", "/learn/%0aSet-Cookie:x", "/learn/%0d", "/learn/%09progress", "/learn/%7f"]


@pytest.mark.parametrize("target", LINE_BREAKS)
def test_sign_in_with_a_control_character_in_next_lands_on_the_home_page(client, auth, target):
    auth.create("student")
    credentials = {"email": "student@example.org", "password": PASSWORD}
    response = client.post(f"/auth/sign-in?next={target}", data=credentials)
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    assert "x=" not in _set_cookies(response) and "Set-Cookie" not in response.headers["Location"]
    assert is_signed_in(client)
    again = client.get(f"/auth/sign-in?next={target}")  # signed in already: sent on, to the same safe page
    assert again.status_code == 302 and again.headers["Location"] == "/learn/"


@pytest.mark.parametrize("target", LINE_BREAKS)
def test_sign_up_with_a_control_character_in_next_lands_on_the_home_page(client, target):
    response = client.post(f"/auth/sign-up?next={target}", data=sign_up_data())
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    assert is_signed_in(client)


def test_a_page_opened_while_signed_out_leads_to_sign_in_and_back(client, auth):
    auth.create("student")
    response = client.get("/learn/progress")
    assert response.status_code == 302
    sign_in_url = response.headers["Location"]
    assert urlsplit(sign_in_url).path == "/auth/sign-in"
    assert parse_qs(urlsplit(sign_in_url).query) == {"next": ["/learn/progress"]}
    page = client.get(sign_in_url)
    assert "Please sign in to see that page." in page.text
    back = client.post(sign_in_url, data={"email": "student@example.org", "password": PASSWORD})
    assert back.headers["Location"] == "/learn/progress"
    assert "<h1>My progress</h1>" in client.get("/learn/progress").text
