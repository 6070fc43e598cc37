"""Taking a quiz never loses an answer: saved as the learner goes, put back on resume; confidence where it counts."""

import html
import re

import pytest
from sqlalchemy import select

from app.models import DraftAnswer, ItemResponse, QuizAttempt, ReviewCard
from app.services import drafts
from tests.helpers import answers_by_grade, rows

JSON = {"Accept": "application/json"}


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


@pytest.fixture
def cbm_quiz(catalog):
    """The shipped quiz marked by certainty."""
    return next(q for q in catalog.quizzes if q.marking == "certainty")


@pytest.fixture
def mixed_quiz(catalog):
    """A shipped quiz with every item type: ordering, matching, multiple response and scenario."""
    return next(
        q
        for q in catalog.quizzes
        if {"ordering", "matching", "multiple_response", "scenario"} <= {i.type for i in q.items}
    )


def start(client, quiz) -> str:
    """Start (or resume) an attempt from the quiz page; its address."""
    response = client.post(f"/learn/quizzes/{quiz.id}/attempts")
    assert response.status_code == 302
    return response.location


def attempt_id(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def right_fields(item) -> dict:
    """The form fields answering one item rightly."""
    return item.handler.form_data(item, item.handler.right_answer(item))


def first_of(quiz, kind: str):
    """The first item of a type, with its number in the quiz."""
    return next((n, item) for n, item in enumerate(quiz.items, start=1) if item.type == kind)


def chosen(page: str, name: str) -> set[str]:
    """The values chosen on the page for the field `name`: ticked radio buttons or checkboxes, or a select's choice."""
    values = set()
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag and re.search(r"\schecked\b", tag):
            values.add(html.unescape(re.search(r'value="([^"]*)"', tag).group(1)))
    found = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    if found:
        values |= {html.unescape(v) for v in re.findall(r'<option value="([^"]*)"[^>]*\sselected\b', found.group(1))}
    assert f'name="{name}"' in page, f"no field {name} on the page"
    return values


def drafts_of(db, url: str) -> dict[str, DraftAnswer]:
    db.session.expire_all()
    found = db.session.scalars(select(DraftAnswer).where(DraftAnswer.attempt_id == attempt_id(url)))
    return {d.item_ref: d for d in found}


# --- saving as the learner goes (the page's script posts the whole form after each change)


def test_a_save_keeps_each_answer_and_confidence_and_resuming_fills_them_in_again(client, db, student, mixed_quiz):
    quiz = mixed_quiz
    url = start(client, quiz)
    (n_order, ordering), (n_match, matching) = first_of(quiz, "ordering"), first_of(quiz, "matching")
    (_, several), (_, scenario) = first_of(quiz, "multiple_response"), first_of(quiz, "scenario")
    half_order = {f"item-{ordering.id}-0": "2", f"item-{ordering.id}-1": "1"}  # two steps of more placed so far
    form = {
        **right_fields(scenario),
        f"confidence-{scenario.id}": "3",
        **right_fields(matching),
        **right_fields(several),
        f"confidence-{several.id}": "1",
        **half_order,
    }
    response = client.post(f"{url}/save", data=form, headers=JSON)
    assert response.status_code == 200
    assert response.json == {"saved": True, "answered": 3, "total": len(quiz.items), "message": "Saved"}

    page = client.get(url).text
    assert "Welcome back." in page and f"3 of {len(quiz.items)} answered" in page
    best = scenario.handler.right_answer(scenario)
    assert chosen(page, f"item-{scenario.id}") == {best} and chosen(page, f"confidence-{scenario.id}") == {"3"}
    assert chosen(page, f"item-{several.id}") == set(several.correct_ids)
    assert chosen(page, f"confidence-{several.id}") == {"1"}
    for index, pair in enumerate(matching.pairs):
        assert chosen(page, f"item-{matching.id}-{index}") == {pair.answer}
    # A half-ordered list comes back as far as the learner got; it is not yet an answer.
    assert [chosen(page, f"item-{ordering.id}-{i}") for i in range(3)] == [{"2"}, {"1"}, set()]
    # The learner is offered the first item still to finish.
    first_open = min(n for n, item in enumerate(quiz.items, start=1) if item not in (scenario, matching, several))
    assert f">Carry on at item {first_open}</a>" in page
    assert n_order != n_match


def test_without_javascript_save_and_continue_later_returns_to_the_quiz_page(client, db, student, quiz):
    url = start(client, quiz)
    first, second = quiz.items[0], quiz.items[1]
    response = client.post(f"{url}/save", data={**right_fields(first), **right_fields(second)})
    assert response.status_code == 302 and response.location == f"/learn/quizzes/{quiz.id}"
    page = client.get(response.location).text
    assert f"Your answers are saved: 2 of {len(quiz.items)} answered." in page
    assert f"You have answered 2 of {len(quiz.items)} items" in page and "Resume your attempt" in page
    # Resuming opens the same attempt with both answers ticked.
    assert start(client, quiz) == url
    page = client.get(url).text
    for item in (first, second):
        assert chosen(page, f"item-{item.id}") == {item.handler.right_answer(item)}


def test_saved_answers_survive_signing_out_and_in_again(client, db, auth, student, quiz):
    url = start(client, quiz)
    first = quiz.items[0]
    client.post(f"{url}/save", data={**right_fields(first), f"confidence-{first.id}": "2"}, headers=JSON)
    auth.sign_out()
    assert auth.sign_in().status_code == 302
    assert start(client, quiz) == url
    page = client.get(url).text
    assert chosen(page, f"item-{first.id}") == {first.handler.right_answer(first)}
    assert chosen(page, f"confidence-{first.id}") == {"2"}


def test_leaving_an_item_blank_again_removes_its_saved_answer(client, db, student, quiz):
    url = start(client, quiz)
    first, second = quiz.items[0], quiz.items[1]
    client.post(f"{url}/save", data={**right_fields(first), **right_fields(second)}, headers=JSON)
    client.post(f"{url}/save", data=right_fields(second), headers=JSON)
    assert set(drafts_of(db, url)) == {second.id}


def test_a_confidence_alone_is_saved(client, db, student, quiz):
    url = start(client, quiz)
    first = quiz.items[0]
    client.post(f"{url}/save", data={f"confidence-{first.id}": "1"}, headers=JSON)
    saved = drafts_of(db, url)[first.id]
    assert (saved.answer, saved.is_complete, saved.confidence) == (None, False, 1)


# --- bad input: nothing is saved that should not be, and nobody gets a 500


def test_another_learners_attempt_is_not_found_and_nothing_is_saved(client, db, auth, quiz):
    auth.as_role("student")
    url = start(client, quiz)
    auth.sign_out()
    auth.create("student", email="other@example.org")
    auth.sign_in("other@example.org")
    first = quiz.items[0]
    response = client.post(f"{url}/save", data=right_fields(first), headers=JSON)
    assert response.status_code == 404 and response.json["saved"] is False
    assert "no quiz attempt of yours" in response.json["message"]
    page = client.post(f"{url}/save", data=right_fields(first))
    assert page.status_code == 404 and "Traceback" not in page.text
    assert "There is no quiz attempt of yours at this address" in page.text
    assert rows(db, DraftAnswer) == 0


def test_a_submitted_attempt_refuses_saves(client, db, student, quiz):
    url = start(client, quiz)
    assert client.post(url, data=answers_by_grade(quiz, "best")).location == f"{url}/results"
    response = client.post(f"{url}/save", data=right_fields(quiz.items[0]), headers=JSON)
    assert response.status_code == 409 and response.json["saved"] is False
    assert "already submitted" in response.json["message"]
    page = client.post(f"{url}/save", data=right_fields(quiz.items[0]))
    assert page.location == f"{url}/results"
    assert "already submitted, so nothing more was saved" in client.get(page.location).text
    assert rows(db, DraftAnswer) == 0


def test_fields_for_items_the_quiz_does_not_have_are_ignored(client, db, student, quiz):
    url = start(client, quiz)
    first = quiz.items[0]
    form = {"item-no-such-item": "a", "confidence-no-such-item": "3", "item-../../x": "b", **right_fields(first)}
    response = client.post(f"{url}/save", data=form, headers=JSON)
    assert response.status_code == 200 and response.json["answered"] == 1
    assert set(drafts_of(db, url)) == {first.id}


def test_a_garbled_answer_keeps_what_was_saved_before(client, db, student, quiz):
    url = start(client, quiz)
    first = quiz.items[0]
    client.post(f"{url}/save", data=right_fields(first), headers=JSON)
    response = client.post(
        f"{url}/save", data={f"item-{first.id}": "not-an-option", f"confidence-{first.id}": "٢"}, headers=JSON
    )
    assert response.status_code == 200
    assert drafts_of(db, url)[first.id].answer == first.handler.right_answer(first)


def test_an_oversized_save_is_refused_before_it_is_read(client, db, student, quiz):
    url = start(client, quiz)
    first = quiz.items[0]
    huge = {**right_fields(first), "padding": "x" * (drafts.MAX_BYTES + 1)}
    response = client.post(f"{url}/save", data=huge, headers=JSON)
    assert response.status_code == 413
    assert "too large" in response.text and "Traceback" not in response.text
    assert rows(db, DraftAnswer) == 0
    # The submission itself is not held to the save's cap.
    assert (
        client.post(url, data={**answers_by_grade(quiz, "best"), "padding": "x" * (drafts.MAX_BYTES + 1)}).status_code
        == 302
    )


def test_practice_and_conversation_attempts_have_no_draft_to_save(client, db, student, quiz, catalog):
    practising = client.post(f"/learn/quizzes/{quiz.id}/practice").location
    talking = client.post(f"/learn/conversations/{catalog.conversations[0].id}/attempts").location
    for url in (practising, talking):
        own_id = int(re.search(r"/attempts/(\d+)", url).group(1))
        response = client.post(f"/learn/attempts/{own_id}/save", data=right_fields(quiz.items[0]), headers=JSON)
        assert response.status_code == 404
    assert rows(db, DraftAnswer) == 0


def test_the_save_address_answers_get_with_method_not_allowed(client, student, quiz):
    url = start(client, quiz)
    assert client.get(f"{url}/save").status_code == 405


# --- queries


def test_a_save_runs_the_same_queries_for_one_item_as_for_every_item(client, db, student, mixed_quiz, count_queries):
    quiz = mixed_quiz
    url = start(client, quiz)
    client.post(f"{url}/save", data=right_fields(quiz.items[0]), headers=JSON)  # warm the statement caches
    with count_queries() as one:
        assert client.post(f"{url}/save", data=right_fields(quiz.items[1]), headers=JSON).status_code == 200
    with count_queries() as every:
        assert client.post(f"{url}/save", data=answers_by_grade(quiz, "best"), headers=JSON).status_code == 200
    assert one.count == every.count, "\n".join(s.split("\n")[0][:70] for s in every.statements)
    # The session and user, the attempt, one upsert of the items, one delete of the blank ones.
    assert every.count <= 6, "\n".join(s.split("\n")[0][:70] for s in every.statements)


def test_the_attempt_page_reads_its_saved_answers_in_one_query(client, db, student, quiz, count_queries):
    url = start(client, quiz)
    with count_queries() as empty:
        assert client.get(url).status_code == 200
    client.post(f"{url}/save", data=answers_by_grade(quiz, "best"), headers=JSON)
    with count_queries() as full:
        page = client.get(url).text
    assert f"{len(quiz.items)} of {len(quiz.items)} answered" in page
    assert full.count == empty.count


# --- submitting


def test_submitting_grades_the_answers_and_deletes_the_draft(client, db, student, quiz):
    url = start(client, quiz)
    client.post(f"{url}/save", data=answers_by_grade(quiz, "best"), headers=JSON)
    assert rows(db, DraftAnswer) == len(quiz.items)
    assert client.post(url, data=answers_by_grade(quiz, "best")).location == f"{url}/results"
    assert rows(db, DraftAnswer) == 0 and rows(db, ItemResponse) == len(quiz.items)


def test_submitting_with_items_unanswered_reviews_them_and_keeps_the_rest(client, db, student, quiz):
    url = start(client, quiz)
    data = answers_by_grade(quiz, "best", confidence=None)
    third, fifth = quiz.items[2], quiz.items[4]
    for item in (third, fifth):
        for name in right_fields(item):
            del data[name]
    response = client.post(url, data=data)
    assert response.status_code == 422
    page = response.text
    assert '<h2 id="review-heading">There is a problem</h2>' in page
    assert (
        f"You have answered {len(quiz.items) - 2} of {len(quiz.items)} items, and your answers so far are saved."
        in page
    )
    assert f'<a href="#item-{third.id}">Item 3 has no answer</a>' in page
    assert f'<a href="#item-{fifth.id}">Item 5 has no answer</a>' in page
    # What was given is saved before the page is shown: leaving now loses nothing.
    assert len(drafts_of(db, url)) == len(quiz.items) - 2
    assert rows(db, ItemResponse) == 0
    again = client.get(url).text
    assert f"{len(quiz.items) - 2} of {len(quiz.items)} answered" in again


# --- confidence: optional unless the quiz is certainty-marked


def test_confidence_is_optional_on_a_quiz_that_is_not_certainty_marked(client, db, student, quiz):
    assert quiz.marking == "standard"
    url = start(client, quiz)
    page = client.get(url).text
    assert page.count('<span class="confidence-marker">(optional)</span>') == len(quiz.items)
    assert "Saying how sure you are of each answer is optional." in page
    assert "a right answer is treated as if you were\n  “Fairly sure”" in page
    response = client.post(url, data=answers_by_grade(quiz, "best", confidence=None))
    assert response.location == f"{url}/results"
    assert db.session.scalars(select(ItemResponse.confidence)).all() == [None] * len(quiz.items)


def test_an_unstated_confidence_rates_a_review_from_right_or_wrong_alone(client, db, student, quiz):
    """Right without a confidence counts as "Fairly sure": no card. Wrong comes back, as any wrong answer."""
    url = start(client, quiz)
    data = answers_by_grade(quiz, "best", confidence=None)
    wrong = next(item for item in quiz.items if item.type == "scenario")
    data.update(wrong.handler.form_data(wrong, wrong.handler.wrong_answer(wrong)))
    assert client.post(url, data=data).location == f"{url}/results"
    cards = db.session.scalars(select(ReviewCard.item_ref)).all()
    assert cards == [wrong.id]


def test_a_certainty_marked_quiz_requires_confidence_and_names_each_item_once(client, db, student, cbm_quiz):
    quiz = cbm_quiz
    url = start(client, quiz)
    page = client.get(url).text
    assert page.count('<span class="confidence-marker">(required)</span>') == len(quiz.items)
    data = answers_by_grade(quiz, "best")
    first, second = quiz.items[0], quiz.items[1]
    for name in right_fields(first):
        del data[name]
    del data[f"confidence-{first.id}"], data[f"confidence-{second.id}"]
    response = client.post(url, data=data)
    assert response.status_code == 422
    summary = response.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#item-{first.id}">Item 1: choose an answer and say how sure you are</a>' in summary
    assert f'<a href="#confidence-{second.id}">Item 2: say how sure you are</a>' in summary
    assert summary.count("Item 1") == 1 and summary.count("Item 2") == 1 and summary.count("<li>") == 2
    assert rows(db, ItemResponse) == 0


# --- the quiz changes while an attempt is open


def _quiz_changed(db, url: str, changed_item: str, removed_item: str | None = None) -> None:
    """Pretend the quiz file changed since the attempt at `url` began: one item rewritten, maybe one taken out."""
    drafts_of(db, url)[changed_item].item_version = "older"
    attempt = db.session.get(QuizAttempt, attempt_id(url))
    attempt.content_version = "older"
    if removed_item:
        db.session.add(
            DraftAnswer(attempt_id=attempt.id, item_ref=removed_item, item_version="v", answer="a", is_complete=True)
        )
    db.session.commit()


def test_after_the_quiz_changes_only_answers_to_unchanged_items_come_back(client, db, student, quiz):
    url = start(client, quiz)
    (_, first), (changed_number, second), (_, third) = [
        (n, item) for n, item in enumerate(quiz.items, start=1) if item.type == "scenario"
    ][:3]
    form = {**right_fields(first), **right_fields(second), **right_fields(third), f"confidence-{third.id}": "3"}
    client.post(f"{url}/save", data=form, headers=JSON)
    _quiz_changed(db, url, second.id, removed_item="retired-item")
    front = client.get(f"/learn/quizzes/{quiz.id}").text
    assert "The quiz has been updated since" in front and "Resume your attempt" in front

    fresh = start(client, quiz)
    assert fresh != url
    page = client.get(fresh).text
    assert (
        "The quiz was updated since you saved your answers. Your 2 answers to unchanged items are filled in again. "
        f"Item {changed_number} changed, so answer it again. 1 answer was to items taken out of the quiz."
    ) in page
    assert chosen(page, f"item-{first.id}") == {first.handler.right_answer(first)}
    assert chosen(page, f"item-{third.id}") == {third.handler.right_answer(third)}
    assert chosen(page, f"confidence-{third.id}") == {"3"}
    assert chosen(page, f"item-{second.id}") == set()
    assert set(drafts_of(db, fresh)) == {first.id, third.id}
    assert rows(db, DraftAnswer) == 2  # the set-aside attempt keeps no copies


def test_a_save_to_an_attempt_on_an_older_version_is_refused_with_what_to_do(client, db, student, quiz):
    url = start(client, quiz)
    shown = shown_fields(client.get(url).text)
    first = quiz.items[0]
    client.post(f"{url}/save", data=right_fields(first), headers=JSON)
    _quiz_changed(db, url, first.id)
    response = client.post(f"{url}/save", data=right_fields(quiz.items[1]), headers=JSON)
    assert response.status_code == 409 and "Resume your attempt" in response.json["message"]
    # Without the script, the answers sent to unchanged items are kept on a fresh attempt, saved and shown.
    page = client.post(f"{url}/save", data={**shown, **right_fields(quiz.items[1])})
    assert page.status_code == 409 and "updated while you answered it" in page.text
    fresh = db.session.scalar(select(QuizAttempt).where(QuizAttempt.abandoned_at.is_(None)))
    assert set(drafts_of(db, f"/learn/attempts/{fresh.id}")) == {quiz.items[1].id}


def shown_fields(page: str) -> dict[str, str]:
    """The fingerprints the attempt's page says it showed: its hidden `shown-<item>` fields."""
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(shown-[^"]+)" value="([^"]*)"', page)
    }


def test_answers_sent_from_a_page_of_an_older_version_come_back_only_for_unchanged_items(client, db, student, quiz):
    url = start(client, quiz)
    page = client.get(url).text
    shown = shown_fields(page)
    (_, first), (changed_number, second), (_, third) = [
        (n, item) for n, item in enumerate(quiz.items, start=1) if item.type == "scenario"
    ][:3]
    # The page was made before item `second` was reworded; the quiz has changed since.
    shown[f"shown-{second.id}"] = "older"
    attempt = db.session.get(QuizAttempt, attempt_id(url))
    attempt.content_version = "older"
    db.session.commit()
    form = {**shown, **answers_by_grade(quiz, "best"), f"confidence-{second.id}": "3", f"confidence-{third.id}": "2"}

    response = client.post(url, data=form)  # "Submit answers" on the old page
    assert response.status_code == 409
    assert chosen(response.text, f"item-{second.id}") == set()  # the reworded item is not ticked again
    text = html.unescape(response.text)
    assert (
        "This quiz was updated while you answered it. Your answers are kept where the items are unchanged. "
        f"Item {changed_number} changed, so answer it again, then submit."
    ) in text
    assert chosen(response.text, f"item-{second.id}") == set()  # the reworded item is not ticked again
    assert chosen(response.text, f"confidence-{second.id}") == set()
    assert chosen(response.text, f"item-{first.id}") == {first.handler.right_answer(first)}
    assert chosen(response.text, f"item-{third.id}") == {third.handler.right_answer(third)}
    assert chosen(response.text, f"confidence-{third.id}") == {"2"}
    fresh = db.session.scalar(select(QuizAttempt).where(QuizAttempt.abandoned_at.is_(None)))
    saved = drafts_of(db, f"/learn/attempts/{fresh.id}")
    assert second.id not in saved and {first.id, third.id} <= set(saved)
    assert len(saved) == len(quiz.items) - 1
    # The page says what it showed, so the next time the quiz changes this is judged exactly again.
    assert shown_fields(response.text) == {f"shown-{item.id}": item.version for item in quiz.items}
    # Resuming later brings back the same: nothing to the reworded item.
    again = client.get(f"/learn/attempts/{fresh.id}").text
    assert chosen(again, f"item-{second.id}") == set() and chosen(again, f"item-{first.id}") != set()


def test_a_page_without_fingerprints_keeps_only_answers_its_saved_drafts_vouch_for(client, db, student, quiz):
    url = start(client, quiz)
    (n1, first), (n2, second), (n3, third) = [
        (n, item) for n, item in enumerate(quiz.items, start=1) if item.type == "scenario"
    ][:3]
    client.post(f"{url}/save", data={**right_fields(first), **right_fields(second)}, headers=JSON)
    _quiz_changed(db, url, second.id)  # item `second` reworded since it was saved; `third` never saved
    form = {**right_fields(first), **right_fields(second), **right_fields(third)}  # a page from before fingerprints
    response = client.post(f"{url}/save", data=form)
    assert response.status_code == 409
    assert (
        f"Your answers are kept where the items are unchanged. Item {n2} changed and item {n3} may have changed, "
        "so answer them again, then submit."
    ) in html.unescape(response.text)
    assert chosen(response.text, f"item-{first.id}") == {first.handler.right_answer(first)}
    assert chosen(response.text, f"item-{second.id}") == chosen(response.text, f"item-{third.id}") == set()
    fresh = db.session.scalar(select(QuizAttempt).where(QuizAttempt.abandoned_at.is_(None)))
    assert set(drafts_of(db, f"/learn/attempts/{fresh.id}")) == {first.id}
    assert n1 < n2 < n3


def test_the_message_names_what_changed():
    kept = drafts.Kept(attempt=None, answers=None, changed=(2, 5), unchecked=(7,))
    assert kept.message == (
        "This quiz was updated while you answered it. Your answers are kept where the items are unchanged. "
        "Items 2 and 5 changed and item 7 may have changed, so answer them again, then submit."
    )
    assert drafts.Kept(None, None, (), (3, 4)).message.endswith("Items 3 and 4 may have changed, so answer them again, then submit.")
    assert "None of the items you answered changed" in drafts.Kept(None, None, ()).message
