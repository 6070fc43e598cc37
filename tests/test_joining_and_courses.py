"""One-time set-password links, joining a cohort by code and by link, assigned courses on My learning, the course page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import CohortMember, CourseItem, PasswordLink, User
from app.models.types import utcnow
from app.services import cohorts, courses, password_links, progress, quizzes
from tests.conftest import PASSWORD
from tests.helpers import answers_by_grade, given_answers, rows

ROLES = ("anonymous", "student", "educator not teaching", "educator teaching", "admin")
NEW_PASSWORD = "a brand new passphrase"


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def h1(html: str) -> str:
    headings = re.findall(r"<h1>(.*?)</h1>", html, re.S)
    assert len(headings) == 1, f"expected one h1, found {headings}"
    return headings[0]


def day(offset: int):
    return utcnow().date() + timedelta(days=offset)


def shown(d) -> str:
    return d.strftime("%-d %B %Y")


@pytest.fixture
def educator(auth):
    """An educator (not signed in)."""
    return auth.create("educator", email="teacher@example.org", name="Teacher")


@pytest.fixture
def cohort(db, educator):
    made = cohorts.create(educator, "Ward 7 team")
    db.session.commit()
    return made


def imported_student(
    db, email: str = "new.student@example.org", name: str = "New Student", by=None
) -> tuple[User, str]:
    """An account as a roster import leaves it: no usable password, one link; returns it and the token."""
    student = User(email=email, display_name=name, password_hash=password_links.unusable_password())
    db.session.add(student)
    db.session.flush()
    token = password_links.make(student.id, by.id if by else None)
    db.session.commit()
    return student, token


def make_course(db, catalog, owner, title: str = "Foundations", optional_conversation: bool = True):
    """A published course: the first module and its quiz required, a conversation optional."""
    course = courses.create(owner, title, "Start here.")
    courses.add_item(catalog, course, f"module:{catalog.modules[0].id}")
    courses.add_item(catalog, course, f"quiz:{catalog.quizzes[0].id}")
    if optional_conversation:
        courses.add_item(catalog, course, f"conversation:{catalog.conversations[0].id}", is_required=False)
    courses.set_published(course, True)
    db.session.commit()
    return course


def complete_module(db, user_id: int, module) -> None:
    for lesson in module.lessons:
        progress.view_lesson(user_id, module, lesson)
        progress.complete_lesson(user_id, module, lesson)
    db.session.commit()


def take_quiz(db, user_id: int, quiz, grade: str) -> None:
    attempt = quizzes.start_attempt(user_id, quiz)
    quizzes.submit_attempt(user_id, attempt, quiz, given_answers(quiz, answers_by_grade(quiz, grade)))
    db.session.commit()


# --- one-time links to set a password


def test_a_link_sets_the_password_once_signs_in_and_lands_on_my_learning(client, db, auth, educator):
    student, token = imported_student(db, by=educator)
    path = f"/auth/set-password/{token}"
    page = client.get(path)
    assert page.status_code == 200 and h1(page.text) == "Set your password"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "new.student@example.org" in page.text
    assert (
        '<label for="password">New password</label>' in page.text
        and '<label for="confirm">Repeat the password</label>' in page.text
    )

    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert '<a href="#password">New password: Use at least 10 characters.</a>' in error_summary(short.text)
    differ = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert differ.status_code == 422
    assert '<a href="#confirm">Repeat the password: The two passwords differ.</a>' in error_summary(differ.text)
    empty = client.post(path, data={})
    assert empty.status_code == 422 and "Choose a password." in error_summary(empty.text)

    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/learn/"
    home = client.get("/learn/")
    assert home.status_code == 200 and "Your password is set and you are signed in. Welcome, New Student." in home.text
    db.session.expire_all()
    link = db.session.scalar(select(PasswordLink).where(PasswordLink.user_id == student.id))
    assert link.used_at is not None and link.created_by_id == educator.id
    assert db.session.get(User, student.id).last_sign_in_at is not None

    # Once only: the same link is then refused, and the password stays as set.
    for again in (
        client.get(path),
        client.post(path, data={"password": "another password!", "confirm": "another password!"}),
    ):
        assert again.status_code == 410
        assert h1(again.text) == "This link cannot be used"
        assert "has already been used" in again.text and "ask your educator for a new link" in again.text
    auth.sign_out()
    assert auth.sign_in("new.student@example.org", NEW_PASSWORD).status_code == 302


def test_an_expired_link_says_so_and_changes_nothing(client, db):
    student, token = imported_student(db)
    db.session.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    for response in (
        client.get(f"/auth/set-password/{token}"),
        client.post(f"/auth/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ):
        assert response.status_code == 410
        assert "This link has expired. Ask your educator for a new one." in response.text
    db.session.expire_all()
    assert not password_links.has_usable_password(db.session.get(User, student.id))


def test_links_expire_after_fourteen_days(db):
    student, token = imported_student(db)
    link = db.session.scalar(select(PasswordLink))
    assert link.expires_at - link.created_at == timedelta(days=14)


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 500, "not~a~token~at~all~~~~~~~~"])
def test_an_unknown_or_malformed_token_gets_a_friendly_page(client, db, token):
    imported_student(db)
    response = client.get(f"/auth/set-password/{token}")
    assert response.status_code == 404
    assert h1(response.text) == "This link cannot be used"
    assert "This link is not one we know." in response.text
    assert (
        client.post(f"/auth/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 404
    )


def test_a_token_holding_nul_characters_is_refused_clearly(client, db):
    imported_student(db)
    token = "%00" * 30
    for response in (
        client.get(f"/auth/set-password/{token}"),
        client.post(f"/auth/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ):
        assert response.status_code == 400
        assert "a character that is not allowed" in response.text
    assert rows(db, PasswordLink, used_at=None) == 1


def test_a_link_for_a_deactivated_account_does_not_work(client, db):
    student, token = imported_student(db)
    student.is_active = False
    db.session.commit()
    response = client.get(f"/auth/set-password/{token}")
    assert response.status_code == 410 and "has been deactivated" in response.text


def test_two_submissions_racing_for_one_link_set_the_password_once(db, monkeypatch):
    student, token = imported_student(db)
    stale = password_links.find(token)  # both requests found the link unused...
    password_links.use(token, NEW_PASSWORD)  # ...the first claims it
    db.session.commit()
    monkeypatch.setattr(password_links, "find", lambda _token: stale)
    with pytest.raises(password_links.LinkError) as raised:
        password_links.use(token, "the second password")  # the conditional UPDATE finds no row to claim
    assert raised.value.reason == "used"
    db.session.rollback()
    assert rows(db, PasswordLink) == 1
    assert db.session.scalar(select(PasswordLink.used_at)) is not None


def test_someone_signed_in_as_another_account_is_warned_and_switched(client, db, auth):
    auth.as_role("student")
    _, token = imported_student(db)
    page = client.get(f"/auth/set-password/{token}")
    assert "You are signed in as Student. Setting this password signs you in as New Student instead." in page.text
    client.post(f"/auth/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert '<li class="who">New Student' in client.get("/learn/").text


@pytest.mark.parametrize("role", ROLES)
def test_the_set_password_link_answers_every_role(client, db, auth, role):
    if role != "anonymous":
        auth.as_role(role.split()[0])
    _, token = imported_student(db)
    assert client.get(f"/auth/set-password/{token}").status_code == 200
    response = client.post(f"/auth/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    assert '<li class="who">New Student' in client.get("/learn/").text


# --- joining a cohort


def test_a_student_joins_with_a_code_typed_any_way_and_joining_twice_is_harmless(client, db, auth, cohort):
    student = auth.as_role("student")
    page = client.get("/learn/join")
    assert page.status_code == 200 and h1(page.text) == "Join a cohort"
    assert '<label for="code">Join code</label>' in page.text
    typed = "-".join([cohort.join_code[:4].lower(), " " + cohort.join_code[4:]])
    response = client.post("/learn/join", data={"code": typed})
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    assert "You joined Ward 7 team." in client.get("/learn/").text
    assert rows(db, CohortMember, cohort_id=cohort.id, user_id=student.id, joined_via="code") == 1
    again = client.post("/learn/join", data={"code": cohort.join_code})
    assert again.status_code == 302
    assert "You are already a member of Ward 7 team." in client.get("/learn/").text
    assert rows(db, CohortMember, cohort_id=cohort.id, user_id=student.id) == 1


JOIN_ERRORS = {
    "empty": ("", "Join code: Enter the join code your educator gave you."),
    "unknown": ("ZZZZ ZZZZ", "No cohort has that join code. Check it with your educator."),
    "too long": ("A" * 200, "A join code has 8 letters and digits"),
    "symbols only": ("!!!", "No cohort has that join code."),
}


@pytest.mark.parametrize("code, message", JOIN_ERRORS.values(), ids=JOIN_ERRORS.keys())
def test_a_wrong_code_is_explained_next_to_the_field(client, db, auth, cohort, code, message):
    auth.as_role("student")
    response = client.post("/learn/join", data={"code": code})
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert '<a href="#code">' in summary and message in summary
    assert rows(db, CohortMember) == 0


def test_a_closed_cohort_cannot_be_joined_by_code(client, db, auth, cohort):
    cohort.is_join_open = False
    db.session.commit()
    auth.as_role("student")
    response = client.post("/learn/join", data={"code": cohort.join_code})
    assert response.status_code == 422
    assert "This cohort is not taking new members. Ask your educator." in error_summary(response.text)
    assert rows(db, CohortMember) == 0


def test_a_join_link_shows_the_cohort_and_joins_only_on_the_button(client, db, auth, cohort):
    student = auth.as_role("student")
    link = f"/learn/join/{cohort.join_code.lower()}"
    page = client.get(link)
    assert page.status_code == 200 and h1(page.text) == "Join Ward 7 team"
    assert '<button type="submit" class="button">Join Ward 7 team</button>' in page.text
    assert rows(db, CohortMember) == 0  # opening the link joins nobody
    response = client.post(link)
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    assert rows(db, CohortMember, user_id=student.id, cohort_id=cohort.id) == 1
    assert "You are already a member of Ward 7 team." in client.get(link).text
    assert client.post(link).status_code == 302
    assert rows(db, CohortMember, user_id=student.id) == 1


def test_a_removed_student_cannot_undo_the_removal_with_the_code(client, db, auth, cohort):
    student = auth.as_role("student")
    client.post("/learn/join", data={"code": cohort.join_code})
    cohorts.remove_member(cohort, student.id)
    db.session.commit()
    refused = client.post(f"/learn/join/{cohort.join_code}")
    assert refused.status_code == 422 and "You were removed from this cohort" in refused.text
    assert db.session.scalar(cohorts.member_ids(cohort.id)) is None
    cohorts.add_member(cohort, student.id, "roster")  # the educator adds them again
    db.session.commit()
    assert db.session.scalar(cohorts.member_ids(cohort.id)) == student.id


def test_an_unknown_or_closed_join_link_is_explained(client, db, auth, cohort):
    auth.as_role("student")
    for code in ("ZZZZZZZZ", "x" * 300, "-"):
        unknown = client.get(f"/learn/join/{code}")
        assert unknown.status_code == 404 and "No cohort has this join link" in unknown.text
        assert client.post(f"/learn/join/{code}").status_code == 404
    cohort.is_join_open = False
    db.session.commit()
    closed = client.get(f"/learn/join/{cohort.join_code}")
    assert closed.status_code == 200 and "This cohort is not taking new members" in closed.text
    assert "<button" not in closed.text.split("<main", 1)[1]
    refused = client.post(f"/learn/join/{cohort.join_code}")
    assert refused.status_code == 422 and "This cohort is not taking new members" in error_summary(refused.text)
    assert rows(db, CohortMember) == 0


@pytest.mark.parametrize("role", ROLES)
def test_the_join_pages_answer_every_role(client, db, auth, cohort, educator, role):
    if role == "educator teaching":
        client.post("/auth/sign-in", data={"email": educator.email, "password": PASSWORD})
    elif role != "anonymous":
        auth.as_role(role.split()[0])
    pages = [
        client.get("/learn/join"),
        client.get(f"/learn/join/{cohort.join_code}"),
        client.post("/learn/join", data={"code": cohort.join_code}),
        client.post(f"/learn/join/{cohort.join_code}"),
    ]
    if role == "anonymous":
        for response in pages:
            assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in?next=")
        assert rows(db, CohortMember) == 0
    else:
        assert [r.status_code for r in pages] == [200, 200, 302, 302]
        assert rows(db, CohortMember) == 1  # every role may learn, so every role may join


def test_a_join_link_brings_a_visitor_back_after_signing_in(client, db, auth, cohort):
    auth.create("student")
    response = client.get(f"/learn/join/{cohort.join_code}")
    sign_in = response.headers["Location"]
    assert sign_in == f"/auth/sign-in?next=%2Flearn%2Fjoin%2F{cohort.join_code}"
    back = client.post(sign_in, data={"email": "student@example.org", "password": PASSWORD})
    assert back.headers["Location"] == f"/learn/join/{cohort.join_code}"


# --- assigned courses on My learning


def test_home_lists_assigned_courses_with_dates_progress_and_an_overdue_flag(
    client, db, auth, catalog, cohort, educator
):
    student = auth.as_role("student")
    late = make_course(db, catalog, educator, "Late course")
    finished = make_course(db, catalog, educator, "Finished course", optional_conversation=False)
    later = make_course(db, catalog, educator, "Later course")
    other = make_course(db, catalog, educator, "Someone else's course")
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, late, educator, day(-20), day(-3))
    cohorts.assign(cohort, finished, educator, None, day(-2))
    cohorts.assign(cohort, later, educator, day(5), None)
    elsewhere = cohorts.create(educator, "Another cohort")
    cohorts.assign(elsewhere, other, educator, None, None)
    db.session.commit()
    complete_module(db, student.id, catalog.modules[0])
    take_quiz(db, student.id, catalog.quizzes[0], "best")  # completes every course so far...
    # ...except "Late course", which gains a module not yet begun.
    courses.add_item(catalog, late, f"module:{catalog.modules[1].id}")
    db.session.commit()

    home = client.get("/learn/")
    assert home.status_code == 200 and h1(home.text) == "My learning"
    section = re.search(r'<section aria-labelledby="assigned-heading">.*?</section>', home.text, re.S).group(0)
    assert '<h2 id="assigned-heading">Assigned to you</h2>' in section
    titles = re.findall(r'<h3><a href="/learn/courses/(\d+)">(.*?)</a></h3>', section)
    # Soonest due first; no due date last; other cohorts' courses absent.
    assert titles == [
        (str(late.id), "Late course"),
        (str(finished.id), "Finished course"),
        (str(later.id), "Later course"),
    ]
    cards = dict(zip([t for _, t in titles], re.split(r'<li class="card">', section)[1:], strict=True))
    assert "Ward 7 team" in cards["Late course"]
    assert f'due <time datetime="{day(-3).isoformat()}">{shown(day(-3))}</time>' in cards["Late course"]
    assert "started <time" in cards["Late course"]
    assert '<strong class="overdue">Overdue</strong>' in cards["Late course"]
    assert 'value="67"' in cards["Late course"] and "2 of 3 required items done" in cards["Late course"]
    assert "Overdue" not in cards["Finished course"] and "Completed" in cards["Finished course"]
    assert "2 of 2 required items done" in cards["Finished course"]
    assert f'starts <time datetime="{day(5).isoformat()}">{shown(day(5))}</time>' in cards["Later course"]
    assert "no due date" in cards["Later course"] and "Overdue" not in cards["Later course"]
    assert "Someone else's course" not in home.text


def test_home_without_assignments_offers_joining(client, auth):
    auth.as_role("student")
    home = client.get("/learn/").text
    assert "No courses are assigned to you yet." in home
    assert '<a href="/learn/join">Join a cohort</a>' in home


def test_a_removed_member_or_an_unpublished_course_leaves_the_home_page(client, db, auth, catalog, cohort, educator):
    student = auth.as_role("student")
    course = make_course(db, catalog, educator)
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, course, educator, None, None)
    db.session.commit()
    assert "Foundations" in client.get("/learn/").text
    courses.set_published(course, False)
    db.session.commit()
    assert "Foundations" not in client.get("/learn/").text
    assert client.get(f"/learn/courses/{course.id}").status_code == 404
    courses.set_published(course, True)
    cohorts.remove_member(cohort, student.id)
    db.session.commit()
    assert "Foundations" not in client.get("/learn/").text
    assert client.get(f"/learn/courses/{course.id}").status_code == 404


def test_home_reads_progress_for_all_assigned_courses_at_once(
    client, db, auth, catalog, cohort, educator, count_queries
):
    student = auth.as_role("student")
    cohorts.add_member(cohort, student.id, "code")
    for title in ("One", "Two", "Three", "Four"):
        cohorts.assign(cohort, make_course(db, catalog, educator, title), educator, None, None)
    db.session.commit()
    client.get("/learn/")
    with count_queries() as one_course_more:
        client.get("/learn/")
    cohorts.assign(cohort, make_course(db, catalog, educator, "Five"), educator, None, None)
    db.session.commit()
    with count_queries() as counted:
        assert "Five" in client.get("/learn/").text
    assert counted.count <= one_course_more.count + 1  # the new course's items load; the summaries do not repeat


# --- the course page


def test_the_course_page_shows_items_progress_the_rule_and_what_is_left(client, db, auth, catalog, cohort, educator):
    student = auth.as_role("student")
    course = make_course(db, catalog, educator)
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, course, educator, day(-10), day(-1))
    db.session.commit()
    module, quiz, conversation = catalog.modules[0], catalog.quizzes[0], catalog.conversations[0]
    complete_module(db, student.id, module)
    take_quiz(db, student.id, quiz, "unhelpful")  # attempted, not passed

    page = client.get(f"/learn/courses/{course.id}")
    assert page.status_code == 200 and h1(page.text) == "Foundations"
    text = page.text
    assert "complete when every required item is completed (modules) or passed (quizzes and conversations)" in text
    assert (
        "Assigned through <strong>Ward 7 team</strong>" in text and '<strong class="overdue">Overdue</strong>' in text
    )
    assert 'value="50"' in text and "1 of 2 required items done" in text
    table_rows = re.findall(
        r"<tr>\s*<td>(\d)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>",
        text,
        re.S,
    )
    assert [(n, kind, counts) for n, _, kind, counts, _, _ in table_rows] == [
        ("1", "Module", "Required"),
        ("2", "Quiz", "Required"),
        ("3", "Conversation", "Optional"),
    ]
    assert f'href="/learn/modules/{module.id}">' in table_rows[0][1]
    assert f'href="/learn/quizzes/{quiz.id}">' in table_rows[1][1]
    assert f'href="/learn/conversations/{conversation.id}">' in table_rows[2][1]
    assert [re.sub(r"<.*?>", "", r[4]) for r in table_rows] == ["Completed", "In progress", "Not started"]
    assert re.fullmatch(r"\d+%", table_rows[1][5].strip())
    left = re.search(r'<h3 id="left-heading">Still to do</h3>\s*<ul[^>]*>(.*?)</ul>', text, re.S).group(1)
    assert quiz.title in left and module.title not in left and conversation.title not in left

    take_quiz(db, student.id, quiz, "best")
    done = client.get(f"/learn/courses/{course.id}").text
    assert "Course complete." in done and 'value="100"' in done and "Still to do" not in done
    assert "Overdue" not in done


def test_an_item_no_longer_in_the_catalogue_is_shown_not_crashed_on(client, db, auth, catalog, cohort, educator):
    student = auth.as_role("student")
    course = make_course(db, catalog, educator)
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, course, educator, None, None)
    db.session.execute(update(CourseItem).where(CourseItem.kind == "quiz").values(item_ref="retired-quiz"))
    db.session.commit()
    page = client.get(f"/learn/courses/{course.id}")
    assert page.status_code == 200 and "Quiz no longer offered" in page.text


@pytest.mark.parametrize("course_id", ["0", "999999", str(2**31), str(2**63)])
def test_a_course_that_is_not_assigned_is_a_friendly_404(client, db, auth, catalog, educator, course_id):
    auth.as_role("student")
    course = make_course(db, catalog, educator)  # exists, published, assigned to nobody
    for path in (f"/learn/courses/{course_id}", f"/learn/courses/{course.id}"):
        response = client.get(path)
        assert response.status_code == 404
        # A number too large to be an id is no address at all: the general "nothing is at this address".
        expected = "This course is not assigned to you." if int(path.rsplit("/", 1)[1]) < 2**31 else "Nothing is at this address."
        assert expected in response.text


@pytest.mark.parametrize("role", ROLES)
def test_the_course_page_answers_every_role(client, db, auth, catalog, cohort, educator, role):
    course = make_course(db, catalog, educator)
    cohorts.assign(cohort, course, educator, None, None)
    db.session.commit()
    if role == "educator teaching":
        client.post("/auth/sign-in", data={"email": educator.email, "password": PASSWORD})
        me = educator
    else:
        me = auth.as_role(role.split()[0])
    path = f"/learn/courses/{course.id}"
    response = client.get(path)
    if me is None:
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in?next=")
        return
    # Teaching a cohort is not being in it: the page is for learners the course is assigned to.
    assert response.status_code == 404
    cohorts.add_member(cohort, me.id, "code")
    db.session.commit()
    assert client.get(path).status_code == 200
