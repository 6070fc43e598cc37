"""Ordering and matching items answered by drag and drop, by keyboard and without JavaScript, in Chromium.

The selects stay what the form sends: a drag (mouse or finger), a press of Up or Down, a position typed
into a select or an answer card dropped on a prompt sets them and fires `change`, so autosave sees it.
Each way of answering ends on the results page with the item graded right, and axe finds nothing on
each page state at 1280 and 375 px. Content is chosen through the catalog, never by its wording.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_reflows
from tests.browser.conftest import TIMEOUT_MS, Learner, text_of

QUIZ_ID = "shared-decision-making-quiz"  # ordering and matching items among scenarios
WIDTHS = (1280, 375)

# Every `change` that reaches the quiz form, as autosave listens for them.
RECORD_CHANGES = """() => {
  window.changedFields = [];
  document.querySelector('form.quiz').addEventListener('change', e => window.changedFields.push(e.target.name));
}"""


@pytest.fixture(scope="module")
def quiz(live_server):
    """The quiz with ordering and matching items."""
    found = live_server.catalog.quiz(QUIZ_ID)
    assert found is not None, f"the catalog has no quiz '{QUIZ_ID}'"
    assert {"ordering", "matching"} <= {item.type for item in found.items}, f"{QUIZ_ID} lacks an item type"
    return found


def first(quiz, kind: str):
    """The number (from 1) and the item of the quiz's first item of a type."""
    return next((number, item) for number, item in enumerate(quiz.items, start=1) if item.type == kind)


def steps(item) -> list[str]:
    """An ordering item's steps as a reader sees them, in the right order."""
    return [text_of(step) for step in item.steps_html]


def shown_order(group, item) -> list[int]:
    """The steps, by their index in the right order, as the list shows them from the top."""
    labels = group.get_by_role("listitem").locator("label").all_text_contents()
    return [steps(item).index(" ".join(label.split())) for label in labels]


def positions(group, item) -> list[str]:
    """What each step's select holds (what the form sends), in the steps' right order."""
    return [group.get_by_role("combobox", name=step, exact=True).input_value() for step in steps(item)]


def row(group, step: str):
    """The list row of one step."""
    return group.get_by_role("listitem").filter(has=group.page.get_by_role("combobox", name=step, exact=True))


def announced(group):
    """The item's live region, where moves and matches are said."""
    return group.get_by_role("status")


def answer_all_but(learner: Learner, quiz, skip: int) -> None:
    """Answer every other item for full marks, and say how sure of item `skip` the learner is."""
    for number, item in enumerate(quiz.items, start=1):
        if number == skip:
            learner.say_confidence(number, "Very sure")
        else:
            learner.answer(quiz, number, item, item.handler.right_answer(item))


def assert_graded_right(learner: Learner, quiz, number: int, item) -> None:
    """Submit, then the results page grades item `number` right, with full points."""
    learner.submit_answers()
    page = learner.page
    expect(page.get_by_role("heading", level=1, name=f"Results: {quiz.title}")).to_be_visible()
    result = page.get_by_role("region", name=re.compile(rf"^Item {number}\. "))
    expect(result.get_by_text("Right", exact=True)).to_be_visible()
    expect(result).to_contain_text(f"{item.max_score:g} of {item.max_score:g} points")


def assert_accessible_at_both_widths(page, axe_path) -> None:
    """axe finds nothing at 1280 and at 375 px wide."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
    page.set_viewport_size({"width": 1280, "height": 800})


def mouse_drag(page, source, target, steps: int = 12) -> None:
    """Press on `source`, move to the middle of `target` in small steps, release: a person's drag."""
    start = source.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    end = target.bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=steps)
    page.mouse.up()


def far_drag(page, source, target) -> None:
    """Drag `source` to a `target` that may be out of view: held at the window's bottom edge, the page
    scrolls by itself until the target shows, as a person would do it."""
    scroll_near_the_top(source)
    start = source.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    height = page.viewport_size["height"]
    end = target.bounding_box()
    if end["y"] + end["height"] / 2 > height - 120:
        page.mouse.move(start["x"], height - 15, steps=8)  # into the band at the bottom edge
        deadline = 50
        while (end := target.bounding_box())["y"] + end["height"] / 2 > height - 120:
            deadline -= 1
            assert deadline, "holding a drag at the window's bottom edge did not scroll the page"
            page.wait_for_timeout(100)
        page.mouse.move(start["x"], height / 2, steps=2)  # out of the band: the page stops scrolling
        end = target.bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=4)
    page.mouse.up()


def touch_drag(page, source, target, steps: int = 10) -> None:
    """Drag with a finger: touch events sent through the DevTools protocol, as a touch screen sends them."""
    start, end = source.bounding_box(), target.bounding_box()
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    x1, y1 = end["x"] + end["width"] / 2, end["y"] + end["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for step in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def scroll_near_the_top(element) -> None:
    """Scroll the page so the element's top is just below the band where a drag scrolls the page."""
    element.evaluate("el => window.scrollBy(0, el.getBoundingClientRect().top - 70)")


def wait_for_the_scroll_to_settle(page) -> None:
    """Wait until the page has stopped scrolling (a swipe glides on after the finger lifts)."""
    last = None
    while (now := page.evaluate("() => window.scrollY")) != last:
        last = now
        page.wait_for_timeout(150)


def sort_by_dragging(page, group, item, drag) -> None:
    """Put the steps in the right order, each dragged by its handle onto the row that holds its place."""
    for place, step in enumerate(steps(item)):
        if shown_order(group, item)[place] == place:
            continue
        target = group.get_by_role("listitem").nth(place)
        scroll_near_the_top(target)
        drag(page, row(group, step).locator(".drag-handle"), target)
        expect(announced(group)).to_have_text(f"{step} is now in position {place + 1} of {len(item.steps_html)}.")


# --- ordering


@pytest.mark.browser
def test_ordering_by_dragging_with_the_mouse_answers_the_item_right(page, learner, student, quiz, axe_path):
    number, item = first(quiz, "ordering")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    page.evaluate(RECORD_CHANGES)
    # Untouched, the item is unanswered: the steps in their shuffled order, no position chosen.
    assert shown_order(group, item) == list(item.shown)
    assert positions(group, item) == [""] * len(item.steps_html)
    expect(group).to_have_accessible_description(re.compile("drag a step by its handle, or use Up and Down"))
    assert_accessible_at_both_widths(page, axe_path)

    # One drag through Playwright's own drag_to, the rest with small mouse steps.
    first_move = steps(item)[0]
    row(group, first_move).locator(".drag-handle").drag_to(group.get_by_role("listitem").first, steps=4)
    expect(announced(group)).to_have_text(f"{first_move} is now in position 1 of {len(item.steps_html)}.")
    sort_by_dragging(page, group, item, mouse_drag)

    assert shown_order(group, item) == list(range(len(item.steps_html)))
    assert positions(group, item) == [str(n) for n in range(1, len(item.steps_html) + 1)]
    # Autosave hears of it: every select that changed sent `change` to the form.
    changed = set(page.evaluate("() => window.changedFields"))
    assert {f"item-{item.id}-{index}" for index in range(len(item.steps_html))} <= changed
    assert_accessible_at_both_widths(page, axe_path)
    assert_reflows(page, axe_path)  # at 320 px the rows wrap, never scroll sideways
    page.set_viewport_size({"width": 1280, "height": 800})

    answer_all_but(learner, quiz, number)
    assert_graded_right(learner, quiz, number, item)


@pytest.mark.browser
def test_a_drag_shows_the_step_lifted_and_escape_puts_it_back(page, learner, student, quiz, axe_path):
    number, item = first(quiz, "ordering")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    before = shown_order(group, item)
    moving = group.get_by_role("listitem").last
    moving.scroll_into_view_if_needed()
    box = moving.locator(".drag-handle").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    top = group.get_by_role("listitem").first.bounding_box()
    page.mouse.move(top["x"] + 40, top["y"] + 5, steps=8)
    # Mid-drag the step is lifted and already in its new place; the page stays accessible.
    expect(group.locator("li.is-dragging")).to_have_count(1)
    assert shown_order(group, item)[0] == before[-1]
    assert_accessible(page, axe_path)
    page.keyboard.press("Escape")
    page.mouse.up()
    expect(group.locator("li.is-dragging")).to_have_count(0)
    assert shown_order(group, item) == before
    assert positions(group, item) == [""] * len(item.steps_html)  # still unanswered


@pytest.mark.browser
def test_ordering_by_keyboard_alone_with_up_and_down_answers_the_item_right(page, learner, student, quiz):
    number, item = first(quiz, "ordering")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    count = len(item.steps_html)
    # The keyboard reaches each row's controls in turn: its position, then Up, then Down.
    top = group.get_by_role("listitem").first
    top.get_by_role("combobox").focus()
    page.keyboard.press("Tab")
    expect(top.get_by_role("button", name=re.compile("^Move up: "))).to_be_focused()
    page.keyboard.press("Tab")
    expect(top.get_by_role("button", name=re.compile("^Move down: "))).to_be_focused()

    # Up at the top goes nowhere, and says so.
    top_step = steps(item)[shown_order(group, item)[0]]
    top.get_by_role("button", name=f"Move up: {top_step}").focus()
    page.keyboard.press("Enter")
    expect(announced(group)).to_have_text(f"{top_step} is already first.")
    expect(top.get_by_role("button", name=f"Move up: {top_step}")).to_have_attribute("aria-disabled", "true")

    # Each step in turn is raised to its place with Up, pressed by Enter or Space: focus stays on the button.
    for place, step in enumerate(steps(item)):
        button = group.get_by_role("button", name=f"Move up: {step}")
        button.focus()
        moves = shown_order(group, item).index(place) - place
        for _ in range(moves):
            page.keyboard.press("Space" if place % 2 else "Enter")
            expect(button).to_be_focused()
        if moves:
            expect(announced(group)).to_have_text(f"{step} is now in position {place + 1} of {count}.")
    assert shown_order(group, item) == list(range(count))
    assert positions(group, item) == [str(n) for n in range(1, count + 1)]

    # Down moves a step one place lower, and back up again.
    last_but_one = group.get_by_role("button", name=f"Move down: {steps(item)[count - 2]}")
    last_but_one.focus()
    page.keyboard.press("Enter")
    expect(announced(group)).to_have_text(f"{steps(item)[count - 2]} is now in position {count} of {count}.")
    assert positions(group, item)[count - 2 :] == [str(count), str(count - 1)]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # Up on the same step, which is now last
    assert shown_order(group, item) == list(range(count))

    answer_all_but(learner, quiz, number)
    assert_graded_right(learner, quiz, number, item)


@pytest.mark.browser
def test_a_position_typed_into_a_select_swaps_the_step_into_that_place(page, learner, student, quiz):
    number, item = first(quiz, "ordering")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    before = shown_order(group, item)
    moving, displaced = steps(item)[before[-1]], steps(item)[before[0]]
    select = group.get_by_role("combobox", name=moving, exact=True)
    select.focus()
    page.keyboard.type("1")  # the keyboard's type-ahead, as a person picks an option
    expect(announced(group)).to_have_text(f"{moving} is now in position 1, and {displaced} in position {len(before)}.")
    expect(select).to_be_focused()
    assert shown_order(group, item) == [before[-1], *before[1:-1], before[0]]
    # Every select now shows its step's place, so the item is answered with the order on screen.
    for place, index in enumerate(shown_order(group, item), start=1):
        expect(group.get_by_role("combobox", name=steps(item)[index], exact=True)).to_have_value(str(place))


@pytest.mark.browser
def test_selects_set_one_by_one_in_any_order_send_exactly_the_order_chosen(page, learner, student, quiz):
    """Swapping keeps every place already given, so the select-by-select way of the form still works."""
    number, item = first(quiz, "ordering")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    count = len(item.steps_html)
    wanted = [count - index for index in range(count)]  # the steps in reverse
    for index in [*range(0, count, 2), *range(1, count, 2)]:  # set in an order of their own
        group.get_by_role("combobox", name=steps(item)[index], exact=True).select_option(str(wanted[index]))
    assert positions(group, item) == [str(p) for p in wanted]
    assert shown_order(group, item) == sorted(range(count), key=lambda index: wanted[index])


@pytest.mark.browser
def test_ordering_by_touch_on_a_phone_answers_the_item_right(browser, live_server, student, quiz, axe_path):
    number, item = first(quiz, "ordering")
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 375, "height": 812},
        has_touch=True,
        is_mobile=True,
        bypass_csp=True,  # axe is injected inline
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        learner = Learner(context.new_page(), live_server)
        learner.sign_in(student)
        learner.start_quiz(quiz)
        page = learner.page
        group = learner.item_group(number, len(quiz.items))
        # A finger on a step's words scrolls the page; only its handle drags it.
        before = shown_order(group, item)
        scroll_near_the_top(group.get_by_role("listitem").first)
        touch_drag(page, group.get_by_role("listitem").first.locator("label"), group.get_by_role("listitem").nth(2))
        assert shown_order(group, item) == before
        wait_for_the_scroll_to_settle(page)  # the page may still glide from that swipe
        sort_by_dragging(page, group, item, touch_drag)
        assert positions(group, item) == [str(n) for n in range(1, len(item.steps_html) + 1)]
        assert_accessible(page, axe_path)
        answer_all_but(learner, quiz, number)
        assert_graded_right(learner, quiz, number, item)
    finally:
        context.close()


# --- matching


def pair_row(group, pair):
    """The row of one prompt of a matching item (its drop target)."""
    prompt = text_of(pair.prompt_html)
    return group.get_by_role("listitem").filter(has=group.page.get_by_role("combobox", name=prompt, exact=True))


def answer_card(group, choice: str):
    """The card of one answer in the item's list of answers."""
    return (
        group.get_by_role("list", name="Answers to choose from")
        .get_by_role("listitem")
        .filter(has_text=re.compile(f"^{re.escape(choice)}$"))
    )


@pytest.mark.browser
def test_matching_shows_every_answer_and_is_answered_right_by_dragging(page, learner, student, quiz, axe_path):
    number, item = first(quiz, "matching")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    page.evaluate(RECORD_CHANGES)
    # Every answer is in view without opening a dropdown.
    answers = group.get_by_role("list", name="Answers to choose from")
    expect(answers.get_by_role("listitem")).to_have_text(list(item.choices))
    expect(group).to_have_accessible_description(re.compile("^Drag an answer onto each prompt"))

    for index, pair in enumerate(item.pairs):
        if index == 0:  # the first by Playwright's drag_to, the others with small mouse steps
            answer_card(group, pair.answer).drag_to(pair_row(group, pair), steps=5)
        else:
            far_drag(page, answer_card(group, pair.answer), pair_row(group, pair))
        prompt = text_of(pair.prompt_html)
        expect(group.get_by_role("combobox", name=prompt, exact=True)).to_have_value(pair.answer)
        expect(announced(group)).to_have_text(f"You matched {pair.answer} with: {prompt}")
    changed = set(page.evaluate("() => window.changedFields"))
    assert {f"item-{item.id}-{index}" for index in range(len(item.pairs))} <= changed
    assert_accessible_at_both_widths(page, axe_path)

    answer_all_but(learner, quiz, number)
    assert_graded_right(learner, quiz, number, item)


@pytest.mark.browser
def test_a_dragged_answer_shows_where_it_will_land_and_missing_a_prompt_changes_nothing(
    page, learner, student, quiz, axe_path
):
    number, item = first(quiz, "matching")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    pair = item.pairs[0]
    card = answer_card(group, item.choices[-1])
    card.scroll_into_view_if_needed()
    box = card.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    target = pair_row(group, pair).bounding_box()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2, steps=6)
    expect(pair_row(group, pair)).to_have_class(re.compile(r"\bis-drop-target\b"))
    expect(page.locator(".dd-ghost")).to_have_text(item.choices[-1])
    assert_accessible(page, axe_path)
    # Released over the item's legend, away from every prompt: nothing is chosen.
    legend = group.locator("legend").first.bounding_box()
    page.mouse.move(legend["x"] + 10, legend["y"] + legend["height"] / 2, steps=6)
    page.mouse.up()
    expect(page.locator(".dd-ghost")).to_have_count(0)
    for each in item.pairs:
        expect(group.get_by_role("combobox", name=text_of(each.prompt_html), exact=True)).to_have_value("")


@pytest.mark.browser
def test_matching_by_keyboard_alone_answers_the_item_right(page, learner, student, quiz):
    number, item = first(quiz, "matching")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    first_select = group.get_by_role("combobox", name=text_of(item.pairs[0].prompt_html), exact=True)
    first_select.focus()
    for index, pair in enumerate(item.pairs):
        select = group.get_by_role("combobox", name=text_of(pair.prompt_html), exact=True)
        expect(select).to_be_focused()
        page.keyboard.type(pair.answer)  # type-ahead picks the answer by its words
        expect(select).to_have_value(pair.answer)
        if index < len(item.pairs) - 1:
            page.keyboard.press("Tab")
    answer_all_but(learner, quiz, number)
    assert_graded_right(learner, quiz, number, item)


# --- without JavaScript


@pytest.mark.browser
def test_both_items_are_answered_right_without_javascript(browser, live_server, student, quiz):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        learner = Learner(context.new_page(), live_server)
        learner.sign_in(student)
        learner.start_quiz(quiz)
        ordering_number, ordering = first(quiz, "ordering")
        matching_number, matching = first(quiz, "matching")
        page = learner.page
        ordering_group = learner.item_group(ordering_number, len(quiz.items))
        # The position selects are the way to answer: no handles or Up and Down buttons without a script.
        expect(ordering_group).to_have_accessible_description(re.compile("^Give each step a position"))
        expect(ordering_group.get_by_role("button")).to_have_count(0)
        expect(ordering_group.locator(".drag-handle:visible")).to_have_count(0)
        # The matching item's answers are listed in view all the same.
        matching_group = learner.item_group(matching_number, len(quiz.items))
        expect(matching_group.get_by_role("list", name="Answers to choose from").get_by_role("listitem")).to_have_text(
            list(matching.choices)
        )
        learner.choose(quiz, {item.id: item.handler.right_answer(item) for item in quiz.items})
        learner.submit_answers()
        expect(page.get_by_role("heading", level=1, name=f"Results: {quiz.title}")).to_be_visible()
        for number, item in ((ordering_number, ordering), (matching_number, matching)):
            result = page.get_by_role("region", name=re.compile(rf"^Item {number}\. "))
            expect(result.get_by_text("Right", exact=True)).to_be_visible()
            expect(result).to_contain_text(f"{item.max_score:g} of {item.max_score:g} points")
    finally:
        context.close()


@pytest.mark.browser
def test_the_fallback_forms_with_and_without_errors_are_accessible(page, learner, student, quiz, axe_path):
    """axe cannot run where JavaScript is off, so the page's own scripts are blocked instead: the same page."""
    page.route("**/static/js/**", lambda route: route.abort())
    ordering_number, ordering = first(quiz, "ordering")
    matching_number, matching = first(quiz, "matching")
    learner.sign_in(student)
    learner.start_quiz(quiz)
    ordering_group = learner.item_group(ordering_number, len(quiz.items))
    expect(ordering_group.get_by_role("button")).to_have_count(0)
    assert_accessible_at_both_widths(page, axe_path)
    # Sent with the ordering item half done and the matching item untouched: each says what to do.
    for number, item in enumerate(quiz.items, start=1):
        if number not in (ordering_number, matching_number):
            learner.answer(quiz, number, item, item.handler.right_answer(item))
    ordering_group.get_by_role("combobox", name=steps(ordering)[0], exact=True).select_option("1")
    learner.submit_answers()
    matching_group = learner.item_group(matching_number, len(quiz.items))
    expect(ordering_group).to_have_accessible_description(re.compile(r"Error: Give every step a position"))
    expect(matching_group).to_have_accessible_description(re.compile(r"^Error: "))
    expect(ordering_group.get_by_role("combobox", name=steps(ordering)[0], exact=True)).to_have_value("1")
    assert_accessible_at_both_widths(page, axe_path)


@pytest.mark.browser
def test_an_order_half_given_without_javascript_comes_back_in_its_places(browser, page, learner, student, quiz):
    number, item = first(quiz, "ordering")
    count = len(item.steps_html)
    context = browser.new_context(base_url=learner.server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        without = Learner(context.new_page(), learner.server)
        without.sign_in(student)
        without.start_quiz(quiz)
        group = without.item_group(number, len(quiz.items))
        group.get_by_role("combobox", name=steps(item)[0], exact=True).select_option(str(count))
        without.page.get_by_role("button", name="Save and continue later").click()
        cookies = context.cookies()
    finally:
        context.close()
    page.context.add_cookies(cookies)
    learner.start_quiz(quiz)
    group = learner.item_group(number, len(quiz.items))
    # The step given a place stands in it; the others wait, unanswered, in the order first shown.
    order = shown_order(group, item)
    assert order[count - 1] == 0
    assert order[: count - 1] == [index for index in item.shown if index != 0]
    assert positions(group, item) == [str(count)] + [""] * (count - 1)
    # One move answers the whole item with the order on screen.
    group.get_by_role("button", name=f"Move down: {steps(item)[order[0]]}").click()
    order = shown_order(group, item)
    assert positions(group, item) == [str(order.index(index) + 1) for index in range(count)]
