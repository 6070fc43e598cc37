"""Authored quizzes in the catalog: one revision per request, polled at most every few seconds; attempts keep
the version they were taken on; item statistics per version; the course builder offers them to whom it should;
shipped files may not use the authored ids."""

import time
from pathlib import Path

import pytest
from sqlalchemy import event, select

from app.content import catalog as request_catalog
from app.content import content_dirs, live
from app.content.authored_ids import is_authored
from app.content.loader import load_content
from app.extensions import db as _db
from app.models import AuthoredQuiz, AuthoredVersion, QuizAttempt
from app.services import authoring, cohorts, courses, mastery
from app.services.reports.analysis import item_analysis
from tests.authoring_helpers import scenario_form, write_quiz


@pytest.fixture
def educator(auth):
    """A signed-in educator."""
    return auth.as_role("educator")


def published_quiz(client, db, items: int = 3) -> AuthoredQuiz:
    """A quiz written through the forms and published as version 1."""
    quiz_id = write_quiz(client, items=items)
    assert client.post(f"/author/{quiz_id}/publish").status_code == 302
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    db.session.refresh(quiz)
    return quiz


class Clock:
    """time.monotonic for app.content.live, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_revision_is_read_at_most_every_poll_interval_and_a_request_keeps_one_catalog(
    app, client, db, educator, monkeypatch
):
    clock = Clock()
    monkeypatch.setattr(live.time, "monotonic", clock)
    reads: list[str] = []
    listener = lambda conn, cursor, statement, *a: reads.append(statement) if "content_revision" in statement else None  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context():
            first = request_catalog()
        with app.test_request_context():
            assert request_catalog() is first  # within the interval: no query at all
        assert len(reads) == 1
        quiz = published_quiz(client, db)  # publishing here resets this process's clock for the revision
        clock.now += 0.5
        with app.test_request_context():
            during = request_catalog()
            assert during.quiz(quiz.ref) is not None and during is not first
            # Another server publishes while this request runs: it keeps the catalog it started with.
            authoring.bump_revision()
            db.session.commit()
            clock.now += live.POLL_SECONDS + 1
            assert request_catalog() is during
        with app.test_request_context():
            after = request_catalog()
        assert after is not during and after.quiz(quiz.ref) == during.quiz(quiz.ref)  # rebuilt, same content
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)


def test_a_page_costs_no_query_for_the_catalog_between_polls(app, client, db, educator, count_queries, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(live.time, "monotonic", clock)
    client.get("/learn/")  # the poll of this interval
    seen: list[str] = []
    listener = lambda conn, cursor, statement, *a: seen.append(statement)  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        client.get("/learn/")
        clock.now += live.POLL_SECONDS + 0.1
        client.get("/learn/")
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert sum("content_revision" in s for s in seen) == 1  # one primary-key read, in the second interval only


def test_attempts_keep_the_version_they_were_taken_on_and_item_statistics_stay_apart(client, auth, db, catalog):
    teacher = auth.as_role("educator")
    quiz = published_quiz(client, db)
    v1 = quiz.latest.content_version
    cohort = cohorts.create(teacher, "Year 2")
    learners = [auth.create("student", email=f"s{n}@example.org") for n in range(2)]
    cohorts.add_members(cohort, [s.id for s in learners], "roster")
    db.session.commit()
    auth.sign_out()
    auth.sign_in(learners[0].email)
    attempt_url = client.post(f"/learn/quizzes/{quiz.ref}/attempts").location
    assert client.post(attempt_url, data={"item-i1": "b", "item-i2": "a", "item-i3": "b"}).status_code == 302
    auth.sign_out()
    auth.sign_in(teacher.email)
    changed = scenario_form(0) | {"prompt": "What would you say now?"}
    client.post(f"/author/{quiz.id}/items/1", data=changed)
    client.post(f"/author/{quiz.id}/publish")
    db.session.refresh(quiz)
    v2 = quiz.latest.content_version
    assert v2 != v1 and quiz.latest.number == 2
    taken = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learners[0].id))
    assert taken.content_version == v1
    assert authoring.version_by_content(quiz, taken.content_version).number == 1
    auth.sign_out()
    auth.sign_in(learners[1].email)
    attempt_url = client.post(f"/learn/quizzes/{quiz.ref}/attempts").location
    client.post(attempt_url, data={"item-i1": "c", "item-i2": "a", "item-i3": "a"})
    fresh = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learners[1].id))
    assert fresh.content_version == v2
    auth.sign_out()
    auth.sign_in(teacher.email)
    with client.application.test_request_context():
        now = request_catalog()
    analysis = item_analysis(now, cohort.id, now.quiz(quiz.ref))
    first, second = analysis.items[0], analysis.items[1]
    assert (first.responses, first.changed) == (1, 1)  # item 1 changed: the version-1 answer is kept apart
    assert (second.responses, second.changed) == (2, 0)  # item 2 did not: both answers count
    page = client.get(f"/author/{quiz.id}/items/1").text
    assert "Year 2" in page and "(and 1 to an earlier version, not counted)" in page
    table = client.get(f"/author/{quiz.id}/items/3").text.split('<table class="item-stats">')[1].split("</table>")[0]
    assert "<td>2</td>" in table and "<td>50%</td>" in table  # one of two chose the best reply
    assert "Talking does help most people in the end, so it is worth giving it a few more weeks. (1)" in table


def test_the_course_builder_offers_a_published_quiz_to_owner_co_editors_and_everyone_once_site_wide(client, auth, db):
    owner = auth.as_role("educator")
    draft_id = write_quiz(client, title="Still a draft", items=1)
    quiz = published_quiz(client, db)
    course = courses.create(owner, "Placement", "")
    db.session.commit()
    builder = client.get(f"/teach/courses/{course.id}").text
    assert f'value="quiz:{quiz.ref}"' in builder and "Still a draft" not in builder
    assert draft_id
    other = auth.create("educator", email="other@example.org", name="Other")
    admin = auth.create("admin", email="boss@example.org", name="Boss")
    auth.sign_out()
    auth.sign_in(other.email)
    theirs = courses.create(other, "Theirs", "")
    db.session.commit()
    assert f'value="quiz:{quiz.ref}"' not in client.get(f"/teach/courses/{theirs.id}").text
    forged = client.post(f"/teach/courses/{theirs.id}/items", data={"choice": [f"quiz:{quiz.ref}"], "is_required": "y"})
    assert forged.status_code == 422 and "not in the catalogue" in forged.text
    auth.sign_out()
    auth.sign_in(admin.email)
    assert client.post(f"/author/site-wide/{quiz.id}", data={"offer": "yes"}).status_code == 302
    auth.sign_out()
    auth.sign_in(other.email)
    assert f'value="quiz:{quiz.ref}"' in client.get(f"/teach/courses/{theirs.id}").text
    added = client.post(f"/teach/courses/{theirs.id}/items", data={"choice": [f"quiz:{quiz.ref}"], "is_required": "y"})
    assert added.status_code == 302


def test_a_module_page_lists_only_shipped_quizzes_and_progress_is_unchanged(client, auth, db):
    auth.as_role("educator")
    quiz = published_quiz(client, db)
    module = client.get("/learn/modules/bordin-components").text
    assert "Goals in primary care" not in module
    with client.application.test_request_context():
        combined = request_catalog()
    assert combined.quiz(quiz.ref) is not None
    assert all(not is_authored(q.id) for q in combined.quizzes_for("bordin-components"))


def test_shipped_content_never_uses_an_authored_id_and_the_checker_refuses_one(tmp_path, monkeypatch):
    shipped = load_content(content_dirs())
    assert shipped.catalog is not None
    ids = [q.id for q in shipped.catalog.quizzes] + [c.id for c in shipped.catalog.conversations]
    assert ids and not any(is_authored(i) for i in ids)
    folder = tmp_path / "quizzes"
    folder.mkdir()
    source = Path(content_dirs()[1]) / "bordin-components-quiz.yaml"
    (folder / "clash.yaml").write_text(source.read_text().replace("id: bordin-components-quiz", "id: a-7-clash", 1))
    monkeypatch.setattr("app.content.loader.shipped", lambda name: folder)
    found = load_content([content_dirs()[0], folder])
    assert any("the id 'a-7-clash' is reserved for authored quizzes" in p.message for p in found.errors)
    assert found.catalog is None


def test_a_version_row_cannot_be_rewritten(client, auth, db):
    auth.as_role("educator")
    quiz = published_quiz(client, db)
    version = db.session.scalar(select(AuthoredVersion).where(AuthoredVersion.quiz_id == quiz.id))
    version.content_version = "forged"
    with pytest.raises(ValueError, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()
    assert time  # the module's clock is only moved by hand in the tests above


def test_a_private_quiz_stays_out_of_every_learners_search_practice_and_mastery(client, auth, db):
    auth.as_role("educator")
    quiz = published_quiz(client, db)
    with client.application.test_request_context():
        combined = request_catalog()
    authored_quiz = combined.quiz(quiz.ref)
    competency = authored_quiz.items[0].competencies[0]
    auth.as_role("student")  # a student of another class: the quiz is in no course of theirs
    found = client.get("/learn/search", query_string={"q": "Goals in primary care"}).text
    assert "Everything (" in found and f"/learn/quizzes/{quiz.ref}" not in found
    assert all(quiz_id != quiz.ref for quiz_id, _ in mastery.practice_items(combined, competency))
    assert quiz.ref not in {q.id for q in combined.shipped_quizzes} and combined.quiz(quiz.ref) is not None
