"""One voice in every message: error pages say what happened in the app's words, never Werkzeug's
("Not Found", "Method Not Allowed", "Request Entity Too Large"), and learners never read engine words
(FSRS's Again/Hard/Good/Easy, "Counters after this reply", "pays best", raw ids)."""

import ast
import re
from pathlib import Path

import pytest
from flask import abort
from sqlalchemy import update
from werkzeug.exceptions import default_exceptions
from werkzeug.http import HTTP_STATUS_CODES

from app.errors import title_for
from app.models import ItemResponse, QuizAttempt
from tests.test_access import form_answers

APP = Path(__file__).resolve().parents[1] / "app"
#: Werkzeug's names of every error status: none may head a page or be said to a person.
WERKZEUG_TITLES = sorted({HTTP_STATUS_CODES[code] for code in default_exceptions})
#: Words of the engines behind the pages that mean nothing to a student, or WTForms' default messages.
ENGINE_WORDS = [
    "Counters after this reply",
    "pays best",
    "attempt_id",
    "item_ref",
    "Not a valid choice",
    "Not a valid date value",
    "is not a valid choice for this field",
    "This field is required",
    "Field cannot be longer",
    "Invalid email address",
    "Invalid choice(s)",
]


def heading_and_title(html: str) -> tuple[str, str]:
    """The page's one <h1> and the <title> before " · Alliance"."""
    (h1,) = re.findall(r"<h1>(.*?)</h1>", html, re.S)
    title = re.search(r"<title>(.*?) · Alliance</title>", html, re.S).group(1)
    return h1, title


def visible_text(html: str) -> str:
    """The words a person reads: scripts, styles and tags dropped, spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def assert_in_the_apps_voice(response, code: int) -> None:
    """The error page has the app's heading for `code`, in its title too, and no Werkzeug name anywhere."""
    assert response.status_code == code
    h1, title = heading_and_title(response.text)
    assert h1 == title == title_for(code)
    for name in WERKZEUG_TITLES:
        assert name not in visible_text(response.text), f"{code} shows Werkzeug's “{name}”"
    assert 'href="/">Go to the home page</a>' in response.text and "Traceback" not in response.text


@pytest.fixture
def aborting(app):
    """The app with a route answering any error status (added before the first request, as Flask requires)."""
    app.add_url_rule("/test-only/abort/<int:code>", "test_abort", lambda code: abort(code))

    def fail():
        raise RuntimeError("a bug")

    app.add_url_rule("/test-only/bug", "test_bug", fail)
    return app


@pytest.mark.parametrize("code", sorted(default_exceptions), ids=str)
def test_no_error_page_has_a_werkzeug_title(aborting, client, code):
    assert_in_the_apps_voice(client.get(f"/test-only/abort/{code}"), code)


def test_the_commonest_errors_have_the_titles_people_expect(aborting, client, auth):
    assert_in_the_apps_voice(client.get("/no/such/page"), 404)
    assert heading_and_title(client.get("/no/such/page").text)[0] == "Page not found"
    refused = client.get("/auth/sign-out")  # a POST-only address opened as a link
    assert_in_the_apps_voice(refused, 405)
    assert heading_and_title(refused.text)[0] == "That can’t be done here"
    assert "the link or button that brought you here may be out of date" in refused.text
    auth.as_role("student")
    forbidden = client.get("/teach/")
    assert_in_the_apps_voice(forbidden, 403)
    assert "These pages are for educators." in forbidden.text  # the view's own words stay
    bug = client.get("/test-only/bug")
    assert_in_the_apps_voice(bug, 500)
    assert heading_and_title(bug.text)[0] == "Something went wrong" and "a bug" not in bug.text


def _strings(path: Path) -> list[str]:
    """The string literals of a Python file that could reach a person: every constant except docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _template_text(path: Path) -> str:
    """A template's wording: Jinja comments, expressions and statements dropped, tags too."""
    source = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return visible_text(source)


def test_no_template_or_message_uses_werkzeug_titles_or_engine_words():
    found = []
    for template in sorted(APP.rglob("*.html")):
        wording = _template_text(template)
        found += [f"{template.relative_to(APP)}: {w}" for w in WERKZEUG_TITLES + ENGINE_WORDS if w in wording]
    for source in sorted(APP.rglob("*.py")):
        for string in _strings(source):
            found += [f"{source.relative_to(APP)}: {w!r} in {string[:60]!r}" for w in WERKZEUG_TITLES if w in string]
    assert not found, "words people should never read:\n" + "\n".join(found)


def test_learners_read_no_engine_words_or_raw_ids_on_results_review_and_conversations(client, auth, catalog):
    auth.as_role("student")
    quiz, talk = catalog.quizzes[0], catalog.conversations[0]
    attempt = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    results = client.post(attempt, data=form_answers(quiz, best_items=1)).location  # wrong answers: the queue fills
    play = client.post(f"/learn/conversations/{talk.id}/attempts").location
    client.post(play, data={"step": "1", "reply": talk.best_path[0], "confidence": "2"})
    ids = [item.id for item in quiz.items] + [node.id for node in talk.nodes if "-" in node.id]
    ids += [ending.id for ending in talk.endings]
    for path in (results, "/learn/review", "/learn/progress", play, f"/learn/quizzes/{quiz.id}"):
        html = client.get(path).text
        words = visible_text(html)
        for word in ENGINE_WORDS + WERKZEUG_TITLES:
            assert word not in words, f"{path} says {word!r}"
        # fsrs's ratings are never a label of their own (a button, a cell, a badge).
        assert not re.search(r">\s*(Again|Hard|Good|Easy)\s*<", html), f"{path} shows an fsrs rating"
        for raw in ids:
            assert not re.search(rf"(?<![\w-]){re.escape(raw)}(?![\w-])", words), f"{path} shows the raw id {raw!r}"


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/teach/courses/new", {"title": "x" * 201}, "Keep the title under 200 characters."),
        ("/teach/cohorts/new", {"name": "x" * 201}, "Keep the name under 200 characters."),
    ],
)
def test_the_educators_forms_answer_too_long_input_in_plain_words(client, auth, path, data, message):
    auth.as_role("educator")
    response = client.post(path, data=data)
    assert response.status_code == 422 and message in response.text
    assert "Field cannot be longer" not in response.text


def test_a_sign_up_address_too_long_to_be_one_is_refused_in_plain_words(client):
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".org"  # 316 characters
    response = client.post(
        "/auth/sign-up", data={"email": address, "display_name": "Long", "password": "x" * 12, "confirm": "x" * 12}
    )
    assert response.status_code == 422 and "Email addresses have at most 254 characters." in response.text
    assert "Field cannot be longer" not in response.text


def test_results_of_changed_or_retired_content_name_no_raw_ids(client, db, auth, catalog):
    """After a quiz or conversation changes, the learner's old results say so in words, not with content ids."""
    auth.as_role("student")
    quiz, talk = catalog.quizzes[0], catalog.conversations[0]
    attempt = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    results = client.post(attempt, data=form_answers(quiz)).location
    attempt_id = int(attempt.rsplit("/", 1)[1])
    changed = quiz.items[0]
    db.session.execute(
        update(ItemResponse)
        .where(ItemResponse.attempt_id == attempt_id, ItemResponse.item_ref == changed.id)
        .values(item_version="an older version", answer="zz")
    )
    db.session.commit()
    words = visible_text(client.get(results).text)
    assert "An item no longer offered as it was" in words and "A reply no longer offered as it was" in words
    assert changed.id not in words and "You chose zz" not in words
    db.session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt_id).values(quiz_ref="a-retired-quiz"))
    db.session.commit()
    retired = client.get(results).text
    assert "<h1>Results: a quiz no longer offered</h1>" in retired and "a-retired-quiz" not in visible_text(retired)

    play = client.post(f"/learn/conversations/{talk.id}/attempts").location
    for step, reply in enumerate(talk.best_path, start=1):
        client.post(play, data={"step": str(step), "reply": reply, "confidence": "2"})
    db.session.execute(
        update(QuizAttempt).where(QuizAttempt.id == int(play.rsplit("/", 1)[1])).values(ending_ref="a-retired-ending")
    )
    db.session.commit()
    front = visible_text(client.get(f"/learn/conversations/{talk.id}").text)
    assert "An ending no longer in this conversation" in front and "a-retired-ending" not in front
