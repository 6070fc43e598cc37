"""Educators' reports: figures checked against a cohort whose answers are known, constant query counts, CSV safety, access."""

import csv
import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import insert, select, update

from app.content.conversations import grade_reply
from app.models import (
    CohortMember,
    CompetencyProgress,
    ItemResponse,
    LessonProgress,
    QuizAttempt,
    QuizProgress,
    User,
)
from app.models.types import utcnow
from app.services import accounts, cohorts, conversations, courses, invitations, practice, progress, quizzes, reports
from tests.conftest import PASSWORD

# --- reading the pages


class _Tables(HTMLParser):
    """Every table of a page: its caption and its rows, each row the text of its cells."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": [], "class": dict(attrs).get("class", "")})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)


def table(page: str, caption_start: str) -> list[list[str]]:
    """The rows (header row first) of the table whose caption starts with `caption_start`."""
    parser = _Tables()
    parser.feed(page)
    found = [t for t in parser.tables if t["caption"].startswith(caption_start)]
    assert len(found) == 1, [t["caption"] for t in parser.tables]
    return found[0]["rows"]


def by_first_cell(rows: list[list[str]]) -> dict[str, list[str]]:
    """Rows keyed by their first cell."""
    return {row[0]: row for row in rows}


def read_csv(response) -> list[list[str]]:
    """A CSV download parsed as a spreadsheet would read it."""
    assert response.data.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


# --- a cohort whose answers are known

#: Each student's submitted quiz attempts, oldest first: how many of the first items they answered right.
#: The rest they answered with the item's wrong answer, which earns nothing.
PLAN = {
    "Ada": [11],
    "Ben": [9],
    "Cai": [7],
    "Dee": [5],
    "Eli": [11, 3],  # passed first, then a weak latest attempt: the analysis uses the latest
    "Fay": [0, 0],  # two failed attempts
    "Gus": [],
}


def answers(quiz, right: int) -> dict:
    """Graded answers: the answer key for the first `right` items, a wrong answer for the rest."""
    return {
        item.id: item.handler.right_answer(item) if n < right else item.handler.wrong_answer(item)
        for n, item in enumerate(quiz.items)
    }


_HASH: list[str] = []


def person(db, name: str, role: str = "student", email: str | None = None) -> User:
    """An account that can sign in with the test password; the password is hashed once per session (argon2 is slow)."""
    if not _HASH:
        _HASH.append(accounts._hasher().hash(PASSWORD))
    email = email or f"{name.lower()}@example.org"
    db.session.execute(
        insert(User),
        {"email": email, "display_name": name, "password_hash": _HASH[0], "role": role, "created_at": utcnow()},
    )
    return db.session.scalar(select(User).where(User.email == email))


class World:
    """Ids and expectations of the seeded cohort."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def url(self, template: str) -> str:
        return template.format(
            cohort=self.cohort.id, course=self.course.id, learner=self.users["Ada"].id, quiz=self.quiz.id
        )


@pytest.fixture
def world(db, catalog):
    """An educator's cohort of seven students (plus one removed and one outsider) with known answers."""
    return seed_world(db, catalog)


def seed_world(db, catalog) -> World:
    """Seed the cohort through the services, as students and the educator would have made it."""
    teacher = person(db, "Teacher", "educator")
    quiz = catalog.quizzes[0]
    module = catalog.module(quiz.module_id)
    conversation = catalog.conversations[0]
    assert len(quiz.items) == 11 and all(item.max_score == 2 for item in quiz.items)
    course = courses.create(teacher, "Alliance basics", "")
    for choice in (f"module:{module.id}", f"quiz:{quiz.id}", f"conversation:{conversation.id}"):
        courses.add_item(catalog, course, choice)
    courses.set_published(course, True)
    cohort = cohorts.create(teacher, "Spring ward")
    cohorts.assign(cohort, course, teacher, None, None)
    users = {}
    graded: dict[str, list] = {}
    for name in [*PLAN, "Hal", "Ivy"]:
        users[name] = person(db, name)
        if name != "Ivy":  # Ivy is in no cohort
            cohorts.add_member(cohort, users[name].id, "roster")
    for name, plan in [*PLAN.items(), ("Hal", [11]), ("Ivy", [11])]:
        graded[name] = []
        for right in plan:
            attempt = quizzes.start_attempt(users[name].id, quiz)
            given = answers(quiz, right)
            quizzes.submit_attempt(users[name].id, attempt, quiz, given)
            graded[name] += [item.handler.grade(item, given[item.id]) for item in quiz.items]
    # Lessons: Ada completes the module, Ben two lessons, Cai only opens one.
    for lesson in module.lessons:
        progress.complete_lesson(users["Ada"].id, module, lesson)
    for lesson in module.lessons[:2]:
        progress.complete_lesson(users["Ben"].id, module, lesson)
    progress.view_lesson(users["Cai"].id, module, module.lessons[0])
    progress.view_lesson(users["Cai"].id, module, module.lessons[0])
    # Ada plays the conversation's best path; Ben starts it and stops after one reply.
    attempt = quizzes.start_attempt(users["Ada"].id, conversation)
    for step, reply_id in enumerate(conversation.best_path, start=1):
        conversations.reply(users["Ada"].id, attempt, conversation, step, reply_id)
    steps, _ = conversation.play(list(conversation.best_path))
    graded["Ada"] += [grade_reply(s.node, s.reply) for s in steps]
    talking = quizzes.start_attempt(users["Ben"].id, conversation)
    conversations.reply(users["Ben"].id, talking, conversation, 1, conversation.best_path[0])
    graded["Ben"].append(grade_reply(steps[0].node, steps[0].reply))
    cohorts.remove_member(cohort, users["Hal"].id)
    # Ada took 5 min 3 s over her quiz.
    timed = db.session.scalar(
        select(QuizAttempt).where(QuizAttempt.user_id == users["Ada"].id, QuizAttempt.quiz_ref == quiz.id)
    )
    timed.started_at = timed.submitted_at - timedelta(minutes=5, seconds=3)
    outsider = person(db, "Outsider", "educator")
    db.session.commit()
    return World(
        teacher=teacher,
        outsider=outsider,
        quiz=quiz,
        module=module,
        conversation=conversation,
        course=course,
        cohort=cohort,
        users=users,
        graded=graded,
    )


@pytest.fixture
def teacher(client, auth, world):
    """The world's educator, signed in."""
    assert auth.sign_in("teacher@example.org").status_code == 302
    return world.teacher


def pct(right: int) -> str:
    """The shipped quiz's percentage for `right` items right (2 points each of 22)."""
    return f"{100 * right / 11:.0f}%"


# --- 1. the matrix


def test_matrix_shows_each_students_state_and_best_score(client, world, teacher):
    page = client.get(world.url("/teach/cohorts/{cohort}/courses/{course}/report"))
    assert page.status_code == 200 and page.text.count("<h1") == 1
    rows = table(page.text, "Progress of each current student")
    lessons = len(world.module.lessons)
    assert rows[0] == [
        "Student",
        "Required items done",
        "Flags",
        f"Module: {world.module.title}",
        f"Quiz: {world.quiz.title}",
        f"Conversation: {world.conversation.title}",
    ]
    body = by_first_cell(rows[1:])
    assert list(body)[:7] == list(PLAN)  # current students by name; Hal (removed) and Ivy absent
    assert "Hal" not in body and "Ivy" not in body
    never = "Never signed in"  # the seeded students were written straight to the database
    assert body["Ada"][1:] == [
        "100%",
        never,
        "Completed",
        "Passed best 100%, 1 attempt",
        "Passed best 100%, 1 attempt",
    ]
    assert body["Ben"][1:] == [
        "33%",
        never,
        f"In progress {2} of {lessons} lessons",
        f"Passed best {pct(9)}, 1 attempt",
        "In progress",  # one reply given, not finished: an open attempt
    ]
    assert body["Cai"][3:5] == [f"In progress 0 of {lessons} lessons", f"Attempted, not passed best {pct(7)}, 1 attempt"]
    assert body["Eli"][4] == "Passed best 100%, 2 attempts"
    assert body["Fay"][4] == "Attempted, not passed best 0%, 2 attempts"
    assert body["Gus"][1:] == ["0%", never, "Not started", "Not started", "Not started"]
    assert body["Done (of 7)"][1:] == [
        "1 completed the course",
        "0 overdue; 7 never signed in",
        "1 completed; 2 in progress; 4 not started",
        "3 passed; 3 attempted, not passed; 0 in progress; 1 not started",
        "1 passed; 0 attempted, not passed; 1 in progress; 5 not started",
    ]


def test_matrix_printable_view_has_the_table_and_no_navigation(client, world, teacher):
    page = client.get(world.url("/teach/cohorts/{cohort}/courses/{course}/report/print")).text
    assert "<nav" not in page and "site-header" not in page and page.count("<h1") == 1
    assert '<main id="main">' in page
    body = by_first_cell(table(page, "Progress of each current student")[1:])
    assert body["Ada"][4] == "Passed best 100%, 1 attempt"


def test_matrix_csv_has_a_row_per_student(client, world, teacher):
    response = client.get(world.url("/teach/cohorts/{cohort}/courses/{course}/report.csv"))
    assert response.headers["Content-Disposition"] == 'attachment; filename="spring-ward-alliance-basics-progress.csv"'
    rows = read_csv(response)
    assert rows[0][:6] == [
        "Student",
        "Email",
        "Last signed in (UTC)",
        "Course progress %",
        "Overdue",
        f"Module: {world.module.title}",
    ]
    body = by_first_cell(rows[1:])
    assert body["Ben"] == [
        "Ben",
        "ben@example.org",
        "Never",
        "33",
        "",
        f"In progress ({2} of {len(world.module.lessons)} lessons)",
        f"Passed (best {pct(9)}, 1 attempt)",
        "81.8",
        "In progress",
        "",
    ]
    assert len(rows) == 1 + 7


# --- 2. one learner


def test_learner_page_lists_every_attempt_answer_and_lesson(client, world, teacher, catalog):
    ada = world.users["Ada"]
    page = client.get(f"/teach/cohorts/{world.cohort.id}/learners/{ada.id}").text
    assert page.count("<h1") == 1 and "Learning record: Ada" in page
    # Attempts are grouped by course item: a table for the quiz, one for the conversation.
    quiz_rows = table(page, f"Marked attempts at Quiz: {world.quiz.title}")
    assert len(quiz_rows) == 1 + 1
    quiz_row = quiz_rows[1]
    assert quiz_row[1] == "Passed" and quiz_row[2] == "22 of 22 (100%) pass mark 70%"
    assert quiz_row[5] == "5 min 03 s"
    talk_row = table(page, f"Marked attempts at Conversation: {world.conversation.title}")[1]
    assert talk_row[1].startswith("Passed Ending: ")
    quiz_attempt = db_attempt(world, ada, world.quiz.id)
    answers_rows = table(page, f"Answers in attempt no. {quiz_attempt} ")
    assert len(answers_rows) == 1 + len(world.quiz.items)
    for row, item in zip(answers_rows[1:], world.quiz.items, strict=True):
        assert row[0].startswith(f"Item {world.quiz.items.index(item) + 1}: ")
        assert row[3] == "2 of 2"
        assert row[1] == reports.describe_answer(item, item.handler.right_answer(item))
        assert row[2] == ("Best" if item.type == "scenario" else "Right")
        names = [
            catalog.competency(c).name
            for c in item.handler.grade(item, item.handler.right_answer(item)).competency_refs
        ]
        assert row[4] == "; ".join(names)
    scenario = next(item for item in world.quiz.items if item.type == "scenario")
    best = next(o for o in scenario.options if o.grade == "best")
    assert reports.plain(best.text_html) in page
    lessons = table(page, "Lessons opened")
    assert [r[0] for r in lessons[1:]] == [lesson.title for lesson in world.module.lessons]
    assert all(r[5] != "Not yet" for r in lessons[1:])


def test_learner_page_shows_view_counts_and_unfinished_conversations(client, world, teacher):
    cai = client.get(f"/teach/cohorts/{world.cohort.id}/learners/{world.users['Cai'].id}").text
    lessons = table(cai, "Lessons opened")
    assert lessons[1][0] == world.module.lessons[0].title and lessons[1][1] == "2" and lessons[1][5] == "Not yet"
    ben = client.get(f"/teach/cohorts/{world.cohort.id}/learners/{world.users['Ben'].id}").text
    talk = table(ben, "Marked attempts at Conversation:")[1]
    assert talk[1] == "In progress" and talk[4] == "—"
    steps = table(ben, f"Answers in attempt no. {db_attempt(world, world.users['Ben'], world.conversation.id)} ")
    first = world.conversation.node(world.conversation.start)
    reply = first.reply(world.conversation.best_path[0])
    assert steps[1][0].startswith("Step 1: “") and steps[1][1] == reports.plain(reply.text_html)
    assert steps[1][2] == reports.grade_label(reply.grade)


def without_tokens(page: str) -> str:
    """A page without its CSRF tokens, which carry the second they were made."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def test_practice_stays_private_and_changes_no_report(client, world, teacher, catalog, db):
    """Practice is the learner's own: it reaches no report, no record and no CSV of their educators."""
    ada = world.users["Ada"]
    paths = (
        "/teach/cohorts/{cohort}/courses/{course}/report",
        "/teach/cohorts/{cohort}/competencies",
        "/teach/cohorts/{cohort}/learners/" + str(ada.id),
        "/teach/cohorts/{cohort}/quizzes/" + world.quiz.id + "/analysis",
    )
    before = {path: without_tokens(client.get(world.url(path)).text) for path in paths}
    sheet_before = client.get(f"/teach/cohorts/{world.cohort.id}/attempts.csv").data
    competency = world.quiz.items[0].competencies[0]
    keys = [practice.item_key(world.quiz.id, item.id) for item in world.quiz.items[:2]]
    attempt = practice.start_set(ada.id, f"practice/competency/{competency}", keys, catalog)
    for item in world.quiz.items[:2]:
        step = practice.next_step(attempt, catalog)
        practice.answer(ada.id, attempt, step, item.handler.wrong_answer(item), 3, catalog)
    quiz_practice = practice.start_quiz(ada.id, world.quiz)
    step = practice.next_step(quiz_practice, catalog)
    practice.answer(ada.id, quiz_practice, step, world.quiz.items[0].handler.wrong_answer(world.quiz.items[0]), 1, catalog)
    db.session.commit()
    for path, old in before.items():
        assert without_tokens(client.get(world.url(path)).text) == old, path
    assert client.get(f"/teach/cohorts/{world.cohort.id}/attempts.csv").data == sheet_before


def db_attempt(world, user, ref: str) -> int:
    """The id of the user's latest attempt at a quiz or conversation."""
    from app.extensions import db

    return db.session.scalar(
        select(QuizAttempt.id)
        .where(QuizAttempt.user_id == user.id, QuizAttempt.quiz_ref == ref)
        .order_by(QuizAttempt.id.desc())
    )


@pytest.mark.parametrize("who", ["Hal", "Ivy", "nobody"])
def test_learner_page_is_404_for_anyone_not_currently_in_the_cohort(client, world, teacher, who):
    user_id = world.users[who].id if who in world.users else 2**31 - 1
    response = client.get(f"/teach/cohorts/{world.cohort.id}/learners/{user_id}")
    assert response.status_code == 404 and "no current student of this cohort" in response.text


# --- 3. the competency heatmap


def expected_cells(world, catalog, refs_of_column) -> dict[str, list[str]]:
    """The table's cell texts per student, worked out from the graded answers."""
    found = {}
    for name in PLAN:
        cells = []
        for refs in refs_of_column:
            answered = sum(1 for g in world.graded[name] for ref in g.competency_refs if ref in refs)
            correct = sum(1 for g in world.graded[name] for ref in g.competency_refs if ref in refs and g.is_correct)
            cells.append(f"{round(100 * correct / answered)}% {correct}/{answered}" if answered else "– not answered")
        found[name] = cells
    return found


def heat_table(page: str, caption: str) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """The heatmap table: its header row, its rows keyed by competency (or group) name, and its group headings."""
    rows = table(page, caption)
    return rows[0], {row[0]: row for row in rows[1:] if len(row) > 1}, [row[0] for row in rows[1:] if len(row) == 1]


def test_heatmap_table_has_each_students_share_of_best_answers(client, world, teacher, catalog):
    page = client.get(f"/teach/cohorts/{world.cohort.id}/competencies").text
    assert page.count("<h1") == 1
    header, body, groups = heat_table(page, "Share of best answers per competency and student")
    # One row per competency, named in full (no codes), under its group; one column per student.
    assert header == ["Competency", "Whole cohort", *PLAN]
    columns = reports.heat_columns(catalog, by_group=False)
    assert sorted(body) == sorted(c.name for c in catalog.competencies)
    assert groups == list(dict.fromkeys(reports.GROUP_NAMES[c.group][0] for c in catalog.competencies))
    expected = expected_cells(world, catalog, [set(c.refs) for c in columns])
    for index, column in enumerate(columns):
        assert body[column.name][2:] == [expected[name][index] for name in PLAN], column.name
    assert all(body[c.name][list(PLAN).index("Fay") + 2] in ("– not answered",) or body[c.name][list(PLAN).index("Fay") + 2].startswith("0% ") for c in columns)
    # The picture: one shaded, labelled cell per competency for the cohort and each student, with a title and description.
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert svg.count("<rect") == (1 + len(PLAN)) * len(catalog.competencies) + 6  # + the legend
    assert all(f">{escape(c.name)}</text>" in svg for c in catalog.competencies if len(c.name) <= 40)
    shown = [cell.split(" ")[0].rstrip("%") for cell in expected["Dee"]]  # "45" or "–"
    numbers = re.findall(r">([^<]+)</text>", svg.split('<g text-anchor="middle">')[1].split("</g>")[0])
    column = 1 + list(PLAN).index("Dee")  # after the whole cohort's column
    assert numbers[column * len(shown) : (column + 1) * len(shown)] == shown


def test_heatmap_by_group_adds_up_the_groups_competencies(client, world, teacher, catalog):
    page = client.get(f"/teach/cohorts/{world.cohort.id}/competencies?by=group").text
    header, body, groups = heat_table(page, "Share of best answers per competency group and student")
    columns = reports.heat_columns(catalog, by_group=True)
    assert header == ["Competency group", "Whole cohort", *PLAN] and groups == []
    assert list(body) == [c.name for c in columns] == list(dict.fromkeys(reports.GROUP_NAMES[c.group][0] for c in catalog.competencies))
    expected = expected_cells(world, catalog, [set(c.refs) for c in columns])
    for index, column in enumerate(columns):
        assert body[column.name][2:] == [expected[name][index] for name in PLAN], column.name


# --- 4. item analysis


def test_item_analysis_figures_from_the_latest_attempts(client, world, teacher):
    page = client.get(world.url("/teach/cohorts/{cohort}/quizzes/{quiz}/analysis")).text
    assert page.count("<h1") == 1
    assert "latest submitted attempt" in page and "upper-minus-lower" in page
    latest = [plan[-1] for plan in PLAN.values() if plan]  # Ada 11, Ben 9, Cai 7, Dee 5, Eli 3, Fay 0
    ranked = sorted(latest, reverse=True)
    group = round(0.27 * len(ranked))
    assert group == 2 and f"({group} students each here)" in page
    rows = table(page, "Facility, discrimination")
    assert len(rows) == 1 + 11
    for number, (row, item) in enumerate(zip(rows[1:], world.quiz.items, strict=True), start=1):
        right = sum(k >= number for k in latest)
        upper = sum(k >= number for k in ranked[:group])
        lower = sum(k >= number for k in ranked[-group:])
        assert row[1] == "6"
        assert row[2] == f"{100 * right / 6:.0f}% ({right} of 6)"
        assert row[4] == f"{(upper - lower) / group:+.2f} (upper {upper}/{group}, lower {lower}/{group})"
        wrong = len(latest) - right
        if item.type in ("scenario", "multiple_response"):
            chosen = item.handler.wrong_answer(item)
            first = chosen if isinstance(chosen, str) else chosen[0]
            option = item.option(first)
            assert reports.plain(option.text_html) in row[5]
            if wrong:
                assert row[5].endswith(f"{wrong} time{'s' if wrong != 1 else ''}")
        if item.type == "scenario":
            harmful = item.option(item.handler.wrong_answer(item)).grade == "harmful"
            assert row[6] == str(wrong if harmful else 0)


def test_item_analysis_flags_students_who_need_help(client, world, teacher):
    page = client.get(world.url("/teach/cohorts/{cohort}/quizzes/{quiz}/analysis")).text
    items = world.quiz.items
    harmful_from = {
        n
        for n, item in enumerate(items, start=1)
        if item.type == "scenario" and item.option(item.handler.wrong_answer(item)).grade == "harmful"
    }
    expected = {name for name, plan in PLAN.items() if plan and any(n > plan[-1] for n in harmful_from)} | {"Fay"}
    flagged = by_first_cell(table(page, f"{len(expected)} of 7 students flagged")[1:])
    assert set(flagged) == expected
    assert flagged["Fay"][1:5] == ["2", "2", "No", "0%"]
    assert flagged["Fay"][5].startswith("2 failed attempts and not passed yet")
    eli = [n for n in sorted(harmful_from) if n > 3]
    if "Eli" in flagged:
        assert flagged["Eli"][3] == "Yes"  # passed once; flagged for the harmful reply in the latest attempt
        assert ", ".join(map(str, eli)) in flagged["Eli"][5]


def test_item_analysis_of_an_unknown_quiz_is_a_404(client, world, teacher):
    response = client.get(f"/teach/cohorts/{world.cohort.id}/quizzes/no-such-quiz/analysis")
    assert response.status_code == 404


# --- 5. every answer as CSV


def test_attempts_csv_has_one_row_per_response(client, world, teacher, catalog):
    response = client.get(f"/teach/cohorts/{world.cohort.id}/attempts.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="spring-ward-attempts.csv"'
    assert b"\r\n" in response.data and b"\n" not in response.data.replace(b"\r\n", b"")
    rows = read_csv(response)
    assert rows[0] == reports.ATTEMPT_CSV_HEADER
    quiz_answers = sum(len(plan) for plan in PLAN.values()) * len(world.quiz.items)
    talk = len(world.conversation.best_path) + 1  # Ada's whole path, Ben's first reply
    assert len(rows) == 1 + quiz_answers + talk
    names = {row[0] for row in rows[1:]}
    assert names == {"Ada", "Ben", "Cai", "Dee", "Eli", "Fay"}  # not Hal (removed), not Ivy (outsider)
    first = next(row for row in rows[1:] if row[0] == "Ada" and row[2] == world.quiz.title)
    item = world.quiz.items[0]
    assert first[1] == "ada@example.org" and first[3] == "Quiz" and first[6]
    assert first[7].startswith("Item 1: ")
    assert first[8] == reports.describe_answer(item, item.handler.right_answer(item))
    assert first[9:] == ["Best" if item.type == "scenario" else "Right", "2", "2"]
    fay = [row for row in rows[1:] if row[0] == "Fay"]
    assert len({row[4] for row in fay}) == 2 and {row[10] for row in fay} == {"0"}
    ben_talk = [row for row in rows[1:] if row[0] == "Ben" and row[3] == "Conversation"]
    assert len(ben_talk) == 1 and ben_talk[0][6] == ""  # not finished: no submission time


NASTY = ['=HYPERLINK("http://evil.example","Click")', "+1", "-2", "@SUM(A1:A9)"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client, db, world, teacher, catalog):
    for n, name in enumerate(NASTY):
        user = person(db, name, email=f"nasty{n}@example.org")
        cohorts.add_member(world.cohort, user.id, "roster")
        attempt = quizzes.start_attempt(user.id, world.quiz)
        quizzes.submit_attempt(user.id, attempt, world.quiz, answers(world.quiz, 11))
    db.session.commit()
    for url in (
        f"/teach/cohorts/{world.cohort.id}/attempts.csv",
        world.url("/teach/cohorts/{cohort}/courses/{course}/report.csv"),
    ):
        rows = read_csv(client.get(url))
        students = {row[0] for row in rows[1:]}
        for name in NASTY:
            assert "'" + name in students and name not in students
        assert "Ada" in students
    assert [reports.neutralise(v) for v in ("\tx", "\rx", "a=b", "", 3, 2.5)] == ["'\tx", "'\rx", "a=b", "", 3, "2.5"]


# --- constant queries


def bulk_students(db, world, start: int, count: int) -> None:
    """`count` more current students with summary rows and a submitted attempt each, in bulk inserts."""
    now = utcnow()
    quiz, module = world.quiz, world.module
    emails = [f"bulk{n:05d}@example.org" for n in range(start, start + count)]
    db.session.execute(
        insert(User),
        [
            {"email": e, "display_name": f"Bulk {e[4:9]}", "password_hash": "x", "role": "student", "created_at": now}
            for e in emails
        ],
    )
    ids = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
    db.session.execute(
        insert(CohortMember),
        [{"cohort_id": world.cohort.id, "user_id": i, "joined_via": "roster", "joined_at": now} for i in ids],
    )
    lesson = module.lessons[0]
    db.session.execute(
        insert(LessonProgress),
        [
            {
                "user_id": i,
                "module_ref": module.id,
                "lesson_ref": lesson.id,
                "content_version": lesson.version,
                "view_count": 1,
                "first_viewed_at": now,
                "last_viewed_at": now,
                "completed_at": now if i % 2 else None,
            }
            for i in ids
        ],
    )
    db.session.execute(
        insert(QuizProgress),
        [
            {
                "user_id": i,
                "quiz_ref": quiz.id,
                "module_ref": quiz.module_id,
                "attempt_count": 1,
                "best_percent": float(i % 101),
                "last_percent": float(i % 101),
                "is_passed": i % 101 >= quiz.pass_mark,
                "last_submitted_at": now,
            }
            for i in ids
        ],
    )
    competencies = world.quiz.items[0].competencies + world.quiz.items[1].competencies
    db.session.execute(
        insert(CompetencyProgress),
        [
            {
                "user_id": i,
                "competency_ref": ref,
                "answered_count": 3,
                "correct_count": i % 4,
                "score": 1.0,
                "max_score": 6.0,
            }
            for i in ids
            for ref in dict.fromkeys(competencies)
        ],
    )
    db.session.execute(
        insert(QuizAttempt),
        [
            {
                "user_id": i,
                "quiz_ref": quiz.id,
                "module_ref": quiz.module_id,
                "content_version": quiz.version,
                "pass_mark": quiz.pass_mark,
                "max_score": quiz.max_score,
                "score": 0.0,
                "is_passed": False,
                "started_at": now,
                "submitted_at": now,
            }
            for i in ids
        ],
    )
    attempts = db.session.execute(
        select(QuizAttempt.id, QuizAttempt.user_id).where(QuizAttempt.user_id.in_(ids), QuizAttempt.quiz_ref == quiz.id)
    ).all()
    graded = {
        right: [(item, item.handler.grade(item, answers(quiz, 11 if right else 0)[item.id])) for item in quiz.items]
        for right in (True, False)
    }
    db.session.execute(
        insert(ItemResponse),
        [
            quizzes.response_row(attempt_id, user_id, quiz.id, item.id, item.type, item.version, position, g, now)
            for attempt_id, user_id in attempts
            for position, (item, g) in enumerate(graded[user_id % 3 == 0], start=1)
        ],
    )
    db.session.commit()


SCALED_PAGES = [
    "/teach/cohorts/{cohort}/courses/{course}/report",
    "/teach/cohorts/{cohort}/courses/{course}/report/print",
    "/teach/cohorts/{cohort}/courses/{course}/report.csv",
    "/teach/cohorts/{cohort}/competencies",
    "/teach/cohorts/{cohort}/competencies?by=group",
    "/teach/cohorts/{cohort}/quizzes/{quiz}/analysis",
    "/teach/cohorts/{cohort}/attempts.csv",
    "/teach/cohorts/{cohort}/learners/{learner}",
]


def test_every_report_runs_the_same_queries_for_10_and_250_students(client, db, world, teacher, count_queries):
    def measure() -> dict[str, int]:
        counts = {}
        for template in SCALED_PAGES:
            url = world.url(template)
            # Every view counts the matrix's totals here (tests/test_report_totals_cache.py covers the kept ones).
            reports.kept_totals.let_go_of_kept_totals()
            with count_queries() as counter:
                response = client.get(url)
                assert response.status_code == 200 and response.data, url  # streamed bodies read in full
            counts[template] = counter.count
        return counts

    db.session.execute(
        update(CohortMember).where(CohortMember.cohort_id == world.cohort.id).values(removed_at=utcnow())
    )
    cohorts.add_member(world.cohort, world.users["Ada"].id, "roster")
    db.session.commit()
    bulk_students(db, world, 0, 9)
    at_ten = measure()
    # 250 students fill three pages of the matrix: a statement per student or per page would show
    # as a difference here (the test seeded 1,000 before, which took 28 s on PostgreSQL).
    bulk_students(db, world, 9, 240)
    assert len(reports.students(world.cohort.id)) == 250
    at_many = measure()
    assert at_ten == at_many, (at_ten, at_many)
    assert max(at_ten.values()) <= 8, at_ten
    page = client.get(world.url(SCALED_PAGES[0])).text
    rows = table(page, "Progress of each current student")
    assert len(rows) == 1 + reports.MATRIX_PAGE_SIZE + 1 and rows[-1][0] == "Done (of 250)"  # a page, whole-cohort totals


def test_the_heatmap_shows_100_students_a_page_with_whole_cohort_totals(client, db, world, teacher):
    bulk_students(db, world, 0, 250)  # with the seven: 257 students, three pages
    first = client.get(f"/teach/cohorts/{world.cohort.id}/competencies").text
    header, _, _ = heat_table(first, "Share of best answers per competency and student")
    assert len(header) == 2 + 100 and header[2] == "Ada"
    assert "Students 1 to 100 of 257 (page 1 of 3)" in first and 'rel="next"' in first
    last = client.get(f"/teach/cohorts/{world.cohort.id}/competencies?by=group&page=3").text
    header, body, _ = heat_table(last, "Share of best answers per competency group and student")
    assert len(header) == 2 + 57 and "Students 201 to 257 of 257" in last
    assert header[1] == "Whole cohort (all 257)"
    groups_first = client.get(f"/teach/cohorts/{world.cohort.id}/competencies?by=group").text
    _, first_body = heat_table(groups_first, "Share of best answers per competency group and student")[:2]
    assert {name: row[1] for name, row in first_body.items()} == {name: row[1] for name, row in body.items()}
    assert client.get(f"/teach/cohorts/{world.cohort.id}/competencies?page=4").status_code == 404


# --- who may open the reports

ROUTES = [
    "/teach/cohorts/{cohort}/courses/{course}/report",
    "/teach/cohorts/{cohort}/courses/{course}/report/print",
    "/teach/cohorts/{cohort}/courses/{course}/report.csv",
    "/teach/cohorts/{cohort}/learners/{learner}",
    "/teach/cohorts/{cohort}/competencies",
    "/teach/cohorts/{cohort}/quizzes/{quiz}/analysis",
    "/teach/cohorts/{cohort}/attempts.csv",
]
EXPECTED = {"anonymous": 302, "student": 403, "outsider": 404, "teacher": 200, "co-educator": 200, "admin": 200}


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("route", ROUTES)
def test_every_report_route_for_every_role(client, db, auth, world, route, role):
    if role == "student":
        assert auth.sign_in("ada@example.org").status_code == 302
    elif role in ("outsider", "teacher"):
        assert auth.sign_in(f"{role}@example.org").status_code == 302
    elif role == "co-educator":
        colleague = person(db, "Colleague", "educator")
        invitations.share(world.cohort, colleague.email, world.teacher)
        invitations.answer_share(colleague, world.cohort.id, accept=True)
        db.session.commit()
        assert auth.sign_in(colleague.email).status_code == 302
    elif role == "admin":
        person(db, "Admin", "admin")
        db.session.commit()
        assert auth.sign_in("admin@example.org").status_code == 302
    url = world.url(route)
    response = client.get(url)
    assert response.status_code == EXPECTED[role], (url, response.status_code)
    if role == "anonymous":
        assert response.location.startswith("/auth/sign-in?next=")
    elif response.status_code == 404:
        assert "There is no cohort of yours at this address" in response.text
        assert "Spring ward" not in response.text
    elif response.status_code == 200 and not url.endswith(".csv"):
        assert response.text.count("<h1") == 1


@pytest.mark.parametrize(
    "route",
    [
        "/teach/cohorts/{cohort}/courses/{other_course}/report",
        "/teach/cohorts/{cohort}/courses/999999/report.csv",
        "/teach/cohorts/2147483648/competencies",
        "/teach/cohorts/{cohort}/courses/2147483648/report/print",
        "/teach/cohorts/{cohort}/learners/99999999999",
    ],
)
def test_missing_or_unassigned_things_are_friendly_404s(client, db, world, teacher, catalog, route):
    other = courses.create(world.teacher, "Not assigned", "")
    courses.add_item(catalog, other, f"quiz:{world.quiz.id}")
    db.session.commit()
    url = route.format(cohort=world.cohort.id, course=world.course.id, other_course=other.id)
    response = client.get(url)
    assert response.status_code == 404
    assert re.search(r"<h1>[^<]+</h1>", response.text)
