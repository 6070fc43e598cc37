"""Roster import: good, bad and mixed CSV files, existing accounts, one-time links shown to the educator, access."""

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Cohort, CohortInvitation, CohortMember, PasswordLink, User
from app.services import cohorts, password_links, roster_file
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import rows

DATA = Path(__file__).parent / "data" / "rosters"
ROLES = ("anonymous", "student", "educator not teaching", "educator teaching", "admin")


def upload(client, cohort_id: int, data: bytes | None, filename: str = "roster.csv"):
    """POST a file to the roster import form."""
    form = {} if data is None else {"file": (io.BytesIO(data), filename)}
    return client.post(f"/teach/cohorts/{cohort_id}/roster", data=form, content_type="multipart/form-data")


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def links_on(html: str) -> list[str]:
    """The set-password links a page shows, once each, in order."""
    return list(dict.fromkeys(re.findall(r"http://localhost/auth/set-password/[A-Za-z0-9_-]+", html)))


def count(html: str, label: str) -> int:
    match = re.search(rf"<dt>{label}</dt><dd>(\d+)</dd>", html)
    assert match, f"no count for {label}"
    return int(match.group(1))


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def member_ids(db, cohort: Cohort) -> set[int]:
    return set(db.session.scalars(cohorts.member_ids(cohort.id)))


def user(db, email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def teacher(auth):
    """A signed-in educator."""
    return auth.as_role("educator")


@pytest.fixture
def cohort(db, teacher) -> Cohort:
    """A cohort the signed-in educator teaches."""
    made = cohorts.create(teacher, "Year 2 nursing")
    db.session.commit()
    return made


# --- good files


def test_a_good_file_creates_students_with_one_time_links_shown_to_the_educator(client, db, cohort, teacher):
    form = client.get(f"/teach/cohorts/{cohort.id}/roster")
    assert form.status_code == 200
    assert form.text.count("<h1>") == 1 and "<h1>Import students into Year 2 nursing</h1>" in form.text
    assert '<label for="file">Roster file (CSV)</label>' in form.text
    assert 'enctype="multipart/form-data"' in form.text

    response = upload(client, cohort.id, sample("good.csv"))
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"  # the links are secrets: no copy kept
    page = response.text
    assert page.count("<h1>") == 1
    assert (count(page, "New accounts created"), count(page, "Existing accounts invited")) == (3, 0)
    assert (count(page, "Already members"), count(page, "Rows not imported")) == (0, 0)
    links = links_on(page)
    assert len(links) == 3
    for email, name in [
        ("sam.jones@example.org", "Sam Jones"),
        ("ada.okafor@example.org", "Ada Okafor"),
        ("lee.chen@example.org", "Lee Chen"),
    ]:
        account = user(db, email)
        assert account is not None and account.display_name == name and account.role == "student"
        assert not password_links.has_usable_password(account)
        assert re.search(rf"<td>{name}</td><td>{email}</td><td><code class=\"link\">http://", page)
        assert f"{name}\t{email}\thttp://localhost/auth/set-password/" in page  # the copy-all box
    assert member_ids(db, cohort) == {
        user(db, e).id for e in ("sam.jones@example.org", "ada.okafor@example.org", "lee.chen@example.org")
    }
    assert rows(db, CohortMember, joined_via="roster") == 3
    # Only the hash of each token is stored, with its maker and a 14-day expiry.
    stored = list(db.session.scalars(select(PasswordLink)))
    assert len(stored) == 3
    tokens = {link.rsplit("/", 1)[1] for link in links}
    assert {s.token_hash for s in stored} == {password_links.token_hash(t) for t in tokens}
    assert all(s.created_by_id == teacher.id and s.used_at is None for s in stored)
    assert all(13 <= (s.expires_at - s.created_at).days <= 14 for s in stored)
    assert not any(t in s.token_hash for t in tokens for s in stored)


def test_an_imported_student_cannot_sign_in_until_they_use_their_link(client, db, cohort, auth):
    links = links_on(upload(client, cohort.id, sample("good.csv")).text)
    auth.sign_out()
    for guess in ("", PASSWORD, user(db, "sam.jones@example.org").password_hash):
        assert auth.sign_in("sam.jones@example.org", guess).status_code == 422
    path = links[0].removeprefix("http://localhost")
    response = client.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    auth.sign_out()
    assert auth.sign_in("sam.jones@example.org", PASSWORD).status_code == 302


def test_semicolons_a_bom_spaces_and_quotes_are_accepted(client, db, cohort):
    response = upload(client, cohort.id, sample("semicolon_bom.csv"))
    assert response.status_code == 200, response.text
    assert count(response.text, "New accounts created") == 2
    assert user(db, "zoe.muller@example.org").display_name == "Zoë Müller"
    assert user(db, "kai.ito@example.org").display_name == "Ito; Kai"
    assert user(db, "Zoe.Muller@Example.ORG") is None


def test_columns_may_come_in_either_order_and_any_case(client, db, cohort):
    response = upload(client, cohort.id, b"NAME,Email\nRae Park,rae@example.org\n")
    assert response.status_code == 200
    assert user(db, "rae@example.org").display_name == "Rae Park"


# --- mixed files: every row checked, valid rows imported, invalid ones reported by line


def test_a_mixed_file_imports_the_valid_rows_and_reports_every_invalid_one_by_line(client, db, cohort):
    response = upload(client, cohort.id, sample("mixed.csv"))
    assert response.status_code == 200, response.text
    page = response.text
    assert count(page, "New accounts created") == 2
    assert count(page, "Rows not imported") == 8
    assert {u.email for u in db.session.scalars(select(User).where(User.role == "student"))} == {
        "good.one@example.org",
        "good.three@example.org",
    }
    assert user(db, "good.three@example.org").display_name == "Three, Quoted"
    table = re.search(r'<h2 id="invalid-heading">.*?</table>', page, re.S).group(0)
    reported = dict(re.findall(r"<tr><td>(\d+)</td><td>.*?</td><td>.*?</td><td>(.*?)</td></tr>", table))
    assert sorted(map(int, reported)) == [3, 4, 5, 7, 8, 9, 10, 12]
    assert "must have an @-sign" in reported["3"]
    assert reported["4"] == "The name is missing."
    assert reported["5"] == "The name is longer than 100 characters."
    assert reported["7"] == "The same email as line 2; each student appears once."
    assert "3 values where 2 are expected" in reported["8"]
    assert reported["9"] == "The email is missing."
    assert "one value where 2 are expected" in reported["10"]
    assert "The email is not valid" in reported["12"]
    assert len(links_on(page)) == 2


def test_a_refused_value_is_shown_escaped_and_shortened(client, db, cohort):
    data = b"email,name\n<script>alert(1)</script>," + b"x" * 300 + b"\n"
    page = upload(client, cohort.id, data).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x" * 79 + "…" in page and "x" * 81 not in page


# --- files refused as a whole: nothing imported, one message, the form again


REFUSED = {
    "wrong columns": (sample("wrong_columns.csv"), "The first row must name the two columns, email and name"),
    "missing column": (sample("missing_column.csv"), "The first row must name the two columns, email and name"),
    "extra column": (sample("extra_column.csv"), "and no others"),
    "empty": (sample("empty.csv"), "The file is empty."),
    "blank lines only": (b"\r\n  \n\n", "The file is empty."),
    "a BOM only": (b"\xef\xbb\xbf", "The file is empty."),
    "header only": (sample("header_only.csv"), "The file has a header row but no students."),
    "not UTF-8": (sample("latin1.csv"), "The file is not UTF-8 text (the first character that is not is on line 2)."),
    "UTF-16": (sample("utf16.csv"), "The file is saved as UTF-16 text"),
    "an image": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "This is not a CSV file"),
    "a spreadsheet": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This is not a CSV file"),
    "control characters": (b"email,name\na@example.org,A\x07B\n", "This is not a CSV file"),
    "tab-separated": (b"email\tname\na@example.org\tA\n", "The file is separated by tabs"),
    "prose": (b"Dear colleague,\nhere is my class.\n", "The first row must name the two columns"),
    "too many rows": (
        b"email,name\n" + b"".join(b"s%d@example.org,Student %d\n" % (i, i) for i in range(roster_file.MAX_ROWS + 1)),
        "The file has 5,001 students; import at most 5,000 at a time.",
    ),
}


@pytest.mark.parametrize("data, message", REFUSED.values(), ids=REFUSED.keys())
def test_a_file_that_is_not_a_usable_roster_is_refused_whole_with_one_message(client, db, cohort, data, message):
    response = upload(client, cohort.id, data)
    assert response.status_code == 422, response.text[:500]
    assert response.text.count("<h1>") == 1
    summary = error_summary(response.text)
    assert '<a href="#file">Roster file (CSV): ' in summary
    assert message in summary.replace("&#34;", '"').replace("&#39;", "'")
    assert 'aria-invalid="true"' in response.text
    assert rows(db, User, role="student") == 0 and rows(db, CohortMember) == 0 and rows(db, PasswordLink) == 0


def test_no_file_chosen_is_asked_for(client, db, cohort):
    for data in (None, b"x"):
        response = (
            upload(client, cohort.id, None)
            if data is None
            else upload(client, cohort.id, data, filename="")  # a file input left empty
        )
        assert response.status_code == 422
        assert '<a href="#file">Roster file (CSV): Choose a CSV file to import.</a>' in error_summary(response.text)


def test_a_file_over_1_mb_is_refused_clearly(client, db, cohort):
    just_over = b"email,name\n" + b"a" * roster_file.MAX_BYTES
    response = upload(client, cohort.id, just_over)
    assert response.status_code == 422
    assert "The file is larger than 1 MB. Split the roster into smaller files" in error_summary(response.text)
    # Far over: refused before the body is read, with the same message on the same form.
    response = upload(client, cohort.id, b"email,name\n" + b"a" * (3 * roster_file.MAX_BYTES))
    assert response.status_code == 413
    assert "<h1>Import students into Year 2 nursing</h1>" in response.text
    assert "The file is larger than 1 MB. Split the roster into smaller files" in error_summary(response.text)
    assert rows(db, User, role="student") == 0


def test_the_largest_roster_allowed_imports_whole(client, db, cohort):
    data = b"email,name\n" + b"".join(b"s%d@example.org,Student %d\n" % (i, i) for i in range(roster_file.MAX_ROWS))
    response = upload(client, cohort.id, data)
    assert response.status_code == 200
    assert count(response.text, "New accounts created") == roster_file.MAX_ROWS
    assert len(member_ids(db, cohort)) == roster_file.MAX_ROWS
    assert rows(db, PasswordLink) == roster_file.MAX_ROWS


def test_nothing_is_half_imported_when_the_import_fails_midway(client, db, cohort, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(password_links, "make_many", broken)
    response = upload(client, cohort.id, sample("good.csv"))
    assert response.status_code == 500
    assert rows(db, User, role="student") == 0 and rows(db, CohortMember) == 0


# --- existing accounts


def test_existing_accounts_are_invited_not_created_and_members_are_counted_once(client, db, cohort, auth):
    sam = auth.create("student", email="sam.jones@example.org", name="Samuel Jones")
    ada = auth.create("student", email="ada.okafor@example.org", name="Ada O.")
    lee = auth.create("student", email="lee.chen@example.org", name="Lee C.")
    cohorts.add_member(cohort, ada.id, "code")  # a member already
    cohorts.add_member(cohort, lee.id, "code")
    cohorts.remove_member(cohort, lee.id)  # removed: invited again, joins only by accepting
    db.session.commit()
    data = b"email,name\nSAM.JONES@Example.org,Sam Jones\nada.okafor@example.org,Ada Okafor\nlee.chen@example.org,Lee Chen\n"
    response = upload(client, cohort.id, data)
    assert response.status_code == 200
    page = response.text
    assert count(page, "New accounts created") == 0
    assert count(page, "Existing accounts invited") == 2
    assert count(page, "Already members") == 1
    assert links_on(page) == [] and rows(db, PasswordLink) == 0
    # Existing accounts are invited: only the member who joined by code is in the cohort.
    assert member_ids(db, cohort) == {ada.id}
    invited = db.session.scalars(select(CohortInvitation.user_id).where(CohortInvitation.state == "pending"))
    assert set(invited) == {sam.id, lee.id}
    assert rows(db, User) == 4  # the educator and the three students: nobody new
    db.session.expire_all()
    assert user(db, "sam.jones@example.org").display_name == "Samuel Jones"  # an account keeps its own name
    # Their passwords still work.
    auth.sign_out()
    assert auth.sign_in("sam.jones@example.org").status_code == 302


def test_a_deactivated_account_is_reported_not_linked(client, db, cohort, auth):
    gone = auth.create("student", email="gone@example.org", name="Gone")
    gone.is_active = False
    db.session.commit()
    response = upload(client, cohort.id, b"email,name\ngone@example.org,Gone\nnew@example.org,New\n")
    assert count(response.text, "Rows not imported") == 1
    assert "deactivated; an administrator must reactivate it first" in response.text
    assert member_ids(db, cohort) == {user(db, "new@example.org").id}


def test_importing_the_same_file_twice_adds_nobody_twice(client, db, cohort):
    upload(client, cohort.id, sample("good.csv"))
    again = upload(client, cohort.id, sample("good.csv")).text
    assert count(again, "Already members") == 3 and count(again, "New accounts created") == 0
    assert rows(db, User, role="student") == 3 and rows(db, PasswordLink) == 3
    # Those still to set a password can be given a new link from the result page.
    assert again.count("Make a new link<span") == 3


# --- fresh links for students who have never signed in


def test_an_educator_makes_a_fresh_link_and_the_old_one_stops_working(client, db, cohort, auth):
    old_links = links_on(upload(client, cohort.id, sample("good.csv")).text)
    sam = user(db, "sam.jones@example.org")
    page = client.get(f"/teach/cohorts/{cohort.id}/roster").text
    assert "Students who have not set a password yet" in page and page.count("Make a new link<span") == 3
    response = client.post(f"/teach/cohorts/{cohort.id}/roster/students/{sam.id}/password-link")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.text.count("<h1>") == 1 and "<h1>New set-password link for Sam Jones</h1>" in response.text
    assert '<label for="link">Set-password link</label>' in response.text
    (fresh,) = links_on(response.text)
    assert fresh not in old_links
    auth.sign_out()
    old = client.get(old_links[0].removeprefix("http://localhost"))
    assert old.status_code == 410 and "This link has expired." in old.text
    assert client.get(fresh.removeprefix("http://localhost")).status_code == 200


def test_no_fresh_link_for_a_student_who_has_set_a_password_or_is_not_a_member(client, db, cohort, auth):
    links = links_on(upload(client, cohort.id, sample("good.csv")).text)
    sam, ada = user(db, "sam.jones@example.org"), user(db, "ada.okafor@example.org")
    signed_up = auth.create("student", email="own@example.org", name="Own Password")
    cohorts.add_member(cohort, signed_up.id, "code")
    cohorts.remove_member(cohort, ada.id)
    db.session.commit()
    # Sam sets a password, which signs Sam in; the educator signs back in.
    client.post(links[0].removeprefix("http://localhost"), data={"password": PASSWORD, "confirm": PASSWORD})
    auth.sign_out()
    assert auth.sign_in("educator@example.org").status_code == 302
    for student_id in (sam.id, ada.id, signed_up.id, 0, 2**31, 999_999):
        response = client.post(f"/teach/cohorts/{cohort.id}/roster/students/{student_id}/password-link")
        assert response.status_code == 404, student_id
        if student_id < 2**31:  # a larger number cannot be an id: the address itself does not exist
            assert "still has to set a password" in response.text
    assert rows(db, PasswordLink) == 3


# --- who may use the roster pages


@pytest.fixture
def as_role(client, db, auth):
    """Become one of ROLES; returns a cohort the signed-in person may or may not teach, and an awaiting student."""

    def become(role: str) -> tuple[Cohort, User]:
        owner = auth.create("educator", email="owner@example.org", name="Owner")
        if role == "educator teaching":
            me = auth.as_role("educator")
            cohort = cohorts.create(me, "Mine")
        else:
            if role == "educator not teaching":
                auth.as_role("educator")
            elif role != "anonymous":
                auth.as_role(role)
            cohort = cohorts.create(owner, "Someone else's")
        waiting = User(
            email="waiting@example.org", display_name="Waiting", password_hash=password_links.unusable_password()
        )
        db.session.add(waiting)
        db.session.flush()
        cohorts.add_member(cohort, waiting.id, "roster")
        teacher = me if role == "educator teaching" else owner
        password_links.make(waiting.id, teacher.id)  # imported by the cohort's educator
        db.session.commit()
        return cohort, waiting

    return become


EXPECTED = {
    "anonymous": "sign-in",
    "student": 403,
    "educator not teaching": 404,
    "educator teaching": "ok",
    "admin": "ok",
}


@pytest.mark.parametrize("role", ROLES)
def test_every_roster_route_answers_each_role(client, db, as_role, role):
    cohort, waiting = as_role(role)
    first_link = set(db.session.scalars(select(PasswordLink.token_hash).where(PasswordLink.user_id == waiting.id)))
    base = f"/teach/cohorts/{cohort.id}/roster"
    answers = {
        ("GET", base): client.get(base),
        ("POST", base): upload(client, cohort.id, b"email,name\nnew@example.org,New\n"),
        ("GET", f"{base}/students/{waiting.id}/password-link"): client.get(
            f"{base}/students/{waiting.id}/password-link"
        ),
        ("POST", f"{base}/students/{waiting.id}/password-link"): client.post(
            f"{base}/students/{waiting.id}/password-link"
        ),
    }
    expected = EXPECTED[role]
    for (method, path), response in answers.items():
        if method == "GET" and path.endswith("password-link"):
            assert response.status_code == 405  # routing answers before any access check, for everyone
            continue
        if expected == "sign-in":
            assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in?next=")
        elif expected == "ok":
            assert response.status_code == 200, (method, path)
            assert response.text.count("<h1>") == 1
        else:
            assert response.status_code == expected, (method, path, role)
            assert "<h1>" in response.text and "Traceback" not in response.text
    imported = user(db, "new@example.org") is not None
    assert imported == (expected == "ok")
    links_now = set(db.session.scalars(select(PasswordLink.token_hash).where(PasswordLink.user_id == waiting.id)))
    assert (links_now != first_link) == (expected == "ok")  # a fresh link only for those who may make one


def test_the_roster_form_needs_its_csrf_token(app, client, db, cohort):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/teach/cohorts/{cohort.id}/roster")
    refused = upload(client, cohort.id, sample("good.csv"))
    assert refused.status_code == 400 and rows(db, User, role="student") == 0
    token = csrf_token(page.text)
    response = client.post(
        f"/teach/cohorts/{cohort.id}/roster",
        data={"csrf_token": token, "file": (io.BytesIO(sample("good.csv")), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and rows(db, User, role="student") == 3
    sam = user(db, "sam.jones@example.org")
    link_page = client.get(f"/teach/cohorts/{cohort.id}/roster").text
    assert client.post(f"/teach/cohorts/{cohort.id}/roster/students/{sam.id}/password-link").status_code == 400
    fresh = client.post(
        f"/teach/cohorts/{cohort.id}/roster/students/{sam.id}/password-link", data={"csrf_token": csrf_token(link_page)}
    )
    assert fresh.status_code == 200


def test_a_class_list_never_enrols_a_staff_account(client, db, auth, cohort):
    auth.create("educator", email="colleague@example.org", name="Colleague")
    auth.create("admin", email="boss@example.org", name="Boss")
    response = upload(client, cohort.id, b"email,name\ncolleague@example.org,C\nboss@example.org,B\n")
    assert response.status_code == 200
    assert response.text.count("a class list cannot add") == 2
    assert member_ids(db, cohort) == set()


def test_trailing_empty_spreadsheet_columns_are_ignored(client, db, cohort):
    response = upload(client, cohort.id, b"email,name,,\r\nann@example.org,Ann,,\r\n")
    assert response.status_code == 200 and len(member_ids(db, cohort)) == 1


def test_another_educator_importing_the_same_email_cannot_claim_the_account(client, db, auth, cohort):
    upload(client, cohort.id, b"email,name\nnew@example.org,New\n")
    student = user(db, "new@example.org")
    auth.sign_out()
    other = auth.create("educator", email="other.teacher@example.org", name="Other Teacher")
    auth.sign_in(other.email)
    theirs = cohorts.create(other, "Other class")
    db.session.commit()
    upload(client, theirs.id, b"email,name\nnew@example.org,New\n")  # links the existing account
    before = set(db.session.scalars(select(PasswordLink.token_hash).where(PasswordLink.user_id == student.id)))
    response = client.post(f"/teach/cohorts/{theirs.id}/roster/students/{student.id}/password-link")
    assert response.status_code == 404
    after = set(db.session.scalars(select(PasswordLink.token_hash).where(PasswordLink.user_id == student.id)))
    assert after == before  # the first educator's link still works


def test_a_class_list_flags_look_alike_and_invisible_addresses(client, db, cohort):
    """A Cyrillic "а" in place of a Latin "a", a zero-width space, a right-to-left mark: each row is refused, saying why."""
    data = (
        "email,name\n"
        "\u0430da@example.org,Cyrillic A\n"
        "ben\u200b@example.org,Zero Width\n"
        "cai@exam\u202eple.org,Right To Left\n"
        "dee@example.org,Plain Dee\n"
    ).encode()
    page = upload(client, cohort.id, data).text
    assert count(page, "Rows not imported") == 3 and count(page, "New accounts created") == 1
    assert "mixes alphabets" in page and "invisible character" in page and "changes the direction" in page
    assert rows(db, User, role="student") == 1


def test_a_domains_unicode_and_punycode_forms_are_one_address(client, db, cohort, auth):
    existing = auth.create("student", email="zoe@bücher.example", name="Zoe")
    page = upload(client, cohort.id, b"email,name\nzoe@xn--bcher-kva.example,Zoe\n").text
    # The same person: invited (an existing account), not created again under the other spelling.
    assert count(page, "New accounts created") == 0 and count(page, "Existing accounts invited") == 1
    assert rows(db, User, role="student") == 1 and existing.email == "zoe@bücher.example"
