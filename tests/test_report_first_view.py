"""The progress report's first view after a change: the database's triggers note which student each change was
about, and a process that keeps a cohort's totals recounts only those students (one statement, no GROUP BY over
the cohort), with totals and cells equal to the per-cell rules however changes, views and processes interleave."""

import importlib
import itertools
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from app.models import CohortMember, LessonProgress, QuizAttempt, QuizProgress, ReportChange, ReportGeneration, User
from app.models.types import utcnow
from app.services import account_data, cohorts, courses, progress, quizzes, reports
from app.services.reports import kept_totals
from app.services.reports import matrix_queries as queries
from tests.test_report_paging import MATRIX, expected_states
from tests.test_report_totals_cache import KEPT_STATEMENTS, _lessons_undone_in_sql, report_table
from tests.test_reports import bulk_students, person, seed_world

_KEPT = "alliance.report_totals"
matrix_service = importlib.import_module("app.services.reports.matrix")


@pytest.fixture
def world(db, catalog):
    """The reports' cohort: seven students with known answers to an assigned quiz, module and conversation."""
    return seed_world(db, catalog)


@pytest.fixture
def teacher(client, auth, world):
    """The world's educator, signed in."""
    assert auth.sign_in("teacher@example.org").status_code == 302
    return world.teacher


def _notes(db, cohort_id: int) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(ReportChange.user_id, ReportChange.generation).where(ReportChange.cohort_id == cohort_id)
        ).all()
    )


def _counter(db, cohort_id: int) -> int:
    return db.session.scalar(select(ReportGeneration.generation).where(ReportGeneration.cohort_id == cohort_id))


def test_each_change_notes_its_student_with_the_cohorts_counter(db, world):
    ben, ada = world.users["Ben"].id, world.users["Ada"].id
    before, counter = _notes(db, world.cohort.id), _counter(db, world.cohort.id)
    db.session.execute(update(User).where(User.id == ben).values(last_sign_in_at=utcnow()))
    db.session.commit()
    notes = _notes(db, world.cohort.id)
    assert notes[ben] == _counter(db, world.cohort.id) == counter + 1
    assert {user: n for user, n in notes.items() if user != ben} == {
        user: n for user, n in before.items() if user != ben
    }
    # A membership that moves to another cohort is noted in both, with each cohort's own counter.
    other = cohorts.create(world.teacher, "Other cohort")
    db.session.commit()
    db.session.execute(
        update(CohortMember)
        .where(CohortMember.cohort_id == world.cohort.id, CohortMember.user_id == ada)
        .values(cohort_id=other.id)
    )
    db.session.commit()
    assert _notes(db, world.cohort.id)[ada] == _counter(db, world.cohort.id)
    assert _notes(db, other.id) == {ada: _counter(db, other.id)}


def test_the_first_view_after_a_change_reads_only_the_students_it_was_about(client, db, world, teacher, count_queries):
    before = report_table(client, world)
    _lessons_undone_in_sql(db, world)  # Ada's
    db.session.commit()
    with count_queries() as counter:
        after = report_table(client, world)
    assert counter.count == KEPT_STATEMENTS + 1, counter.statements
    assert any("report_change" in statement for statement in counter.statements)
    assert not any("GROUP BY" in statement for statement in counter.statements if "report_change" not in statement)
    assert after != before
    assert kept_totals.let_go_of_kept_totals()
    assert report_table(client, world) == after  # counted afresh


def test_the_first_view_after_a_change_runs_the_same_statements_for_10_and_160_students(
    client, db, world, teacher, count_queries
):
    def after_a_change() -> int:
        report_table(client, world)
        for lesson in world.module.lessons:
            progress.complete_lesson(world.users["Ada"].id, world.module, lesson)
        db.session.execute(update(User).where(User.id == world.users["Ada"].id).values(last_sign_in_at=utcnow()))
        db.session.commit()
        with count_queries() as counter:
            assert client.get(world.url(MATRIX)).status_code == 200
        return counter.count

    bulk_students(db, world, 0, 3)
    at_ten = after_a_change()
    bulk_students(db, world, 3, 150)
    assert after_a_change() == at_ten == KEPT_STATEMENTS + 1


# --- interleaved changes, views and processes: the kept totals equal the per-cell rules


STEP = st.one_of(
    # A lesson of module 0, 1 or the retired one completed (True) or only opened (False).
    st.tuples(st.just("lesson"), st.integers(0, 4), st.integers(0, 2), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("lessons undone"), st.integers(0, 4)),
    st.tuples(st.just("join"), st.integers(0, 4)),
    st.tuples(st.just("leave"), st.integers(0, 4)),
    st.tuples(st.just("start"), st.integers(0, 4), st.integers(0, 1)),
    st.tuples(st.just("submit"), st.integers(0, 4), st.integers(0, 1), st.booleans()),
    st.tuples(st.just("sign in"), st.integers(0, 4)),
    st.tuples(st.just("delete account"), st.integers(0, 4)),
    st.tuples(st.just("item"), st.integers(0, 3)),  # a course item taken out, or put back
    st.tuples(st.just("view"), st.integers(0, 1), st.integers(1, 3)),  # in process 0 or 1, pages of 1 to 3
)
_RUN = itertools.count()


def _check(db, catalog, cohort, course, page_size: int) -> None:
    """Every page and the totals as the kept path gives them equal the rules applied to every cell."""
    today = utcnow().date()
    expected = expected_states(db, catalog, cohort, course, today)
    report = reports.matrix(catalog, cohort.id, course, None, today, page_size=page_size)
    assert report.students == len(expected)
    assert report.complete == sum(1 for e in expected.values() if e[2])
    assert report.never_signed_in == sum(1 for e in expected.values() if e[4])
    for index in range(len(course.items)):
        tally = Counter(e[0][index] for e in expected.values())
        assert report.counts(index) == {state: tally.get(state, 0) for state in reports.REPORT_STATES}, index
    for page in range(1, report.pages + 1):
        shown = reports.matrix(catalog, cohort.id, course, None, today, page=page, page_size=page_size)
        for row in shown.rows:
            assert ([c.state for c in row.cells], row.percent, row.is_complete) == expected[row.student.id][:3]


def _lesson(db, user_id: int, module_ref: str, lesson_ref: str, completed: bool) -> None:
    now = utcnow()
    found = db.session.scalar(
        select(LessonProgress.id).where(
            LessonProgress.user_id == user_id,
            LessonProgress.module_ref == module_ref,
            LessonProgress.lesson_ref == lesson_ref,
        )
    )
    if found is None:
        db.session.execute(
            insert(LessonProgress),
            [
                {
                    "user_id": user_id,
                    "module_ref": module_ref,
                    "lesson_ref": lesson_ref,
                    "content_version": "v",
                    "view_count": 1,
                    "first_viewed_at": now,
                    "last_viewed_at": now,
                    "completed_at": now if completed else None,
                }
            ],
        )
    else:
        db.session.execute(
            update(LessonProgress).where(LessonProgress.id == found).values(completed_at=now if completed else None)
        )


def _submit(db, user_id: int, activity, passed: bool) -> None:
    now = utcnow()
    db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_ref == activity.id, QuizAttempt.is_open())
        .values(submitted_at=now, score=0.0, is_passed=passed)
    )
    summary = {QuizProgress.user_id == user_id, QuizProgress.quiz_ref == activity.id}
    if db.session.scalar(select(QuizProgress.id).where(*summary)) is None:
        row = {"user_id": user_id, "quiz_ref": activity.id, "module_ref": activity.module_id, "attempt_count": 1}
        values = {"best_percent": 80.0 if passed else 20.0, "last_percent": 50.0, "is_passed": passed}
        db.session.execute(insert(QuizProgress), [{**row, **values, "last_submitted_at": now}])
    else:
        db.session.execute(
            update(QuizProgress)
            .where(*summary)
            .values(attempt_count=QuizProgress.attempt_count + 1, is_passed=QuizProgress.is_passed | passed)
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=14), required=st.lists(st.booleans(), min_size=4, max_size=4))
def test_kept_totals_follow_interleaved_changes_views_and_processes(app, db, steps, required):
    catalog = app.extensions["alliance.catalog"]  # not a fixture argument: Hypothesis would print all of it
    run = next(_RUN)
    teacher = person(db, f"Teacher {run}", "educator", email=f"first-view-teacher{run}@example.org")
    course = courses.create(teacher, f"Course {run}", "")
    modules = catalog.modules[:2]
    quiz, talk = catalog.quizzes[0], catalog.conversations[0]
    choices = [f"module:{modules[0].id}", f"module:{modules[1].id}", f"quiz:{quiz.id}", f"conversation:{talk.id}"]
    for choice, is_required in zip(choices, required, strict=True):
        courses.add_item(catalog, course, choice, is_required=is_required)
    cohort = cohorts.create(teacher, f"Cohort {run}")
    courses.set_published(course, True)
    cohorts.assign(cohort, course, teacher, None, None)
    students = [person(db, f"Student {n % 3}", email=f"first-view{run}-{n}@example.org") for n in range(5)]
    for student in students[:3]:
        cohorts.add_member(cohort, student.id, "roster")
    db.session.commit()
    ids = [s.id for s in students]
    deleted: set[int] = set()
    lessons = [[lesson.id for lesson in m.lessons] for m in modules] + [[f"old-{n}" for n in range(6)]]
    module_refs = [modules[0].id, modules[1].id, "retired-module"]
    activities = (quiz, talk)
    # Two processes, each with its own kept totals, as two workers serving the same database.
    processes: list[dict | None] = [None, None]
    app.extensions.pop(_KEPT, None)
    viewed = False

    for step in steps:
        kind, who = step[0], ids[step[1]] if step[0] not in ("view", "item") else None
        if who in deleted:
            continue
        if kind == "lesson":
            _, _, module, lesson, completed = step
            _lesson(db, who, module_refs[module], lessons[module][lesson % len(lessons[module])], completed)
        elif kind == "lessons undone":
            db.session.execute(update(LessonProgress).where(LessonProgress.user_id == who).values(completed_at=None))
        elif kind == "join":
            cohorts.add_member(cohort, who, "roster")
        elif kind == "leave":
            cohorts.remove_member(cohort, who)
        elif kind == "start":
            quizzes.start_attempt(who, activities[step[2]])
        elif kind == "submit":
            _submit(db, who, activities[step[2]], step[3])
        elif kind == "sign in":
            db.session.execute(update(User).where(User.id == who).values(last_sign_in_at=utcnow()))
        elif kind == "delete account":
            account_data.delete(db.session.get(User, who))
            deleted.add(who)
        elif kind == "item":
            chosen = choices[step[1]]
            found = [i for i in course.items if f"{i.kind}:{i.item_ref}" == chosen]
            if found:
                courses.remove_item(course, found[0].id)
            else:
                courses.add_item(catalog, course, chosen, is_required=required[step[1]])
        db.session.commit()
        db.session.refresh(course)
        if kind == "view":
            _, number, page_size = step
            if processes[number] is None:
                app.extensions.pop(_KEPT, None)  # a process that has kept nothing yet
            else:
                app.extensions[_KEPT] = processes[number]
            _check(db, catalog, cohort, course, page_size)
            processes[number] = app.extensions[_KEPT]
            viewed = True
    if not viewed:
        _check(db, catalog, cohort, course, 2)
    # A new content version with another count of lessons is another plan: its totals equal the database's count.
    plan = matrix_service.plan_of(matrix_service.columns_of(catalog, course))
    for lessons_now in ({ref: n + 1 for ref, n in plan.lessons}, {ref: max(0, n - 1) for ref, n in plan.lessons}):
        other = replace(plan, lessons=tuple(lessons_now.items()))
        generation = _counter(db, cohort.id) or 0
        _, kept = kept_totals.kept_view(cohort.id, [], other, generation, lambda rows: {})
        assert kept == _normalised(queries.totals(cohort.id, other), other)
    app.extensions.pop(_KEPT, None)


def _normalised(counted: queries.Counted, plan: queries.Plan) -> queries.Counted:
    """The database's count with every item present (it leaves out items nobody has a row for)."""
    return replace(
        counted,
        modules={ref: (counted.modules or {}).get(ref, (0, 0)) for ref in plan.modules},
        activities={ref: (counted.activities or {}).get(ref, (0, 0)) for ref in plan.activities},
        open_only={ref: (counted.open_only or {}).get(ref, 0) for ref in plan.activities},
    )


def test_a_deleted_account_leaves_the_kept_totals_at_once(client, db, world, teacher):
    before = report_table(client, world)
    eli = world.users["Eli"]
    account_data.delete(eli)
    db.session.commit()
    assert db.session.scalar(select(CohortMember.id).where(CohortMember.user_id == eli.id)) is None
    after = report_table(client, world)
    assert len(after) == len(before) - 1
    assert kept_totals.let_go_of_kept_totals()
    assert report_table(client, world) == after


def test_a_removed_student_comes_back_with_their_progress_counted_once(client, db, world, teacher):
    ben = world.users["Ben"].id
    first = report_table(client, world)
    cohorts.remove_member(world.cohort, ben)
    db.session.commit()
    assert len(report_table(client, world)) == len(first) - 1
    cohorts.add_member(world.cohort, ben, "roster")
    db.session.commit()
    assert report_table(client, world) == first
