"""Ordering and matching items as the server renders them for drag and drop (tests/browser/test_drag_and_drop.py
drives them in Chromium): a matching item's answers all in view, each ordering step's Move up / Move down
buttons ready for the script, and the same select fields as before, in quizzes and in practice alike."""

import re

import pytest
from markupsafe import Markup, escape

QUIZ_ID = "shared-decision-making-quiz"  # ordering and matching items among scenarios
SCRIPT = '<script type="module" src="/static/js/dragdrop.js"></script>'


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


@pytest.fixture
def mixed_quiz(catalog):
    """The quiz with ordering and matching items."""
    found = catalog.quiz(QUIZ_ID)
    assert found is not None, f"the catalog has no quiz '{QUIZ_ID}'"
    return found


def first(quiz, kind: str):
    """The quiz's first item of a type."""
    return next(item for item in quiz.items if item.type == kind)


def fieldset(html: str, item) -> str:
    """The HTML of one item's fieldset on an answer page."""
    assert f'id="item-{item.id}"' in html, f"item {item.id} is not on the page"
    return html.split(f'id="item-{item.id}"', 1)[1].split("</fieldset>", 1)[0]


def attempt_page(client, quiz) -> str:
    """Start an attempt at the quiz and return its answer page."""
    response = client.post(f"/learn/quizzes/{quiz.id}/attempts")
    assert response.status_code == 302
    return client.get(response.location).text


def answer_cards(part: str) -> list[str]:
    """The answers a matching item lists in view, as written in the page."""
    listed = re.search(r'<ul aria-labelledby="[^"]*-answers">(.*?)</ul>', part, re.S)
    assert listed, "the item lists no answers"
    return re.findall(r'<li class="answer-card" data-dd-choice="[^"]*">([^<]*)</li>', listed.group(1))


def test_a_matching_item_shows_every_answer_without_a_dropdown_and_keeps_a_select_per_prompt(
    client, student, mixed_quiz
):
    item = first(mixed_quiz, "matching")
    part = fieldset(attempt_page(client, mixed_quiz), item)
    assert "Answers to choose from" in part
    assert answer_cards(part) == [str(escape(choice)) for choice in item.choices]
    # The selects stay the keyboard's and the no-script way to answer, and what the form sends.
    for index in range(len(item.pairs)):
        assert f'<select id="item-{item.id}-{index}" name="item-{item.id}-{index}">' in part
    assert part.count("<option value=") == len(item.pairs) * (len(item.choices) + 1)


def test_ordering_steps_have_move_buttons_named_for_their_step_hidden_until_the_script_runs(
    client, student, mixed_quiz
):
    item = first(mixed_quiz, "ordering")
    html = attempt_page(client, mixed_quiz)
    part = fieldset(html, item)
    for step in item.steps_html:
        name = escape(Markup(step).striptags())
        assert f'aria-label="Move up: {name}" hidden>Up</button>' in part
        assert f'aria-label="Move down: {name}" hidden>Down</button>' in part
    assert part.count('<span class="drag-handle" aria-hidden="true" hidden></span>') == len(item.steps_html)
    assert part.count('<option value="">Position</option>') == len(item.steps_html)
    # Said as the steps move, for screen readers; the script loads as a module, so once for all items.
    assert 'role="status" data-dd-live' in part and "{step} is now in position {position} of {count}." in part
    assert SCRIPT in html


def test_a_position_kept_after_a_half_filled_submission_is_shown_for_the_script_to_start_from(
    client, student, mixed_quiz
):
    item = first(mixed_quiz, "ordering")
    response = client.post(f"/learn/quizzes/{mixed_quiz.id}/attempts")
    page = client.post(response.location, data={f"item-{item.id}-0": "3"}).text
    part = fieldset(page, item)
    select = part.split(f'name="item-{item.id}-0">', 1)[1].split("</select>", 1)[0]
    assert '<option value="3" selected>' in select
    assert 'data-dd="ordering"' in part


def test_practice_shows_the_same_drag_and_drop_forms(client, student, mixed_quiz):
    url = client.post(f"/learn/quizzes/{mixed_quiz.id}/practice").location
    seen = set()
    for position, item in enumerate(mixed_quiz.items, start=1):
        page = client.get(url).text
        if item.type in ("ordering", "matching") and item.type not in seen:
            seen.add(item.type)
            part = fieldset(page, item)
            assert f'data-dd="{item.type}"' in part and SCRIPT in page
            if item.type == "matching":
                assert answer_cards(part) == [str(escape(choice)) for choice in item.choices]
        if seen == {"ordering", "matching"}:
            break
        data = {"position": str(position), f"confidence-{item.id}": "2"}
        data.update(item.handler.form_data(item, item.handler.right_answer(item)))
        assert client.post(url, data=data).status_code == 302
    assert seen == {"ordering", "matching"}


def test_the_drag_and_drop_script_is_served_as_javascript(client):
    response = client.get("/static/js/dragdrop.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "[data-dd]" in response.text
