"""A student plays a module's branching conversation in a real browser, and a step of it by keyboard alone.

Replies are chosen by the visible text of their labels; the catalog only says which reply to pick
(the best path it computed, or the lowest-scoring reply at every turn) and what should follow.
"""

import re

import pytest
from playwright.sync_api import expect

from app.content.conversations import OUTCOMES

#: The conversation these tests play: the one paired with the shared decision-making module.
CONVERSATION_ID = "sdm-conversation"
RESTART_MESSAGE = "You are starting the conversation again from the beginning."


@pytest.fixture(scope="module")
def conversation(live_server):
    """The branching conversation under test, from the catalog."""
    found = live_server.catalog.conversation(CONVERSATION_ID)
    assert found is not None, f"the catalog has no conversation '{CONVERSATION_ID}'"
    return found


def lowest_path(conversation) -> list[str]:
    """Reply ids choosing the lowest-scoring reply at every turn (the first of equals), up to an ending."""
    state, path = conversation.initial(), []
    while not conversation.is_ending(state):
        assert len(path) < 100, f"the lowest-scoring replies of {conversation.id} never reach an ending"
        reply = min(conversation.node(state.at).replies, key=lambda r: r.score)
        path.append(reply.id)
        state = conversation.advance(state, reply)
    return path


def _percent(score: float, max_score: float) -> str:
    """A percentage as the app prints it (the `percent` template filter)."""
    return f"{100 * score / max_score:.0f}%"


def reply_group(page, step: int):
    """The fieldset of the replies on offer at `step` (named by its legend), once the page says it is that step."""
    expect(page.get_by_text(re.compile(rf"^Step {step} of about \d+$"))).to_be_visible()
    return page.get_by_role("group", name=re.compile(r"^What do you say to .+\?$"))


def patient_line(page):
    """What the patient says now: the quotation above the replies."""
    return page.get_by_role("main").get_by_role("blockquote")


def play(page, learner, conversation, path: list[str]):
    """Play `path` from the current (first) step by clicking each reply's label, then "Say it".

    After every reply the patient's next line must be the one the catalog says follows, and
    different from the line before it. Returns the ending reached.
    """
    state = conversation.initial()
    for step, reply_id in enumerate(path, start=1):
        node = conversation.node(state.at)
        expect(page.get_by_role("heading", level=1, name=conversation.title)).to_be_visible()
        expect(patient_line(page)).to_have_text(node.patient)
        group = reply_group(page, step)
        expect(group.get_by_role("radio")).to_have_count(len(node.replies))
        label = learner.text_of(node.reply(reply_id).text_html)
        group.get_by_text(label, exact=True).click()  # the label, as a person clicks it
        expect(group.get_by_role("radio", name=label, exact=True)).to_be_checked()
        sure = page.get_by_role("group", name="How sure are you that this is the right thing to say?")
        sure.get_by_text("Fairly sure", exact=True).click()
        page.get_by_role("button", name="Say it").click()

        state = conversation.advance(state, node.reply(reply_id))
        if conversation.is_ending(state):
            break
        following = conversation.node(state.at)
        assert following.patient != node.patient, f"{node.id} and {following.id} have the same patient line"
        expect(reply_group(page, step + 1)).to_be_visible()
        expect(patient_line(page)).to_have_text(following.patient)
        said = page.get_by_role("region", name="The conversation so far").get_by_role("listitem")
        expect(said).to_have_count(step)
        expect(said.last).to_contain_text(f"You: {label}")
    assert conversation.is_ending(state), f"the path {path} does not reach an ending of {conversation.id}"
    return conversation.ending(state.at)


def expect_debrief(page, conversation, ending, percent: str) -> None:
    """The debrief page of a finished conversation: its ending's title and outcome, and the score."""
    expect(page.get_by_role("heading", level=1, name=f"Debrief: {conversation.title}")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=f"{OUTCOMES[ending.outcome]}: {ending.title}")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"Your path scored {percent}:")


@pytest.mark.browser
def test_student_plays_the_conversation_to_the_best_ending_then_to_a_poor_one(
    page, learner, student, live_server, conversation
):
    catalog = live_server.catalog
    module = catalog.module(conversation.module_id)
    best, poor = list(conversation.best_path), lowest_path(conversation)
    learner.sign_in(student)

    # The module page lists the conversation; its front page offers to start it.
    page.goto(f"/learn/modules/{module.id}")
    talks = page.get_by_role("region", name="Branching conversations")
    talks.get_by_role("link", name=conversation.title, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=conversation.title)).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=module.title)).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)  # nothing finished yet
    page.get_by_role("button", name="Start the conversation").click()

    # The best path, reply by reply, to a good ending with full marks.
    good = play(page, learner, conversation, best)
    expect_debrief(page, conversation, good, "100%")
    expect(page.get_by_role("main")).to_contain_text("Passed: the pass mark was")
    path_region = page.get_by_role("region", name="Your path, reply by reply")
    expect(path_region.get_by_role("listitem")).to_have_count(len(best))

    # Again from the beginning, choosing the lowest-scoring reply each time: a different ending.
    page.get_by_role("button", name="Start again").click()
    expect(page.get_by_role("status")).to_contain_text(RESTART_MESSAGE)
    expect(page.get_by_role("region", name="The conversation so far")).to_have_count(0)
    bad = play(page, learner, conversation, poor)
    assert bad.id != good.id, "the lowest-scoring replies reach the same ending as the best ones"
    steps, _ = conversation.play(poor)
    expect_debrief(page, conversation, bad, _percent(sum(s.reply.score for s in steps), conversation.max_score))
    expect(page.get_by_role("main")).to_contain_text("Not passed: the pass mark was")

    # The front page lists both finished conversations, newest first.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=conversation.title).click()
    expect(page.get_by_role("heading", level=1, name=conversation.title)).to_be_visible()
    finished = page.get_by_role("table", name="Your finished conversations, newest first")
    rows = finished.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_role("cell").nth(1)).to_have_text(bad.title)
    expect(rows.nth(1).get_by_role("cell").nth(1)).to_have_text(good.title)
    expect(rows.nth(1).get_by_role("cell").nth(2)).to_contain_text("100%")
    expect(page.get_by_role("button", name="Start again")).to_be_visible()

    # Each row's debrief link opens that conversation's debrief.
    rows.nth(1).get_by_role("link", name=re.compile(r"^Debrief")).click()
    expect_debrief(page, conversation, good, "100%")


_FOCUS_STATE = """el => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    focusVisible: el.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    boxShadow: style.boxShadow,
    inViewport: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < window.innerHeight && box.left < window.innerWidth,
  };
}"""


def assert_focus_is_visible(page) -> None:
    """The focused element is on screen, matches :focus-visible and is drawn with a focus ring."""
    state = page.evaluate(f"({_FOCUS_STATE})(document.activeElement)")
    assert state["tag"] not in ("body", "html"), "nothing is focused"
    assert state["inViewport"], f"the focused element is off screen: {state}"
    assert state["focusVisible"], f"the focused element does not match :focus-visible: {state}"
    assert state["outline"] or state["boxShadow"] not in ("", "none"), f"no visible focus ring: {state}"


def tab_to(page, target, limit: int = 60) -> None:
    """Press Tab until `target` has focus, checking the focus ring at every stop."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert_focus_is_visible(page)
        if target.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"{target} was not reached within {limit} presses of Tab")


@pytest.mark.browser
def test_keyboard_only_student_plays_the_first_steps(page, learner, student, conversation):
    learner.sign_in(student)
    page.goto(f"/learn/conversations/{conversation.id}")

    # Start the conversation with Tab and Enter.
    tab_to(page, page.get_by_role("button", name="Start the conversation"))
    page.keyboard.press("Enter")

    state = conversation.initial()
    for step, reply_id in enumerate(conversation.best_path[:2], start=1):
        node = conversation.node(state.at)
        group = reply_group(page, step)
        expect(group).to_be_visible()
        radios = group.get_by_role("radio")

        # Tab enters the group on its first reply; arrows move through it and choose; Space chooses.
        tab_to(page, radios.first)
        target = [r.id for r in node.replies].index(reply_id)
        for _ in range(target):
            page.keyboard.press("ArrowDown")
            assert_focus_is_visible(page)
        page.keyboard.press("Space")
        chosen = group.get_by_role("radio", name=learner.text_of(node.reply(reply_id).text_html), exact=True)
        expect(chosen).to_be_focused()
        expect(chosen).to_be_checked()

        # The next Tab leaves the group for how sure the learner is; Space chooses "Not sure".
        page.keyboard.press("Tab")
        not_sure = page.get_by_role("group", name="How sure are you that this is the right thing to say?").get_by_role(
            "radio", name="Not sure", exact=True
        )
        expect(not_sure).to_be_focused()
        assert_focus_is_visible(page)
        page.keyboard.press("Space")
        expect(not_sure).to_be_checked()

        # The next Tab leaves that group for "Say it"; Enter sends the reply.
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Say it")).to_be_focused()
        assert_focus_is_visible(page)
        page.keyboard.press("Enter")

        state = conversation.advance(state, node.reply(reply_id))
        if conversation.is_ending(state):
            break
        expect(reply_group(page, step + 1)).to_be_visible()
        expect(patient_line(page)).to_have_text(conversation.node(state.at).patient)
