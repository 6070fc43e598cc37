"""Practice, confidence and certainty-based marking, as a learner meets them."""

import re

import pytest
from sqlalchemy import select

from app.content import certainty
from app.models import CompetencyProgress, ItemResponse, LearningEvent, QuizAttempt, QuizProgress
from app.services import practice
from tests.helpers import answers_by_grade, rows


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


@pytest.fixture
def cbm_quiz(catalog):
    """The shipped quiz marked by certainty."""
    return next(q for q in catalog.quizzes if q.marking == "certainty")


def practise(client, quiz) -> str:
    """Start practising a quiz from its page; the practice URL."""
    response = client.post(f"/learn/quizzes/{quiz.id}/practice")
    assert response.status_code == 302
    return response.location


def item_form(item, position: int, right: bool, confidence: int | None = 2) -> dict:
    """Form data answering one practice item rightly or wrongly."""
    handler = item.handler
    answer = handler.right_answer(item) if right else handler.wrong_answer(item)
    data = {"position": str(position), **handler.form_data(item, answer)}
    if confidence is not None:
        data[f"confidence-{item.id}"] = str(confidence)
    return data


def answer_all(client, url, quiz, right=True, confidence=2):
    """Answer every item of a practice attempt in order; the last response."""
    response = None
    for position, item in enumerate(quiz.items, start=1):
        response = client.post(url, data=item_form(item, position, right, confidence))
        assert response.status_code == 302, response.text
    return response


# --- certainty-based marking, as a pure rule


@pytest.mark.parametrize(
    ("fraction", "confidence", "expected"),
    [(1, 1, 1), (1, 2, 2), (1, 3, 3), (0, 1, 0), (0, 2, -2), (0, 3, -6), (0.5, 3, 1.5), (0.5, 1, 0.5)],
)
def test_marks_follow_moodles_table(fraction, confidence, expected):
    assert certainty.mark(fraction, confidence) == expected


def test_each_level_pays_best_in_its_range():
    # The expected mark of each level at chance p of being right picks the best level.
    def expected(p, c):
        return p * certainty.RIGHT[c] + (1 - p) * certainty.WRONG[c]

    for p, best in ((0.5, 1), (0.7, 2), (0.9, 3)):
        assert max(certainty.LEVELS, key=lambda c: expected(p, c)) == best
        low, high = certainty.BEST_RANGE[best]
        assert low <= p <= high


def test_calibration_names_over_and_under_confidence():
    rows_ = certainty.calibration([(3, True), (3, False), (1, True), (1, True), (2, True), (2, True), (2, False)])
    by_level = {row.level: row for row in rows_}
    assert (by_level[3].answered, by_level[3].correct, by_level[3].verdict) == (2, 1, "over-confident")
    assert by_level[1].verdict == "under-confident"
    assert by_level[2].share == pytest.approx(2 / 3) and by_level[2].verdict == "well judged"
    assert certainty.calibration([])[0].verdict is None


@pytest.mark.parametrize("raw", ["0", "4", "", "x", None, "2.5"])
def test_a_confidence_that_is_not_a_level_is_none(raw):
    assert certainty.parse_level(raw) is None


# --- confidence in an assessed quiz


def test_a_certainty_marked_quiz_asks_how_sure_and_keeps_answers_when_it_is_missing(client, student, db, cbm_quiz):
    # Elsewhere saying how sure is optional (tests/test_quiz_drafts.py); under certainty marking the mark needs it.
    quiz = cbm_quiz
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    data = answers_by_grade(quiz, "best")
    first = quiz.items[0]
    del data[f"confidence-{first.id}"]
    response = client.post(url, data=data)
    assert response.status_code == 422
    assert f'<a href="#confidence-{first.id}">Item 1: say how sure you are</a>' in response.text
    # The learner's other choices are still ticked.
    assert response.text.count('name="confidence-') == 3 * len(quiz.items)
    assert (
        len(re.findall(r'name="confidence-[^"]+" id="[^"]+" value="2" checked', response.text)) == len(quiz.items) - 1
    )
    assert rows(db, ItemResponse) == 0


def test_results_show_how_sure_the_learner_was_and_their_calibration(client, student, db, quiz):
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    client.post(url, data=answers_by_grade(quiz, "best", confidence=3))
    page = client.get(f"{url}/results").text
    assert page.count("You said you were <strong>very sure</strong>") == len(quiz.items)
    assert "How well you judged your answers" in page
    assert re.search(
        rf"<th scope=\"row\">Very sure</th>\s*<td>{len(quiz.items)}</td>\s*<td>{len(quiz.items)}</td>", page
    )
    confidences = db.session.scalars(select(ItemResponse.confidence)).all()
    assert confidences == [3] * len(quiz.items)


# --- certainty-based marking in an assessed quiz


@pytest.mark.parametrize(("grade", "level", "percent"), [("best", 3, 300), ("best", 1, 100), ("best", 2, 200)])
def test_a_certainty_marked_quiz_scores_all_right_answers_by_confidence(
    client, student, cbm_quiz, grade, level, percent
):
    url = client.post(f"/learn/quizzes/{cbm_quiz.id}/attempts").location
    client.post(url, data=answers_by_grade(cbm_quiz, grade, confidence=level))
    page = client.get(f"{url}/results").text
    # Shown as Moodle shows it: the average mark per item on its own scale, beside accuracy.
    assert f"and you averaged {percent / 100:.2f}." in page
    assert re.search(rf"<dt>Average certainty-based mark</dt>\s*<dd><strong>{percent / 100:.2f}</strong>", page)
    assert re.search(r"<dt>Accuracy</dt>\s*<dd><strong>100%</strong>", page)
    assert "Passed" in page


def test_confident_mistakes_cost_most_under_certainty_marking(client, student, db, cbm_quiz):
    url = client.post(f"/learn/quizzes/{cbm_quiz.id}/attempts").location
    data = answers_by_grade(cbm_quiz, "harmful", fallback="unhelpful", confidence=3)
    client.post(url, data=data)
    attempt = db.session.scalar(select(QuizAttempt))
    responses = db.session.scalars(select(ItemResponse)).all()
    expected = sum(certainty.mark(r.score / r.max_score, 3) * r.max_score for r in responses)
    assert attempt.score == pytest.approx(expected)
    assert attempt.score < 0 and attempt.is_passed is False
    page = client.get(f"{url}/results").text
    assert "Not passed" in page
    verdict = db.session.scalar(select(LearningEvent).where(LearningEvent.verb == "failed"))
    total = sum(r.max_score for r in responses)
    assert verdict.result["min"] == -6 * total and verdict.result["max"] == 3 * total
    assert -1 <= verdict.result["scaled"] < 0


def test_the_quiz_page_explains_certainty_marking_only_where_it_applies(client, student, cbm_quiz, quiz):
    assert "This quiz uses certainty-based marking" in client.get(f"/learn/quizzes/{cbm_quiz.id}").text
    assert "This quiz uses certainty-based marking" not in client.get(f"/learn/quizzes/{quiz.id}").text


# --- practice


def test_practice_shows_one_item_then_its_feedback(client, student, db, quiz):
    url = practise(client, quiz)
    page = client.get(url).text
    assert f"Item 1 of {len(quiz.items)}" in page
    assert "How sure are you of your answer to item 1?" in page
    first = quiz.items[0]
    response = client.post(url, data=item_form(first, 1, right=True, confidence=3))
    assert response.location.endswith(f"{url.removeprefix('http://localhost')}/items/1")
    feedback = client.get(response.location).text
    assert "Right." in feedback and "You said you were <strong>very sure</strong>" in feedback
    assert "Next item" in feedback
    assert f"Item 2 of {len(quiz.items)}" in client.get(url).text


def test_a_practice_answer_without_confidence_is_kept_and_explained(client, student, db, quiz):
    url = practise(client, quiz)
    first = quiz.items[0]
    data = item_form(first, 1, right=True, confidence=None)
    response = client.post(url, data=data)
    assert response.status_code == 422
    assert "Say how sure you are of this answer." in response.text
    chosen = first.handler.right_answer(first)
    if first.type == "scenario":
        assert f'value="{chosen}" checked' in response.text
    assert rows(db, ItemResponse) == 0


def test_a_practice_item_left_unanswered_is_explained(client, student, db, quiz):
    url = practise(client, quiz)
    response = client.post(url, data={"position": "1", f"confidence-{quiz.items[0].id}": "2"})
    assert response.status_code == 422
    assert "Answer the item before you go on." in response.text


def test_a_repeated_practice_answer_is_recorded_once(client, student, db, quiz):
    url = practise(client, quiz)
    data = item_form(quiz.items[0], 1, right=False)
    client.post(url, data=data)
    again = client.post(url, data=data, follow_redirects=True)
    assert "That item was already answered" in again.text
    assert rows(db, ItemResponse) == 1


def test_finished_practice_shows_a_summary_and_never_counts_towards_grades(client, student, db, quiz):
    url = practise(client, quiz)
    last = answer_all(client, url, quiz, right=True, confidence=1)
    assert "See your summary" in client.get(last.location).text
    summary = client.get(url).text
    assert "summary" in summary and "Practice" in summary
    assert f"{len(quiz.items)} of {len(quiz.items)} items right" in summary
    assert "Under-confident" in summary
    attempt = db.session.scalar(select(QuizAttempt))
    assert attempt.mode == "practice" and attempt.submitted_at is not None and attempt.is_passed is None
    # Practice leaves the learner's grade, courses and the educator's summaries alone.
    assert rows(db, QuizProgress) == 0 and rows(db, CompetencyProgress) == 0
    verbs = db.session.scalars(select(LearningEvent.verb).order_by(LearningEvent.id)).all()
    assert verbs == ["attempted", *["answered"] * len(quiz.items), "completed"]
    front = client.get(f"/learn/quizzes/{quiz.id}").text
    assert "Your attempts" not in front  # practice is not an attempt at the quiz
    assert "Finished: 100%" in front


def test_practice_and_an_assessed_attempt_can_both_be_open(client, student, db, quiz):
    assessed = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    url = practise(client, quiz)
    client.post(url, data=item_form(quiz.items[0], 1, right=True))
    assert assessed != url
    assert "Resume your attempt" in client.get(f"/learn/quizzes/{quiz.id}").text
    assert "Resume practice" in client.get(f"/learn/quizzes/{quiz.id}").text


def test_practice_pages_of_another_learner_answer_404(client, auth, db, quiz):
    auth.create("student", email="first@example.org")
    auth.create("student", email="second@example.org")
    auth.sign_in("first@example.org")
    url = practise(client, quiz)
    client.post(url, data=item_form(quiz.items[0], 1, right=True))
    auth.sign_out()
    auth.sign_in("second@example.org")
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/items/1").status_code == 404
    assert client.post(url, data=item_form(quiz.items[1], 2, right=True)).status_code == 404


def test_feedback_on_an_item_not_yet_answered_is_404(client, student, quiz):
    url = practise(client, quiz)
    response = client.get(f"{url}/items/2")
    assert response.status_code == 404
    assert "has not been answered yet" in response.text


def test_a_practice_attempt_opens_its_own_page_not_the_quiz_form(client, student, quiz):
    url = practise(client, quiz)
    attempt_id = url.rsplit("/", 1)[1]
    assert client.get(f"/learn/attempts/{attempt_id}").location.endswith(f"/learn/practice/attempts/{attempt_id}")
    assert client.get(f"/learn/attempts/{attempt_id}/results").location.endswith(
        f"/learn/practice/attempts/{attempt_id}"
    )


def test_certainty_marked_practice_scores_by_confidence(client, student, db, cbm_quiz):
    url = practise(client, cbm_quiz)
    answer_all(client, url, cbm_quiz, right=True, confidence=3)
    assert re.search(r"<dt>Average certainty-based mark</dt>\s*<dd><strong>3.00</strong>", client.get(url).text)


def test_practice_of_a_set_whose_items_were_removed_ends_with_what_was_answered(client, student, db, quiz):
    url = practise(client, quiz)
    client.post(url, data=item_form(quiz.items[0], 1, right=True))
    attempt = db.session.scalar(select(QuizAttempt))
    attempt.item_refs = [*attempt.item_refs[:1], f"{quiz.id}/no-longer-there"]
    db.session.commit()
    page = client.get(url, follow_redirects=True).text
    assert "1 of 1 items right" in page


# --- conversations as practice


def test_a_conversation_practice_run_never_counts(client, student, db, catalog):
    conversation = catalog.conversations[0]
    front = client.get(f"/learn/conversations/{conversation.id}").text
    assert "Practise it" in front
    url = client.post(f"/learn/conversations/{conversation.id}/practice").location
    page = client.get(url).text
    assert "never counts towards your grade" in page
    steps = 0
    while "Debrief" not in page and steps < 40:
        node_reply = re.search(r'name="reply" id="[^"]+" value="([^"]+)"', page).group(1)
        step = re.search(r'name="step" value="(\d+)"', page).group(1)
        page = client.post(url, data={"step": step, "reply": node_reply, "confidence": "2"}, follow_redirects=True).text
        steps += 1
    assert "Debrief" in page and "This run does not count towards your grade" in page
    attempt = db.session.scalar(select(QuizAttempt))
    assert attempt.mode == "practice" and attempt.submitted_at is not None
    assert rows(db, QuizProgress) == 0 and rows(db, CompetencyProgress) == 0
    last = db.session.scalar(select(LearningEvent).order_by(LearningEvent.id.desc()))
    assert last.verb == "completed"
    assert "Your practice runs" in client.get(f"/learn/conversations/{conversation.id}").text


def test_restarting_a_practice_run_leaves_the_assessed_conversation_open(client, student, db, catalog):
    conversation = catalog.conversations[0]
    assessed = client.post(f"/learn/conversations/{conversation.id}/attempts").location
    client.post(f"/learn/conversations/{conversation.id}/practice")
    client.post(f"/learn/conversations/{conversation.id}/restart", data={"mode": "practice"})
    open_modes = db.session.scalars(
        select(QuizAttempt.mode).where(QuizAttempt.submitted_at.is_(None), QuizAttempt.abandoned_at.is_(None))
    ).all()
    assert sorted(open_modes) == ["assessed", "practice"]
    assert client.get(assessed).status_code == 200


def test_starting_a_half_done_set_again_carries_on_with_it(client, student, db, quiz, catalog):
    competency = quiz.items[0].competencies[0]
    start = f"/learn/practice/competencies/{competency}"
    url = client.post(start).location
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.mode == "practice"))
    first = practice_first_item(catalog, attempt)
    client.post(url, data=item_form(first, 1, right=True))
    assert client.post(start).location == url
    assert rows(db, QuizAttempt, abandoned_at=None) == 1
    # Once every item is answered, pressing Start begins a new set.
    db.session.refresh(attempt)
    for position, key in enumerate(attempt.item_refs[1:], start=2):
        item = practice.resolve(catalog, key)[1]
        client.post(url, data=item_form(item, position, right=True))
    assert client.post(start).location != url


def practice_first_item(catalog, attempt):
    """The first item of a practice attempt."""
    return practice.resolve(catalog, attempt.item_refs[0])[1]


def test_a_review_session_whose_items_are_no_longer_due_is_not_resumed(student, db, catalog, quiz, auth):
    user = db.session.scalar(select(QuizAttempt.user_id)) or auth.create("student", email="r@example.org").id
    first = [practice.item_key(quiz.id, item.id) for item in quiz.items[:2]]
    later = [practice.item_key(quiz.id, item.id) for item in quiz.items[2:4]]
    session = practice.start_set(user, "practice/review", first, catalog, resume_within=set(first))
    db.session.commit()
    assert practice.start_set(user, "practice/review", first, catalog, resume_within=set(first)).id == session.id
    fresh = practice.start_set(user, "practice/review", later, catalog, resume_within=set(later))
    db.session.commit()
    assert fresh.id != session.id and fresh.item_refs == later
    db.session.refresh(session)
    assert session.abandoned_at is not None


def test_practice_begun_on_an_older_quiz_starts_again_with_a_message(client, student, db, quiz):
    url = practise(client, quiz)
    client.post(url, data=item_form(quiz.items[0], 1, right=True))
    attempt = db.session.scalar(select(QuizAttempt))
    attempt.content_version = "older"
    db.session.commit()
    assert "Resume practice" not in client.get(f"/learn/quizzes/{quiz.id}").text
    page = client.get(url, follow_redirects=True).text
    assert "This quiz was updated since you began practising it" in page
    db.session.refresh(attempt)
    assert attempt.abandoned_at is not None


def test_a_practice_run_of_a_conversation_no_longer_offered_is_404(client, student, db, catalog):
    conversation = catalog.conversations[0]
    url = client.post(f"/learn/conversations/{conversation.id}/practice").location
    attempt = db.session.scalar(select(QuizAttempt))
    attempt.quiz_ref = "retired-conversation"
    db.session.commit()
    response = client.get(f"/learn/practice/attempts/{attempt.id}")
    assert response.status_code == 404 and "no longer offered" in response.text
    assert client.get(url).status_code == 404
    db.session.refresh(attempt)
    assert attempt.submitted_at is None  # never closed with a made-up result


def test_the_summary_says_when_an_item_changed_since_it_was_answered(client, student, db, quiz):
    url = practise(client, quiz)
    answer_all(client, url, quiz)
    first = db.session.scalar(select(ItemResponse).where(ItemResponse.position == 1))
    first.item_version = "older"
    db.session.commit()
    assert "An item that has changed since you answered it" in client.get(url).text
