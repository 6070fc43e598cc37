"""The learner's screens, used as a student would: lessons, quiz, feedback, progress."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.models import ItemResponse, LearningEvent, QuizAttempt
from app.services import hooks
from tests.helpers import answers_by_grade, expected_percent, rows


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


def start(client, quiz) -> str:
    """Start an attempt through the quiz page and return its URL."""
    response = client.post(f"/learn/quizzes/{quiz.id}/attempts")
    assert response.status_code == 302
    return response.location


def make_stale(db, url: str) -> int:
    """Pretend the quiz file changed after the attempt at `url` began; return the attempt's id."""
    attempt_id = int(url.rsplit("/", 1)[1])
    db.session.get(QuizAttempt, attempt_id).content_version = "older"
    db.session.commit()
    return attempt_id


def shown(quiz) -> dict:
    """The hidden fields the quiz page sends: the version of each item as the learner saw it (here, unchanged)."""
    return {f"shown-{item.id}": item.version for item in quiz.items}


def assert_still_chosen(page: str, item, option_id: str) -> None:
    """The page shows the item with the learner's earlier choice checked."""
    assert re.search(rf'value="{option_id}" checked', page.split(f'id="item-{item.id}"')[1])


def test_module_page_lists_objectives_lessons_minutes_and_quiz(client, student, catalog, quiz):
    module = catalog.module(quiz.module_id)
    page = client.get(f"/learn/modules/{module.id}").text
    assert escape(module.title) in page and f"About {module.minutes} minutes" in page
    for objective in module.objectives:
        assert escape(objective) in page
    for lesson in module.lessons:
        assert escape(lesson.title) in page
    assert escape(quiz.title) in page and f"pass mark {quiz.pass_mark}%" in page


def test_lesson_pages_link_previous_and_next_and_show_competency_names(client, student, catalog):
    module = catalog.modules[0]
    first, second = module.lessons[0], module.lessons[1]
    page = client.get(f"/learn/modules/{module.id}/lessons/{second.id}").text
    assert f'rel="prev" href="/learn/modules/{module.id}/lessons/{first.id}"' in page
    # Until the lesson is completed, "Next" is the button that completes it (see tests/test_next_steps.py).
    assert f'action="/learn/modules/{module.id}/lessons/{second.id}/complete"' in page
    assert f"Next: {escape(module.lessons[2].title)}" in page
    name = catalog.competency(second.competencies[0]).name
    assert escape(name) in page
    assert page.count("<h1") == 1


def test_completing_the_last_lesson_leads_to_the_quiz(client, student, catalog, quiz):
    module = catalog.module(quiz.module_id)
    last = module.lessons[-1]
    response = client.post(f"/learn/modules/{module.id}/lessons/{last.id}/complete")
    assert response.location == f"/learn/quizzes/{quiz.id}"
    assert "That was the last lesson" in client.get(response.location).text


def test_a_lesson_is_not_completed_by_reading_it(client, student, catalog):
    module = catalog.modules[0]
    lesson = module.lessons[0]
    client.get(f"/learn/modules/{module.id}/lessons/{lesson.id}")
    page = client.get(f"/learn/modules/{module.id}").text
    assert "In progress" in page and "Completed</span>" not in page
    client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    page = client.get(f"/learn/modules/{module.id}/lessons/{lesson.id}").text
    assert "You completed this lesson." in page


def test_home_offers_to_continue_where_the_learner_left_off(client, student, catalog):
    module = catalog.modules[0]
    assert "Continue where you left off" not in client.get("/learn/").text
    client.post(f"/learn/modules/{module.id}/lessons/{module.lessons[0].id}/complete")
    page = client.get("/learn/").text
    assert "Continue where you left off" in page
    assert f"/learn/modules/{module.id}/lessons/{module.lessons[1].id}" in page


def test_taking_the_quiz_shows_every_item_with_grade_feedback_and_competency(client, student, quiz):
    url = start(client, quiz)
    form = client.get(url).text
    scenarios = [item for item in quiz.items if item.type == "scenario"]
    assert form.count('type="radio" name="item-') == sum(len(item.options) for item in scenarios)
    # Every item asks how sure the learner is, at three levels.
    assert form.count('type="radio" name="confidence-') == 3 * len(quiz.items)
    data = answers_by_grade(quiz, "acceptable")
    response = client.post(url, data=data)
    assert response.location == f"{url}/results"
    page = client.get(response.location).text
    percent = expected_percent(quiz, data)
    assert f"<strong>{percent:.0f}%</strong>" in page
    assert ("Passed" if percent >= quiz.pass_mark else "Not passed") in page
    for item in scenarios:
        option = item.option(data[f"item-{item.id}"])
        section = page.split(f'id="item-{item.id}"', 1)[1].split("</section>", 1)[0]
        assert option.text_html in section
        assert option.feedback_html in section
        assert ">Acceptable<" in section or ">Unhelpful<" in section
        assert option.competencies[0] not in re.sub(r'id="[^"]*"', "", section)


def test_a_perfect_attempt_passes_and_a_harmful_one_fails(client, student, quiz):
    url = start(client, quiz)
    client.post(url, data=answers_by_grade(quiz, "best"))
    assert "<strong>100%</strong>" in client.get(f"{url}/results").text
    url = start(client, quiz)
    client.post(url, data=answers_by_grade(quiz, "harmful"))
    page = client.get(f"{url}/results").text
    assert "<strong>0%</strong>" in page and "Not passed" in page
    assert "The best reply here:" in page


def test_unanswered_items_are_named_and_the_other_answers_kept(client, db, student, quiz):
    url = start(client, quiz)
    data = answers_by_grade(quiz, "best")
    skipped = quiz.items[2]
    for name in skipped.handler.form_data(skipped, skipped.handler.right_answer(skipped)):
        del data[name]
    response = client.post(url, data=data)
    assert response.status_code == 422
    assert f'href="#item-{skipped.id}">Item 3 has no answer' in response.text
    kept = next(item for item in quiz.items if item.type == "scenario")
    assert_still_chosen(response.text, kept, data[f"item-{kept.id}"])
    assert rows(db, ItemResponse) == 0


def test_a_forged_answer_is_refused_with_a_message(client, db, student, quiz):
    url = start(client, quiz)
    data = answers_by_grade(quiz, "best")
    forged = next(item for item in quiz.items if item.type == "scenario")
    data[f"item-{forged.id}"] = "zzz"
    response = client.post(url, data=data)
    assert response.status_code == 422
    assert "The reply chosen is not one of this item&#39;s options; choose again." in response.text
    assert rows(db, ItemResponse) == 0


def test_submitting_twice_records_one_attempt(client, db, student, quiz):
    url = start(client, quiz)
    data = answers_by_grade(quiz, "best")
    first = client.post(url, data=data)
    second = client.post(url, data=answers_by_grade(quiz, "harmful"))
    assert first.location == second.location == f"{url}/results"
    assert "already submitted" in client.get(second.location).text
    assert rows(db, QuizAttempt) == 1
    assert rows(db, ItemResponse) == len(quiz.items)
    assert "<strong>100%</strong>" in client.get(f"{url}/results").text


def test_pressing_start_twice_opens_one_attempt(client, db, student, quiz):
    assert start(client, quiz) == start(client, quiz)
    assert rows(db, QuizAttempt) == 1


def test_retaking_adds_an_attempt_to_the_history(client, db, student, quiz):
    client.post(start(client, quiz), data=answers_by_grade(quiz, "harmful"))
    client.post(start(client, quiz), data=answers_by_grade(quiz, "best"))
    page = client.get(f"/learn/quizzes/{quiz.id}").text
    assert "Your attempts" in page and page.count("Not passed") == 1 and page.count(">Passed") == 1
    assert "Retake the quiz" in page
    assert rows(db, QuizAttempt) == 2


def test_a_failure_while_recording_leaves_nothing_half_written(client, db, student, quiz, monkeypatch):
    url = start(client, quiz)
    from app.services import submission

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(submission, "update_competency_summaries", broken)
    response = client.post(url, data=answers_by_grade(quiz, "best"))
    assert response.status_code == 500
    assert "nothing was saved" in response.text and "Traceback" not in response.text
    db.session.expire_all()
    assert rows(db, ItemResponse) == 0
    assert db.session.scalar(select(QuizAttempt)).submitted_at is None
    assert db.session.scalar(select(func.count()).where(LearningEvent.verb == "answered")) == 0
    monkeypatch.undo()
    assert client.post(url, data=answers_by_grade(quiz, "best")).location == f"{url}/results"


def test_progress_page_shows_modules_and_competencies_by_name(client, student, catalog, quiz):
    client.post(start(client, quiz), data=answers_by_grade(quiz, "best"))
    page = client.get("/learn/progress").text
    assert escape(catalog.module(quiz.module_id).title) in page
    assert "passed, best 100%" in page
    for ref in quiz.items[0].competencies:
        assert escape(catalog.competency(ref).name) in page
    # Ids appear only inside addresses (the "Practise this" links), never as text.
    assert "bordin.goals" not in re.sub(r"<[^>]+>", "", page)


def test_pages_run_a_constant_number_of_queries(client, student, catalog, quiz, count_queries):
    module = catalog.module(quiz.module_id)
    paths = ("/learn/", "/learn/progress", f"/learn/modules/{module.id}", f"/learn/quizzes/{quiz.id}")

    def counts() -> dict[str, int]:
        measured = {}
        for path in paths:
            with count_queries() as counted:
                assert client.get(path).status_code == 200
            measured[path] = counted.count
        return measured

    empty = counts()
    for lesson in module.lessons:
        client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    for _ in range(3):
        client.post(start(client, quiz), data=answers_by_grade(quiz, "best"))
    busy = counts()
    # Loading the user, then one query per summary table a page reads, however much progress.
    assert busy == empty
    # The home page also counts the learner's review items due now and reads their unanswered cohort
    # invitations: two more queries.
    assert busy.pop("/learn/") <= 6, busy
    # The progress page reads every answer once (mastery and calibration) and the learner's reflections;
    # the module page reads the learner's reflection on the module: one more query each.
    assert busy.pop("/learn/progress") <= 5, busy
    assert max(busy.values()) <= 4, busy


@pytest.mark.parametrize(("grade", "queued"), [("best", 0), ("harmful", 1)])
def test_quiz_submission_runs_a_bounded_number_of_queries(
    client, student, quiz, count_queries, grade, queued, monkeypatch
):
    # The submission's own statements: what other areas do on progress (app/services/hooks.py) is
    # counted in their own tests.
    monkeypatch.setattr(hooks, "_listeners", {})
    url = start(client, quiz)
    with count_queries() as counted:
        client.post(url, data=answers_by_grade(quiz, grade))
    # Load user and attempt, claim-and-score, delete the answers saved as the learner went, one
    # batched INSERT per table (responses, events, quiz, competency and learner answer summaries),
    # then one look at the review queue and, when answers were wrong, one INSERT of all their
    # cards: 10 or 11, whatever the number of items.
    assert counted.count == 10 + queued, "\n".join(s.split("\n")[0][:60] for s in counted.statements)


def test_a_set_aside_attempt_sends_the_learner_back_to_the_quiz(client, db, student, quiz):
    url = start(client, quiz)
    make_stale(db, url)
    fresh = start(client, quiz)
    assert fresh != url
    response = client.get(url)  # an old link or bookmark to the set-aside attempt
    assert response.location == f"/learn/quizzes/{quiz.id}"
    assert "set aside because the quiz was updated" in client.get(response.location).text
    assert rows(db, ItemResponse) == 0


def test_a_quiz_changed_while_answering_keeps_the_answers_for_a_fresh_attempt(client, db, student, quiz):
    url = start(client, quiz)
    attempt_id = make_stale(db, url)
    data = answers_by_grade(quiz, "best") | shown(quiz)
    response = client.post(url, data=data)
    assert response.status_code == 409
    assert "updated while you answered it" in response.text
    first = quiz.items[0]
    assert_still_chosen(response.text, first, data[f"item-{first.id}"])
    assert rows(db, ItemResponse) == 0
    fresh = db.session.scalar(select(QuizAttempt).where(QuizAttempt.abandoned_at.is_(None)))
    assert fresh.id != attempt_id and fresh.content_version == quiz.version
    assert f'action="/learn/attempts/{fresh.id}"' in response.text  # the kept answers go to the new attempt
    assert client.post(f"/learn/attempts/{fresh.id}", data=data).location == f"/learn/attempts/{fresh.id}/results"


def test_refreshing_the_quiz_changed_page_keeps_the_answers_again(client, db, student, quiz):
    url = start(client, quiz)
    make_stale(db, url)
    data = answers_by_grade(quiz, "best") | shown(quiz)
    assert client.post(url, data=data).status_code == 409
    again = client.post(url, data=data)  # the browser's refresh re-sends to the old attempt
    assert again.status_code == 409
    first = quiz.items[0]
    assert_still_chosen(again.text, first, data[f"item-{first.id}"])
    assert rows(db, QuizAttempt, abandoned_at=None) == 1


def test_results_keep_feedback_for_items_unchanged_by_a_later_edit(client, db, student, quiz):
    url = start(client, quiz)
    client.post(url, data=answers_by_grade(quiz, "best"))
    attempt_id = int(url.rsplit("/", 1)[1])
    attempt = db.session.get(QuizAttempt, attempt_id)
    attempt.content_version = "older"  # the quiz file was edited since (say, its pass mark)
    changed = db.session.scalar(select(ItemResponse).where(ItemResponse.item_ref == quiz.items[1].id))
    changed.item_version = "older"  # and this one item was rewritten
    db.session.commit()
    page = client.get(f"{url}/results").text
    assert "has been updated since this attempt" in page
    kept = quiz.items[0]
    assert kept.options[0].feedback_html in page or any(o.feedback_html in page for o in kept.options)
    section = page.split(f'id="item-{quiz.items[1].id}"', 1)[1].split("</section>", 1)[0]
    assert "Feedback" not in section and "You chose" in section
