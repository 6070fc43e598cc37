"""The curriculum's newer pages in a real browser: glossary, charts, the new quiz item types, conversations.

axe-core must find no violations on any of them. Content is chosen by id through the catalog,
never by its wording, since reviewers keep editing the text.
"""

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_reflows

CHART_MODULE, CHART_ID = "the-evidence", "fuentes-nrs"
QUIZ_ID = "shared-decision-making-quiz"  # has ordering, matching and multiple-response items
CONVERSATION_ID = "sdm-conversation"
NEW_ITEM_TYPES = {"ordering", "matching", "multiple_response"}


# --- content, from the catalog


@pytest.fixture(scope="module")
def catalog(live_server):
    """The catalog the live server renders."""
    return live_server.catalog


@pytest.fixture(scope="module")
def chart_lesson(catalog):
    """The module and lesson whose page draws the chart, and the chart."""
    module = catalog.module(CHART_MODULE)
    assert module is not None, f"the catalog has no module '{CHART_MODULE}'"
    chart = next((c for c in module.charts if c.id == CHART_ID), None)
    assert chart is not None, f"module {module.id} has no chart '{CHART_ID}'"
    marker = f'id="chart-{CHART_ID}"'
    lesson = next(
        (lesson for lesson in module.lessons if marker in lesson.intro_html + "".join(s.html for s in lesson.sections)),
        None,
    )
    assert lesson is not None, f"no lesson of {module.id} shows the chart '{CHART_ID}'"
    return module, lesson, chart


@pytest.fixture(scope="module")
def mixed_quiz(catalog):
    """A quiz with ordering, matching and multiple-response items."""
    quiz = catalog.quiz(QUIZ_ID)
    assert quiz is not None, f"the catalog has no quiz '{QUIZ_ID}'"
    missing = NEW_ITEM_TYPES - {item.type for item in quiz.items}
    assert not missing, f"{quiz.id} has no item of type {', '.join(sorted(missing))}"
    return quiz


@pytest.fixture(scope="module")
def conversation(catalog):
    """A branching conversation."""
    found = catalog.conversation(CONVERSATION_ID)
    assert found is not None, f"the catalog has no conversation '{CONVERSATION_ID}'"
    return found


@pytest.fixture(scope="module")
def reader_cookies(browser, live_server) -> list:
    """The cookies of a student signed in once through the form, for tests that only read pages."""
    student = live_server.create_student("reader")
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(5_000)
    try:
        page = context.new_page()
        page.goto("/auth/sign-in")
        page.get_by_label("Email").fill(student.email)
        page.get_by_label("Password", exact=True).fill(student.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1, name="My learning")).to_be_visible()
        return context.cookies()
    finally:
        context.close()


@pytest.fixture
def reader(page, reader_cookies):
    """The test's page, signed in as the shared reader."""
    page.context.add_cookies(reader_cookies)
    return page


# --- answering items through the page, as a person would


def answer_item(learner, quiz, number: int, item) -> None:
    """Give item `number` its full-marks answer through its controls, each found by its label."""
    learner.answer(quiz, number, item, item.handler.right_answer(item))


def answer_quiz(learner, quiz, skip: tuple[int, ...] = ()) -> None:
    """Answer every item whose number is not in `skip` for full marks."""
    for number, item in enumerate(quiz.items, start=1):
        if number not in skip:
            answer_item(learner, quiz, number, item)


def first_of_type(quiz, item_type: str) -> int:
    """The number (from 1) of the quiz's first item of a type."""
    return next(number for number, item in enumerate(quiz.items, start=1) if item.type == item_type)


# --- axe


# --- the pages


@dataclass
class Visit:
    """What a page's arrival step needs: the signed-in learner and the content."""

    learner: object  # conftest.Learner
    chart_lesson: tuple
    quiz: object
    conversation: object

    @property
    def page(self):
        """The test's page."""
        return self.learner.page


def glossary(visit: Visit) -> None:
    """The glossary, every term in alphabetical order."""
    visit.page.goto("/learn/glossary")
    expect(visit.page.get_by_role("heading", level=1, name="Glossary")).to_be_visible()


def lesson_with_chart(visit: Visit) -> None:
    """The lesson that draws the chart, with glossary links and key points."""
    module, lesson, _ = visit.chart_lesson
    visit.page.goto(f"/learn/modules/{module.id}/lessons/{lesson.id}")
    expect(visit.page.get_by_role("region", name="Key points")).to_be_visible()


def module_page(visit: Visit) -> None:
    """A module page with a branching conversation, key points and terms introduced."""
    visit.page.goto(f"/learn/modules/{visit.conversation.module_id}")
    expect(visit.page.get_by_role("region", name="Branching conversations")).to_be_visible()


def attempt(visit: Visit) -> None:
    """The attempt form with ordering, matching and multiple-response items."""
    visit.learner.start_quiz(visit.quiz)
    expect(visit.page.get_by_role("combobox").first).to_be_visible()


def attempt_with_errors(visit: Visit) -> None:
    """The attempt form sent with the first matching item unanswered: the error summary shows."""
    quiz, learner = visit.quiz, visit.learner
    skipped = first_of_type(quiz, "matching")
    learner.start_quiz(quiz)
    answer_quiz(learner, quiz, skip=(skipped,))
    learner.submit_answers()
    summary = visit.page.get_by_role("alert")
    expect(summary.get_by_role("link", name=f"Item {skipped} has no answer")).to_be_visible()
    expect(learner.item_group(skipped, len(quiz.items))).to_have_accessible_description(re.compile(r"^Error: "))


def results(visit: Visit) -> None:
    """The results of an attempt answered for full marks, with every disclosure opened."""
    visit.learner.start_quiz(visit.quiz)
    answer_quiz(visit.learner, visit.quiz)
    visit.learner.submit_answers()
    expect(visit.page.get_by_role("heading", level=1, name=f"Results: {visit.quiz.title}")).to_be_visible()
    for disclosure in visit.page.locator("main summary").all():
        disclosure.click()


def conversation_front_page(visit: Visit) -> None:
    """A conversation's front page before it is played."""
    visit.page.goto(f"/learn/conversations/{visit.conversation.id}")
    expect(visit.page.get_by_role("button", name="Start the conversation")).to_be_visible()


def _start_and_play(visit: Visit, choose) -> None:
    """Start the conversation, then at each step choose a reply by its label and press "Say it".

    `choose(step, node)` names the reply to give; None stops before answering.
    """
    conversation = visit.conversation
    conversation_front_page(visit)
    visit.page.get_by_role("button", name="Start the conversation").click()
    state, step = conversation.initial(), 1
    while not conversation.is_ending(state) and (reply_id := choose(step, conversation.node(state.at))):
        reply = conversation.node(state.at).reply(reply_id)
        expect(visit.page.get_by_text(re.compile(rf"^Step {step} of about \d+$"))).to_be_visible()
        group = visit.page.get_by_role("group", name=re.compile(r"^What do you say to .+\?$"))
        group.get_by_role("radio", name=visit.learner.text_of(reply.text_html), exact=True).check()
        visit.page.get_by_role("group", name="How sure are you that this is the right thing to say?").get_by_role(
            "radio", name="Fairly sure", exact=True
        ).check()
        visit.page.get_by_role("button", name="Say it").click()
        state, step = conversation.advance(state, reply), step + 1


def _best(visit: Visit):
    """The catalog's best path, one reply at a time."""
    return lambda step, node: visit.conversation.best_path[step - 1]


def _lowest(step, node) -> str:
    """The lowest-scoring reply on offer."""
    return min(node.replies, key=lambda r: r.score).id


def play_page(visit: Visit) -> None:
    """The play page after one reply: the transcript, the counters and the next replies."""
    _start_and_play(visit, lambda step, node: visit.conversation.best_path[0] if step == 1 else None)
    expect(visit.page.get_by_role("region", name="The conversation so far")).to_be_visible()


def play_page_with_error(visit: Visit) -> None:
    """The play page after pressing "Say it" with no reply chosen."""
    _start_and_play(visit, lambda step, node: None)
    visit.page.get_by_role("button", name="Say it").click()
    expect(visit.page.get_by_role("alert")).to_contain_text("There is a problem")


def debrief(visit: Visit) -> None:
    """The debrief at the end of the best path, with every "How it stood ... after this reply" opened."""
    _start_and_play(visit, _best(visit))
    expect(visit.page.get_by_role("heading", level=1, name=f"Debrief: {visit.conversation.title}")).to_be_visible()
    for disclosure in visit.page.get_by_text(re.compile(r"^How it stood with .+ after this reply$")).all():
        disclosure.click()


def debrief_of_a_poor_ending(visit: Visit) -> None:
    """The debrief after the lowest-scoring replies: each step shows the best reply it missed."""
    _start_and_play(visit, _lowest)
    expect(visit.page.get_by_role("heading", level=1, name=f"Debrief: {visit.conversation.title}")).to_be_visible()


def conversation_front_page_with_history(visit: Visit) -> None:
    """The front page after a finished conversation, with its table of endings."""
    _start_and_play(visit, _lowest)
    visit.page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=visit.conversation.title).click()
    expect(visit.page.get_by_role("table", name="Your finished conversations, newest first")).to_be_visible()


#: Pages that only read content: they share one signed-in account.
READ_ONLY = {glossary, lesson_with_chart, module_page, conversation_front_page}

PAGES = [
    glossary,
    lesson_with_chart,
    module_page,
    attempt,
    attempt_with_errors,
    results,
    conversation_front_page,
    play_page,
    play_page_with_error,
    debrief,
    debrief_of_a_poor_ending,
    conversation_front_page_with_history,
]


@pytest.mark.browser
@pytest.mark.parametrize("arrive", PAGES, ids=lambda f: f.__name__.replace("_", "-"))
def test_page_is_accessible(
    arrive, page, learner, live_server, reader_cookies, axe_path, chart_lesson, mixed_quiz, conversation
):
    if arrive in READ_ONLY:
        page.context.add_cookies(reader_cookies)
    else:  # the page depends on what the student has done: a fresh account
        learner.sign_in(live_server.create_student())
    arrive(Visit(learner, chart_lesson, mixed_quiz, conversation))
    assert_accessible(page, axe_path)

    assert_reflows(page, axe_path)


@pytest.mark.browser
def test_chart_is_an_image_with_a_name_and_its_numbers_are_a_table(reader, chart_lesson):
    page = reader
    module, lesson, chart = chart_lesson
    page.goto(f"/learn/modules/{module.id}/lessons/{lesson.id}")

    figure = page.get_by_role("figure").filter(has=page.get_by_role("img", name=chart.title))
    expect(figure).to_have_count(1)
    image = figure.get_by_role("img")
    expect(image).to_have_attribute("role", "img")
    expect(image).to_have_accessible_name(f"{chart.title} {' '.join(chart.description.split())}")
    expect(image).to_be_visible()
    box = image.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 50, f"the chart is drawn too small: {box}"

    table = figure.get_by_role("table", name=f"The numbers in “{chart.title}”")
    expect(table).to_be_visible()
    expect(table.get_by_role("rowheader")).to_have_text([bar.label for bar in chart.bars])
    for bar in chart.bars:
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=bar.label, exact=True))
        expect(row.get_by_role("cell").first).to_have_text(bar.value_text)


@pytest.mark.browser
def test_a_glossary_link_in_a_lesson_leads_to_the_term(reader, catalog, chart_lesson):
    page = reader
    module, lesson, _ = chart_lesson
    assert lesson.terms, f"lesson {lesson.id} links no glossary term"
    term = catalog.term(lesson.terms[0])
    page.goto(f"/learn/modules/{module.id}/lessons/{lesson.id}")

    link = page.get_by_role("main").locator(f'a.term[href$="#term-{term.id}"]').first
    expect(link).to_be_visible()
    page.get_by_role("link", name=link.inner_text(), exact=True).first.click()

    expect(page.get_by_role("heading", level=1, name="Glossary")).to_be_visible()
    assert page.url.endswith(f"/learn/glossary#term-{term.id}"), page.url
    entry = page.locator(f"#term-{term.id}")
    expect(entry).to_have_role("term")
    expect(entry).to_have_text(term.term)
    expect(entry).to_be_in_viewport()
    # The entry says where it is used, and that includes the lesson the link came from.
    definition = page.locator(f"#term-{term.id} + dd")
    expect(definition).to_have_role("definition")
    expect(definition.get_by_role("link", name=lesson.title, exact=True)).to_be_visible()


@pytest.mark.browser
def test_quiz_with_ordering_matching_and_multiple_response_items_answered_for_full_marks(
    page, learner, student, mixed_quiz
):
    learner.sign_in(student)
    learner.start_quiz(mixed_quiz)
    answer_quiz(learner, mixed_quiz)
    learner.submit_answers()

    expect(page.get_by_role("heading", level=1, name=f"Results: {mixed_quiz.title}")).to_be_visible()
    points = f"{mixed_quiz.max_score:g}"
    expect(page.get_by_role("main")).to_contain_text(f"You scored 100% ({points} of {points} points).")
    expect(page.get_by_role("main")).to_contain_text("Passed: the pass mark was")
    for number, item in enumerate(mixed_quiz.items, start=1):
        if item.type in NEW_ITEM_TYPES:
            result = page.get_by_role("region", name=re.compile(rf"^Item {number}\. "))
            expect(result.get_by_text("Right", exact=True)).to_be_visible()
            expect(result).to_contain_text(f"{item.max_score:g} of {item.max_score:g} points")
    for matches in page.get_by_role("table", name="Your matches and the right ones").all():
        expect(matches.get_by_role("cell").filter(has_text="(not right)")).to_have_count(0)
