"""The progress report a page of students at a time: the same statements whatever the cohort's size, pages and
lists whose links keep the choice, whole-cohort totals from SQL equal to the per-cell rules, and every student in
a streamed CSV whose memory stays flat."""

import importlib
import itertools
import re
import tracemalloc
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text, update

from app.models import Assignment, CohortMember, CourseItem, LessonProgress, QuizAttempt, QuizProgress, User
from app.models.types import utcnow
from app.services import cohorts, courses, reports
from app.services.courses import CourseStatus, item_state
from app.services.reports import exports, kept_totals
from tests.test_bad_input import streamed
from tests.test_reports import bulk_students, by_first_cell, person, read_csv, seed_world, table

matrix_service = importlib.import_module("app.services.reports.matrix")

MATRIX = "/teach/cohorts/{cohort}/courses/{course}/report"
PRINT = MATRIX + "/print"
CSV = MATRIX + ".csv"
CAPTION = "Progress of each current student"
SIZE = reports.MATRIX_PAGE_SIZE


@pytest.fixture
def world(db, catalog):
    """The reports' cohort: seven students with known answers to an assigned quiz, module and conversation."""
    return seed_world(db, catalog)


@pytest.fixture
def teacher(client, auth, world):
    """The world's educator, signed in."""
    assert auth.sign_in("teacher@example.org").status_code == 302
    return world.teacher


def names_in_order(world) -> list[str]:
    """Every current student's name, in the report's order (by name, then id)."""
    return [s.name for s in reports.students(world.cohort.id)]


def body_rows(page: str) -> list[list[str]]:
    """The matrix's student rows (without the header and the whole-cohort row)."""
    rows = table(page, CAPTION)
    return [row for row in rows[1:] if not row[0].startswith("Done (of ")]


# --- statements


def test_the_report_runs_the_same_statements_for_10_and_160_students_on_any_page(
    client, db, world, teacher, count_queries
):
    def measure(urls) -> dict[str, int]:
        counts = {}
        for template in urls:
            url = world.url(template)
            # Every view counts its totals here (tests/test_report_totals_cache.py covers the kept ones).
            kept_totals.let_go_of_kept_totals()
            with count_queries() as counter:
                response = client.get(url)
                assert response.status_code == 200 and response.data, url  # a streamed body is read in full
            counts[re.sub(r"[?&]page=2$", "", template)] = counter.count
        return counts

    first_pages = [MATRIX, MATRIX + "?show=incomplete", MATRIX + "?show=never-signed-in", PRINT, CSV]
    db.session.execute(
        update(CohortMember).where(CohortMember.cohort_id == world.cohort.id).values(removed_at=utcnow())
    )
    cohorts.add_member(world.cohort, world.users["Ada"].id, "roster")
    db.session.commit()
    bulk_students(db, world, 0, 9)
    at_ten = measure(first_pages)
    bulk_students(db, world, 9, 150)
    assert len(names_in_order(world)) == 160
    at_160 = measure(first_pages)
    second_pages = measure([MATRIX + "?page=2", MATRIX + "?show=never-signed-in&page=2", PRINT + "?page=2"])
    assert at_ten == at_160, (at_ten, at_160)
    assert second_pages == {key: at_160[key] for key in second_pages}, second_pages
    # Signed-in account and cohort, course and items, the page's students, their cells, the totals.
    assert at_ten[MATRIX] <= 7, at_ten


# --- pages and lists


def test_page_two_lists_the_next_students_by_name_with_whole_cohort_totals(client, db, world, teacher):
    bulk_students(db, world, 0, 150)  # with the seven: 157 students, two pages
    everyone = names_in_order(world)
    first = client.get(world.url(MATRIX)).text
    assert [row[0] for row in body_rows(first)] == everyone[:SIZE]
    assert f"Students 1 to {SIZE} of 157 (page 1 of 2)" in first and 'rel="next"' in first
    second = client.get(world.url(MATRIX) + "?page=2").text
    assert [row[0] for row in body_rows(second)] == everyone[SIZE:]
    assert f"Students {SIZE + 1} to 157 of 157 (page 2 of 2)" in second and 'rel="prev"' in second
    # The last row counts every student, whichever page is shown.
    totals = [table(page, CAPTION)[-1] for page in (first, second)]
    assert totals[0] == totals[1] and totals[0][0] == "Done (of 157)"
    assert "Cohort Spring ward · 157 current students" in second
    # A student's link goes to their record.
    ada = world.users["Ada"]
    assert f'href="/teach/cohorts/{world.cohort.id}/learners/{ada.id}">Ada</a>' in first


def test_lists_keep_their_choice_in_every_link_and_count_the_whole_cohort(client, db, world, teacher):
    bulk_students(db, world, 0, 150)
    signed_in = ["Ada", "Ben"]
    db.session.execute(
        update(User).where(User.id.in_([world.users[n].id for n in signed_in])).values(last_sign_in_at=utcnow())
    )
    db.session.commit()
    page = client.get(world.url(MATRIX) + "?show=never-signed-in").text
    listed = [row[0] for row in body_rows(page)]
    never = [name for name in names_in_order(world) if name not in signed_in]
    assert listed == never[:SIZE] and len(never) == 155
    assert '<span aria-current="true">Never signed in (155)</span>' in page
    assert "Students 1 to 100 of 155 (page 1 of 2)" in page
    base = world.url(MATRIX)
    links = re.findall(r'<a href="([^"]+)"[^>]*>(?:Next page|Printable view of this page)', page)
    assert f"{base}?show=never-signed-in&amp;page=2" in links
    assert f"{base}/print?show=never-signed-in" in links
    second = client.get(base + "?show=never-signed-in&page=2").text
    assert [row[0] for row in body_rows(second)] == never[SIZE:]
    assert f'href="{base}/print?show=never-signed-in&amp;page=2"' in second
    printed = client.get(base + "/print?show=never-signed-in&page=2").text
    assert [row[0] for row in body_rows(printed)] == never[SIZE:]
    assert "listed: never signed in, 101 to 155 of 155 by name" in printed
    assert f'href="{base}?show=never-signed-in&amp;page=2">Back to the report' in printed
    # Only Ada completed the course (her module, quiz and conversation): the others are "not completed".
    incomplete = client.get(base + "?show=incomplete").text
    assert "Ada" not in [row[0] for row in body_rows(incomplete)]
    assert '<span aria-current="true">Not completed the course (156)</span>' in incomplete
    assert f'<a href="{base}">Every student (157)</a>' in incomplete


def test_overdue_students_are_one_link_away_whatever_page_they_are_on(client, db, world, teacher):
    bulk_students(db, world, 0, 150)
    yesterday = utcnow().date() - timedelta(days=1)
    db.session.execute(update(Assignment).where(Assignment.cohort_id == world.cohort.id).values(due_on=yesterday))
    db.session.commit()
    page = client.get(world.url(MATRIX)).text
    attention = page.split('id="attention-heading"', 1)[1].split("</section>", 1)[0]
    assert "156 students have not completed the course by its due date" in attention
    assert f'<a href="{world.url(MATRIX)}?show=incomplete">List only these students</a>' in attention
    overdue = client.get(world.url(MATRIX) + "?show=incomplete&page=2").text
    assert all(row[2].startswith("Overdue") for row in body_rows(overdue))


def test_a_list_nobody_is_in_says_so_and_other_pages_are_friendly(client, db, world, teacher):
    db.session.execute(update(User).where(User.role == "student").values(last_sign_in_at=utcnow()))
    db.session.commit()
    page = client.get(world.url(MATRIX) + "?show=never-signed-in")
    assert page.status_code == 200
    assert "No current student of this cohort is in the list “Never signed in”." in page.text
    assert table(page.text, CAPTION)[-1][0] == "Done (of 7)"
    for query in ("?page=2", "?page=0", "?page=99999999999999999999", "?show=incomplete&page=2"):
        response = client.get(world.url(MATRIX) + query)
        assert response.status_code == 404, query
        assert "no such page of students" in response.text
    # An unreadable page number is the first page; an unknown list is every student.
    for query in ("?page=abc", "?show=%3Cscript%3E", "?show=INCOMPLETE"):
        response = client.get(world.url(MATRIX) + query)
        assert response.status_code == 200 and len(body_rows(response.text)) == 7, query
        assert "<script>" not in response.text


# --- totals from SQL equal the rules applied cell by cell


def expected_states(db, catalog, cohort, course, today):
    """Each current student's state per item, progress and completion, from their rows by the course's own rules
    (app.services.courses.item_state and CourseStatus, as the learner's pages apply them)."""
    students = reports.students(cohort.id)
    ids = [s.id for s in students]
    lessons: dict[int, dict[str, int]] = {i: {} for i in ids}
    opened: dict[int, set[str]] = {i: set() for i in ids}
    for row in db.session.scalars(select(LessonProgress).where(LessonProgress.user_id.in_(ids))):
        opened[row.user_id].add(row.module_ref)
        if row.completed_at is not None:
            lessons[row.user_id][row.module_ref] = lessons[row.user_id].get(row.module_ref, 0) + 1
    quiz_rows: dict[int, dict] = {i: {} for i in ids}
    for row in db.session.scalars(select(QuizProgress).where(QuizProgress.user_id.in_(ids))):
        quiz_rows[row.user_id][row.quiz_ref] = row
    open_attempts = set(
        db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.quiz_ref).where(
                QuizAttempt.user_id.in_(ids), QuizAttempt.mode == "assessed", QuizAttempt.is_open()
            )
        ).all()
    )
    due = db.session.scalar(select(Assignment.due_on).where(Assignment.cohort_id == cohort.id))
    found = {}
    for student in students:
        uid = student.id
        statuses = [item_state(catalog, item, lessons[uid], opened[uid], quiz_rows[uid]) for item in course.items]
        states = [
            reports.report_state(status, item.item_ref in quiz_rows[uid], (uid, item.item_ref) in open_attempts)
            for item, status in zip(course.items, statuses, strict=True)
        ]
        status = CourseStatus(course, statuses)
        overdue = bool(due and due < today and not status.is_complete)
        found[uid] = (states, status.percent, status.is_complete, overdue, student.never_signed_in)
    return found


STUDENT = st.fixed_dictionaries(
    {
        "signed_in": st.booleans(),
        "removed": st.booleans(),
        # Per module: lessons completed, then lessons only opened.
        "lessons": st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2)), min_size=3, max_size=3),
        # Per activity: nothing, an open marked attempt, open practice only, or a summary (passed, best, attempts).
        "activities": st.lists(
            st.one_of(
                st.just(None),
                st.just("open"),
                st.just("practice"),
                st.tuples(st.booleans(), st.integers(0, 100), st.integers(1, 4), st.booleans()),
            ),
            min_size=2,
            max_size=2,
        ),
    }
)
_RUN = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=st.lists(STUDENT, max_size=9),
    required=st.lists(st.booleans(), min_size=5, max_size=5),
    due_days=st.one_of(st.none(), st.integers(-3, 3)),
    page_size=st.integers(1, 4),
)
def test_totals_counted_in_sql_equal_the_rules_applied_to_every_cell(app, db, people, required, due_days, page_size):
    catalog = app.extensions["alliance.catalog"]  # not a fixture argument: Hypothesis would print all of it
    run = next(_RUN)
    teacher = person(db, f"Teacher {run}", "educator", email=f"teacher{run}@example.org")
    course = courses.create(teacher, f"Course {run}", "")
    modules = catalog.modules[:2]
    quiz, talk = catalog.quizzes[0], catalog.conversations[0]
    choices = (f"module:{modules[0].id}", f"module:{modules[1].id}", f"quiz:{quiz.id}", f"conversation:{talk.id}")
    for choice, is_required in zip(choices, required, strict=False):
        courses.add_item(catalog, course, choice, is_required=is_required)
    # A module no longer in the catalog: never completed, in progress once opened.
    last = max(item.position for item in course.items)
    db.session.execute(
        insert(CourseItem),
        [
            {
                "course_id": course.id,
                "position": last + 1,
                "kind": "module",
                "item_ref": "retired-module",
                "is_required": required[4],
            }
        ],
    )
    db.session.commit()
    db.session.refresh(course)
    assert [i.item_ref for i in course.items][-1] == "retired-module"
    cohort = cohorts.create(teacher, f"Cohort {run}")
    today = utcnow().date()
    due = today + timedelta(days=due_days) if due_days is not None else None
    courses.set_published(course, True)
    cohorts.assign(cohort, course, teacher, None, due)
    now = utcnow()
    module_refs = [modules[0].id, modules[1].id, "retired-module"]
    lesson_refs = [[lesson.id for lesson in m.lessons] for m in modules] + [[f"old-{n}" for n in range(8)]]
    for n, who in enumerate(people):
        # Names repeat on purpose: the order falls back on ids.
        user = person(db, f"Student {n % 4}", email=f"s{run}-{n}@example.org")
        cohorts.add_member(cohort, user.id, "roster")
        if who["removed"]:
            cohorts.remove_member(cohort, user.id)
        if who["signed_in"]:
            user.last_sign_in_at = now
        rows = []
        for ref, refs, (done, seen) in zip(module_refs, lesson_refs, who["lessons"], strict=True):
            for k, lesson_ref in enumerate(refs[: done + seen]):
                rows.append(
                    {
                        "user_id": user.id,
                        "module_ref": ref,
                        "lesson_ref": lesson_ref,
                        "content_version": "v",
                        "view_count": 1,
                        "first_viewed_at": now,
                        "last_viewed_at": now,
                        "completed_at": now if k < done else None,
                    }
                )
        if rows:
            db.session.execute(insert(LessonProgress), rows)
        for activity, state in zip((quiz, talk), who["activities"], strict=True):
            if isinstance(state, tuple):
                passed, best, attempts, also_open = state
                db.session.execute(
                    insert(QuizProgress),
                    [
                        {
                            "user_id": user.id,
                            "quiz_ref": activity.id,
                            "module_ref": "m",
                            "attempt_count": attempts,
                            "best_percent": float(best),
                            "last_percent": float(best),
                            "is_passed": passed,
                            "last_submitted_at": now,
                        }
                    ],
                )
            if state in ("open", "practice") or (isinstance(state, tuple) and state[3]):
                db.session.execute(
                    insert(QuizAttempt),
                    [
                        {
                            "user_id": user.id,
                            "quiz_ref": activity.id,
                            "module_ref": "m",
                            "content_version": "v",
                            "max_score": 1.0,
                            "pass_mark": 70,
                            "started_at": now,
                            "mode": "practice" if state == "practice" else "assessed",
                        }
                    ],
                )
    db.session.commit()

    expected = expected_states(db, catalog, cohort, course, today)
    report = reports.matrix(catalog, cohort.id, course, due, today, page_size=page_size)
    assert report.students == len(expected)
    assert report.complete == sum(1 for e in expected.values() if e[2])
    assert report.overdue == sum(1 for e in expected.values() if e[3])
    assert report.never_signed_in == sum(1 for e in expected.values() if e[4])
    for index in range(len(course.items)):
        tally = Counter(e[0][index] for e in expected.values())
        assert report.counts(index) == {state: tally.get(state, 0) for state in reports.REPORT_STATES}, index
    # Every page of every list agrees with the rules student by student, in the order of names (then ids).
    order = [s.id for s in reports.students(cohort.id)]
    wanted = {"": lambda e: True, "incomplete": lambda e: not e[2], "never-signed-in": lambda e: e[4]}
    for show, keep in wanted.items():
        seen = []
        for page in itertools.count(1):
            shown = reports.matrix(catalog, cohort.id, course, due, today, page=page, show=show, page_size=page_size)
            if shown is None:
                assert page > 1 and not seen
                break
            assert len(shown.rows) <= page_size and shown.matched == shown.matching(show)
            seen += shown.rows
            if page >= shown.pages:
                assert reports.matrix(catalog, cohort.id, course, due, today, page + 1, show, page_size) is None
                break
        assert [row.student.id for row in seen] == [i for i in order if keep(expected[i])], show
        for row in seen:
            assert ([c.state for c in row.cells], row.percent, row.is_complete, row.is_overdue) == expected[
                row.student.id
            ][:4]
    # The CSV's rows say the same for every student.
    columns, everyone = reports.every_row(catalog, cohort.id, course, due, today)
    rows = list(everyone)
    assert len(columns) == 5 and [row.student.id for row in rows] == order
    for row in rows:
        assert ([c.state for c in row.cells], row.percent, row.is_complete, row.is_overdue) == expected[row.student.id][
            :4
        ]


# --- the whole matrix as a streamed CSV


def test_the_csv_streams_every_student_in_the_pages_order_with_the_pages_figures(client, db, world, teacher):
    bulk_students(db, world, 0, 150)
    response, pieces = streamed(client, world.url(CSV))
    assert response.status_code == 200 and response.is_streamed
    assert len(pieces) > 1  # written a few hundred rows at a time, not as one body
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    response.set_data(b"".join(pieces))
    rows = read_csv(response)
    assert [row[0] for row in rows[1:]] == names_in_order(world)  # all 157, not a page
    second = by_first_cell(body_rows(client.get(world.url(MATRIX) + "?page=2").text))
    sheet = by_first_cell(rows[1:])
    assert len(second) == 157 - SIZE
    for name, row in second.items():
        # Required items done, and each item's state and detail: "Passed (best 94%, 1 attempt)" in the sheet.
        line = sheet[name]
        assert line[3] + "%" == row[1], name
        assert [re.sub(r" \((.*)\)$", r" \1", line[i]) for i in (5, 6, 8)] == row[3:6], name


def lean_cohort(db, world, prefix: str, count: int) -> int:
    """A cohort of `count` students assigned the world's course, with lesson and quiz summaries: its id."""
    cohort = cohorts.create(world.teacher, f"Cohort {prefix}")
    cohorts.assign(cohort, world.course, world.teacher, None, None)
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # The rows go in without the report counters' triggers, a row at a time on PostgreSQL (25 s of the
        # suite's time for 2,200 students): these cohorts' downloads read rows, never the counters.
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    now = utcnow()
    emails = [f"{prefix}{n:05d}@example.org" for n in range(count)]
    db.session.execute(
        insert(User),
        [
            {"email": e, "display_name": f"{prefix} {e[-17:-12]}", "password_hash": "-", "role": "student"}
            for e in emails
        ],
    )
    ids = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
    db.session.execute(
        insert(CohortMember),
        [{"cohort_id": cohort.id, "user_id": i, "joined_via": "roster", "joined_at": now} for i in ids],
    )
    lessons = world.module.lessons
    db.session.execute(
        insert(LessonProgress),
        [
            {
                "user_id": i,
                "module_ref": world.module.id,
                "lesson_ref": lesson.id,
                "content_version": "v",
                "first_viewed_at": now,
                "last_viewed_at": now,
                "completed_at": now if (i + n) % 3 else None,
            }
            for i in ids
            for n, lesson in enumerate(lessons[: 1 + i % len(lessons)])
        ],
    )
    db.session.execute(
        insert(QuizProgress),
        [
            {
                "user_id": i,
                "quiz_ref": ref,
                "module_ref": "m",
                "attempt_count": 1 + i % 3,
                "best_percent": float(i % 101),
                "last_percent": float(i % 101),
                "is_passed": i % 101 >= 70,
                "last_submitted_at": now,
            }
            for i in ids
            for ref in (world.quiz.id, world.conversation.id)
        ],
    )
    db.session.commit()
    return cohort.id


def peak_kib(chunks) -> tuple[float, int]:
    """The most memory (Python's own allocations) held while every chunk is made and dropped, and the bytes made."""
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in chunks)
        return tracemalloc.get_traced_memory()[1] / 1024, size
    finally:
        tracemalloc.stop()


def test_the_matrix_csv_holds_the_same_memory_for_200_and_2000_students(db, world, catalog, monkeypatch):
    def download(cohort_id: int):
        columns, rows = reports.every_row(catalog, cohort_id, world.course)
        return reports.csv_chunks(reports.matrix_csv_rows(columns, rows))

    monkeypatch.setattr(matrix_service, "CSV_BATCH", 100)  # a few batches even for the small cohort
    small, large = lean_cohort(db, world, "small", 200), lean_cohort(db, world, "large", 2000)
    peak_kib(download(small))  # statements compiled and cached once, outside the measure
    small_peak, small_size = peak_kib(download(small))
    large_peak, large_size = peak_kib(download(large))
    assert large_size > 9 * small_size  # ten times the rows...
    assert large_peak < 1.3 * small_peak + 64, (small_peak, large_peak)  # ...in the same memory


def test_the_answers_csv_holds_the_same_memory_for_50_and_300_students(db, world, catalog, monkeypatch):
    def download():
        return reports.csv_chunks(exports.attempt_csv_rows(catalog, world.cohort.id))

    monkeypatch.setattr(exports, "FETCH_ROWS", 100)  # a few batches even for the small cohort
    bulk_students(db, world, 0, 43)  # with the seven: 50 students, about 600 answers
    peak_kib(download())
    small_peak, small_size = peak_kib(download())
    bulk_students(db, world, 43, 250)  # 300 students, about 3,300 answers
    large_peak, large_size = peak_kib(download())
    assert large_size > 5 * small_size
    assert large_peak < 1.3 * small_peak + 64, (small_peak, large_peak)


def test_the_answers_csv_is_streamed_with_one_row_per_answer_and_each_attempts_times(client, db, world, teacher):
    response, pieces = streamed(client, f"/teach/cohorts/{world.cohort.id}/attempts.csv")
    assert response.status_code == 200 and response.is_streamed
    response.set_data(b"".join(pieces))
    rows = read_csv(response)
    ada = [row for row in rows[1:] if row[0] == "Ada" and row[3] == "Quiz"]
    assert len(ada) == 11 and len({(row[5], row[6]) for row in ada}) == 1 and ada[0][6]


CELL = st.one_of(st.text(max_size=30), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False), st.none())


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=1, max_size=5), max_size=12), chunk_rows=st.integers(1, 5))
def test_a_streamed_csv_is_the_same_file_as_one_written_whole(rows, chunk_rows):
    pieces = list(reports.csv_chunks(iter(rows), chunk_rows))
    assert b"".join(pieces) == reports.to_csv(rows)  # byte order mark, quoting and defused formulas alike
    assert len(pieces) == 1 + -(-len(rows) // chunk_rows)  # the mark, then a piece per `chunk_rows` rows


def test_a_course_of_quizzes_alone_reports_each_student(client, db, auth, catalog):
    # Found by the route fuzzer: with no module in the course, the quizzes' part named the columns.
    from app.services import cohorts, courses
    from app.services import quizzes as quiz_service
    from tests.helpers import answers_by_grade, given_answers

    teacher = auth.create("educator", email="quiz.only@example.org", name="Quiz Only")
    student = auth.create("student", email="taker@example.org", name="Taker")
    quiz = catalog.quizzes[0]
    course = courses.create(teacher, "Quizzes only", "")
    courses.add_item(catalog, course, f"quiz:{quiz.id}")
    courses.set_published(course, True)
    cohort = cohorts.create(teacher, "Quiz class")
    cohorts.assign(cohort, course, teacher, None, None)
    cohorts.add_member(cohort, student.id, "roster")
    attempt = quiz_service.start_attempt(student.id, quiz)
    quiz_service.submit_attempt(student.id, attempt, quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
    db.session.commit()
    assert auth.sign_in("quiz.only@example.org").status_code == 302
    page = client.get(MATRIX.format(cohort=cohort.id, course=course.id))
    assert page.status_code == 200, page.text[:300]
    row = body_rows(page.text)[0]
    assert row[0] == "Taker" and row[1] == "100%" and any(cell.startswith("Passed") for cell in row[2:])
    download = client.get(CSV.format(cohort=cohort.id, course=course.id))
    assert download.status_code == 200 and "Taker" in download.get_data(as_text=True)
