"""The educator's course builder and cohort pages, used as an educator would."""

import re
from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.models import Assignment, CohortEducator, CohortMember, Course, CourseItem, QuizAttempt
from app.services import cohorts, courses, invitations, quizzes
from tests.helpers import rows


@pytest.fixture
def educator(auth):
    """A signed-in educator."""
    return auth.as_role("educator")


def new_course(client, title="Year 2 alliance skills") -> str:
    """Create a course through the form; return its builder's path."""
    response = client.post("/teach/courses/new", data={"title": title, "description": "For placement."})
    assert response.status_code == 302
    return response.location


def item_ids(client, path: str) -> list[int]:
    """The builder's items, in the order shown."""
    return [int(i) for i in re.findall(r'<li id="item-(\d+)">', client.get(path).text)]


def test_building_a_course_adds_reorders_and_removes_items(client, db, educator, catalog):
    path = new_course(client)
    module, quiz, talk = catalog.modules[0], catalog.quizzes[0], catalog.conversations[0]
    for choice in (f"module:{module.id}", f"quiz:{quiz.id}", f"conversation:{talk.id}"):
        assert client.post(f"{path}/items", data={"choice": choice, "is_required": "y"}).status_code == 302
    first, second, third = item_ids(client, path)
    client.post(f"{path}/items/{third}", data={"action": "up"})
    assert item_ids(client, path) == [first, third, second]
    client.post(f"{path}/items/{first}", data={"action": "up"})  # already first: nothing moves
    assert item_ids(client, path) == [first, third, second]
    client.post(f"{path}/items/{third}", data={"action": "optional"})
    page = client.get(path).text
    assert re.search(rf'id="item-{third}">.*?Optional', page, re.S)
    client.post(f"{path}/items/{first}/remove")  # after the page that asks first
    assert item_ids(client, path) == [third, second]
    positions = db.session.scalars(select(CourseItem.position).order_by(CourseItem.position)).all()
    assert positions == [1, 2]


def test_adding_content_twice_or_content_not_in_the_catalogue_gets_a_message(client, db, educator, catalog):
    path = new_course(client)
    choice = f"module:{catalog.modules[0].id}"
    client.post(f"{path}/items", data={"choice": choice})
    again = client.post(f"{path}/items", data={"choice": choice})
    assert again.status_code == 422 and "is already in this course" in again.text
    missing = client.post(f"{path}/items", data={"choice": "module:no-such-module"})
    assert missing.status_code == 422 and 'class="error-summary"' in missing.text
    assert rows(db, CourseItem) == 1


def test_a_course_is_published_only_with_items_and_then_can_be_assigned(client, db, educator, catalog):
    path = new_course(client)
    refused = client.post(f"{path}/publish", data={"action": "publish"}, follow_redirects=True)
    assert "Add at least one item before publishing" in refused.text
    client.post(f"{path}/items", data={"choice": f"quiz:{catalog.quizzes[0].id}"})
    client.post(f"{path}/publish", data={"action": "publish"})
    course = db.session.scalar(select(Course))
    assert course.is_published
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    response = client.post(f"{cohort_path}/assignments", data={"course": str(course.id), "due_on": "2030-12-01"})
    assert response.status_code == 302
    assert escape(course.title) in client.get(cohort_path).text
    assignment = db.session.scalar(select(Assignment))
    assert assignment.due_on.isoformat() == "2030-12-01" and assignment.starts_on is None


def test_assignment_dates_out_of_order_are_refused_and_the_form_kept(client, db, educator, catalog):
    path = new_course(client)
    client.post(f"{path}/items", data={"choice": f"quiz:{catalog.quizzes[0].id}"})
    client.post(f"{path}/publish", data={"action": "publish"})
    course_id = db.session.scalar(select(Course.id))
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    response = client.post(
        f"{cohort_path}/assignments",
        data={"course": str(course_id), "starts_on": "2026-12-10", "due_on": "2026-12-01"},
    )
    assert response.status_code == 422
    assert "The due date must not be before the start date." in response.text
    assert 'value="2026-12-10"' in response.text
    bad_date = client.post(f"{cohort_path}/assignments", data={"course": str(course_id), "due_on": "31/31/2026"})
    assert bad_date.status_code == 422 and rows(db, Assignment) == 0


def test_copying_a_colleagues_published_course_makes_an_own_draft(client, db, auth, catalog):
    owner = auth.create("educator", email="owner@example.org", name="Owner")
    original = courses.create(owner, "Shared course", "")
    courses.add_item(catalog, original, f"module:{catalog.modules[0].id}")
    draft = courses.create(owner, "Private draft", "")
    db.session.commit()
    me = auth.as_role("educator")
    assert client.get(f"/teach/courses/{draft.id}").status_code == 404
    assert client.get(f"/teach/courses/{original.id}").status_code == 404  # not published yet
    courses.set_published(original, True)
    db.session.commit()
    page = client.get(f"/teach/courses/{original.id}").text
    assert "Make a copy" in page and "Publish the course" not in page
    edit = client.post(f"/teach/courses/{original.id}/items", data={"choice": f"quiz:{catalog.quizzes[0].id}"})
    assert edit.status_code == 404
    copy_path = client.post(f"/teach/courses/{original.id}/copy").location
    copy = db.session.get(Course, int(copy_path.rsplit("/", 1)[1]))
    assert copy.owner_id == me.id and not copy.is_published and copy.title == "Copy of Shared course"
    assert [(i.kind, i.item_ref) for i in copy.items] == [(i.kind, i.item_ref) for i in original.items]


def test_an_educator_sees_only_cohorts_they_own_or_share(client, db, auth):
    alice = auth.create("educator", email="alice@example.org", name="Alice")
    theirs = cohorts.create(alice, "Alice's class")
    shared = cohorts.create(alice, "Shared class")
    db.session.commit()
    me = auth.as_role("educator")
    invitations.share(shared, me.email, alice)
    db.session.commit()
    # Until the invitation is accepted the shared cohort is not theirs either.
    assert client.get(f"/teach/cohorts/{shared.id}").status_code == 404
    assert client.post(f"/teach/invitations/{shared.id}", data={"action": "accept"}).status_code == 302
    dashboard = client.get("/teach/").text
    assert "Shared class" in dashboard and "Alice&#39;s class" not in dashboard
    assert client.get(f"/teach/cohorts/{shared.id}").status_code == 200
    hidden = client.get(f"/teach/cohorts/{theirs.id}")
    assert hidden.status_code == 404 and "Alice" not in hidden.text
    assert client.post(f"/teach/cohorts/{theirs.id}/share", data={"email": me.email}).status_code == 404
    assert rows(db, CohortEducator, cohort_id=theirs.id) == 1


def test_sharing_needs_an_educator_account(client, db, auth, educator):
    auth.create("student", email="student@example.org", name="Stu")
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    refused = client.post(f"{cohort_path}/share", data={"email": "student@example.org"})
    assert refused.status_code == 422 and "no active educator account" in refused.text
    bad = client.post(f"{cohort_path}/share", data={"email": "not an email"})
    assert bad.status_code == 422 and "Enter a valid email address." in bad.text
    auth.create("educator", email="colleague@example.org", name="Colleague")
    assert client.post(f"{cohort_path}/share", data={"email": "Colleague@Example.org"}).status_code == 302
    again = client.post(f"{cohort_path}/share", data={"email": "colleague@example.org"})
    assert again.status_code == 422 and "already invited to teach this cohort" in again.text
    db.session.execute(CohortEducator.__table__.update().values(accepted_at=CohortEducator.added_at))
    db.session.commit()
    accepted = client.post(f"{cohort_path}/share", data={"email": "colleague@example.org"})
    assert accepted.status_code == 422 and "already teaches this cohort" in accepted.text


def test_removing_a_student_keeps_their_records(client, db, auth, catalog, quiz):
    student = auth.create("student", email="stu@example.org", name="Stu Dent")
    attempt = quizzes.start_attempt(student.id, quiz)
    db.session.commit()
    auth.as_role("educator")
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    cohort_id = int(cohort_path.rsplit("/", 1)[1])
    cohorts.add_member(db.session.get(cohorts.Cohort, cohort_id), student.id, "code")
    db.session.commit()
    assert "Stu Dent" in client.get(cohort_path).text
    client.post(f"{cohort_path}/members/{student.id}/remove")
    assert "Stu Dent" not in client.get(cohort_path).text
    member = db.session.scalar(select(CohortMember))
    assert member.removed_at is not None
    assert db.session.get(QuizAttempt, attempt.id) is not None
    again = client.post(f"{cohort_path}/members/{student.id}/remove", follow_redirects=True)
    assert "That student is not in this cohort" in again.text


def test_joining_by_code_can_be_closed(client, db, auth, educator):
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    code = re.search(r'class="join-code">(\w+)<', client.get(cohort_path).text).group(1)
    client.post(f"{cohort_path}/joining", data={"action": "close"})
    student = auth.create("student", email="late@example.org", name="Late")
    with pytest.raises(cohorts.CohortError, match="not taking new members"):
        cohorts.join(student, code)
    client.post(f"{cohort_path}/joining", data={"action": "open"})
    joined, already = cohorts.join(student, code.lower())
    assert joined.name == "Class A" and not already


@pytest.mark.parametrize("role", ["anonymous", "student"])
def test_people_who_do_not_teach_are_kept_out(client, auth, role):
    auth.as_role(role)
    for path in ("/teach/", "/teach/courses/new", "/teach/cohorts/new"):
        response = client.get(path)
        if role == "anonymous":
            assert response.status_code == 302 and response.location.startswith("/auth/sign-in")
        else:
            assert response.status_code == 403 and "These pages are for educators" in response.text


def test_removing_with_a_forged_huge_id_changes_nothing(client, educator):
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    # A number too large to be an id is no address of the app at all.
    assert client.post(f"{cohort_path}/members/18446744073709551616/remove").status_code == 404
    response = client.post(f"{cohort_path}/members/2147483647/remove", follow_redirects=True)
    assert response.status_code == 200 and "That student is not in this cohort" in response.text


def test_assigning_twice_keeps_one_assignment_with_the_latest_dates(db, auth, catalog):
    teacher = auth.create("educator")
    cohort = cohorts.create(teacher, "Class A")
    course = courses.create(teacher, "Course", "")
    courses.add_item(catalog, course, f"quiz:{catalog.quizzes[0].id}")
    courses.set_published(course, True)
    cohorts.assign(cohort, course, teacher, None, None)
    again = cohorts.assign(cohort, course, teacher, None, date(2030, 1, 31))
    db.session.commit()
    assert rows(db, Assignment) == 1 and again.due_on == date(2030, 1, 31)


def test_teaching_pages_run_the_same_queries_for_one_course_or_many(client, db, educator, catalog, count_queries):
    cohort = cohorts.create(educator, "Class A")

    def add_course(title: str) -> None:
        course = courses.create(educator, title, "")
        courses.add_item(catalog, course, f"quiz:{catalog.quizzes[0].id}")
        courses.set_published(course, True)
        cohorts.assign(cohort, course, educator, None, None)
        db.session.commit()

    def counts() -> tuple[int, int]:
        found = []
        for path in ("/teach/", f"/teach/cohorts/{cohort.id}"):
            with count_queries() as counted:
                assert client.get(path).status_code == 200
            found.append(counted.count)
        return tuple(found)

    add_course("First")
    one = counts()
    for n in range(5):
        add_course(f"More {n}")
    assert counts() == one
