"""The admin's account screens: search, pagination, roles, deactivation, the rules that keep an admin, access, CSRF."""

import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from app.extensions import db as _db
from app.models import LessonProgress, QuizAttempt, User
from app.models.types import utcnow
from app.services import admin
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import rows

NO_MATCH = "That email and password do not match an account. Check both and try again."
ROLES = ("anonymous", "student", "educator", "admin")


def sign_in(client, email: str):
    """Sign `client` in through the real form."""
    response = client.post("/auth/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text[:500]
    return response


def second_client(app):
    """Another browser: its own cookies, its own session."""
    return app.test_client()


def fresh(db, user_id: int) -> User:
    """The account as the database holds it now."""
    db.session.expire_all()
    return db.session.get(User, user_id)


def main_text(html: str) -> str:
    """The <main> of a page."""
    return html[html.index("<main") : html.index("</main>")]


def account_names(html: str) -> list[str]:
    """The names in the accounts table, in order."""
    return re.findall(r'<th scope="row"><a href="/admin/users/\d+">([^<]+)</a>', html)


def add_account(db, role: str, email: str, name: str) -> User:
    """An account that never signs in, straight into the database (hashing a password is slow)."""
    user = User(
        email=email, display_name=name, password_hash="not used", role=role, is_active=True, created_at=utcnow()
    )
    db.session.add(user)
    db.session.commit()
    return user


def add_accounts(db, count: int, role: str = "student", prefix: str = "Learner") -> list[User]:
    """Many accounts at once, straight into the database (hashing a password each would be slow)."""
    users = [
        User(
            email=f"{prefix.lower()}{n:03d}@example.org",
            display_name=f"{prefix} {n:03d}",
            password_hash="not used",
            role=role,
            is_active=True,
            created_at=utcnow(),
        )
        for n in range(count)
    ]
    db.session.add_all(users)
    db.session.commit()
    return users


# --- who may open what


def _paths(target: User) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", "/admin/", None),
        ("GET", "/admin/users", None),
        ("GET", f"/admin/users/{target.id}", None),
        ("POST", f"/admin/users/{target.id}/role", {"role": "educator"}),
        ("POST", f"/admin/users/{target.id}/password-link", {}),  # answered with the link, shown once
        ("GET", f"/admin/users/{target.id}/deactivate", None),  # asks first
        ("POST", f"/admin/users/{target.id}/deactivate", {}),
        ("POST", f"/admin/users/{target.id}/reactivate", {}),
        ("GET", "/admin/users/new", None),
        ("POST", "/admin/users/new", {"display_name": "New Person", "email": "new.person@example.org", "role": "student"}),
    ]


#: POSTs answered with a page (it shows a one-time link) rather than a redirect.
_SHOWS_A_LINK = ("/password-link", "/users/new")


def test_every_admin_route_is_covered_here(app):
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    tested = {(re.sub(r"/\d+", "/<int:user_id>", path), method) for method, path, _ in _paths(User(id=1))}
    assert served == tested


@pytest.mark.parametrize("role", ROLES)
def test_each_admin_route_answers_each_role(client, db, auth, role):
    me = auth.as_role(role)
    target = add_account(db, "student", "target@example.org", "Target")
    for method, path, data in _paths(target):
        response = client.open(path, method=method, data=data)
        if role == "anonymous":
            assert response.status_code == 302, (method, path)
            location = urlsplit(response.headers["Location"])
            assert location.path == "/auth/sign-in" and parse_qs(location.query) == {"next": [path]}
        elif role != "admin":
            assert response.status_code == 403, (method, path)
            assert "These pages are for administrators." in response.text
            assert f'<li class="who">{escape(me.display_name)}' in response.text
        elif (method == "GET" and path != "/admin/") or path.endswith(_SHOWS_A_LINK):
            assert response.status_code == 200, (method, path, response.text[:500])
            assert len(re.findall(r"<h1[ >]", response.text)) == 1
        else:
            assert response.status_code == 302, (method, path, response.text[:500])
        if role != "admin":
            target = fresh(db, target.id)
            assert target.role == "student" and target.is_active, f"{method} {path} changed the account"


@pytest.mark.parametrize("path", ["/admin/users/1/role", "/admin/users/1/reactivate", "/admin/users/1/password-link"])
def test_the_changing_routes_do_not_answer_get(client, auth, path):
    auth.as_role("admin")
    response = client.get(path)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_the_admin_home_leads_to_the_accounts(client, auth):
    auth.as_role("admin")
    assert client.get("/admin/").headers["Location"] == "/admin/users"


def test_the_accounts_page_leads_to_the_learning_platforms(client, auth):
    auth.as_role("admin")
    page = client.get("/admin/users").text
    assert '<a href="/lti/platforms/">Learning platforms (LTI 1.3)</a>' in page
    assert client.get("/lti/platforms/").status_code == 200


# --- the list: search, filters, pagination


@pytest.fixture
def people(db, auth):
    """An admin (signed in) and a few accounts of each role, one of them deactivated."""
    me = auth.as_role("admin")
    made = {
        "ada": add_account(db, "student", "ada.lovelace@example.org", "Ada Lovelace"),
        "grace": add_account(db, "educator", "grace@navy.example.org", "Grace Hopper"),
        "alan": add_account(db, "student", "turing@example.org", "Alan Turing"),
        "edsger": add_account(db, "admin", "ewd@example.org", "Edsger Dijkstra"),
        "odd": add_account(db, "student", "percent@example.org", "100% Odd_Name"),
    }
    db.session.execute(update(User).where(User.id == made["alan"].id).values(is_active=False))
    db.session.commit()
    return {"me": me, **made}


SEARCHES = {
    "everyone, by name": (
        {},
        ["100% Odd_Name", "Ada Lovelace", "Admin", "Alan Turing", "Edsger Dijkstra", "Grace Hopper"],
    ),
    "part of a name, any case": ({"q": "LOVE"}, ["Ada Lovelace"]),
    "part of an email, any case": ({"q": "Navy.Example"}, ["Grace Hopper"]),
    "name or email": ({"q": "tur"}, ["Alan Turing"]),
    "spaces around the words": ({"q": "  hopper  "}, ["Grace Hopper"]),
    "a percent sign is only a percent sign": ({"q": "%"}, ["100% Odd_Name"]),
    "an underscore is only an underscore": ({"q": "d_n"}, ["100% Odd_Name"]),
    "by role": ({"role": "admin"}, ["Admin", "Edsger Dijkstra"]),
    "by role and words": ({"role": "student", "q": "a"}, ["100% Odd_Name", "Ada Lovelace", "Alan Turing"]),
    "deactivated only": ({"status": "deactivated"}, ["Alan Turing"]),
    "active students": ({"status": "active", "role": "student"}, ["100% Odd_Name", "Ada Lovelace"]),
    "empty filters are no filters": ({"q": "", "role": "", "status": ""}, None),
}


@pytest.mark.parametrize("query, names", SEARCHES.values(), ids=SEARCHES.keys())
def test_search_by_name_email_role_and_status(client, people, query, names):
    response = client.get("/admin/users", query_string=query)
    assert response.status_code == 200
    expected = names or SEARCHES["everyone, by name"][1]
    assert account_names(response.text) == expected
    count = len(expected)
    assert f"{count} account{'s' if count != 1 else ''}" in response.text


def test_no_match_says_so(client, people):
    response = client.get("/admin/users", query_string={"q": "nobody-like-this"})
    assert response.status_code == 200
    assert "No accounts match" in response.text and "<table" not in response.text
    assert '<a href="/admin/users">show all accounts</a>' in response.text


def test_the_list_shows_role_status_created_and_last_sign_in(client, people):
    html = client.get("/admin/users", query_string={"q": "Turing"}).text
    row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", html, re.S).group(0)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[0] == "turing@example.org"
    assert cells[1:3] == ["Student", "Deactivated"]
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC", cells[3])
    assert cells[4] == "Never"
    me_row = client.get("/admin/users", query_string={"q": "admin@"}).text
    assert "(you)" in me_row and "Never" not in main_text(me_row)


def test_the_search_form_is_labelled_and_keeps_what_was_asked(client, people):
    html = client.get("/admin/users", query_string={"q": "ada", "role": "student", "status": "active"}).text
    for name in ("q", "role", "status"):
        assert re.search(rf'<label for="{name}">[^<]+</label>', html)
    assert re.search(r'<input[^>]*name="q"[^>]*value="ada"', html)
    assert '<option selected value="student">' in html and '<option selected value="active">' in html
    assert '<form method="get"' in html and 'role="search"' in html
    assert "<caption>" in html and '<th scope="col">Last sign-in</th>' in html


BAD_FILTERS = {
    "unknown role": ({"role": "wizard"}, "Choose a role from the list."),
    "unknown status": ({"status": "asleep"}, "Choose active or deactivated."),
    "search too long": ({"q": "x" * 255}, "Search for at most 254 characters."),
}


@pytest.mark.parametrize("query, message", BAD_FILTERS.values(), ids=BAD_FILTERS.keys())
def test_a_bad_filter_is_explained_not_a_crash(client, people, query, message):
    response = client.get("/admin/users", query_string=query)
    assert response.status_code == 422
    assert "<title>Error: Accounts" in response.text
    assert message in response.text
    assert "<table" not in response.text


def test_the_service_refuses_unknown_filters_too(db):
    with pytest.raises(admin.AdminError, match="Unknown role"):
        admin.search_users(role="wizard")
    with pytest.raises(admin.AdminError, match="Unknown status"):
        admin.search_users(status="asleep")


def test_fifty_accounts_to_a_page_with_next_and_previous(client, db, auth):
    auth.as_role("admin")  # "Admin" sorts before "Learner …"
    add_accounts(db, 105)
    first = client.get("/admin/users")
    assert account_names(first.text) == ["Admin"] + [f"Learner {n:03d}" for n in range(49)]
    assert "Accounts 1 to 50 of 106" in first.text and "page 1 of 3" in first.text
    assert 'href="/admin/users?page=2" rel="next">Next page</a>' in first.text
    assert "Previous page" not in first.text

    second = client.get("/admin/users?page=2")
    assert account_names(second.text) == [f"Learner {n:03d}" for n in range(49, 99)]
    assert 'href="/admin/users?page=1" rel="prev">Previous page</a>' in second.text
    assert 'href="/admin/users?page=3" rel="next">Next page</a>' in second.text

    last = client.get("/admin/users?page=3")
    assert account_names(last.text) == [f"Learner {n:03d}" for n in range(99, 105)]
    assert "Accounts 101 to 106 of 106" in last.text and "Next page" not in last.text


def test_pages_keep_the_filters(client, db, auth):
    auth.as_role("admin")
    add_accounts(db, 60, role="educator", prefix="Teacher")
    add_accounts(db, 5, role="student", prefix="Pupil")
    first = client.get("/admin/users", query_string={"role": "educator", "q": "teach"})
    assert "Accounts 1 to 50 of 60" in first.text
    link = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {"page": ["2"], "role": ["educator"], "q": ["teach"]}
    second = client.get(link)
    assert account_names(second.text) == [f"Teacher {n:03d}" for n in range(50, 60)]


@pytest.mark.parametrize("page, shown", [("0", 1), ("-3", 1), ("abc", 1), ("99999999999999999999", 2), ("2", 2)])
def test_a_page_number_out_of_range_shows_the_nearest_page(client, db, auth, page, shown):
    auth.as_role("admin")
    add_accounts(db, 60)
    response = client.get(f"/admin/users?page={page}")
    assert response.status_code == 200
    assert f"page {shown} of 2" in response.text


# --- one account


def test_the_account_page_shows_the_account_and_its_forms(client, db, auth):
    auth.as_role("admin")
    target = add_account(db, "educator", "ed@example.org", "Ed Ucator")
    response = client.get(f"/admin/users/{target.id}")
    html = response.text
    assert response.status_code == 200
    assert re.findall(r"<h1>([^<]*)</h1>", html) == ["Ed Ucator"]
    assert "<td>ed@example.org</td>" in html and "<td>Educator</td>" in html and "<td>Active</td>" in html
    assert '<label for="role">Role</label>' in html and '<option selected value="educator">' in html
    assert f'action="/admin/users/{target.id}/role"' in html
    assert f'href="/admin/users/{target.id}/deactivate"' in html  # a page that asks first
    assert "/reactivate" not in html
    assert "<script" not in html
    assert "<caption>Account details</caption>" in html and '<th scope="row">Email</th>' in html


def test_the_own_account_page_offers_no_changes(client, auth):
    me = auth.as_role("admin")
    html = client.get(f"/admin/users/{me.id}").text
    assert "<h1>Admin (you)</h1>" in html
    assert "This is your own account." in html
    assert "/deactivate" not in html and "/role" not in html


@pytest.mark.parametrize(
    "user_id, message",
    [
        ("999", "There is no account at this address."),
        ("2147483647", "There is no account at this address."),
        # Past the database's range the address matches no route (app/converters.py): the general 404.
        ("2147483648", "Nothing is at this address."),
        ("99999999999999999999", "Nothing is at this address."),
    ],
)
@pytest.mark.parametrize(
    "suffix, method", [("", "GET"), ("/role", "POST"), ("/deactivate", "POST"), ("/reactivate", "POST")]
)
def test_an_unknown_account_is_a_friendly_404(client, auth, user_id, message, suffix, method):
    auth.as_role("admin")
    response = client.open(f"/admin/users/{user_id}{suffix}", method=method, data={"role": "student"})
    assert response.status_code == 404
    assert message in response.text
    assert 'href="/">Go to the home page</a>' in response.text


@pytest.mark.parametrize("user_id", ["abc", "-1", "1.5"])
def test_a_malformed_account_address_is_a_404(client, auth, user_id):
    auth.as_role("admin")
    response = client.get(f"/admin/users/{user_id}")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text


# --- roles


def change_role(client, user: User, role: str):
    return client.post(f"/admin/users/{user.id}/role", data={"role": role})


def teach_home(app) -> str:
    """The educators' home page, or skip while the teach blueprint serves none."""
    if not any(rule.rule == "/teach/" for rule in app.url_map.iter_rules()):
        pytest.skip("the teach blueprint does not serve /teach/ yet")
    return "/teach/"


def test_a_promoted_student_can_teach_and_a_demoted_educator_cannot(app, client, db, auth):
    teach = teach_home(app)
    auth.as_role("admin")
    person = auth.create("student", email="person@example.org", name="Pat")
    theirs = second_client(app)
    sign_in(theirs, person.email)
    assert theirs.get(teach).status_code == 403

    response = change_role(client, person, "educator")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/users/{person.id}"
    assert "Pat is now an educator." in client.get(response.headers["Location"]).text
    assert theirs.get(teach).status_code == 200  # their open session sees the new role at once

    change_role(client, person, "student")
    refused = theirs.get(teach)
    assert refused.status_code == 403
    assert "These pages are for educators." in refused.text


def test_a_role_change_takes_effect_on_the_next_request(app, client, db, auth):
    auth.as_role("admin")
    person = auth.create("educator", email="person@example.org", name="Pat")
    theirs = second_client(app)
    sign_in(theirs, person.email)
    assert theirs.get("/admin/users").status_code == 403

    change_role(client, person, "admin")
    assert fresh(db, person.id).role == "admin"
    assert theirs.get("/admin/users").status_code == 200

    change_role(client, person, "educator")
    assert fresh(db, person.id).role == "educator"
    assert theirs.get("/admin/users").status_code == 403


def test_giving_the_same_role_again_changes_nothing_and_says_so(client, db, auth):
    auth.as_role("admin")
    person = add_account(db, "educator", "person@example.org", "Pat")
    response = change_role(client, person, "educator")
    assert response.status_code == 302
    assert "Pat is already an educator; nothing changed." in client.get(response.headers["Location"]).text


@pytest.mark.parametrize("role", ["wizard", "", "ADMIN", "admin' OR 1=1"])
def test_an_unknown_role_is_refused_with_a_message(client, db, auth, role):
    auth.as_role("admin")
    person = add_account(db, "student", "person@example.org", "Pat")
    response = change_role(client, person, role)
    assert response.status_code == 422
    assert "Choose a role" in response.text and "<title>Error: Pat" in response.text
    assert fresh(db, person.id).role == "student"


def test_an_admin_cannot_demote_themselves(client, db, auth):
    me = auth.as_role("admin")
    add_account(db, "admin", "other@example.org", "Other Admin")  # not the last admin: still refused
    for role in ("educator", "student"):
        response = change_role(client, me, role)
        assert response.status_code == 409
        assert "You cannot remove your own admin role. Ask another admin to do it." in response.text
        assert fresh(db, me.id).role == "admin"
    assert client.get("/admin/users").status_code == 200


def test_an_admin_may_demote_another_admin(client, db, auth):
    auth.as_role("admin")
    other = add_account(db, "admin", "other@example.org", "Other Admin")
    response = change_role(client, other, "educator")
    assert response.status_code == 302
    assert fresh(db, other.id).role == "educator"


# --- deactivation


def test_deactivating_ends_the_session_refuses_sign_in_and_keeps_the_records(app, client, db, auth, catalog):
    auth.as_role("admin")
    person = auth.create("student", email="person@example.org", name="Pat")
    theirs = second_client(app)
    sign_in(theirs, person.email)
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    assert theirs.get(f"/learn/modules/{module.id}/lessons/{module.lessons[0].id}").status_code == 200
    assert theirs.post(f"/learn/quizzes/{quiz.id}/attempts").status_code == 302
    assert rows(db, QuizAttempt, user_id=person.id) == 1

    response = client.post(f"/admin/users/{person.id}/deactivate")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/users/{person.id}"
    page = client.get(response.headers["Location"]).text
    assert "Pat&#39;s account is deactivated" in page and "Their records are kept." in page
    assert "Deactivated: cannot sign in" in page and "1 quiz attempt, 1 lesson opened" in page
    assert not fresh(db, person.id).is_active

    # the session they had open ends on its next request
    refused = theirs.get("/learn/progress")
    assert refused.status_code == 302 and urlsplit(refused.headers["Location"]).path == "/auth/sign-in"
    assert theirs.post(f"/learn/quizzes/{quiz.id}/attempts").status_code == 302
    # signing in again is refused with the usual message
    again = theirs.post("/auth/sign-in", data={"email": person.email, "password": PASSWORD})
    assert again.status_code == 422 and NO_MATCH in again.text
    # their records are all still there
    assert rows(db, User, id=person.id) == 1
    assert rows(db, QuizAttempt, user_id=person.id) == 1
    assert rows(db, LessonProgress, user_id=person.id) == 1


def test_reactivating_lets_them_sign_in_again(app, client, db, auth):
    auth.as_role("admin")
    person = auth.create("student", email="person@example.org", name="Pat")
    client.post(f"/admin/users/{person.id}/deactivate")
    page = client.get(f"/admin/users/{person.id}").text
    assert f'action="/admin/users/{person.id}/reactivate"' in page and "/deactivate" not in page

    response = client.post(f"/admin/users/{person.id}/reactivate")
    assert response.status_code == 302
    assert "Pat&#39;s account is active again: they can sign in." in client.get(response.headers["Location"]).text
    assert fresh(db, person.id).is_active
    theirs = second_client(app)
    sign_in(theirs, person.email)
    assert theirs.get("/learn/progress").status_code == 200


def test_deactivating_or_reactivating_twice_changes_nothing_and_says_so(client, db, auth):
    auth.as_role("admin")
    person = add_account(db, "student", "person@example.org", "Pat")
    client.post(f"/admin/users/{person.id}/deactivate")
    twice = client.post(f"/admin/users/{person.id}/deactivate")
    assert "was already deactivated; nothing changed." in client.get(twice.headers["Location"]).text
    client.post(f"/admin/users/{person.id}/reactivate")
    twice = client.post(f"/admin/users/{person.id}/reactivate")
    assert "was already active; nothing changed." in client.get(twice.headers["Location"]).text
    assert fresh(db, person.id).is_active


def test_an_admin_cannot_deactivate_themselves(client, db, auth):
    me = auth.as_role("admin")
    add_account(db, "admin", "other@example.org", "Other Admin")
    response = client.post(f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 409
    assert "You cannot deactivate your own account. Ask another admin to do it." in response.text
    assert fresh(db, me.id).is_active
    assert client.get("/admin/users").status_code == 200


def test_an_admin_may_deactivate_another_admin(app, client, db, auth):
    auth.as_role("admin")
    other = auth.create("admin", email="other@example.org", name="Other Admin")
    theirs = second_client(app)
    sign_in(theirs, other.email)
    assert client.post(f"/admin/users/{other.id}/deactivate").status_code == 302
    assert urlsplit(theirs.get("/admin/users").headers["Location"]).path == "/auth/sign-in"


# --- the last active admin


@pytest.fixture
def two_admins(db, auth) -> tuple[int, int]:
    """Two active admins' ids."""
    return add_account(db, "admin", "a@example.org", "Admin A").id, add_account(
        db, "admin", "b@example.org", "Admin B"
    ).id


def _demote_behind_the_scenes(db, user_id: int, **values) -> None:
    """Another request's change, committed while this one still holds the old picture."""
    with _db.engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(**values))


@pytest.mark.parametrize("meanwhile", [{"role": "educator"}, {"is_active": False}], ids=["demoted", "deactivated"])
def test_the_last_active_admin_cannot_be_demoted_even_by_a_stale_request(db, two_admins, meanwhile):
    a_id, b_id = two_admins
    actor, target = db.session.get(User, a_id), db.session.get(User, b_id)
    _demote_behind_the_scenes(db, a_id, **meanwhile)  # A lost admin rights after loading the page
    for role in ("educator", "student"):
        with pytest.raises(admin.LastAdmin, match="Admin B is the last active admin"):
            admin.change_role(actor, target, role)
        db.session.rollback()
    with pytest.raises(admin.LastAdmin, match="cannot be deactivated"):
        admin.deactivate(actor, target)
    db.session.rollback()
    target = fresh(db, b_id)
    assert target.role == "admin" and target.is_active


def test_an_inactive_admin_may_be_demoted_while_an_active_one_remains(db, two_admins):
    a_id, b_id = two_admins
    _demote_behind_the_scenes(db, b_id, is_active=False)
    actor, target = db.session.get(User, a_id), db.session.get(User, b_id)
    assert admin.change_role(actor, target, "student")
    db.session.commit()
    assert fresh(db, b_id).role == "student"


def test_the_last_admin_message_reaches_the_page(app, client, db, auth, monkeypatch):
    """Over HTTP an admin always has a colleague (themselves); a race is what makes them the last."""
    me = auth.as_role("admin")
    other = add_account(db, "admin", "other@example.org", "Other Admin")
    real_lock = admin._lock_active_admins

    def a_colleague_demotes_me_first():
        _demote_behind_the_scenes(db, me.id, role="educator")
        real_lock()

    monkeypatch.setattr(admin, "_lock_active_admins", a_colleague_demotes_me_first)
    response = change_role(client, other, "student")
    assert response.status_code == 409
    assert "Other Admin is the last active admin, so they cannot be made a student" in response.text
    assert fresh(db, other.id).role == "admin"


def at_once(app, *actions) -> list:
    """Run each action in its own thread, app context and session, released together; commit each."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = actions[index]()
                _db.session.commit()
            except Exception as exc:  # collected and asserted on below
                _db.session.rollback()
                results[index] = exc
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _as(actor_id: int, action, target_id: int, *args):
    """An admin's request: load both accounts in this session, then act."""
    return lambda: action(_db.session.get(User, actor_id), _db.session.get(User, target_id), *args)


RACES = {
    "both demote": ((admin.change_role, "student"), (admin.change_role, "educator")),
    "both deactivate": ((admin.deactivate,), (admin.deactivate,)),
    "one of each": ((admin.change_role, "student"), (admin.deactivate,)),
}


@pytest.mark.parametrize("first, second", RACES.values(), ids=RACES.keys())
@pytest.mark.parametrize("attempt", range(3))
def test_two_admins_removing_each_other_at_once_leave_one_admin(app, db, two_admins, first, second, attempt):
    a_id, b_id = two_admins
    results = at_once(app, _as(a_id, first[0], b_id, *first[1:]), _as(b_id, second[0], a_id, *second[1:]))
    assert sorted(type(r).__name__ for r in results) == ["LastAdmin", "bool"], results
    db.session.expire_all()
    admins = db.session.scalars(select(User).where(User.role == "admin", User.is_active.is_(True))).all()
    assert len(admins) == 1


# --- CSRF on, as in production


class TestWithCsrfProtection:
    """Every admin form is refused without its token and works with the token from the page."""

    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["WTF_CSRF_ENABLED"] = True
        return app_settings

    @pytest.fixture
    def person(self, client, db, auth) -> User:
        auth.create("admin")
        token = csrf_token(client.get("/auth/sign-in").text)
        signed_in = client.post(
            "/auth/sign-in", data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302
        return add_account(db, "student", "person@example.org", "Pat")

    def refused(self, client, path: str, data: dict) -> None:
        response = client.post(path, data=data)
        assert response.status_code == 400
        assert "<h1>Form expired</h1>" in response.text and "Nothing was saved" in response.text

    def token(self, client, person: User, action: str) -> str:
        # Deactivating asks first: its form is on the page that asks.
        page = client.get(f"/admin/users/{person.id}" + ("/deactivate" if action == "deactivate" else "")).text
        form = re.search(rf'<form method="post" action="/admin/users/{person.id}/{action}".*?</form>', page, re.S)
        return csrf_token(form.group(0))

    def test_role(self, client, db, person):
        self.refused(client, f"/admin/users/{person.id}/role", {"role": "educator"})
        assert fresh(db, person.id).role == "student"
        token = self.token(client, person, "role")
        response = client.post(f"/admin/users/{person.id}/role", data={"role": "educator", "csrf_token": token})
        assert response.status_code == 302
        assert fresh(db, person.id).role == "educator"

    def test_deactivate_and_reactivate(self, client, db, person):
        self.refused(client, f"/admin/users/{person.id}/deactivate", {})
        assert fresh(db, person.id).is_active
        token = self.token(client, person, "deactivate")
        assert client.post(f"/admin/users/{person.id}/deactivate", data={"csrf_token": token}).status_code == 302
        assert not fresh(db, person.id).is_active

        self.refused(client, f"/admin/users/{person.id}/reactivate", {})
        assert not fresh(db, person.id).is_active
        token = self.token(client, person, "reactivate")
        assert client.post(f"/admin/users/{person.id}/reactivate", data={"csrf_token": token}).status_code == 302
        assert fresh(db, person.id).is_active

    def test_the_search_needs_no_token(self, client, person):
        response = client.get("/admin/users", query_string={"q": "pat"})
        assert response.status_code == 200 and account_names(response.text) == ["Pat"]


def test_a_session_ended_by_deactivation_does_not_come_back_on_reactivation(app, client, db, auth):
    auth.as_role("admin")
    person = auth.create("student", email="person@example.org", name="Pat")
    theirs = second_client(app)
    sign_in(theirs, person.email)
    client.post(f"/admin/users/{person.id}/deactivate")
    assert theirs.get("/learn/progress").status_code == 302  # ended on its next request
    client.post(f"/admin/users/{person.id}/reactivate")
    assert theirs.get("/learn/progress").status_code == 302  # and stays ended: they must sign in again
