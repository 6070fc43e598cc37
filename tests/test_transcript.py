"""Transcripts: a learner's marked work as a printable page and a PDF, for the cohort's educators (the cohort's
assigned, marked work only) and for the learner (all of their own marked work); who may see them; constant queries."""

import io
import re
import sys

import pytest
from pypdf import PdfReader

from app.services import cohorts, practice, quizzes
from tests.test_reports import answers, by_first_cell, person, seed_world, table

TEACHER_URL = "/teach/cohorts/{cohort}/learners/{learner}/transcript"


@pytest.fixture
def world(db, catalog):
    """The reports' cohort: seven students with known answers to an assigned quiz, module and conversation."""
    return seed_world(db, catalog)


@pytest.fixture
def unassigned(catalog, world):
    """A quiz that is not part of the cohort's course."""
    return next(q for q in catalog.quizzes if q.id != world.quiz.id and q.marking == "standard")


def practise(user_id: int, quiz, catalog) -> None:
    """Answer the quiz's first item in practice (never marked, never shown to educators)."""
    attempt = practice.start_quiz(user_id, quiz)
    item = quiz.items[0]
    practice.answer(user_id, attempt, practice.next_step(attempt, catalog), item.handler.wrong_answer(item), 1, catalog)


def sign_in(client, auth, email: str) -> None:
    """Sign in through the form."""
    assert auth.sign_in(email).status_code == 302


def pdf_text(response) -> str:
    """The text of every page of a PDF download, as a reader extracts it, with line breaks as spaces."""
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages)


def teacher_url(world, name: str = "Ada", pdf: bool = False) -> str:
    """The educator's transcript of one of the world's students."""
    url = TEACHER_URL.format(cohort=world.cohort.id, learner=world.users[name].id)
    return url + ".pdf" if pdf else url


def test_the_educators_transcript_lists_the_assigned_work_with_scores_and_dates(client, db, auth, world, catalog, unassigned):
    ada = world.users["Ada"]
    # Work the cohort's educators may not see: practice, a quiz the cohort was not assigned, an open attempt.
    practise(ada.id, world.quiz, catalog)
    elsewhere = quizzes.start_attempt(ada.id, unassigned)
    quizzes.submit_attempt(ada.id, elsewhere, unassigned, answers(unassigned, len(unassigned.items)))
    quizzes.start_attempt(ada.id, world.quiz)  # started, not submitted
    db.session.commit()
    sign_in(client, auth, "teacher@example.org")

    page = client.get(teacher_url(world)).text
    assert "<h1>Transcript: Ada</h1>" in page and "ada@example.org" in page
    assert "The courses assigned to Spring ward" in page
    courses = by_first_cell(table(page, "Courses assigned to Spring ward")[1:])
    assert courses["Alliance basics"][1:] == ["No due date", "3 of 3 (100%)", "Yes"]
    modules = by_first_cell(table(page, "Modules:")[1:])
    lessons = len(world.module.lessons)
    assert modules[world.module.title][1:3] == ["Completed", f"{lessons} of {lessons}"]
    quiz_rows = by_first_cell(table(page, "Quizzes:")[1:])
    assert list(quiz_rows) == [world.quiz.title]  # not the unassigned quiz
    assert quiz_rows[world.quiz.title][1:4] == ["Passed", "22 of 22 (100%)", "1"]
    talk = by_first_cell(table(page, "Conversations:")[1:])[world.conversation.title]
    assert talk[1] == "Passed" and re.fullmatch(r"(\d+) of \1 \(100%\) Ending: .+", talk[2]), talk
    every = table(page, "2 marked attempts, oldest first")
    assert [row[1] for row in every[1:]] == [f"Quiz: {world.quiz.title}", f"Conversation: {world.conversation.title}"]
    assert every[1][5] == "5 min 03 s"  # the open attempt and the practice are not there either
    assert unassigned.title not in page


def test_an_assigned_item_not_attempted_is_listed_as_such(client, auth, world):
    sign_in(client, auth, "teacher@example.org")
    page = client.get(teacher_url(world, "Gus")).text
    assert by_first_cell(table(page, "Quizzes:")[1:])[world.quiz.title][1:4] == ["Not attempted", "—", "0"]
    assert by_first_cell(table(page, "Modules:")[1:])[world.module.title][1] == "Not started"
    assert "0 of 3 (0%)" in page and "Every marked attempt" not in page


def test_a_failed_quiz_reads_attempted_not_passed_with_its_best_score(client, auth, world):
    sign_in(client, auth, "teacher@example.org")
    page = client.get(teacher_url(world, "Fay")).text
    row = by_first_cell(table(page, "Quizzes:")[1:])[world.quiz.title]
    assert row[1:4] == ["Attempted, not passed", "0 of 22 (0%)", "2"] and row[4] == "—"


def test_the_learners_own_transcript_lists_all_their_marked_work_and_no_practice(client, db, auth, world, catalog, unassigned):
    ada = world.users["Ada"]
    elsewhere = quizzes.start_attempt(ada.id, unassigned)
    quizzes.submit_attempt(ada.id, elsewhere, unassigned, answers(unassigned, 0))
    practise(ada.id, world.quiz, catalog)
    db.session.commit()
    sign_in(client, auth, "ada@example.org")
    progress = client.get("/learn/progress").text
    assert 'href="/learn/transcript"' in progress
    page = client.get("/learn/transcript").text
    assert "<h1>Transcript: Ada</h1>" in page and "All of Ada’s marked work" in page
    rows = by_first_cell(table(page, "Quizzes:")[1:])
    assert list(rows) == [q.title for q in catalog.quizzes if q.id in (world.quiz.id, unassigned.id)]
    assert rows[unassigned.title][1:4] == ["Attempted, not passed", f"0 of {unassigned.max_score:g} (0%)", "1"]
    assert "Courses assigned" not in page  # the learner's own record is not about one cohort
    assert len(table(page, "3 marked attempts, oldest first")) == 1 + 3  # practice is never marked
    assert 'href="/learn/transcript.pdf"' in page


def test_a_student_sees_only_their_own_transcript(client, auth, world):
    sign_in(client, auth, "ben@example.org")
    page = client.get("/learn/transcript").text
    assert "<h1>Transcript: Ben</h1>" in page and "ada@example.org" not in page
    assert client.get(teacher_url(world)).status_code == 403
    assert client.get(teacher_url(world, pdf=True)).status_code == 403


@pytest.mark.parametrize("who", ["Hal", "Ivy"])
def test_there_is_no_transcript_of_anyone_outside_the_cohort(client, auth, world, who):
    sign_in(client, auth, "teacher@example.org")
    for pdf in (False, True):
        response = client.get(teacher_url(world, who, pdf=pdf))
        assert response.status_code == 404 and "no current student of this cohort" in response.text


def test_another_educator_gets_no_transcript(client, db, auth, world):
    db.session.commit()
    sign_in(client, auth, "outsider@example.org")
    response = client.get(teacher_url(world, pdf=True))
    assert response.status_code == 404 and "Ada" not in response.text


def test_the_pdf_names_the_learner_and_gives_their_scores(client, auth, world):
    sign_in(client, auth, "teacher@example.org")
    response = client.get(teacher_url(world, pdf=True))
    assert response.headers["Content-Disposition"].startswith('attachment; filename="transcript-ada-')
    assert response.headers["Content-Disposition"].endswith('.pdf"')
    assert response.headers["Cache-Control"] == "private, no-store"
    text = pdf_text(response)
    assert "Transcript: Ada" in text and "ada@example.org" in text
    assert world.quiz.title.split(":")[0] in text and "22 of 22 (100%)" in text
    assert "Page 1 of" in text
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title == "Transcript: Ada"


def test_the_learner_downloads_their_own_pdf(client, auth, world):
    sign_in(client, auth, "cai@example.org")
    text = pdf_text(client.get("/learn/transcript.pdf"))
    assert "Transcript: Cai" in text and "14 of 22 (64%)" in text and "Attempted, not passed" in text


def test_a_certainty_marked_quiz_shows_accuracy_and_average_mark_never_a_negative_percentage(client, db, auth, world, catalog):
    quiz = next(q for q in catalog.quizzes if q.marking == "certainty")
    ada = world.users["Ada"]
    attempt = quizzes.start_attempt(ada.id, quiz)
    given = answers(quiz, len(quiz.items) // 2)  # half right, every answer "very sure"
    quizzes.submit_attempt(ada.id, attempt, quiz, given, {item.id: 3 for item in quiz.items})
    db.session.commit()
    assert attempt.percent < 0
    sign_in(client, auth, "ada@example.org")
    page = client.get("/learn/transcript").text
    row = by_first_cell(table(page, "Quizzes:")[1:])[quiz.title]
    assert row[1] == "Attempted, not passed"
    assert row[2].startswith("accuracy ") and "average mark −" in row[2] and "(−6 to 3)" in row[2]
    assert f"{attempt.percent:.0f}%" not in page  # the raw certainty-based percentage is never shown


def test_an_empty_transcript_says_so(client, db, auth, world):
    person(db, "Newcomer")
    db.session.commit()
    sign_in(client, auth, "newcomer@example.org")
    page = client.get("/learn/transcript").text
    assert "Nothing to list yet" in page and "<table" not in page


def test_without_pdf_support_the_download_explains_and_links_to_the_page(client, auth, world, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as on a server without WeasyPrint or Pango
    sign_in(client, auth, "teacher@example.org")
    response = client.get(teacher_url(world, pdf=True))
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "<h1>The PDF cannot be made right now</h1>" in response.text
    assert f'href="{teacher_url(world)}"' in response.text


def test_transcripts_run_the_same_queries_for_one_attempt_and_thirty(client, db, auth, world, count_queries):
    sign_in(client, auth, "teacher@example.org")
    ben = world.users["Ben"]

    def measure() -> dict[str, int]:
        found = {}
        for url in (teacher_url(world, "Ben"), teacher_url(world, "Ben", pdf=True)):
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            found[url] = counter.count
        return found

    before = measure()
    for _ in range(30):
        attempt = quizzes.start_attempt(ben.id, world.quiz)
        quizzes.submit_attempt(ben.id, attempt, world.quiz, answers(world.quiz, 3))
    db.session.commit()
    assert measure() == before
    assert max(before.values()) <= 8, before
    assert len(table(client.get(teacher_url(world, "Ben")).text, "31 marked attempts")) == 1 + 31


def test_a_student_removed_from_the_cohort_still_has_their_own_transcript(client, db, auth, world):
    cohorts.remove_member(world.cohort, world.users["Ada"].id)
    db.session.commit()
    sign_in(client, auth, "ada@example.org")
    page = client.get("/learn/transcript").text
    assert "22 of 22 (100%)" in page
