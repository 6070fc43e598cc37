"""In a real browser: a conversation keeps the turn in view, and every learner page has an obvious next step.

After each reply the page opens at the patient's new line and says "step n of about m"; "Start again"
asks first; a new student's home says where to start; module and course pages start and continue at
the right lesson; a module reaches 100% through "Next" alone. axe-core checks every state at 1280 and
375 px wide.
"""

import re

import pytest
from playwright.sync_api import expect

from app.content import conversation_lengths
from app.extensions import db
from app.services import accounts, cohorts, courses
from tests.browser.checks import assert_accessible

pytestmark = pytest.mark.browser

CONVERSATION_ID = "sdm-conversation"


def assert_accessible_at_both_widths(page, axe_path) -> None:
    """axe finds nothing at 1280 px and at 375 px wide; the page is left at 1280 px."""
    assert_accessible(page, axe_path)
    page.set_viewport_size({"width": 375, "height": 740})
    assert_accessible(page, axe_path)
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture(scope="module")
def conversation(live_server):
    """The conversation these tests play."""
    found = live_server.catalog.conversation(CONVERSATION_ID)
    assert found is not None, f"the catalog has no conversation '{CONVERSATION_ID}'"
    return found


def step_text(page, step: int, about: int):
    """The "Step n of about m" label above the patient's line."""
    return page.get_by_text(f"Step {step} of about {about}", exact=True)


def say(page, learner, conversation, state, reply_id: str):
    """Choose a reply by its label, say how sure, press "Say it"; return the state it leads to."""
    reply = conversation.node(state.at).reply(reply_id)
    who = conversation.patient.split(",")[0]
    group = page.get_by_role("group", name=f"What do you say to {who}?")
    group.get_by_text(learner.text_of(reply.text_html), exact=True).click()
    page.get_by_role("group", name="How sure are you that this is the right thing to say?").get_by_text(
        "Fairly sure", exact=True
    ).click()
    page.get_by_role("button", name="Say it").click()
    return conversation.advance(state, reply)


_WHERE = """el => { const box = el.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, height: innerHeight, scrolled: scrollY,
          focused: document.activeElement === el.closest('#now')}; }"""


def assert_the_new_line_is_in_view(page, conversation, state, step: int) -> None:
    """The patient's line is the one the catalog says follows, and the window shows it from near its top."""
    line = page.locator("#now").get_by_role("blockquote")
    expect(line).to_have_text(conversation.node(state.at).patient)
    expect(page).to_have_url(re.compile(r"#now$"))
    expect(line).to_be_in_viewport()
    where = line.evaluate(_WHERE)
    assert 0 <= where["top"] and where["bottom"] <= where["height"], (
        f"step {step}: the line is not wholly in view: {where}"
    )
    # The transcript above has grown, so seeing the line means the page opened further down, not at its top.
    assert where["scrolled"] > 0, f"step {step}: the page opened at its top: {where}"
    assert where["focused"], "the new line does not have focus, so a screen reader does not start there"


def test_each_reply_opens_the_page_at_the_patients_new_line(page, learner, student, conversation, axe_path):
    learner.sign_in(student)
    page.goto(f"/learn/conversations/{conversation.id}")
    total = conversation_lengths.remaining(conversation, conversation.initial())
    expect(page.get_by_role("main")).to_contain_text(f"about {total} replies")
    page.get_by_role("button", name="Start the conversation").click()
    expect(step_text(page, 1, total)).to_be_visible()
    expect(page).to_have_title(re.compile(rf": step 1 of about {total} ·"))

    state = conversation.initial()
    for step, reply_id in enumerate(conversation.best_path[:4], start=1):
        if step == 4:
            page.set_viewport_size({"width": 375, "height": 740})  # on a phone too
        state = say(page, learner, conversation, state, reply_id)
        about = step + conversation_lengths.remaining(conversation, state)
        expect(step_text(page, step + 1, about)).to_be_visible()
        expect(step_text(page, step + 1, about)).to_be_in_viewport()
        assert_the_new_line_is_in_view(page, conversation, state, step + 1)
    # The counters read as the patient's state, with what the last reply changed.
    who = conversation.patient.split(",")[0]
    expect(page.get_by_role("region", name=f"How it is going with {who}")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    assert_accessible_at_both_widths(page, axe_path)

    # From the line, the keyboard goes straight on to the replies.
    page.goto(page.url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("group", name=f"What do you say to {who}?").get_by_role("radio").first).to_be_focused()


def test_start_again_asks_before_it_sets_the_conversation_aside(page, learner, student, conversation, axe_path):
    learner.sign_in(student)
    page.goto(f"/learn/conversations/{conversation.id}")
    page.get_by_role("button", name="Start the conversation").click()
    state = conversation.initial()
    for reply_id in conversation.best_path[:2]:
        state = say(page, learner, conversation, state, reply_id)
    about = 2 + conversation_lengths.remaining(conversation, state)

    # "Start again" on the play page asks first, saying what would be set aside.
    page.get_by_role("link", name="Start again").click()
    expect(page.get_by_role("heading", level=1, name=f"Start “{conversation.title}” again?")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"You are at step 3 of about {about}")
    assert_accessible_at_both_widths(page, axe_path)

    # Keeping going changes nothing and lands on the same line.
    page.get_by_role("link", name="Keep going where you were").click()
    expect(step_text(page, 3, about)).to_be_visible()
    assert_the_new_line_is_in_view(page, conversation, state, 3)

    # Saying yes begins again at the first line, with the transcript gone.
    page.get_by_role("link", name="Start again").click()
    page.get_by_role("button", name="Start again").click()
    expect(page.get_by_role("status")).to_contain_text("You are starting the conversation again from the beginning.")
    expect(step_text(page, 1, conversation_lengths.remaining(conversation, conversation.initial()))).to_be_visible()
    expect(page.get_by_role("region", name="The conversation so far")).to_have_count(0)

    # The front page offers to continue, or to start again (asking first), with the same label.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=conversation.title).click()
    expect(page.get_by_role("button", name="Continue the conversation")).to_be_visible()
    page.get_by_role("link", name="Start again").click()
    expect(page.get_by_role("heading", level=1, name=f"Start “{conversation.title}” again?")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("nothing is lost")


def test_a_new_students_home_says_where_to_start(page, learner, student, live_server, axe_path):
    first = live_server.catalog.modules[0]
    learner.sign_in(student)
    start = page.get_by_role("region", name="Start here")
    expect(start).to_contain_text(f"Start with the first module, {first.title}")
    expect(page.get_by_role("region", name="Continue where you left off")).to_have_count(0)
    assert_accessible_at_both_widths(page, axe_path)
    start.get_by_role("link", name=f"Start with “{first.lessons[0].title}”").click()
    expect(page.get_by_role("heading", level=1, name=first.lessons[0].title)).to_be_visible()


def test_a_module_reaches_100_percent_through_next_alone(
    page, learner, student, live_server, learning_module, module_quiz, axe_path
):
    catalog = live_server.catalog
    lessons = learning_module.lessons
    learner.sign_in(student)
    page.goto(f"/learn/modules/{learning_module.id}")
    assert_accessible_at_both_widths(page, axe_path)
    page.get_by_role("link", name="Start the module").click()

    for number, lesson in enumerate(lessons):
        expect(page.get_by_role("heading", level=1, name=lesson.title)).to_be_visible()
        following = lessons[number + 1].title if number + 1 < len(lessons) else f"the quiz “{module_quiz.title}”"
        pager = page.get_by_role("navigation", name="Lessons")
        expect(pager.get_by_role("link", name=re.compile("^Next"))).to_have_count(0)  # not a link past the lesson
        if number in (0, len(lessons) - 1):  # no "Previous", and "Previous" with "Next: the quiz"
            assert_accessible_at_both_widths(page, axe_path)
        pager.get_by_role("button", name=f"Next: {following}").click()
    expect(page.get_by_role("heading", level=1, name=module_quiz.title)).to_be_visible()

    # Half-way there: the module page continues with the quiz.
    page.goto(f"/learn/modules/{learning_module.id}")
    bar = page.get_by_role("progressbar", name="Progress in this module")
    expect(bar).to_have_js_property("value", round(100 * len(lessons) / (len(lessons) + 1)))
    page.get_by_role("link", name=f"Take the quiz “{module_quiz.title}”").click()
    learner.take_quiz(module_quiz, {item.id: item.handler.right_answer(item) for item in module_quiz.items})

    page.goto(f"/learn/modules/{learning_module.id}")
    expect(bar).to_have_js_property("value", 100)
    expect(page.get_by_role("main")).to_contain_text("You have completed this module.")
    following = catalog.modules[1]
    expect(page.get_by_role("link", name=f"Next module: “{following.title}”")).to_be_visible()
    assert_accessible_at_both_widths(page, axe_path)

    # My learning now says what is next.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    up_next = page.get_by_role("region", name="Up next")
    expect(up_next).to_contain_text(f"The next module: {following.title}")
    assert_accessible_at_both_widths(page, axe_path)
    up_next.get_by_role("link", name=f"Start with “{following.lessons[0].title}”").click()
    expect(page.get_by_role("heading", level=1, name=following.lessons[0].title)).to_be_visible()


def _assign_course(live_server, student, module, conversation) -> str:
    """An educator's published course (the module, then the conversation) assigned to the student's cohort."""
    educator = live_server.create_student("teacher")
    with live_server.app.app_context():
        teacher = accounts.find_by_email(educator.email)
        teacher.role = "educator"
        course = courses.create(teacher, f"Placement basics {teacher.id}", "")
        courses.add_item(live_server.catalog, course, f"module:{module.id}")
        courses.add_item(live_server.catalog, course, f"conversation:{conversation.id}")
        courses.set_published(course, True)
        cohort = cohorts.create(teacher, f"Ward {teacher.id}")
        cohorts.add_member(cohort, accounts.find_by_email(student.email).id, "code")
        cohorts.assign(cohort, course, teacher, None, None)
        db.session.commit()
        return course.title


def test_the_course_page_starts_and_continues_at_the_right_lesson(
    page, learner, student, live_server, learning_module, conversation, axe_path
):
    title = _assign_course(live_server, student, learning_module, conversation)
    first, second = learning_module.lessons[0], learning_module.lessons[1]
    learner.sign_in(student)
    start = page.get_by_role("region", name="Start here")
    expect(start).to_contain_text(f"Your educator assigned you the course {title}")
    start.get_by_role("link", name=title).click()

    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"Begins with the lesson “{first.title}”")
    assert_accessible_at_both_widths(page, axe_path)
    page.get_by_role("link", name="Start the course").click()
    expect(page.get_by_role("heading", level=1, name=first.title)).to_be_visible()
    page.get_by_role("button", name=f"Next: {second.title}").click()
    expect(page.get_by_role("heading", level=1, name=second.title)).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    page.get_by_role("link", name=title).first.click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    assert_accessible_at_both_widths(page, axe_path)
    page.get_by_role("link", name=f"Continue with “{second.title}”").click()
    expect(page.get_by_role("heading", level=1, name=second.title)).to_be_visible()
