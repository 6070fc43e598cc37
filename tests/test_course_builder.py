"""The course builder as an educator uses it: several items added at once, previews as students see them,
warnings before a draft or a past due date is assigned, and removals that ask first."""

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.learn.courses import today
from app.models import Assignment, CohortMember, CourseItem
from app.services import cohorts, courses
from app.teach.forms import NOT_A_DATE
from tests.helpers import rows


@pytest.fixture
def educator(auth):
    """A signed-in educator."""
    return auth.as_role("educator")


def builder(client, title: str = "Placement skills") -> str:
    """A new draft course, made through the form; the builder's path."""
    response = client.post("/teach/courses/new", data={"title": title, "description": ""})
    assert response.status_code == 302
    return response.location


def item_titles(db, path: str) -> list[str]:
    """The course's items as (kind, ref), in order."""
    course_id = int(path.rsplit("/", 1)[1])
    return [
        f"{kind}:{ref}"
        for kind, ref in db.session.execute(
            select(CourseItem.kind, CourseItem.item_ref)
            .where(CourseItem.course_id == course_id)
            .order_by(CourseItem.position)
        )
    ]


def checkbox(value: str, html: str) -> str | None:
    """The checkbox offering this content ('kind:id') in the builder, or None."""
    found = re.search(rf'<input type="checkbox" name="choice" id="[^"]+" value="{re.escape(value)}"[^>]*>', html)
    return found.group(0) if found else None


def text(html: str) -> str:
    """The words of a page, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- adding several items at once


def test_ticking_several_items_adds_them_all_in_one_go_in_the_order_listed(client, db, educator, catalog):
    path = builder(client)
    first, second = catalog.modules[0], catalog.modules[1]
    quiz, talk = catalog.quizzes_for(second.id)[0], catalog.conversations_for(second.id)[0]
    chosen = [f"module:{first.id}", f"module:{second.id}", f"quiz:{quiz.id}", f"conversation:{talk.id}"]
    response = client.post(f"{path}/items", data={"choice": chosen, "is_required": "y"})
    assert response.status_code == 302 and response.location.endswith("#items")
    assert item_titles(db, path) == chosen
    page = client.get(path).text
    assert "Added 4 items to the course:" in text(page)
    assert f"“{escape(first.title)}”" in page and f"“{escape(talk.title)}”" in page
    # What is in the course is marked, no longer offered with a checkbox; the rest still is.
    for value in chosen:
        assert checkbox(value, page) is None
    assert page.count("In the course") == 4
    assert checkbox(f"quiz:{catalog.quizzes_for(first.id)[0].id}", page) is not None


def test_the_catalogue_is_grouped_by_module_with_each_modules_quizzes_and_conversations(client, educator, catalog):
    page = client.get(builder(client)).text
    groups = re.findall(r'<fieldset class="catalogue-group">\s*<legend>(.*?)</legend>(.*?)</fieldset>', page, re.S)
    assert [title for title, _ in groups] == [str(escape(m.title)) for m in catalog.modules]
    for module, (_, group) in zip(catalog.modules, groups, strict=True):
        offered = re.findall(r'value="([^"]+)"', group)
        assert offered == [f"module:{module.id}"] + [f"quiz:{q.id}" for q in catalog.quizzes_for(module.id)] + [
            f"conversation:{c.id}" for c in catalog.conversations_for(module.id)
        ]
        assert f">Module: {escape(module.title)}</label>" in group
    # Every entry has its preview, and the form works as plain checkboxes (no script needed).
    assert page.count(">Preview<span") == len(catalog.modules) + len(catalog.quizzes) + len(catalog.conversations)
    assert '<input type="checkbox" name="choice"' in page and "<select" not in page.split('id="add"')[1]


def test_adding_nothing_or_unknown_content_says_what_to_do_and_keeps_the_ticks(client, db, educator, catalog):
    path = builder(client)
    empty = client.post(f"{path}/items", data={"is_required": "y"})
    assert empty.status_code == 422
    assert '<a href="#choice">Content to add: Tick at least one module, quiz or conversation to add.</a>' in empty.text
    assert 'aria-describedby="choice-hint choice-error"' in empty.text
    module = catalog.modules[0]
    forged = client.post(f"{path}/items", data={"choice": [f"module:{module.id}", "quiz:no-such-quiz"]})
    assert forged.status_code == 422
    assert "not in the catalogue (any more), so nothing was added" in forged.text
    assert "is not a valid choice" not in forged.text  # WTForms' own words never reach the page
    assert "checked" in checkbox(f"module:{module.id}", forged.text)
    assert rows(db, CourseItem) == 0


def test_content_already_in_the_course_is_skipped_and_said(client, db, educator, catalog):
    path = builder(client)
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    client.post(f"{path}/items", data={"choice": f"module:{module.id}"})
    again = client.post(f"{path}/items", data={"choice": f"module:{module.id}"})
    assert again.status_code == 422 and f"“{escape(module.title)}” is already in this course." in again.text
    both = client.post(f"{path}/items", data={"choice": [f"module:{module.id}", f"quiz:{quiz.id}"]}, follow_redirects=True)
    assert f"Added “{escape(quiz.title)}” to the course. Already in it, so not added again: “{escape(module.title)}”." in both.text
    assert item_titles(db, path) == [f"module:{module.id}", f"quiz:{quiz.id}"]
    complete = client.get(path).text
    everything = len(catalog.modules) + len(catalog.quizzes) + len(catalog.conversations)
    client.post(f"{path}/items", data={"choice": [v for v in re.findall(r'name="choice" id="[^"]+" value="([^"]+)"', complete)]})
    assert rows(db, CourseItem) == everything
    assert "Everything in the catalogue is already in this course." in client.get(path).text


def test_the_builder_reads_the_same_number_of_rows_for_one_item_or_many(client, db, educator, catalog, count_queries):
    path = builder(client)
    client.post(f"{path}/items", data={"choice": f"module:{catalog.modules[0].id}"})
    with count_queries() as one:
        assert client.get(path).status_code == 200
    client.post(f"{path}/items", data={"choice": [f"quiz:{q.id}" for q in catalog.quizzes]})
    with count_queries() as many:
        assert client.get(path).status_code == 200
    assert many.count == one.count


# --- previews, as students see them


def test_a_module_preview_shows_every_lesson_and_no_way_to_complete_it(client, educator, catalog):
    module = catalog.modules[0]
    page = client.get(f"/teach/preview/modules/{module.id}").text
    assert f"<h1>Preview: {escape(module.title)}</h1>" in page
    for number, lesson in enumerate(module.lessons, start=1):
        assert f"Lesson {number}: {escape(lesson.title)}</h2>" in page
        for section in lesson.sections:
            assert f'id="{lesson.id}-{section.anchor}"' in page
    assert "<form" not in page.split("<main")[1]  # nothing to press: reading a preview completes nothing
    assert "reading it here completes nothing" in page


def test_a_quiz_preview_shows_items_and_options_with_no_answer_marked(client, educator, catalog):
    quiz = catalog.quizzes[0]
    page = client.get(f"/teach/preview/quizzes/{quiz.id}").text
    main = page.split("<main")[1]
    assert f"<h1>Preview: {escape(quiz.title)}</h1>" in page
    assert main.count('<fieldset class="item') == len(quiz.items)
    for item in quiz.items:
        for option in getattr(item, "options", ()):
            assert option.text_html in main
            assert option.feedback_html not in main  # no feedback, so nothing gives the answer away
    assert not re.search(r"<(input|option)[^>]* (checked|selected)", main)
    assert "<form" not in main and "Submit answers" not in main
    assert "No answer is marked and nothing you choose here is saved or scored." in page


def test_a_conversation_preview_shows_its_opening_and_the_replies_on_offer(client, educator, catalog):
    talk = catalog.conversations[0]
    opening = talk.node(talk.start)
    page = client.get(f"/teach/preview/conversations/{talk.id}").text
    main = page.split("<main")[1]
    assert f"<h1>Preview: {escape(talk.title)}</h1>" in page
    assert str(escape(opening.patient)) in main
    for reply in opening.replies:
        assert reply.text_html in main and reply.feedback_html not in main
    assert "<form" not in main and not re.search(r"<input[^>]* checked", main)


def test_a_preview_opened_from_a_course_leads_back_to_it(client, db, educator, catalog):
    path = builder(client)
    course_id = int(path.rsplit("/", 1)[1])
    quiz = catalog.quizzes[0]
    client.post(f"{path}/items", data={"choice": f"quiz:{quiz.id}"})
    link = f"/teach/preview/quizzes/{quiz.id}?course={course_id}"
    assert f'href="{link}"' in client.get(path).text
    page = client.get(link).text
    assert f'<a href="/teach/courses/{course_id}#items">Back to “Placement skills”</a>' in page
    # A course that is not the educator's, or a garbled one, is left out: the preview still shows.
    for garbled in ("99999", "x", "-1", "1" * 40):
        other = client.get(f"/teach/preview/quizzes/{quiz.id}?course={garbled}")
        assert other.status_code == 200 and "Back to" not in other.text


def test_previewing_content_not_in_the_catalogue_is_a_friendly_404(client, educator):
    for path in ("/teach/preview/modules/nope", "/teach/preview/quizzes/nope", "/teach/preview/conversations/nope"):
        response = client.get(path)
        assert response.status_code == 404 and "That content is not in the catalogue." in response.text
        assert "<h1>Page not found</h1>" in response.text


def test_previews_read_nothing_but_the_signed_in_person(client, educator, catalog, count_queries):
    counts = set()
    for path in (
        f"/teach/preview/modules/{catalog.modules[0].id}",
        f"/teach/preview/quizzes/{catalog.quizzes[0].id}",
        f"/teach/preview/conversations/{catalog.conversations[0].id}",
    ):
        with count_queries() as counted:
            assert client.get(path).status_code == 200
        counts.add(counted.count)
    assert len(counts) == 1


# --- removing an item asks first


def test_removing_an_item_asks_first_then_removes_it(client, db, educator, catalog):
    path = builder(client)
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    client.post(f"{path}/items", data={"choice": [f"module:{module.id}", f"quiz:{quiz.id}"]})
    item_id = db.session.scalar(select(CourseItem.id).where(CourseItem.item_ref == module.id))
    page = client.get(path).text
    ask = f"{path}/items/{item_id}/remove"
    assert f'<a href="{ask}">Remove<span class="visually-hidden"> “{escape(module.title)}”</span></a>' in page
    question = client.get(ask)
    assert question.status_code == 200
    assert f"<h1>Remove “{escape(module.title)}” from “Placement skills”?</h1>" in question.text
    assert "Nothing students have done is lost" in question.text
    assert f'href="{path}#item-{item_id}">Cancel, keep it in the course</a>' in question.text
    assert rows(db, CourseItem) == 2  # asking changed nothing
    answer = client.post(ask, follow_redirects=True)
    assert f"Removed “{escape(module.title)}” from the course." in answer.text
    assert item_titles(db, path) == [f"quiz:{quiz.id}"]
    assert client.get(ask).status_code == 404  # gone: the question is no longer asked


def test_the_builders_old_remove_action_no_longer_removes_without_asking(client, db, educator, catalog):
    path = builder(client)
    client.post(f"{path}/items", data={"choice": f"module:{catalog.modules[0].id}"})
    item_id = db.session.scalar(select(CourseItem.id))
    response = client.post(f"{path}/items/{item_id}", data={"action": "remove"}, follow_redirects=True)
    assert "That change is not one this page offers; nothing was changed." in response.text
    assert rows(db, CourseItem) == 1


def test_removing_an_item_of_an_assigned_course_says_what_its_students_will_see(client, db, educator, catalog):
    path = builder(client)
    client.post(f"{path}/items", data={"choice": f"module:{catalog.modules[0].id}", "is_required": "y"})
    client.post(f"{path}/publish", data={"action": "publish"})
    course = courses.get_visible(educator, int(path.rsplit("/", 1)[1]))
    for name in ("Class A", "Class B"):
        cohorts.assign(cohorts.create(educator, name), course, educator, None, None)
    db.session.commit()
    item_id = course.items[0].id
    question = client.get(f"{path}/items/{item_id}/remove").text
    assert "The course is assigned to 2 cohorts. Their students stop seeing it in the course at once" in question
    assert "completing the course no longer needs it" in question


# --- a draft cannot be assigned: said on the builder and on the cohort page


def test_a_drafts_builder_warns_that_it_cannot_be_assigned_until_published(client, db, educator, catalog):
    path = builder(client)
    empty = text(client.get(path).text)
    assert "This course is a draft, so it cannot be assigned to a cohort yet." in empty
    assert "Add at least one item below, then publish it." in empty
    client.post(f"{path}/items", data={"choice": f"module:{catalog.modules[0].id}"})
    ready = client.get(path).text
    assert ready.count(">Publish the course</button>") == 1
    client.post(f"{path}/publish", data={"action": "publish"})
    published = client.get(path).text
    assert "cannot be assigned" not in published and "Return to draft" in published


def test_the_cohort_page_says_which_drafts_cannot_be_assigned_and_why(client, db, educator, catalog):
    draft_path = builder(client, "Still a draft")
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    page = text(client.get(cohort_path).text)
    assert "A draft of yours cannot be assigned yet: only published courses can." in page
    assert "Still a draft (draft, no items yet)" in page
    assert "You have no published course to assign yet." in page
    assert "Assign the course" not in page  # no form offering nothing
    client.post(f"{draft_path}/items", data={"choice": f"module:{catalog.modules[0].id}"})
    ready_path = builder(client, "Ready")
    client.post(f"{ready_path}/items", data={"choice": f"quiz:{catalog.quizzes[0].id}"})
    client.post(f"{ready_path}/publish", data={"action": "publish"})
    html = client.get(cohort_path).text
    assert f'<a href="{draft_path}#draft">Still a draft</a>' in html
    assert re.search(r'<option value="\d+">Ready</option>', html) and ">Still a draft</option>" not in html


def test_assigning_a_draft_by_a_stale_or_forged_form_is_refused_in_words(client, db, educator, catalog):
    path = builder(client, "Unfinished")
    client.post(f"{path}/items", data={"choice": f"module:{catalog.modules[0].id}"})
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    course_id = path.rsplit("/", 1)[1]
    refused = client.post(f"{cohort_path}/assignments", data={"course": course_id})
    assert refused.status_code == 422
    assert "“Unfinished” is a draft, so it cannot be assigned. Publish it on its page first, then assign it." in refused.text
    for junk in ("abc", "99999", "-3", "1" * 30):
        response = client.post(f"{cohort_path}/assignments", data={"course": junk})
        assert response.status_code == 422 and "Course: Choose a course from the list." in text(response.text)
        assert "Not a valid choice" not in response.text
    assert rows(db, Assignment) == 0


# --- a due date in the past asks to confirm


@pytest.fixture
def assignable(client, db, educator, catalog) -> tuple[str, str]:
    """A published course and a cohort: (cohort path, course id)."""
    path = builder(client, "Ready")
    client.post(f"{path}/items", data={"choice": f"quiz:{catalog.quizzes[0].id}"})
    client.post(f"{path}/publish", data={"action": "publish"})
    return client.post("/teach/cohorts/new", data={"name": "Class A"}).location, path.rsplit("/", 1)[1]


def test_a_past_due_date_is_not_assigned_until_confirmed(client, db, assignable):
    cohort_path, course_id = assignable
    past = today() - timedelta(days=3)
    form = {"course": course_id, "due_on": past.isoformat()}
    asked = client.post(f"{cohort_path}/assignments", data=form)
    assert asked.status_code == 422 and rows(db, Assignment) == 0
    said = text(asked.text)
    assert f"{past.strftime('%-d %B %Y')} has already passed, so students would see the course as overdue at once." in said
    assert f'value="{past.isoformat()}"' in asked.text  # the date is kept for a second look
    assert '<button type="submit" class="button secondary" name="confirm_past_due" value="y">' in asked.text
    confirmed = client.post(f"{cohort_path}/assignments", data=form | {"confirm_past_due": "y"})
    assert confirmed.status_code == 302
    assert db.session.scalar(select(Assignment.due_on)) == past


def test_a_due_date_changed_to_a_later_one_needs_no_confirmation(client, db, assignable):
    cohort_path, course_id = assignable
    for due in (today(), today() + timedelta(days=10)):
        response = client.post(f"{cohort_path}/assignments", data={"course": course_id, "due_on": due.isoformat()})
        assert response.status_code == 302
        assert db.session.scalar(select(Assignment.due_on).execution_options(populate_existing=True)) == due
    # No confirm button until a past date is sent.
    assert "Assign with this past due date" not in client.get(cohort_path).text


def test_dates_out_of_order_are_refused_before_any_question_about_the_past(client, db, assignable):
    cohort_path, course_id = assignable
    data = {"course": course_id, "starts_on": today().isoformat(), "due_on": (today() - timedelta(days=5)).isoformat()}
    response = client.post(f"{cohort_path}/assignments", data=data | {"confirm_past_due": "y"})
    assert response.status_code == 422 and "The due date must not be before the start date." in response.text
    assert rows(db, Assignment) == 0


def test_a_date_that_is_not_a_date_is_explained_in_plain_words(client, db, assignable):
    cohort_path, course_id = assignable
    response = client.post(f"{cohort_path}/assignments", data={"course": course_id, "due_on": "31/31/2026"})
    assert response.status_code == 422 and NOT_A_DATE in response.text
    assert "Not a valid date value" not in response.text


# --- removing a student asks first; the join link can be copied


def test_removing_a_student_asks_first(client, db, auth, educator):
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    cohort = cohorts.get_for(educator, int(cohort_path.rsplit("/", 1)[1]))
    student = auth.create("student", email="stu@example.org", name="Stu Dent")
    cohorts.add_member(cohort, student.id, "code")
    db.session.commit()
    ask = f"{cohort_path}/members/{student.id}/remove"
    assert f'<a href="{ask}">Remove<span class="visually-hidden"> Stu Dent</span></a>' in client.get(cohort_path).text
    question = client.get(ask)
    assert question.status_code == 200 and "<h1>Remove Stu Dent from Class A?</h1>" in question.text
    assert "they cannot join again with the join code" in question.text
    assert f'href="{cohort_path}#members">Cancel, keep them in the cohort</a>' in question.text
    assert db.session.scalar(select(CohortMember.removed_at)) is None  # asking changed nothing
    client.post(ask)
    assert db.session.scalar(select(CohortMember.removed_at).execution_options(populate_existing=True)) is not None
    gone = client.get(ask)
    assert gone.status_code == 404 and "That student is not in this cohort." in gone.text


def test_the_join_link_is_a_read_only_box_with_a_copy_script(client, db, educator):
    cohort_path = client.post("/teach/cohorts/new", data={"name": "Class A"}).location
    page = client.get(cohort_path).text
    code = re.search(r'class="join-code">(\w+)<', page).group(1)
    assert re.search(
        rf'<label for="join-link">Join link for Class A</label>\s*'
        rf'<input type="text" id="join-link" value="http://localhost/learn/join/{code}" readonly class="link-field" data-copy>',
        page,
    )
    assert '<script src="/static/js/copy.js" defer></script>' in page
    client.post(f"{cohort_path}/joining", data={"action": "close"})
    assert 'id="join-link"' not in client.get(cohort_path).text  # a closed cohort offers no link to copy
