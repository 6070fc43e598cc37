"""The conversation editor in a real browser: an educator writes a six-node conversation from empty (the opening
node by keyboard alone), sees a problem at its field and fixes it, reads the map and its outline, plays the draft
(from the start, along the best path, and from a node with the counters set), publishes it and adds it to a course;
a student then plays it. axe and the Nu HTML checker find nothing on any editor page state at 1280 and 375 px, and
none scrolls sideways. Screenshots go to /tmp/shots/conversation-*.png."""

import re

from playwright.sync_api import expect

from app.content import catalog as request_catalog
from app.extensions import db
from app.services import accounts, cohorts, courses
from tests.authoring_conversation_helpers import COUNTERS, ENDINGS, NODES, SETTINGS, TITLE, node_form
from tests.browser.checks import assert_accessible
from tests.browser.test_authoring_pages import SHOTS, _educator
from tests.browser.test_conversation_journey import play

_WIDER = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def check(page, axe_path, name: str) -> None:
    """axe and Nu find nothing at 1280 and 375 px; no sideways scrolling; a screenshot at each width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER), f"{page.url} scrolls sideways at {width}px"
        page.screenshot(path=str(SHOTS / f"conversation-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def fill(page, form: dict[str, str]) -> None:
    """Fill fields by name, choosing in selects."""
    for name, value in form.items():
        field = page.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def tab_to(page, label: str) -> None:
    """Press Tab until the button with this text has the focus (a node form has some fifty fields)."""
    for _ in range(80):
        if page.evaluate("() => document.activeElement.textContent.trim()") == label:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {label!r}")


def type_node_by_keyboard(page, form: dict[str, str], skip: str) -> None:
    """Fill the node form with the keyboard alone, Tab by Tab from its first field, leaving `skip` empty; save."""
    page.locator("#f-narration").focus()
    labels = {"best": "Best", "unhelpful": "Unhelpful", "worries": "worries"}
    for _ in range(60):
        name = page.evaluate("() => document.activeElement.name")
        if name == "new_id" or page.evaluate("() => document.activeElement.textContent.trim()") == "Save the node":
            break
        value = form.get(name, "") if name != skip else ""
        if value and page.evaluate("() => document.activeElement.tagName") == "SELECT":
            page.keyboard.type(labels[value])  # a select takes the typed start of an option's label
        elif value:
            page.keyboard.type(value)
        page.keyboard.press("Tab")
    tab_to(page, "Save the node")
    page.keyboard.press("Enter")


def test_an_educator_writes_maps_plays_publishes_and_a_student_plays_the_conversation(
    page, learner, live_server, axe_path
):
    author = _educator(live_server)
    learner.sign_in(author)
    page.goto("/author/")
    page.get_by_role("link", name="Start a new branching conversation").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Module it goes with").select_option("bordin-components")
    page.get_by_role("button", name="Start the conversation").click()
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    check(page, axe_path, "empty")
    talk_path = re.search(r"/author/\d+", page.url)[0]

    fill(page, COUNTERS)
    page.get_by_role("button", name="Save counters").click()
    fill(page, ENDINGS)
    page.get_by_role("button", name="Save endings").click()
    for node_id in list(NODES)[1:]:  # every node first, so each reply can be pointed at the next
        page.goto(f"{talk_path}/conversation")
        page.get_by_label("Add a node (its id)").fill(node_id)
        page.get_by_role("button", name="Add the node").click()
        expect(page.get_by_role("heading", level=1, name=f"Node {node_id}")).to_be_visible()
    for node_id in list(NODES)[1:]:
        page.goto(f"{talk_path}/nodes/{node_id}")
        fill(page, node_form(node_id))
        page.get_by_role("button", name="Save the node").click()
    check(page, axe_path, "node-saved")

    # The opening node by keyboard, one reply's feedback left out: the problem shows at its field.
    page.goto(f"{talk_path}/nodes/opening")
    check(page, axe_path, "node-empty")
    opening = node_form("opening")
    type_node_by_keyboard(page, opening, skip="replies.1.feedback")
    expect(page.locator(".flash")).to_contain_text("The checker finds")
    expect(page.locator("#f-replies-1-feedback-error")).to_contain_text("reply 2 has no feedback")
    expect(page.locator("#f-replies-1-feedback")).to_have_attribute("aria-invalid", "true")
    check(page, axe_path, "node-lint-error")
    page.get_by_role("link", name=re.compile("reply 2 has no feedback")).focus()
    page.keyboard.press("Enter")
    page.locator("#f-replies-1-feedback").focus()
    page.keyboard.type(opening["replies.1.feedback"])
    tab_to(page, "Save the node")
    page.keyboard.press("Enter")
    expect(page.locator("#f-replies-1-feedback-error")).to_have_count(0)

    page.goto(f"{talk_path}/conversation")
    fill(page, SETTINGS)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("heading", name="Warnings (publishing is still possible)")).to_be_visible()
    check(page, axe_path, "ready")

    page.get_by_role("link", name="Map", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=f"Map of {TITLE}")).to_be_visible()
    expect(page.locator(".map-scroll svg a")).to_have_count(8)
    expect(page.get_by_text("Best path: node opening reply a")).to_be_visible()
    check(page, axe_path, "map")
    page.locator(f'.map-scroll a[href="{talk_path}/nodes/family"]').click()
    expect(page.get_by_role("heading", level=1, name="Node family")).to_be_visible()

    page.goto(f"{talk_path}/play")
    check(page, axe_path, "play-start")
    page.get_by_role("button", name=re.compile("^Tell me about those walks")).click()
    expect(page.get_by_text(NODES["worries"][0])).to_be_visible()
    page.get_by_role("link", name="Play the best path").click()
    expect(page.get_by_role("heading", level=2, name="The best path")).to_be_visible()
    expect(page.locator(".played-steps > li")).to_have_count(5)
    expect(page.locator(".conversation-ending")).to_contain_text("A goal he owns")
    check(page, axe_path, "play-best")
    page.get_by_text("Play this path from a node, with the counters set").click()
    page.get_by_label("Node").select_option("plan")
    page.get_by_label("Trust (0 to 3)").fill("1")
    page.get_by_role("button", name="Play from here").click()
    expect(page.get_by_role("heading", level=2, name="Playing from node plan")).to_be_visible()
    check(page, axe_path, "play-from")
    page.get_by_role("button", name=re.compile("^The top of the hill by summer")).click()
    expect(page.locator(".conversation-ending")).to_contain_text("No shared goal")  # trust 1 < 2: it drifts

    page.goto(f"{talk_path}/conversation")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1, name=f"History of {TITLE}")).to_be_visible()
    check(page, axe_path, "history")

    page.goto("/teach/courses/new")
    page.get_by_label("Title").fill("Rehab placement")
    page.get_by_role("button", name="Create the course").click()
    page.get_by_role("checkbox", name=re.compile(TITLE)).check()
    page.get_by_role("button", name=re.compile("^Add")).first.click()
    expect(page.locator("main")).to_contain_text(TITLE)
    course_id = int(re.search(r"/courses/(\d+)", page.url)[1])

    student = live_server.create_student("talker")
    with live_server.app.app_context():
        owner = accounts.find_by_email(author.email)
        course = db.session.get(courses.Course, course_id)
        courses.set_published(course, True)
        cohort = cohorts.create(owner, "Rehab group")
        cohorts.add_member(cohort, accounts.find_by_email(student.email).id, "code")
        cohorts.assign(cohort, course, owner, None, None)
        db.session.commit()
    with live_server.app.test_request_context():
        conversation = next(c for c in request_catalog().conversations if c.title == TITLE)

    page.context.clear_cookies()
    learner.sign_in(student)
    page.get_by_role("link", name=TITLE).first.click()
    page.get_by_role("button", name="Start the conversation").click()
    ending = play(page, learner, conversation, list(conversation.best_path))
    assert ending.id == "agreed"
    expect(page.get_by_role("heading", level=1, name=f"Debrief: {TITLE}")).to_be_visible()
