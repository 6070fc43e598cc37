"""Data rights: a person downloads everything stored about them, and deletes their account and all of it."""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, inspect, select

from app.credentials import issuing
from app.extensions import db as _db
from app.models import (
    Assignment,
    Cohort,
    CohortMember,
    CompetencyProgress,
    Course,
    ItemResponse,
    LearningEvent,
    PasswordLink,
    QuizAttempt,
    Reflection,
    ReviewCard,
    User,
    UserSession,
)
from app.models.types import utcnow
from app.services import account_data, account_download, cohorts, courses, invitations, password_links
from app.services.account_data import DERIVED, HOLDINGS, SECTIONS
from app.services.account_data_areas import SECTIONS as AREA_SECTIONS
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import answers_by_grade, rows

# One per section: certificates (tests/test_credentials.py), answer summaries, and seven for observed stations,
# learning platforms and authored quizzes (tests/test_data_rights_new_areas.py).
EXPORT_QUERIES = 22
DELETED = "Your account and all your data have been deleted."


# --- a class with two active learners


@dataclass
class Class:
    """An educator's cohort with a published course assigned, and two learners who have done things."""

    educator: User
    cohort: Cohort
    course: Course
    alice: User
    bob: User


def quiz_form(quiz, confidence: str = "2") -> dict:
    """The quiz form answered with the best replies, each with a confidence level."""
    return answers_by_grade(quiz, "best") | {f"confidence-{item.id}": confidence for item in quiz.items}


def be_active(client, auth, db, catalog, user: User, join_code: str, reflection: str) -> None:
    """Through the web: open and complete a lesson, submit a quiz, play a conversation step, join the cohort.
    Then the study rows (a reflection and a review card) and a set-password link, as their services write them."""
    assert auth.sign_in(user.email).status_code == 302
    module, quiz, conversation = catalog.modules[0], catalog.quizzes[0], catalog.conversations[0]
    lesson = module.lessons[0]
    assert client.get(f"/learn/modules/{module.id}/lessons/{lesson.id}").status_code == 200
    assert client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete").status_code == 302
    attempt_path = client.post(f"/learn/quizzes/{quiz.id}/attempts").headers["Location"]
    assert client.post(attempt_path, data=quiz_form(quiz)).headers["Location"] == f"{attempt_path}/results"
    talk_path = client.post(f"/learn/conversations/{conversation.id}/attempts").headers["Location"]
    assert (
        client.post(talk_path, data={"step": "1", "reply": conversation.best_path[0], "confidence": "2"}).status_code
        == 302
    )
    assert client.post("/learn/join", data={"code": join_code}).headers["Location"] == "/learn/"
    auth.sign_out()
    other_quiz = catalog.quizzes[1]
    db.session.add(Reflection(user_id=user.id, subject_ref=f"module/{module.id}", body=reflection))
    db.session.add(
        ReviewCard(
            user_id=user.id,
            quiz_ref=other_quiz.id,
            item_ref=other_quiz.items[0].id,
            card={"state": 2, "stability": 3.5},
            due_at=utcnow() + timedelta(days=2),
        )
    )
    db.session.commit()


@pytest.fixture
def klass(client, auth, db, catalog) -> Class:
    """Two learners, Alice and Bob, active in one educator's cohort."""
    educator = auth.create("educator", email="teacher@example.org", name="Teacher Tessellate")
    cohort = cohorts.create(educator, "Ward 7 class")
    course = courses.create(educator, "Alliance on placement", "")
    courses.add_item(catalog, course, f"module:{catalog.modules[0].id}")
    courses.set_published(course, True)
    cohorts.assign(cohort, course, educator, None, utcnow().date() + timedelta(days=30))
    db.session.commit()
    alice = auth.create("student", email="alice@example.org", name="Alice Zephyrine")
    bob = auth.create("student", email="bob@example.org", name="Bob Quillfeather")
    be_active(client, auth, db, catalog, alice, cohort.join_code, "Alice's private thought about listening")
    be_active(client, auth, db, catalog, bob, cohort.join_code, "Bob's private thought about goals")
    password_links.make(alice.id, educator.id)
    password_links.make(bob.id, educator.id)
    for learner in (alice, bob):  # a certificate each, as if the course were complete (app/credentials)
        issuing.issue(learner, course, cohort.id, catalog)
    # A second cohort's class list invited both; Alice declined, Bob has not answered.
    other = cohorts.create(educator, "Ward 8 class")
    invitations.invite(other, [alice.id, bob.id], educator)
    db.session.commit()
    (alice_invitation,) = invitations.pending_for(alice.id)
    invitations.answer(alice, alice_invitation.invitation.id, accept=False)
    db.session.commit()
    return Class(educator, cohort, course, alice, bob)


def download(client) -> tuple:
    """Download the signed-in person's data: the response and its parsed JSON."""
    response = client.get("/auth/account/data.json")
    assert response.status_code == 200, response.text[:500]
    return response, json.loads(response.data)


# --- the registry: no table escapes the download or the deletion


def _owned_tables() -> set[str]:
    """Tables whose rows are a person's own (a section of the download), plus the user table."""
    return {h.table for h in HOLDINGS if h.section} | {"user"}


def test_every_column_naming_a_person_is_in_the_registry(app):
    naming = {
        (fk.parent.table.name, fk.parent.name)
        for table in _db.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == "user"
    }
    listed = [(h.table, h.column) for h in HOLDINGS]
    assert len(listed) == len(set(listed)), "a column is listed twice"
    assert not naming - set(listed), (
        f"columns naming a person that are neither exported nor explained: {naming - set(listed)}"
    )
    assert not set(listed) - naming, f"the registry lists columns that no longer exist: {set(listed) - naming}"
    for holding in HOLDINGS:
        assert holding.on_delete in ("delete", "keep") and holding.why.strip()
        assert holding.section is None or holding.section in SECTIONS


def test_every_table_hanging_off_a_persons_rows_is_exported_or_explained_as_derived(app):
    """A table whose rows cascade from a person's rows (not from the account itself) is theirs too."""
    theirs = (_owned_tables() - {"user"}) | set(DERIVED)
    for table in _db.metadata.tables.values():
        parents = {fk.column.table.name for fk in table.foreign_keys} & theirs
        assert table.name in theirs or not parents, (
            f"table {table.name} hangs off {sorted(parents)} but is neither a section in "
            "account_data.HOLDINGS nor in account_data.DERIVED with a reason"
        )
    assert all(reason.strip() for reason in DERIVED.values())
    assert {h.section for h in HOLDINGS if h.section} | {"account", "assignments"} == set(SECTIONS)


def _foreign_keys(table: str) -> list[dict]:
    return inspect(_db.engine).get_foreign_keys(table)


def test_the_migrated_database_deletes_and_keeps_what_the_registry_says(db):
    """Read the live schema (built by the migrations, on each backend), not the models."""
    tables = set(inspect(db.engine).get_table_names())
    for holding in HOLDINGS:
        (key,) = [
            fk
            for fk in _foreign_keys(holding.table)
            if fk["referred_table"] == "user" and fk["constrained_columns"] == [holding.column]
        ]
        wanted = "CASCADE" if holding.on_delete == "delete" else "SET NULL"
        assert (key.get("options") or {}).get("ondelete", "").upper() == wanted, (holding, key)
    for table in set(DERIVED) & tables:
        for key in _foreign_keys(table):
            if key["referred_table"] in _owned_tables():
                assert (key.get("options") or {}).get("ondelete", "").upper() == "CASCADE", (table, key)


def test_the_documentation_names_every_section_and_the_query_count():
    """docs/data-rights.md is what people read: it must not fall behind the download."""
    text = (Path(__file__).parent.parent / "docs" / "data-rights.md").read_text()
    missing = [section for section in SECTIONS if f"| `{section}` |" not in text]
    assert not missing, f"sections without a row in docs/data-rights.md: {missing}"
    assert f"a fixed number of queries ({EXPORT_QUERIES})" in text


# --- the download


def test_the_download_holds_every_section_for_a_learner_with_real_activity(client, auth, db, catalog, klass):
    quiz, conversation, module = catalog.quizzes[0], catalog.conversations[0], catalog.modules[0]
    auth.sign_in(klass.alice.email)
    response, data = download(client)

    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="alliance-my-data-\d{4}-\d{2}-\d{2}\.json"', disposition)
    assert response.headers["Cache-Control"] == "no-store"

    assert set(SECTIONS) <= set(data) and data["about"]["sections"] == SECTIONS
    assert datetime.fromisoformat(data["generated_at"]).utcoffset() == timedelta(0)
    for section in set(SECTIONS) - set(AREA_SECTIONS):  # those: tests/test_data_rights_new_areas.py
        assert data[section], f"section {section} is empty for an active learner"

    account = data["account"]
    assert account["email"] == "alice@example.org" and account["display_name"] == "Alice Zephyrine"
    assert account["role"] == "student" and account["created_at"].endswith("+00:00")
    assert [(p["module_ref"], p["lesson_ref"]) for p in data["lesson_progress"]] == [(module.id, module.lessons[0].id)]
    assert data["lesson_progress"][0]["completed_at"] is not None

    by_ref = {a["quiz_ref"]: a for a in data["quiz_attempts"]}
    assessed = by_ref[quiz.id]
    assert assessed["mode"] == "assessed" and assessed["submitted_at"] and assessed["score"] == quiz.max_score
    assert [r["item_ref"] for r in assessed["responses"]] == [item.id for item in quiz.items]
    for r in assessed["responses"]:
        assert r["is_correct"] is True and r["score"] == r["max_score"] and r["answer"] is not None
        assert r["confidence"] == 2 and "grade" in r
    talk = by_ref[conversation.id]
    assert [r["item_ref"] for r in talk["responses"]] == [conversation.start]
    assert {q["quiz_ref"] for q in data["quiz_progress"]} == {quiz.id}
    assert data["quiz_progress"][0]["is_passed"] is True
    held = db.session.scalars(
        select(CompetencyProgress.competency_ref).where(CompetencyProgress.user_id == klass.alice.id)
    )
    assert sorted(c["competency_ref"] for c in data["competency_progress"]) == sorted(held)
    assert {"experienced", "completed"} <= {e["verb"] for e in data["learning_events"]}
    assert [r["body"] for r in data["reflections"]] == ["Alice's private thought about listening"]
    assert data["review_cards"][0]["card"] == {"state": 2, "stability": 3.5}
    (membership,) = data["cohort_memberships"]
    assert membership["cohort"] == "Ward 7 class" and membership["joined_via"] == "join code"
    assert membership["removed_at"] is None
    (assignment,) = data["assignments"]
    assert assignment["course"] == "Alliance on placement" and assignment["cohort"] == "Ward 7 class"
    assert assignment["due_on"] == (utcnow().date() + timedelta(days=30)).isoformat()
    (link,) = data["password_links"]
    assert set(link) == {"kind", "created_at", "expires_at", "used_at"} and link["kind"] == "set"


def test_the_download_holds_nothing_of_another_learner_nor_any_secret(client, auth, db, catalog, klass):
    auth.sign_in(klass.alice.email)
    response, data = download(client)
    text = response.get_data(as_text=True)
    for secret in (
        "password_hash",
        "key_hash",
        "token_hash",
        klass.alice.password_hash,
        *db.session.scalars(select(UserSession.key_hash).where(UserSession.user_id == klass.alice.id)),
    ):
        assert secret not in text
    (alice_hash,) = db.session.scalars(select(PasswordLink.token_hash).where(PasswordLink.user_id == klass.alice.id))
    assert alice_hash not in text
    for of_bob in ("bob@example.org", "Bob Quillfeather", "Bob's private thought"):
        assert of_bob not in text
    bobs_attempts = set(db.session.scalars(select(QuizAttempt.id).where(QuizAttempt.user_id == klass.bob.id)))
    assert bobs_attempts and not bobs_attempts & {a["id"] for a in data["quiz_attempts"]}
    assert len(data["learning_events"]) == rows(db, LearningEvent, user_id=klass.alice.id)
    assert sum(len(a["responses"]) for a in data["quiz_attempts"]) == rows(db, ItemResponse, user_id=klass.alice.id)
    assert "Teacher Tessellate" not in text  # who assigned or made a link is the educator's, not Alice's, data


def test_a_new_account_downloads_empty_sections(client, auth):
    auth.as_role("student")
    _, data = download(client)
    assert data["account"]["email"] == "student@example.org"
    assert all(data[section] == [] for section in SECTIONS if section != "account")


def test_the_download_runs_a_fixed_number_of_queries_whatever_was_done(client, auth, db, catalog, klass, count_queries):
    db.session.expire_all()
    with count_queries() as few:
        assert account_download.export(klass.educator.id)["quiz_attempts"] == []
    db.session.expire_all()
    with count_queries() as some:
        account_download.export(klass.alice.id)
    auth.sign_in(klass.alice.email)
    quiz = catalog.quizzes[0]
    for _ in range(3):
        path = client.post(f"/learn/quizzes/{quiz.id}/attempts").headers["Location"]
        client.post(path, data=quiz_form(quiz))
    db.session.expire_all()
    with count_queries() as many:
        data = account_download.export(klass.alice.id)
    assert len(data["quiz_attempts"]) == 5
    assert few.count == some.count == many.count == EXPORT_QUERIES


def test_an_educator_downloads_their_own_account_too(client, auth):
    auth.as_role("educator")
    _, data = download(client)
    assert data["account"]["role"] == "educator"


# --- deleting an account


def _counts(db, user_id: int) -> dict[tuple[str, str], int]:
    """The person's rows in every table that holds them, by (table, column)."""
    counts = {}
    for holding in HOLDINGS:
        table = _db.metadata.tables[holding.table]
        counts[(holding.table, holding.column)] = db.session.scalar(
            select(func.count()).select_from(table).where(table.c[holding.column] == user_id)
        )
    return counts


def _totals(db) -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in _db.metadata.sorted_tables
    }


def _delete_through_the_page(client, password: str = PASSWORD, confirm: bool = True):
    page = client.get("/auth/account/delete")
    assert page.status_code == 200 and "<h1>Delete your account</h1>" in page.text
    data = {"password": password} | ({"confirm": "y"} if confirm else {})
    return client.post("/auth/account/delete", data=data)


def test_deleting_removes_every_row_of_theirs_and_nothing_of_anyone_else(client, auth, db, klass):
    alice, bob = klass.alice.id, klass.bob.id
    before_alice, before_bob, before = _counts(db, alice), _counts(db, bob), _totals(db)
    personal = [  # stations, platforms and authored quizzes: tests/test_data_rights_new_areas.py
        (h.table, h.column) for h in HOLDINGS if h.section and h.section not in AREA_SECTIONS
    ]
    assert all(before_alice[key] > 0 for key in personal), before_alice  # every kind of row really existed

    auth.sign_in(klass.alice.email)
    response = _delete_through_the_page(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and DELETED in home.text and "Goodbye, Alice Zephyrine." in home.text
    assert 'class="who"' not in home.text  # signed out

    db.session.expire_all()
    assert db.session.get(User, alice) is None
    assert all(count == 0 for count in _counts(db, alice).values())
    assert _counts(db, bob) == before_bob
    after = _totals(db)
    for table, total in before.items():
        gone = sum(before_alice[(h.table, h.column)] for h in HOLDINGS if h.table == table and h.on_delete == "delete")
        if table == "user":
            gone = 1
        if table in DERIVED:
            continue  # queued copies of her events, counted by their own tests
        if table == "user_session":
            continue  # signing in to delete opened one more; her count above is 0, Bob's unchanged
        assert after[table] == total - gone, f"{table}: {total} -> {after[table]}, expected {gone} fewer"
    # The educator's class is untouched: cohort, course, assignment and the educator's own link rows stay.
    assert rows(db, Cohort) == 2 and rows(db, Course) == 1 and rows(db, Assignment) == 1  # Ward 7 and Ward 8
    assert rows(db, CohortMember, user_id=bob) == 1


def test_a_deleted_account_cannot_sign_in_and_its_old_session_ends(client, auth, db, klass):
    auth.sign_in(klass.alice.email)
    cookie = client.get_cookie("session")
    assert _delete_through_the_page(client).status_code == 302
    client.set_cookie("session", cookie.value)  # the session cookie from before the deletion
    response = client.get("/learn/")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/auth/sign-in"
    refused = auth.sign_in(klass.alice.email)
    assert refused.status_code == 422 and "do not match an account" in refused.text


def test_a_deleted_learner_disappears_from_their_educators_reports(client, auth, db, klass):
    report = f"/teach/cohorts/{klass.cohort.id}/courses/{klass.course.id}/report"
    auth.sign_in(klass.educator.email)
    before = client.get(report).text
    assert "Alice Zephyrine" in before and "Bob Quillfeather" in before
    assert "Alice Zephyrine" in client.get(f"/teach/cohorts/{klass.cohort.id}").text
    auth.sign_out()

    auth.sign_in(klass.alice.email)
    assert _delete_through_the_page(client).status_code == 302
    assert DELETED in client.get("/").text

    auth.sign_in(klass.educator.email)
    after = client.get(report).text
    assert "Alice Zephyrine" not in after and "Bob Quillfeather" in after
    assert "Alice Zephyrine" not in client.get(f"/teach/cohorts/{klass.cohort.id}").text
    assert "Alice" not in client.get(f"/teach/cohorts/{klass.cohort.id}/attempts.csv").get_data(as_text=True)
    learner = client.get(f"/teach/cohorts/{klass.cohort.id}/learners/{klass.alice.id}")
    assert learner.status_code == 404


def test_a_wrong_password_deletes_nothing_and_says_so(client, auth, db, klass):
    before = _counts(db, klass.alice.id)
    auth.sign_in(klass.alice.email)
    response = _delete_through_the_page(client, password="not my password")
    assert response.status_code == 422
    assert "<title>Error: Delete your account" in response.text
    assert "That is not your password. Nothing was deleted" in response.text
    assert 'aria-invalid="true"' in response.text
    db.session.expire_all()
    assert _counts(db, klass.alice.id) == before and db.session.get(User, klass.alice.id) is not None
    assert client.get("/learn/").status_code == 200  # still signed in


def test_deleting_needs_the_confirmation_ticked(client, auth, db, klass):
    auth.sign_in(klass.alice.email)
    response = _delete_through_the_page(client, confirm=False)
    assert response.status_code == 422
    assert "Tick the box to confirm you want everything deleted." in response.text
    missing = client.post("/auth/account/delete", data={"confirm": "y"})
    assert missing.status_code == 422 and "Type your password to confirm it is you." in missing.text
    db.session.expire_all()
    assert db.session.get(User, klass.alice.id) is not None


@pytest.mark.parametrize("role", ["educator", "admin"])
def test_staff_cannot_delete_their_account_here(client, auth, db, role):
    user = auth.as_role(role)
    page = client.get("/auth/account/delete")
    assert page.status_code == 200
    assert "Ask an admin to change your role to student first" in page.text
    assert 'name="password"' not in page.text
    account = client.get("/auth/account").text
    assert "cannot be deleted here" in account
    response = client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 403
    assert "Ask an admin to change your role to student first" in response.text
    db.session.expire_all()
    assert db.session.get(User, user.id) is not None
    assert client.get("/learn/").status_code == 200


def test_a_former_educator_who_still_owns_a_course_is_refused(client, auth, db, catalog):
    user = auth.create("educator")
    course = courses.create(user, "My old course", "")
    user.role = "student"
    db.session.commit()
    auth.sign_in(user.email)
    assert "Ask an admin to hand them to another educator first." in client.get("/auth/account/delete").text
    response = client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Course, course.id) is not None and db.session.get(User, user.id) is not None


def test_the_service_flushes_and_leaves_the_commit_to_the_view(db, klass):
    account_data.delete(db.session.get(User, klass.alice.id))
    assert db.session.scalar(select(func.count()).select_from(User).where(User.id == klass.alice.id)) == 0
    db.session.rollback()
    assert db.session.get(User, klass.alice.id) is not None
    assert rows(db, QuizAttempt, user_id=klass.alice.id) > 0
    with pytest.raises(account_data.DeletionRefused):
        account_data.delete(db.session.get(User, klass.educator.id))


@pytest.mark.parametrize("path", ["/auth/account", "/auth/account/data.json", "/auth/account/delete"])
def test_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/auth/sign-in" and parse_qs(target.query) == {"next": [path]}
    posted = client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert urlsplit(posted.headers["Location"]).path == "/auth/sign-in"


def test_the_account_page_shows_who_they_are_and_links_their_rights(client, auth):
    user = auth.as_role("student")
    page = client.get("/auth/account")
    assert "<h1>Your account</h1>" in page.text
    for shown in (user.display_name, user.email, "Student", "Joined"):
        assert shown in page.text
    assert 'href="/auth/account/data.json"' in page.text and 'href="/auth/account/delete"' in page.text
    assert '<a href="/auth/account" aria-current="page">Your account</a>' in page.text
    assert 'href="/auth/account"' in client.get("/learn/").text  # in the site header on every page


class TestCsrf:
    """With CSRF protection on, as in production."""

    @pytest.fixture
    def app_settings(self, app_settings):
        app_settings["WTF_CSRF_ENABLED"] = True
        return app_settings

    def test_deleting_without_the_forms_token_is_refused_and_deletes_nothing(self, client, db, auth):
        user = auth.create("student")
        user_id = user.id
        page = client.get("/auth/sign-in")
        client.post(
            "/auth/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
        )
        refused = client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y"})
        assert refused.status_code == 400 and "Nothing was saved" in refused.text
        db.session.expire_all()
        assert db.session.get(User, user_id) is not None
        token = csrf_token(client.get("/auth/account/delete").text)
        done = client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y", "csrf_token": token})
        assert done.status_code == 302
        db.session.expire_all()
        assert db.session.get(User, user_id) is None


class TestRateLimit:
    """Password guesses on the delete form are limited like sign-in."""

    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "RATELIMIT_ENABLED": True, "SIGN_IN_RATE_LIMIT": "3 per minute"}

    def test_too_many_wrong_passwords_are_refused_politely(self, client, db, auth):
        user = auth.as_role("student")
        for _ in range(3):
            assert (
                client.post("/auth/account/delete", data={"password": "guess guess", "confirm": "y"}).status_code == 422
            )
        refused = client.post("/auth/account/delete", data={"password": PASSWORD, "confirm": "y"})
        assert refused.status_code == 429 and "Too many attempts" in refused.text
        assert client.get("/auth/account/delete").status_code == 200  # reading the page is never limited
        db.session.expire_all()
        assert db.session.get(User, user.id) is not None
