"""An obvious next step everywhere, and conversations that keep the turn in view.

A reply opens the play page at the patient's new line (#now) and the page says "step n of about m";
"Start again" asks before it sets an attempt aside, and is called that everywhere. My learning says
where to start; module and course pages have Start / Continue buttons; a lesson's "Next" completes it,
so a module reaches 100% through "Next" alone.
"""

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.content import conversation_lengths
from app.content.conversations import Conversation, Ending, Node, Reply, Route
from app.models import QuizAttempt
from app.services import cohorts, courses, progress, quizzes
from tests.helpers import answers_by_grade, given_answers


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


@pytest.fixture
def conversation(catalog):
    """The first shipped branching conversation."""
    return catalog.conversations[0]


def begin(client, conversation) -> str:
    """Start the conversation; return the play page's path."""
    return client.post(f"/learn/conversations/{conversation.id}/attempts").location


def say(client, path: str, step: int, reply_id: str):
    """Post one reply at a step, fairly sure."""
    return client.post(path, data={"step": str(step), "reply": reply_id, "confidence": "2"})


def best_walk(conversation, state) -> int:
    """Replies from `state` to an ending when the best reply is given every time (the shipped content never loops)."""
    count = 0
    while not conversation.is_ending(state):
        state = conversation.advance(state, conversation.node(state.at).best)
        count += 1
        assert count < 100, "the best replies go round in a loop"
    return count


def text(page: str) -> str:
    """A page's words without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


# --- "about m": worked out from the content


def _reply(reply_id: str, grade: str, to: str) -> Reply:
    return Reply(reply_id, reply_id, grade, {"best": 2.0}.get(grade, 0.0), (), "", (), (Route((), to, 1),), 1)


def _conversation(nodes: dict[str, tuple[str, str]]) -> Conversation:
    """A conversation without counters: each node's best reply and its other reply lead where `nodes` says."""
    return Conversation(
        id="tiny",
        title="Tiny",
        module_id="m",
        pass_mark=50,
        intro_html="",
        patient="Mr Tiny, 50",
        setting="Clinic",
        counters=(),
        start="a",
        nodes=tuple(
            Node(node_id, "", f"Line {node_id}", (_reply("good", "best", best), _reply("poor", "unhelpful", other)), 1)
            for node_id, (best, other) in nodes.items()
        ),
        endings=(Ending("end", "End", "good", ""), Ending("out", "Out", "poor", "")),
        # The estimates are kept per id and version, as content versions are hashes of the file.
        version=repr(nodes),
    )


def test_about_m_follows_the_best_replies_to_an_ending():
    talk = _conversation({"a": ("b", "out"), "b": ("c", "out"), "c": ("end", "out")})
    start = talk.initial()
    assert conversation_lengths.remaining(talk, start) == 3
    after_a_poor_reply = talk.advance(start, talk.node("a").reply("poor"))
    assert conversation_lengths.remaining(talk, after_a_poor_reply) == 0
    # One reply given, two to go: "step 2 of about 3".
    after_a_good_reply = talk.advance(start, talk.node("a").best)
    assert conversation_lengths.about(talk, 1, after_a_good_reply) == 3


def test_about_m_takes_the_shortest_way_out_where_the_best_replies_go_round():
    # a's best reply leads to b, whose best reply leads back to a: the estimate must still end.
    talk = _conversation({"a": ("b", "out"), "b": ("a", "out")})
    assert conversation_lengths.remaining(talk, talk.initial()) == 1
    b = talk.advance(talk.initial(), talk.node("a").best)
    assert conversation_lengths.remaining(talk, b) == 2  # the best reply back to a, then a's way out


def test_about_m_for_every_shipped_conversation_is_its_best_replies_length(catalog):
    for talk in catalog.conversations:
        assert conversation_lengths.remaining(talk, talk.initial()) == best_walk(talk, talk.initial()) > 2


# --- the play page


def test_a_reply_opens_the_page_at_the_patients_new_line(client, student, conversation):
    path = begin(client, conversation)
    first = conversation.best_path[0]
    response = say(client, path, 1, first)
    assert response.location == f"{path}#now"
    page = client.get(path).text
    now = page.split('id="now"', 1)[1].split("</div>", 1)[0]
    following = conversation.node(
        conversation.advance(conversation.initial(), conversation.node(conversation.start).reply(first)).at
    )
    assert escape(following.patient) in now


def test_resuming_opens_at_the_current_line_and_a_fresh_start_at_the_top(client, student, conversation):
    path = begin(client, conversation)
    assert "#" not in path  # nothing said yet: the page opens at its top
    say(client, path, 1, conversation.best_path[0])
    assert client.post(f"/learn/conversations/{conversation.id}/attempts").location == f"{path}#now"


def test_the_play_page_says_step_n_of_about_m(client, student, conversation):
    path = begin(client, conversation)
    total = best_walk(conversation, conversation.initial())
    assert f"Step 1 of about {total}" in client.get(path).text
    state = conversation.initial()
    for step, reply_id in enumerate(conversation.best_path[:2], start=1):
        say(client, path, step, reply_id)
        state = conversation.advance(state, conversation.node(state.at).reply(reply_id))
        page = client.get(path).text
        assert f"Step {step + 1} of about {step + best_walk(conversation, state)}" in page
        assert f": step {step + 1} of about" in page.split("</title>", 1)[0]


def test_the_patients_state_is_said_in_words_a_student_uses(client, student, conversation):
    path = begin(client, conversation)
    say(client, path, 1, conversation.best_path[0])
    page = client.get(path).text
    who = conversation.patient.split(",")[0]
    assert f"How it is going with {escape(who)}" in page and "Where you stand" not in page
    assert f"What do you say to {escape(who)}?" in page
    assert re.search(r"\d+ of \d+", text(page.split('class="counters"', 1)[1].split("</dl>", 1)[0]))


# --- "Start again" asks first, and is called that everywhere


def test_start_again_asks_before_setting_the_attempt_aside(client, db, student, conversation):
    path = begin(client, conversation)
    say(client, path, 1, conversation.best_path[0])
    play = client.get(path).text
    confirm_url = f"/learn/conversations/{conversation.id}/restart"
    # On the play page "Start again" is a link to the question, not a form that discards at once.
    assert f'href="{confirm_url}"' in play and f'action="{confirm_url}"' not in play
    question = client.get(confirm_url)
    assert question.status_code == 200
    assert f"<h1>Start “{escape(conversation.title)}” again?</h1>" in question.text
    assert "You are at step 2 of about" in question.text and "set aside" in question.text
    assert f'href="{path}#now">Keep going where you were</a>' in question.text
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == student.id))
    assert attempt.abandoned_at is None  # asking changed nothing
    fresh = client.post(confirm_url).location
    assert fresh != path and "Step 1 of about" in client.get(fresh).text
    db.session.refresh(attempt)
    assert attempt.abandoned_at is not None


def test_start_again_on_a_practice_run_asks_about_the_practice_run(client, db, student, conversation):
    path = client.post(f"/learn/conversations/{conversation.id}/practice").location
    say(client, path, 1, conversation.best_path[0])
    play = client.get(path).text
    assert f'href="/learn/conversations/{conversation.id}/restart?mode=practice"' in play
    question = client.get(f"/learn/conversations/{conversation.id}/restart?mode=practice").text
    assert "this practice run" in question and 'name="mode" value="practice"' in question


def test_start_again_with_nothing_unfinished_says_nothing_is_set_aside(client, student, conversation):
    question = client.get(f"/learn/conversations/{conversation.id}/restart").text
    assert "nothing is set aside" in question and "Keep going" not in question


def test_one_label_for_starting_again_everywhere(client, student, conversation):
    path = begin(client, conversation)
    say(client, path, 1, conversation.best_path[0])
    pages = [client.get(path).text, client.get(f"/learn/conversations/{conversation.id}").text]
    for step, reply_id in enumerate(conversation.best_path[1:], start=2):
        say(client, path, step, reply_id)
    pages += [client.get(path).text, client.get(f"/learn/conversations/{conversation.id}").text]
    for page in pages:
        assert ">Start again<" in page
        for other in ("Start again from the beginning", "Play it again", "Start the conversation again"):
            assert other not in page
    debrief = pages[2]
    who = conversation.patient.split(",")[0]
    assert "Counters after this reply" not in debrief and f"How it stood with {escape(who)} after this reply" in debrief


# --- My learning says where to start


def test_a_new_students_home_says_to_start_with_the_first_module(client, student, catalog):
    first = catalog.modules[0]
    page = client.get("/learn/").text
    assert "Start here" in page and "Continue where you left off" not in page
    assert f"Start with the first module, <strong>{escape(first.title)}</strong>" in page
    link = (
        f'href="/learn/modules/{first.id}/lessons/{first.lessons[0].id}">Start with “{escape(first.lessons[0].title)}”'
    )
    assert link in page


def test_after_a_finished_module_home_points_at_the_next_one(client, db, student, catalog):
    first, second = catalog.modules[0], catalog.modules[1]
    finish_module(db, student.id, catalog, first)
    page = client.get("/learn/").text
    assert "Up next" in page and "Start here" not in page
    assert f"The next module: <strong>{escape(second.title)}</strong>" in page
    assert f'href="/learn/modules/{second.id}/lessons/{second.lessons[0].id}"' in page


def test_an_assigned_course_is_where_a_new_student_starts(client, db, auth, student, catalog):
    course = assign_course(
        db, auth, catalog, student, [f"quiz:{catalog.quizzes[1].id}", f"module:{catalog.modules[0].id}"]
    )
    page = client.get("/learn/").text
    assert "Start here" in page and "assigned you the course" in page
    assert f'href="/learn/courses/{course.id}">{escape(course.title)}</a>' in page
    assert f'href="/learn/quizzes/{catalog.quizzes[1].id}">Take the quiz “{escape(catalog.quizzes[1].title)}”' in page


def test_when_everything_is_done_home_says_so(client, db, student, catalog):
    for module in catalog.modules:
        finish_module(db, student.id, catalog, module)
    page = client.get("/learn/").text
    assert "Every module completed" in page and "Start here" not in page and "Up next" not in page


# --- Start / Continue on module and course pages


def test_the_module_page_starts_continues_and_then_points_at_the_next_module(client, db, student, catalog):
    module, following = catalog.modules[0], catalog.modules[1]
    lessons = module.lessons
    page = client.get(f"/learn/modules/{module.id}").text
    assert f'href="/learn/modules/{module.id}/lessons/{lessons[0].id}">Start the module</a>' in page
    client.post(f"/learn/modules/{module.id}/lessons/{lessons[0].id}/complete")
    page = client.get(f"/learn/modules/{module.id}").text
    assert (
        f'href="/learn/modules/{module.id}/lessons/{lessons[1].id}">Continue with “{escape(lessons[1].title)}”' in page
    )
    for lesson in lessons:
        client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    quiz = catalog.quizzes_for(module.id)[0]
    assert (
        f'href="/learn/quizzes/{quiz.id}">Take the quiz “{escape(quiz.title)}”'
        in client.get(f"/learn/modules/{module.id}").text
    )
    pass_quiz(db, student.id, quiz)
    page = client.get(f"/learn/modules/{module.id}").text
    assert "You have completed this module." in page
    assert f'href="/learn/modules/{following.id}">Next module: “{escape(following.title)}”' in page


def test_the_course_page_starts_then_continues_at_the_right_item(client, db, auth, student, catalog):
    module, talk = catalog.modules[0], catalog.conversations[0]
    course = assign_course(db, auth, catalog, student, [f"module:{module.id}", f"conversation:{talk.id}"])
    page = client.get(f"/learn/courses/{course.id}").text
    assert f'href="/learn/modules/{module.id}/lessons/{module.lessons[0].id}">Start the course</a>' in page
    client.post(f"/learn/modules/{module.id}/lessons/{module.lessons[0].id}/complete")
    page = client.get(f"/learn/courses/{course.id}").text
    assert f">Continue with “{escape(module.lessons[1].title)}”</a>" in page
    for lesson in module.lessons:
        client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    page = client.get(f"/learn/courses/{course.id}").text
    assert f'href="/learn/conversations/{talk.id}">Play the conversation “{escape(talk.title)}”' in page


def test_the_course_page_reads_a_constant_number_of_queries(client, db, auth, student, catalog, count_queries):
    module = catalog.modules[0]
    course = assign_course(db, auth, catalog, student, [f"module:{module.id}", f"quiz:{catalog.quizzes[0].id}"])

    def measured() -> int:
        with count_queries() as counted:
            assert client.get(f"/learn/courses/{course.id}").status_code == 200
        return counted.count

    empty = measured()
    finish_module(db, student.id, catalog, module)
    # However much is done, the same statements; a completed course also looks up its certificate.
    assert measured() == empty + 1
    assert "Course complete." in client.get(f"/learn/courses/{course.id}").text


# --- a lesson's "Next" completes it


def test_an_unfinished_lessons_next_is_the_button_that_completes_it(client, student, catalog):
    module = catalog.modules[0]
    first, second = module.lessons[0], module.lessons[1]
    page = client.get(f"/learn/modules/{module.id}/lessons/{first.id}").text
    end = page.split('class="lesson-end"', 1)[1]
    # No plain link moves on without completing the lesson: that is how modules used to stall short of 100%.
    assert f'href="/learn/modules/{module.id}/lessons/{second.id}"' not in end
    assert f'action="/learn/modules/{module.id}/lessons/{first.id}/complete"' in end
    assert f"Next: {escape(second.title)}" in end and "marks this lesson complete" in end
    client.post(f"/learn/modules/{module.id}/lessons/{first.id}/complete")
    end = client.get(f"/learn/modules/{module.id}/lessons/{first.id}").text.split('class="lesson-end"', 1)[1]
    assert f'rel="next" href="/learn/modules/{module.id}/lessons/{second.id}"' in end


def test_a_module_reaches_100_percent_through_next_alone(client, db, student, catalog):
    module = catalog.modules[0]
    quiz = catalog.quizzes_for(module.id)[0]
    address = f"/learn/modules/{module.id}/lessons/{module.lessons[0].id}"
    for _ in module.lessons:
        page = client.get(address).text
        (action,) = re.findall(r'<form method="post" action="([^"]+/complete)"', page)
        address = client.post(action).location
    assert address == f"/learn/quizzes/{quiz.id}"
    pass_quiz(db, student.id, quiz)
    page = client.get(f"/learn/modules/{module.id}").text
    assert 'value="100" aria-label="Progress in this module"' in page
    assert "You have completed this module." in page


def test_the_last_lesson_after_a_passed_quiz_says_the_module_is_complete(client, db, student, catalog):
    module = catalog.modules[0]
    pass_quiz(db, student.id, catalog.quizzes_for(module.id)[0])
    for lesson in module.lessons[:-1]:
        client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    response = client.post(f"/learn/modules/{module.id}/lessons/{module.lessons[-1].id}/complete")
    assert response.location == f"/learn/modules/{module.id}"
    assert f"You have completed the module {escape(module.title)}." in client.get(response.location).text


# --- helpers that set up a learner's history through the services


def pass_quiz(db, user_id: int, quiz) -> None:
    """A submitted attempt with every answer right."""
    attempt = quizzes.start_attempt(user_id, quiz)
    quizzes.submit_attempt(user_id, attempt, quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
    db.session.commit()


def finish_module(db, user_id: int, catalog, module) -> None:
    """Every lesson completed and every paired quiz passed."""
    for lesson in module.lessons:
        progress.complete_lesson(user_id, module, lesson)
    db.session.commit()
    for quiz in catalog.quizzes_for(module.id):
        pass_quiz(db, user_id, quiz)


def assign_course(db, auth, catalog, student, items: list[str]):
    """A published course of these items, assigned (already started) to a cohort the student is in."""
    educator = auth.create("educator", email="teacher@example.org", name="Teacher")
    course = courses.create(educator, "Placement basics", "")
    for choice in items:
        courses.add_item(catalog, course, choice)
    courses.set_published(course, True)
    cohort = cohorts.create(educator, "Ward 7")
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, course, educator, None, None)
    db.session.commit()
    return course
