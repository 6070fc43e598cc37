"""Educators' reports as an educator meets them: full-width pages, states and flags in the matrix, a heatmap named in
words, a learner record grouped by course item with filters and folded answers, item analysis with the data first."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.models import Assignment, User
from app.models.types import utcnow
from app.services import cohorts, quizzes
from tests.test_reports import PLAN, answers, by_first_cell, person, seed_world, table

MATRIX = "/teach/cohorts/{cohort}/courses/{course}/report"
LEARNER = "/teach/cohorts/{cohort}/learners/{learner}"


@pytest.fixture
def world(db, catalog):
    """The reports' cohort: seven students with known answers to an assigned quiz, module and conversation."""
    return seed_world(db, catalog)


@pytest.fixture
def teacher(client, auth, world):
    """The world's educator, signed in."""
    assert auth.sign_in("teacher@example.org").status_code == 302
    return world.teacher


def learner_url(world, name: str, **query) -> str:
    """A student's learning record, with filters."""
    url = LEARNER.format(cohort=world.cohort.id, learner=world.users[name].id)
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def matrix_rows(client, world) -> dict[str, list[str]]:
    """The matrix's rows by student (and the totals row)."""
    return by_first_cell(table(client.get(world.url(MATRIX)).text, "Progress of each current student")[1:])


# --- the page's width


@pytest.mark.parametrize(
    "route",
    [
        MATRIX,
        "/teach/cohorts/{cohort}/competencies",
        "/teach/cohorts/{cohort}/quizzes/{quiz}/analysis",
        LEARNER,
    ],
)
def test_report_pages_use_the_width_of_the_window(client, world, teacher, route):
    page = client.get(world.url(route)).text
    assert '<main id="main" tabindex="-1" class="wide">' in page


def test_other_pages_keep_the_reading_width(client, world, teacher):
    for url in ("/teach/", "/learn/progress", f"/teach/cohorts/{world.cohort.id}"):
        assert '<main id="main" tabindex="-1">' in client.get(url).text, url


def test_the_matrix_scrolls_in_its_own_box_with_its_explanations_after_it(client, world, teacher):
    page = client.get(world.url(MATRIX)).text
    assert '<div class="table-scroll matrix-scroll" role="region" aria-labelledby="matrix-caption" tabindex="0">' in page
    assert page.index('id="matrix-heading"') < page.index('id="key-heading"')


# --- states and flags


def test_a_failed_quiz_reads_attempted_not_passed_and_an_open_one_in_progress(client, db, world, teacher, catalog):
    newcomer = person(db, "Ned")
    cohorts.add_member(world.cohort, newcomer.id, "roster")
    quizzes.start_attempt(newcomer.id, world.quiz)  # started, not submitted
    quizzes.start_attempt(newcomer.id, world.conversation, mode="practice")  # practice is never shown
    db.session.commit()
    rows = matrix_rows(client, world)
    assert rows["Ned"][4:] == ["In progress", "Not started"]
    assert rows["Fay"][4] == "Attempted, not passed best 0%, 2 attempts"
    assert rows["Dee"][4].startswith("Attempted, not passed best ")
    assert rows["Ada"][4].startswith("Passed best 100%")
    assert "<dt>Attempted, not passed</dt>" in client.get(world.url(MATRIX)).text


def test_students_who_never_signed_in_and_overdue_students_are_flagged(client, db, world, teacher):
    yesterday = utcnow().date() - timedelta(days=1)
    db.session.execute(update(Assignment).where(Assignment.cohort_id == world.cohort.id).values(due_on=yesterday))
    for name in ("Ada", "Ben"):
        db.session.execute(update(User).where(User.id == world.users[name].id).values(last_sign_in_at=utcnow()))
    db.session.commit()
    page = client.get(world.url(MATRIX)).text
    rows = by_first_cell(table(page, "Progress of each current student")[1:])
    assert rows["Ada"][2] == ""  # completed the course and signed in: nothing to flag
    assert rows["Ben"][2] == "Overdue"
    assert rows["Gus"][2] == "Overdue Never signed in"
    assert rows["Done (of 7)"][2] == "6 overdue; 5 never signed in"
    attention = page.split('id="attention-heading"', 1)[1].split("</section>", 1)[0]
    assert "6 students have not completed the course by its due date" in attention
    assert "5 students have never signed in" in attention
    sheet = list(csv.reader(io.StringIO(client.get(world.url(MATRIX + ".csv")).data.decode("utf-8-sig"))))
    by_name = by_first_cell(sheet[1:])
    assert by_name["Ada"][2] != "Never" and by_name["Ada"][4] == "" and by_name["Gus"][2:5] == ["Never", "0", "Yes"]


def test_nobody_is_overdue_before_the_due_date(client, db, world, teacher):
    db.session.execute(
        update(Assignment).where(Assignment.cohort_id == world.cohort.id).values(due_on=utcnow().date())
    )
    db.session.commit()
    page = client.get(world.url(MATRIX)).text
    assert "Overdue" not in page.split('id="matrix-heading"', 1)[1].split("</table>", 1)[0]
    assert "by its due date" not in page


# --- the heatmap


def test_the_heatmap_names_competencies_in_words_and_shades_each_cell_by_its_number(client, world, teacher, catalog):
    page = client.get(f"/teach/cohorts/{world.cohort.id}/competencies").text
    main = page.split('<main', 1)[1]
    assert not re.search(r"\b[CG]\d{1,2}\b", main), "codes stand in for names"
    for c in catalog.competencies:
        assert f'<th scope="row">{c.name}</th>' in page.replace("&#39;", "'")
    cells = re.findall(r'<td class="heat heat-(\w+)">(?:(\d+)%|–)', page)
    assert cells and all(band == ("none" if not n else str(min(4, int(n) // 20))) for band, n in cells)
    assert 'class="heat-key"' in page and "80–100%" in page


# --- the learner record


def test_attempts_are_grouped_by_course_item_with_answers_folded_away(client, db, world, teacher, catalog):
    ada = world.users["Ada"]
    attempt = quizzes.start_attempt(ada.id, world.quiz)  # her newest attempt is at the quiz, after the conversation
    quizzes.submit_attempt(ada.id, attempt, world.quiz, answers(world.quiz, 2))
    db.session.commit()
    page = client.get(learner_url(world, "Ada")).text
    headings = re.findall(r'<h3 id="activity-\d+">([^<]+)</h3>', page)
    assert headings == [f"Quiz: {world.quiz.title}", f"Conversation: {world.conversation.title}"]  # course order
    quiz_rows = table(page, f"Marked attempts at Quiz: {world.quiz.title}")
    assert [row[1] for row in quiz_rows[1:]] == ["Not passed", "Passed"]  # newest first
    folded = re.findall(r'<details class="answers" id="attempt-(\d+)"( open)?>', page)
    assert len(folded) == 3 and not any(opened for _, opened in folded)
    # The attempt's number links inside its folded answers, which opens them (no script needed).
    assert f'href="#answers-{attempt.id}"' in page and f'id="answers-{attempt.id}"' in page


def test_the_record_says_where_the_student_stands_on_each_item(client, world, teacher):
    for name, expected in {
        "Ben": ["In progress 2 of 5 lessons completed", "Passed best 82%, 1 attempt", "In progress —"],
        "Fay": ["Not started 0 of 5 lessons completed", "Attempted, not passed best 0%, 2 attempts", "Not started —"],
    }.items():
        rows = table(client.get(learner_url(world, name)).text, "Alliance basics: ")
        assert [f"{row[1]} {row[2]}" for row in rows[1:]] == expected, name


def test_filters_narrow_the_attempts_by_activity_and_result(client, world, teacher):
    conversation = world.conversation
    only_talk = client.get(learner_url(world, "Ada", activity=conversation.id)).text
    assert re.findall(r'<h3 id="activity-\d+">([^<]+)</h3>', only_talk) == [f"Conversation: {conversation.title}"]
    assert f'<option value="{conversation.id}" selected>' in only_talk and "Show every attempt" in only_talk
    assert "1 of 2 attempts match" in only_talk
    passed = client.get(learner_url(world, "Eli", result="passed")).text
    assert [row[1] for row in table(passed, "Marked attempts at Quiz:")[1:]] == ["Passed"]
    failed = client.get(learner_url(world, "Eli", result="not-passed")).text
    assert [row[1] for row in table(failed, "Marked attempts at Quiz:")[1:]] == ["Not passed"]
    open_ones = client.get(learner_url(world, "Ben", result="unfinished")).text
    assert re.findall(r'<h3 id="activity-\d+">([^<]+)</h3>', open_ones) == [f"Conversation: {conversation.title}"]
    nothing = client.get(learner_url(world, "Gus", result="passed")).text
    assert "No attempts match these filters." in nothing


@pytest.mark.parametrize("query", [{"result": "won"}, {"activity": "no-such-quiz"}, {"page": "2"}])
def test_a_filter_or_page_that_does_not_exist_is_a_friendly_404(client, world, teacher, query):
    response = client.get(learner_url(world, "Ada", **query))
    assert response.status_code == 404 and "no such page of their record" in response.text


def test_pages_of_attempts_keep_the_filters(client, db, world, teacher):
    fay = world.users["Fay"]
    for _ in range(23):
        attempt = quizzes.start_attempt(fay.id, world.quiz)
        quizzes.submit_attempt(fay.id, attempt, world.quiz, answers(world.quiz, 0))
    db.session.commit()
    first = client.get(learner_url(world, "Fay", result="not-passed")).text
    assert len(table(first, "Marked attempts at Quiz:")) == 1 + 20
    assert "25 of 25 attempts match (25 submitted); showing 1 to 20" in first
    link = re.search(r'href="([^"]+)"[^>]*rel="next"', first).group(1).replace("&amp;", "&")
    assert "result=not-passed" in link and "page=2" in link
    second = client.get(link).text
    assert len(table(second, "Marked attempts at Quiz:")) == 1 + 5


def test_lessons_are_grouped_by_module_and_folded(client, world, teacher):
    page = client.get(learner_url(world, "Ben")).text
    lessons = len(world.module.lessons)
    assert f'<details class="module-lessons" id="module-{world.module.id}">' in page
    assert f"(2 of {lessons} lessons completed, 2 opened)" in page
    assert f'href="#lessons-{world.module.id}"' in page and f'id="lessons-{world.module.id}"' in page


def test_the_record_links_to_the_transcript(client, world, teacher):
    page = client.get(learner_url(world, "Ada")).text
    assert f'href="/teach/cohorts/{world.cohort.id}/learners/{world.users["Ada"].id}/transcript"' in page
    assert f'href="/teach/cohorts/{world.cohort.id}/learners/{world.users["Ada"].id}/transcript.pdf"' in page


def test_the_record_runs_the_same_queries_for_two_attempts_and_forty(client, db, world, teacher, count_queries):
    fay = world.users["Fay"]
    urls = [learner_url(world, "Fay"), learner_url(world, "Fay", result="not-passed", activity=world.quiz.id)]

    def measure() -> list[int]:
        found = []
        for url in urls:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            found.append(counter.count)
        return found

    before = measure()
    for _ in range(38):
        attempt = quizzes.start_attempt(fay.id, world.quiz)
        quizzes.submit_attempt(fay.id, attempt, world.quiz, answers(world.quiz, 1))
    db.session.commit()
    assert measure() == before and max(before) <= 8, before
    assert len(table(client.get(urls[0]).text, "Marked attempts at Quiz:")) == 1 + 20  # a page of them


# --- item analysis


def test_item_analysis_puts_students_who_need_help_first_and_explanations_last(client, world, teacher):
    page = client.get(world.url("/teach/cohorts/{cohort}/quizzes/{quiz}/analysis")).text
    assert page.index('id="help-heading"') < page.index('id="items-heading"') < page.index('id="method-heading"')
    rows = table(page, "Facility, discrimination")
    assert rows[0][-1] == "Worth a look"
    latest = [plan[-1] for plan in PLAN.values() if plan]
    last = len(world.quiz.items)
    right = sum(k >= last for k in latest)
    assert right / len(latest) < 0.3 and "Few answered it right" in rows[last][-1]
    assert "Few answered it right" not in rows[1][-1]
    # Each flagged student's name opens their attempts at this quiz.
    needing_help = page.split('id="help-heading"', 1)[1].split('id="items-heading"', 1)[0]
    fay = re.search(r'href="([^"]+)">Fay</a>', needing_help).group(1)
    assert fay.endswith(f"?activity={world.quiz.id}")
