"""Authored quizzes reach a learner's practice and mastery figures exactly when a course of theirs holds them
(or an admin made them site-wide); never another class's private ones; and at most one cheap query for it."""

import re

import pytest
from sqlalchemy import select

from app.content import catalog as request_catalog
from app.models import AuthoredQuiz, Course
from app.services import authored_reach, cohorts, courses, mastery
from tests.authoring_helpers import write_quiz

COMPETENCY = "bordin.tasks"


def _published(client, db) -> AuthoredQuiz:
    quiz_id = write_quiz(client)
    assert client.post(f"/author/{quiz_id}/publish").status_code == 302
    return db.session.get(AuthoredQuiz, quiz_id)


def _items_total(client) -> int:
    """How many quiz items the practise page says assess the competency."""
    page = client.get(f"/learn/practice/competencies/{COMPETENCY}").text
    return int(re.search(r"chosen from the (\d+) quiz items", page)[1])


@pytest.fixture
def world(client, auth, db):
    """An educator's published private quiz in a published course assigned to a cohort with one student;
    a second student in no cohort."""
    teacher = auth.as_role("educator")
    quiz = _published(client, db)
    with client.application.test_request_context():
        now = request_catalog()
    course = courses.create(teacher, "Placement", "")
    courses.add_item(now, course, f"quiz:{quiz.ref}")
    courses.set_published(course, True)
    cohort = cohorts.create(teacher, "Year 2")
    inside = auth.create("student", email="inside@example.org")
    outside = auth.create("student", email="outside@example.org")
    cohorts.add_members(cohort, [inside.id], "roster")
    cohorts.assign(cohort, course, teacher, None, None)
    db.session.commit()
    auth.sign_out()
    tagged = sum(1 for item in now.quiz(quiz.ref).items if COMPETENCY in item.competencies)
    assert tagged == 3
    return {"quiz": quiz, "cohort": cohort, "inside": inside, "outside": outside, "tagged": tagged, "catalog": now}


def test_practice_offers_a_private_quiz_to_its_courses_learners_only(client, auth, world):
    auth.sign_in(world["outside"].email)
    elsewhere = _items_total(client)
    auth.sign_out()
    auth.sign_in(world["inside"].email)
    assert _items_total(client) == elsewhere + world["tagged"]
    started = client.post(f"/learn/practice/competencies/{COMPETENCY}")
    assert started.status_code == 302


def test_mastery_counts_the_quiz_for_its_learners_and_for_everyone_once_site_wide(client, auth, db, world):
    now, ref = world["catalog"], world["quiz"].ref
    inside, outside = world["inside"].id, world["outside"].id
    assert authored_reach.given_to(inside, now) == {ref}
    assert authored_reach.given_to(outside, now) == frozenset()

    def available(user_id: int) -> int:
        found = mastery.groups(now, {}, [], None, authored_reach.given_to(user_id, now))
        return next(r.practice_items for g in found for r in g.rows if r.competency.id == COMPETENCY)

    assert available(inside) == available(outside) + world["tagged"]
    assert all(q != ref for q, _ in mastery.practice_items(now, COMPETENCY, authored_reach.given_to(outside, now)))
    world["quiz"].is_site_wide = True
    db.session.commit()
    assert authored_reach.given_to(outside, now) == {ref}
    assert available(outside) == available(inside)


def test_a_learner_who_left_the_cohort_no_longer_gets_the_quiz(client, auth, db, world):
    cohorts.remove_member(world["cohort"], world["inside"].id)
    db.session.commit()
    assert authored_reach.given_to(world["inside"].id, world["catalog"]) == frozenset()


def test_an_unpublished_course_gives_nothing(client, auth, db, world):
    course = db.session.scalars(select(Course)).one()
    courses.set_published(course, False)
    db.session.commit()
    assert authored_reach.given_to(world["inside"].id, world["catalog"]) == frozenset()


def test_the_learners_authored_content_costs_no_query_without_any_and_one_with_some(
    app, client, auth, db, catalog, count_queries, world
):
    with count_queries() as counted:
        assert authored_reach.given_to(world["inside"].id, catalog) == frozenset()  # the shipped catalog
    assert counted.statements == []
    with count_queries() as counted:
        authored_reach.given_to(world["inside"].id, world["catalog"])
    assert len(counted.statements) == 1


def test_the_progress_page_runs_one_statement_more_once_authored_content_is_published(
    client, auth, db, count_queries, world
):
    auth.sign_in(world["inside"].email)
    client.get("/learn/progress")
    with count_queries() as counted:
        page = client.get("/learn/progress")
    assert page.status_code == 200 and "Practise this" in page.text
    # tests/test_learner_speed.py: five with nothing authored published; here the learner's authored refs too.
    assert len([s for s in counted.statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]) == 6
    assert sum("course_item" in s for s in counted.statements) == 1
