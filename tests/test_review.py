"""The spaced review queue: cards scheduled by PyPI fsrs, the review page, and starting a session."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from fsrs import Card, Rating, Scheduler, State
from markupsafe import escape
from sqlalchemy import select, update

from app import config
from app.models import QuizAttempt, ReviewCard
from app.models.types import utcnow
from app.services import quizzes, results, review, review_queue
from app.services.reports import plain
from tests.helpers import answers_by_grade, given_answers, rows
from tests.test_concurrency import THREADS, at_once

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
#: fsrs without its random spread, so intervals are exact.
STEADY = Scheduler(enable_fuzzing=False)


def wrong(quiz, item, confidence: int | None = 2) -> review.Answered:
    """A wrong answer to an item."""
    return review.Answered(quiz.id, item.id, False, confidence)


def right(quiz, item, confidence: int | None) -> review.Answered:
    """A right answer to an item, at a confidence level."""
    return review.Answered(quiz.id, item.id, True, confidence)


def card_of(db, user_id: int, quiz, item) -> ReviewCard | None:
    """The learner's card for an item, read fresh."""
    db.session.expire_all()
    return db.session.scalar(
        select(ReviewCard).where(
            ReviewCard.user_id == user_id, ReviewCard.quiz_ref == quiz.id, ReviewCard.item_ref == item.id
        )
    )


@pytest.fixture
def learner(auth):
    """A student, not signed in."""
    return auth.create("student")


# --- the service: which answers make cards, and how fsrs schedules them


def test_a_wrong_answer_puts_the_item_in_the_queue_due_within_minutes(db, learner, quiz):
    item = quiz.items[0]
    review.record_answers(learner.id, [wrong(quiz, item, confidence=3)], NOW, STEADY)
    db.session.commit()
    card = card_of(db, learner.id, quiz, item)
    assert card is not None
    assert card.due_at == NOW + timedelta(minutes=1)  # fsrs's first learning step
    assert card.review_count == 1 and card.last_reviewed_at == NOW
    fsrs_card = Card.from_dict(card.card)  # the stored dictionary is fsrs's own
    assert fsrs_card.state == State.Learning and fsrs_card.due == card.due_at
    assert card.card["first_rating"] == Rating.Again


@pytest.mark.parametrize("confidence", [2, 3, None])
def test_a_right_answer_given_with_some_certainty_makes_no_card(db, learner, quiz, confidence):
    review.record_answers(learner.id, [right(quiz, quiz.items[0], confidence)], NOW, STEADY)
    db.session.commit()
    assert rows(db, ReviewCard) == 0


def test_a_right_answer_at_not_sure_puts_the_item_in_the_queue(db, learner, quiz):
    item = quiz.items[1]
    review.record_answers(learner.id, [right(quiz, item, 1)], NOW, STEADY)
    db.session.commit()
    card = card_of(db, learner.id, quiz, item)
    # Hard on a new card: halfway between fsrs's 1- and 10-minute learning steps.
    assert card.due_at == NOW + timedelta(minutes=5, seconds=30)
    assert card.card["first_rating"] == Rating.Hard


def test_later_right_answers_push_the_item_further_away(db, learner, quiz):
    item = quiz.items[0]
    review.record_answers(learner.id, [wrong(quiz, item)], NOW, STEADY)
    intervals = []
    when = NOW
    for confidence in (3, 2, 2):
        when = card_of(db, learner.id, quiz, item).due_at
        review.record_answers(learner.id, [right(quiz, item, confidence)], when, STEADY)
        card = card_of(db, learner.id, quiz, item)
        intervals.append(card.due_at - when)
    assert intervals[0] >= timedelta(days=1), intervals  # "Easy" graduates it to days away
    assert intervals[0] < intervals[1] < intervals[2], intervals
    assert card.review_count == 4 and card.last_reviewed_at == when
    assert card.card["first_rating"] == Rating.Again and card.card["last_rating"] == Rating.Good


def test_a_wrong_answer_brings_a_well_known_item_back_soon(db, learner, quiz):
    item = quiz.items[0]
    review.record_answers(learner.id, [right(quiz, item, 1)], NOW, STEADY)
    first_due = card_of(db, learner.id, quiz, item).due_at
    review.record_answers(learner.id, [right(quiz, item, 3)], first_due, STEADY)
    far = card_of(db, learner.id, quiz, item).due_at
    assert far - first_due >= timedelta(days=1)
    review.record_answers(learner.id, [wrong(quiz, item)], far, STEADY)
    card = card_of(db, learner.id, quiz, item)
    assert card.due_at == far + timedelta(minutes=10)  # fsrs's relearning step
    assert Card.from_dict(card.card).state == State.Relearning


@pytest.mark.parametrize("size", [1, 4, 8])
def test_a_batch_of_answers_is_one_read_then_one_write_whatever_its_size(db, learner, quiz, count_queries, size):
    items = quiz.items[:size]
    with count_queries() as created:
        review.record_answers(learner.id, [wrong(quiz, item) for item in items], NOW, STEADY)
    with count_queries() as reviewed:
        review.record_answers(learner.id, [right(quiz, item, 2) for item in items], NOW, STEADY)
    with count_queries() as nothing_new:
        review.record_answers(learner.id, [right(quiz, item, 3) for item in quiz.items[size:]], NOW, STEADY)
    assert len(quiz.items) > size
    assert created.count == 2  # the SELECT, then one INSERT of every new card
    assert reviewed.count == 2  # the SELECT, then one conditional UPDATE of every card
    assert nothing_new.count == 1
    assert rows(db, ReviewCard) == size
    # Each card had its own review: due further out after the right answer than after the wrong one.
    for item in items:
        card = card_of(db, learner.id, quiz, item)
        assert card.review_count == 2 and card.card["last_rating"] == int(Rating.Good)


def test_answers_to_one_item_from_another_learner_or_quiz_stay_apart(db, auth, learner, catalog):
    other = auth.create("student", email="other@example.org")
    first, second = catalog.quizzes[0], catalog.quizzes[1]
    review.record_answers(learner.id, [wrong(first, first.items[0])], NOW, STEADY)
    review.record_answers(other.id, [wrong(first, first.items[0])], NOW, STEADY)
    review.record_answers(learner.id, [right(second, second.items[0], 3)], NOW, STEADY)
    assert card_of(db, learner.id, first, first.items[0]).review_count == 1
    assert card_of(db, other.id, first, first.items[0]).review_count == 1
    assert card_of(db, learner.id, second, second.items[0]) is None


def test_simultaneous_answers_to_a_new_item_make_one_card_and_count_every_review(app, db, learner, quiz):
    item = quiz.items[0]
    results = at_once(app, lambda: review.record_answers(learner.id, [wrong(quiz, item)], NOW, STEADY))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert rows(db, ReviewCard) == 1
    assert card_of(db, learner.id, quiz, item).review_count == THREADS  # none lost, none applied twice


def test_simultaneous_reviews_of_an_existing_card_are_each_applied_once(app, db, learner, quiz):
    item = quiz.items[0]
    review.record_answers(learner.id, [wrong(quiz, item)], NOW, STEADY)
    db.session.commit()
    later = NOW + timedelta(minutes=1)
    results = at_once(app, lambda: review.record_answers(learner.id, [right(quiz, item, 2)], later, STEADY))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert card_of(db, learner.id, quiz, item).review_count == 1 + THREADS


def test_an_assessed_quiz_submission_cards_its_wrong_and_unsure_answers(db, learner, quiz):
    attempt = quizzes.start_attempt(learner.id, quiz)
    answers = given_answers(quiz, answers_by_grade(quiz, "best"))
    first, second = quiz.items[0], quiz.items[1]
    if first.type == "scenario":
        answers[first.id] = next(o.id for o in first.options if o.grade != "best")
    confidence = {item.id: 3 for item in quiz.items} | {second.id: 1}
    quizzes.submit_attempt(learner.id, attempt, quiz, answers, confidence)
    db.session.commit()
    carded = set(db.session.scalars(select(ReviewCard.item_ref).where(ReviewCard.user_id == learner.id)))
    assert carded == {first.id, second.id}


# --- reading the queue


def test_due_lists_due_items_earliest_first_and_leaves_out_the_rest(db, learner, catalog):
    quiz = catalog.quizzes[0]
    late, early, not_yet = quiz.items[0], quiz.items[1], quiz.items[2]
    review.record_answers(learner.id, [wrong(quiz, late)], NOW, STEADY)
    review.record_answers(learner.id, [wrong(quiz, early)], NOW - timedelta(hours=1), STEADY)
    review.record_answers(learner.id, [wrong(quiz, not_yet)], NOW + timedelta(hours=1), STEADY)
    found = review_queue.due(learner.id, catalog, NOW + timedelta(minutes=5))
    assert [d.item.id for d in found.items] == [early.id, late.id]
    assert [d.key for d in found.items] == [f"{quiz.id}/{early.id}", f"{quiz.id}/{late.id}"]
    assert found.items[0].reason == "You answered it wrongly" and found.unavailable == 0


def test_items_no_longer_offered_are_skipped_but_kept(db, learner, catalog):
    quiz = catalog.quizzes[0]
    answers = [
        review.Answered("retired-quiz", "q1", False, None),
        review.Answered(quiz.id, "retired-item", False, None),
        wrong(quiz, quiz.items[0]),
    ]
    review.record_answers(learner.id, answers, NOW, STEADY)
    db.session.commit()
    found = review_queue.due(learner.id, catalog, NOW + timedelta(hours=1))
    assert [d.item.id for d in found.items] == [quiz.items[0].id]
    assert found.unavailable == 2
    assert review_queue.due_count(learner.id, catalog, NOW + timedelta(hours=1)) == 1
    assert rows(db, ReviewCard) == 3


def _set_due(db, user_id: int, quiz, item, due_at: datetime) -> None:
    db.session.execute(
        update(ReviewCard)
        .where(ReviewCard.user_id == user_id, ReviewCard.quiz_ref == quiz.id, ReviewCard.item_ref == item.id)
        .values(due_at=due_at)
    )


def test_upcoming_counts_the_queue_per_day_in_one_query(db, learner, quiz, catalog, count_queries):
    items = quiz.items[:7]
    review.record_answers(learner.id, [wrong(quiz, item) for item in items], NOW, STEADY)
    for item, due_at in zip(
        items,
        [
            NOW - timedelta(minutes=1),  # due now
            NOW + timedelta(hours=2),  # later today
            NOW + timedelta(hours=3),  # later today
            NOW + timedelta(days=1),  # tomorrow
            NOW + timedelta(days=3),
            NOW + timedelta(days=30),  # after the week
            datetime.combine(NOW.date() + timedelta(days=1), time(), UTC),  # tomorrow's first moment
        ],
        strict=True,
    ):
        _set_due(db, learner.id, quiz, item, due_at)
    db.session.commit()
    with count_queries() as counted:
        coming = review_queue.upcoming(learner.id, catalog, NOW)
    assert counted.count == 1
    assert coming.total == 7 and coming.due_now == 1 and coming.later == 1
    # A card of an item no longer offered is kept but not counted, as the due list leaves it out.
    db.session.add(
        ReviewCard(user_id=learner.id, quiz_ref="retired-quiz", item_ref="gone", card={}, due_at=NOW, review_count=1)
    )
    db.session.commit()
    assert review_queue.upcoming(learner.id, catalog, NOW) == coming
    assert [d.count for d in coming.days] == [2, 2, 0, 1, 0, 0, 0]
    assert coming.days[0].day == NOW.date() and coming.days[-1].day == NOW.date() + timedelta(days=6)


def test_the_apps_scheduler_comes_from_the_configuration(app):
    with app.app_context():
        assert review.scheduler().enable_fuzzing is True  # on unless a deployment turns it off
        assert review.scheduler().desired_retention == Scheduler().desired_retention  # fsrs's own default
        app.config["REVIEW_DESIRED_RETENTION"] = 0.85
        assert review.scheduler().desired_retention == 0.85


def test_review_settings_are_read_from_the_environment_and_bad_values_are_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLIANCE_REVIEW_DESIRED_RETENTION", "0.8")
    monkeypatch.setenv("ALLIANCE_REVIEW_SESSION_SIZE", "5")
    settings = config.from_environment(tmp_path, {"SECRET_KEY": "x"})
    assert settings["REVIEW_DESIRED_RETENTION"] == 0.8 and settings["REVIEW_SESSION_SIZE"] == 5
    for name, bad in [("ALLIANCE_REVIEW_DESIRED_RETENTION", "90%"), ("ALLIANCE_REVIEW_DESIRED_RETENTION", "1.5")]:
        monkeypatch.setenv(name, bad)
        with pytest.raises(config.ConfigError, match="ALLIANCE_REVIEW_DESIRED_RETENTION must be a share between 0"):
            config.from_environment(tmp_path, {"SECRET_KEY": "x"})
    monkeypatch.delenv("ALLIANCE_REVIEW_DESIRED_RETENTION")
    monkeypatch.setenv("ALLIANCE_REVIEW_SESSION_SIZE", "ten")
    with pytest.raises(config.ConfigError, match="ALLIANCE_REVIEW_SESSION_SIZE must be a whole number above zero"):
        config.from_environment(tmp_path, {"SECRET_KEY": "x"})


# --- the pages


def _due_now(db, user_id: int, answers: list[review.Answered]) -> None:
    """Record answers a day ago, so their cards are due now, and commit."""
    review.record_answers(user_id, answers, utcnow() - timedelta(days=1), STEADY)
    db.session.commit()


def _scenario_items(quiz, count: int):
    return [item for item in quiz.items if item.type == "scenario"][:count]


def test_the_review_page_lists_due_items_without_their_answers(client, db, auth, quiz):
    student = auth.as_role("student")
    first, second = _scenario_items(quiz, 2)
    _due_now(db, student.id, [wrong(quiz, first), right(quiz, second, 1)])
    page = client.get("/learn/review").text
    assert "<h1>Review</h1>" in page
    assert "2 items due for review." in page
    # Named by their patients, not by prompts that repeat ("What do you say?").
    assert page.count(f"From the quiz “{escape(quiz.title)}”") == 2
    for item in (first, second):
        assert f"<h3>{escape(results.item_title(item))}</h3>" in page
        assert item.vignette.patient.split(",")[0] in results.item_title(item)
    assert "You answered it wrongly" in page and "You answered it rightly but were not sure" in page
    assert "Last answer: wrong" in page and "Last answer: right, not sure" in page
    for item in (first, second):
        for option in item.options:  # neither the replies on offer nor their feedback
            assert str(escape(plain(option.text_html))) not in page
            assert str(escape(plain(option.feedback_html))) not in page
    assert 'action="/learn/review/sessions"' in page
    # The schedule in a learner's words, never the scheduler's rating names.
    assert "FSRS" in page and "<td>Right, and you said “Very sure”</td><td>It comes back latest of all</td>" in page
    for rating in Rating:
        assert f"<td>{rating.name}</td>" not in page


def test_the_review_page_without_cards_says_what_will_come(client, auth):
    auth.as_role("student")
    page = client.get("/learn/review").text
    assert "Nothing to review — answers you get wrong or are unsure of will come back here." in page
    assert 'action="/learn/review/sessions"' not in page
    assert "0 items in your review queue in all." in page


def test_the_review_page_shows_the_coming_week_as_a_chart_and_a_table(client, db, auth, quiz):
    student = auth.as_role("student")
    item = quiz.items[0]
    review.record_answers(student.id, [wrong(quiz, item)], utcnow(), STEADY)
    _set_due(db, student.id, quiz, item, utcnow() + timedelta(days=2))
    db.session.commit()
    page = client.get("/learn/review").text
    assert "Nothing to review" in page
    assert '<svg class="chart review-chart"' in page and '<title id="review-week-title">' in page
    counts = re.findall(r'<tr><th scope="row"><time datetime="[\d-]+">([^<]+)</time></th><td>(\d+)</td></tr>', page)
    assert [c for _, c in counts] == ["0", "0", "1", "0", "0", "0", "0"]
    assert counts[0][0] == "Today" and counts[1][0] == "Tomorrow"


def test_the_review_page_says_how_many_due_items_are_no_longer_offered(client, db, auth, quiz):
    student = auth.as_role("student")
    _due_now(db, student.id, [review.Answered("retired-quiz", "q1", False, None), wrong(quiz, quiz.items[0])])
    page = client.get("/learn/review").text
    assert "1 item due for review." in page
    assert "1 due item is no longer offered" in page


def test_starting_a_session_opens_practice_on_exactly_the_due_items(client, db, auth, catalog):
    student = auth.as_role("student")
    first, second = catalog.quizzes[0], catalog.quizzes[1]
    _due_now(db, student.id, [wrong(first, first.items[0]), wrong(second, second.items[1], 1)])
    _due_now(db, student.id, [review.Answered("retired-quiz", "q1", False, None)])
    review.record_answers(student.id, [wrong(first, first.items[2])], utcnow() + timedelta(hours=1), STEADY)
    db.session.commit()
    response = client.post("/learn/review/sessions")
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == student.id))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/learn/practice/attempts/{attempt.id}"
    assert attempt.mode == "practice" and attempt.quiz_ref == "practice/review"
    assert attempt.item_refs == [f"{first.id}/{first.items[0].id}", f"{second.id}/{second.items[1].id}"]
    assert attempt.submitted_at is None
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_session_takes_at_most_the_configured_number_of_items_longest_due_first(app, client, db, auth, quiz):
    app.config["REVIEW_SESSION_SIZE"] = 2
    student = auth.as_role("student")
    items = quiz.items[:3]
    for hours, item in zip((1, 3, 2), items, strict=True):
        review.record_answers(student.id, [wrong(quiz, item)], utcnow() - timedelta(hours=hours), STEADY)
    db.session.commit()
    assert "A session takes the 2 that have waited longest" in client.get("/learn/review").text
    client.post("/learn/review/sessions")
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == student.id))
    assert attempt.item_refs == [f"{quiz.id}/{items[1].id}", f"{quiz.id}/{items[2].id}"]


def test_starting_a_session_with_nothing_due_explains_and_opens_nothing(client, db, auth, quiz):
    student = auth.as_role("student")
    review.record_answers(student.id, [wrong(quiz, quiz.items[0])], utcnow() + timedelta(hours=1), STEADY)
    db.session.commit()
    response = client.post("/learn/review/sessions")
    assert response.headers["Location"] == "/learn/review"
    assert "Nothing is due for review right now." in client.get("/learn/review").text
    assert rows(db, QuizAttempt) == 0


def test_another_learners_queue_is_never_shown_or_used(client, db, auth, quiz):
    alice = auth.create("student", email="alice@example.org", name="Alice Zephyrine")
    item = _scenario_items(quiz, 1)[0]
    _due_now(db, alice.id, [wrong(quiz, item)])
    auth.as_role("student")
    page = client.get("/learn/review").text
    assert "Nothing to review" in page and "0 items in your review queue" in page
    assert str(escape(plain(item.vignette.says)))[:30] not in page
    assert "due for review" not in client.get("/learn/").text
    assert client.post("/learn/review/sessions").headers["Location"] == "/learn/review"
    assert rows(db, QuizAttempt) == 0


def test_home_says_how_many_items_are_due_and_links_to_the_review_page(client, db, auth, quiz):
    student = auth.as_role("student")
    home = client.get("/learn/").text
    assert 'href="/learn/review">Your review queue</a>: nothing due right now.' in home
    _due_now(db, student.id, [wrong(quiz, quiz.items[0]), wrong(quiz, quiz.items[1])])
    home = client.get("/learn/").text
    assert '<a href="/learn/review"><strong>2 items due for review</strong></a>' in home
    assert '<a href="/learn/review">Review</a>' in home  # in the main navigation


def test_the_review_page_runs_the_same_few_queries_however_long_the_queue(client, db, auth, catalog, count_queries):
    student = auth.as_role("student")
    quiz = catalog.quizzes[0]
    _due_now(db, student.id, [wrong(quiz, quiz.items[0])])
    with count_queries() as short:
        assert client.get("/learn/review").status_code == 200
    _due_now(db, student.id, [wrong(q, item) for q in catalog.quizzes[1:4] for item in q.items])
    with count_queries() as long:
        page = client.get("/learn/review").text
    assert page.count('<li class="card">') > 30
    # Loading the user, the due cards, the per-day counts.
    assert short.count == long.count == 3, [s.split("\n")[0][:60] for s in long.statements]
