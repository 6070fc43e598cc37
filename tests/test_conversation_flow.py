"""Playing a branching conversation in the app: every reply recorded once, the path and the ending kept."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from app.models import CompetencyProgress, ItemResponse, LearningEvent, QuizAttempt, QuizProgress
from tests.helpers import rows


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


@pytest.fixture
def conversation(catalog):
    """The first shipped branching conversation."""
    return catalog.conversations[0]


def begin(client, conversation) -> str:
    """Start the conversation from its front page; return the play page's path."""
    response = client.post(f"/learn/conversations/{conversation.id}/attempts")
    assert response.status_code == 302
    return response.location


def say(client, path: str, step: int, reply_id: str):
    """Post one reply at a step."""
    return client.post(path, data={"step": str(step), "reply": reply_id, "confidence": "2"})


def worst_path(conversation) -> list[str]:
    """The replies of the lowest score at every point, played from the start to an ending."""
    state, path = conversation.initial(), []
    while not conversation.is_ending(state):
        node = conversation.node(state.at)
        reply = min(node.replies, key=lambda r: (r.score, r.grade != "harmful"))
        path.append(reply.id)
        state = conversation.advance(state, reply)
    return path


def test_the_best_path_reaches_its_ending_with_full_marks_and_the_tracker_keeps_the_path(
    client, db, student, conversation
):
    path = begin(client, conversation)
    first = client.get(path).text
    assert escape(conversation.node(conversation.start).patient) in first
    for step, reply_id in enumerate(conversation.best_path, start=1):
        response = say(client, path, step, reply_id)
        # Each reply opens the page at the patient's answer (#now); the last opens the debrief.
        after = path if step == len(conversation.best_path) else f"{path}#now"
        assert response.status_code == 302 and response.location == after
    page = client.get(path).text
    steps, end = conversation.play(list(conversation.best_path))
    ending = conversation.ending(end.at)
    assert f"<h1>Debrief: {escape(conversation.title)}</h1>" in page
    assert escape(ending.title) in page and "<strong>100%</strong>" in page and "Passed" in page

    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == student.id))
    assert attempt.ending_ref == ending.id and attempt.score == attempt.max_score == conversation.max_score
    responses = db.session.scalars(
        select(ItemResponse).where(ItemResponse.attempt_id == attempt.id).order_by(ItemResponse.position)
    ).all()
    assert [r.answer for r in responses] == list(conversation.best_path)
    assert [r.item_ref for r in responses] == [s.node.id for s in steps]
    assert [r.position for r in responses] == list(range(1, len(steps) + 1))
    assert all(r.is_correct and r.grade == "best" for r in responses)
    assert rows(db, LearningEvent, user_id=student.id, verb="answered") == len(steps)
    verdict = db.session.scalar(select(LearningEvent).where(LearningEvent.verb == "passed"))
    assert verdict.result["path"] == list(conversation.best_path) and verdict.result["ending"] == ending.id
    summary = db.session.scalar(select(QuizProgress).where(QuizProgress.quiz_ref == conversation.id))
    assert summary.is_passed and summary.best_percent == 100.0
    tagged = {c for s in steps for c in s.reply.competencies}
    counted = set(db.session.scalars(select(CompetencyProgress.competency_ref)))
    assert tagged <= counted


def test_each_reply_changes_what_the_patient_says_next(client, student, conversation):
    path = begin(client, conversation)
    state = conversation.initial()
    for step, reply_id in enumerate(conversation.best_path[:3], start=1):
        say(client, path, step, reply_id)
        state = conversation.advance(state, conversation.node(state.at).reply(reply_id))
        page = client.get(path).text
        current = page.split('class="vignette now"', 1)[1]
        assert escape(conversation.node(state.at).patient) in current
        assert f"Step {step + 1} of about " in page


def test_a_poor_path_reaches_another_ending_and_does_not_pass(client, db, student, conversation):
    path = begin(client, conversation)
    replies = worst_path(conversation)
    for step, reply_id in enumerate(replies, start=1):
        say(client, path, step, reply_id)
    _, end = conversation.play(replies)
    best_end = conversation.play(list(conversation.best_path))[1]
    assert end.at != best_end.at
    page = client.get(path).text
    assert escape(conversation.ending(end.at).title) in page and "Not passed" in page
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == student.id))
    assert attempt.ending_ref == end.at and not attempt.is_passed


def test_a_repeated_reply_is_recorded_once(client, db, student, conversation):
    path = begin(client, conversation)
    assert say(client, path, 1, conversation.best_path[0]).location == f"{path}#now"
    again = say(client, path, 1, conversation.best_path[0])
    assert again.status_code == 302
    assert "That reply was already recorded" in client.get(path).text
    assert rows(db, ItemResponse) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"step": "1"}, "Choose a reply"),
        ({"step": "1", "reply": "no-such-reply", "confidence": "2"}, "That reply is not one of those on offer here"),
        ({"step": "one", "reply": "a", "confidence": "2"}, "Choose a reply"),
        ({"reply": "a", "confidence": "2"}, "Choose a reply"),
    ],
)
def test_a_bad_reply_gets_a_message_and_records_nothing(client, db, student, conversation, data, message):
    path = begin(client, conversation)
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert message in response.text and 'class="error-summary"' in response.text
    assert escape(conversation.node(conversation.start).patient) in response.text
    assert rows(db, ItemResponse) == 0


def test_restarting_sets_the_old_path_aside_and_begins_again(client, db, student, conversation):
    path = begin(client, conversation)
    say(client, path, 1, conversation.best_path[0])
    response = client.post(f"/learn/conversations/{conversation.id}/restart")
    fresh = response.location
    assert fresh != path
    page = client.get(fresh).text
    assert "Step 1 of about " in page
    old = db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == int(path.rsplit("/", 1)[1])))
    assert old.abandoned_at is not None and old.submitted_at is None
    assert rows(db, ItemResponse, attempt_id=old.id) == 1  # kept: the log is never rewritten
    set_aside = client.get(path, follow_redirects=True).text
    assert "set aside when you started again" in set_aside
    assert rows(db, QuizAttempt, user_id=student.id) == 2


def test_front_page_lists_finished_conversations_with_their_endings(client, student, conversation):
    path = begin(client, conversation)
    for step, reply_id in enumerate(conversation.best_path, start=1):
        say(client, path, step, reply_id)
    page = client.get(f"/learn/conversations/{conversation.id}").text
    ending = conversation.ending(conversation.play(list(conversation.best_path))[1].at)
    assert escape(ending.title) in page and "Start again" in page
    module_page = client.get(f"/learn/modules/{conversation.module_id}").text
    assert escape(conversation.title) in module_page and "Passed (best 100%)" in module_page


def test_replying_after_the_ending_changes_nothing(client, db, student, conversation):
    path = begin(client, conversation)
    for step, reply_id in enumerate(conversation.best_path, start=1):
        say(client, path, step, reply_id)
    before = rows(db, ItemResponse)
    response = say(client, path, len(conversation.best_path) + 1, conversation.best_path[0])
    assert response.status_code == 302 and rows(db, ItemResponse) == before
    assert "This conversation has already ended" in client.get(path).text


def test_a_conversation_updated_mid_way_starts_again(client, db, student, conversation):
    path = begin(client, conversation)
    say(client, path, 1, conversation.best_path[0])
    db.session.execute(update(QuizAttempt).values(content_version="older"))
    db.session.commit()
    response = client.get(path)
    assert response.location == f"/learn/conversations/{conversation.id}"
    assert "updated since you began it" in client.get(response.location).text


def test_quiz_and_conversation_addresses_send_each_attempt_to_its_own_page(client, student, conversation, quiz):
    talk = begin(client, conversation)
    talk_id = talk.rsplit("/", 1)[1]
    assert client.get(f"/learn/attempts/{talk_id}").location == talk
    assert client.get(f"/learn/attempts/{talk_id}/results").location == f"/learn/attempts/{talk_id}"
    test = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    assert client.get(f"/learn/conversations/attempts/{test.rsplit('/', 1)[1]}").location == test


def test_another_learners_conversation_is_a_404(client, db, auth, conversation):
    auth.create("student", email="alice@example.org", name="Alice Zephyrine")
    auth.sign_in("alice@example.org")
    path = begin(client, conversation)
    say(client, path, 1, conversation.best_path[0])
    auth.sign_out()
    auth.as_role("student")
    for response in (client.get(path), say(client, path, 2, conversation.best_path[1])):
        assert response.status_code == 404
        assert "Alice" not in response.text
    assert rows(db, ItemResponse) == 1


def test_the_play_page_runs_the_same_queries_however_far_the_conversation_has_gone(
    client, student, conversation, count_queries
):
    path = begin(client, conversation)
    counts = []
    for step, reply_id in enumerate(conversation.best_path[:4], start=1):
        with count_queries() as counted:
            assert client.get(path).status_code == 200
        counts.append(counted.count)
        say(client, path, step, reply_id)
    assert len(set(counts)) == 1 and counts[0] <= 4, counts


def test_the_glossary_lists_every_term_with_where_it_is_used(client, student, catalog):
    page = client.get("/learn/glossary").text
    assert len(re.findall(r'<dt id="term-', page)) == len(catalog.glossary)
    term = catalog.glossary[0]
    lesson = catalog.lessons_using(term.id)[0]
    entry = page.split(f'id="term-{term.id}"', 1)[1].split("</dd>", 1)[0]
    assert f"/learn/modules/{lesson.module_id}/lessons/{lesson.id}" in entry
    lesson_page = client.get(f"/learn/modules/{lesson.module_id}/lessons/{lesson.id}").text
    assert f'href="/learn/glossary#term-{term.id}"' in lesson_page
    assert "\x02" not in lesson_page  # every placeholder was filled


def test_a_lesson_shows_its_key_points_and_its_charts_with_their_numbers(client, student, catalog):
    module = catalog.module("the-evidence")
    chart = next(c for c in module.charts if c.id == "fuentes-nrs")
    lesson = next(
        lesson for lesson in module.lessons if f'id="chart-{chart.id}"' in "".join(s.html for s in lesson.sections)
    )
    page = client.get(f"/learn/modules/{module.id}/lessons/{lesson.id}").text
    figure = page.split(f'id="chart-{chart.id}"', 1)[1].split("</figure>", 1)[0]
    assert 'role="img"' in figure and f'<title id="chart-{chart.id}-title">{escape(chart.title)}</title>' in figure
    for bar in chart.bars:
        assert f"<td>{escape(bar.value_text)}</td>" in figure
    assert '<h2 id="key-points">Key points</h2>' in page
    assert all(point in page for point in lesson.key_points)


def test_a_finished_conversation_no_longer_offered_answers_404_not_an_error(client, db, student, conversation):
    path = begin(client, conversation)
    for step, reply_id in enumerate(conversation.best_path, start=1):
        say(client, path, step, reply_id)
    db.session.execute(update(QuizAttempt).values(quiz_ref="retired-conversation"))
    db.session.commit()
    attempt_id = path.rsplit("/", 1)[1]
    for url in (f"/learn/attempts/{attempt_id}/results", path):
        response = client.get(url)
        assert response.status_code == 404 and "no longer offered" in response.text


def test_a_reply_asks_how_sure_and_keeps_the_choice_when_that_is_missing(client, db, student, conversation):
    path = client.post(f"/learn/conversations/{conversation.id}/attempts").location
    page = client.get(path).text
    assert "How sure are you that this is the right thing to say?" in page
    first = conversation.best_path[0]
    response = client.post(path, data={"step": "1", "reply": first})
    assert response.status_code == 422
    assert "Say how sure you are that this is the right thing to say." in response.text
    assert f'value="{first}" checked' in response.text
    assert rows(db, ItemResponse) == 0
    assert client.post(path, data={"step": "1", "reply": first, "confidence": "3"}).status_code == 302
    assert db.session.scalar(select(ItemResponse.confidence)) == 3


def test_the_debrief_shows_how_sure_each_reply_was_and_the_calibration(client, db, student, conversation):
    path = client.post(f"/learn/conversations/{conversation.id}/attempts").location
    for step, reply_id in enumerate(conversation.best_path, start=1):
        client.post(path, data={"step": str(step), "reply": reply_id, "confidence": "3"})
    page = client.get(path).text
    assert page.count("you said you were very sure") == len(conversation.best_path)
    assert "How well you judged your replies" in page
    steps = len(conversation.best_path)
    assert re.search(rf"<th scope=\"row\">Very sure</th>\s*<td>{steps}</td>\s*<td>{steps}</td>", page)


def test_the_debrief_names_what_this_learner_did_on_their_path(client, student, catalog):
    # An informed choice of the injection: some acceptable replies early on, then her choice accepted and reviewed.
    conversation = catalog.conversation("sdm-conversation")
    replies = ["a", "b", "b", "a", "b", "b", "a", "c", "c", "b"]
    path = begin(client, conversation)
    for step, reply_id in enumerate(replies, start=1):
        assert say(client, path, step, reply_id).status_code == 302
    page = client.get(path).text
    steps, end = conversation.play(replies)
    ending = conversation.ending(end.at)
    assert ending.outcome == "good" and "Passed" in page

    # The ending's own text comes first, then the notes of this path.
    assert '<h2 id="notes-heading">What you did on this path</h2>' in page
    assert page.index(ending.debrief_html) < page.index('id="notes-heading"')
    notes = page.split('id="notes-heading"', 1)[1].split("</section>", 1)[0]
    chosen = {s.reply for s in steps}
    for number, s in enumerate(steps, start=1):
        if s.reply.grade == "best":
            assert s.reply.debrief_html in notes.split("What built the consultation", 1)[1].split("<h3>", 1)[0]
            assert f'href="#step-{number}"' in notes
    # An acceptable reply that raised trust is named with what it moved.
    raised = next(s for s in steps if s.node.id == "pushed-before")
    assert raised.reply.grade == "acceptable"
    assert f"{raised.reply.debrief_html} <span class=\"meta\">(Trust +1)</span>" in notes
    # Nothing is said about replies this learner did not give.
    for node in conversation.nodes:
        for reply in node.replies:
            if reply not in chosen:
                assert reply.debrief_html not in notes, f"{node.id}/{reply.id} was not on this path"
    assert "What set it back" not in notes
    start, finish = conversation.initial().values, end.values
    assert f"Trust: {start[0]} at the start, {finish[0]} at the end (from 0 to 5)" in notes
    assert 'id="step-1"' in page and f'id="step-{len(steps)}"' in page


def test_a_debrief_with_a_harmful_reply_says_so_and_names_it(client, student, catalog):
    conversation = catalog.conversation("sdm-conversation")
    path = begin(client, conversation)
    # Blaming her for the exercises that made her worse ends the appointment.
    replies = ["b", "a"]
    for step, reply_id in enumerate(replies, start=1):
        say(client, path, step, reply_id)
    steps, end = conversation.play(replies)
    assert conversation.ending(end.at).outcome == "poor"
    notes = client.get(path).text.split('id="notes-heading"', 1)[1].split("</section>", 1)[0]
    set_back = notes.split("What set it back", 1)[1]
    blamed = steps[-1].reply
    assert blamed.grade == "harmful"
    assert f"<strong>Harmful:</strong> {blamed.debrief_html}" in set_back
    assert steps[0].reply.debrief_html in set_back
    assert "What built the consultation" not in notes
