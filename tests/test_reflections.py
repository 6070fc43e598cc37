"""Private reflections: write, edit, delete, limits, the prompts on content pages, and nobody else sees them."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.models import Reflection
from app.models.study import REFLECTION_MAX
from app.services import reflections
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import answers_by_grade, rows


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


def url(kind: str, subject_id: str) -> str:
    """The reflection page on one subject."""
    return f"/learn/reflections/{kind}/{subject_id}"


def textarea(page: str) -> str:
    """What the page's reflection box holds, as the browser would show it."""
    match = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "no reflection box"
    return match.group(1)


def stored(db, user_id: int) -> list[tuple[str, str]]:
    """The learner's reflections as (subject_ref, body), read fresh."""
    db.session.expire_all()
    return [
        (r.subject_ref, r.body) for r in db.session.scalars(select(Reflection).where(Reflection.user_id == user_id))
    ]


@pytest.mark.parametrize("kind", ["module", "quiz", "conversation"])
def test_the_page_asks_a_question_suited_to_the_subject_and_states_the_limit(client, student, catalog, kind):
    content = {"module": catalog.modules[0], "quiz": catalog.quizzes[0], "conversation": catalog.conversations[0]}[kind]
    page = client.get(url(kind, content.id))
    assert page.status_code == 200
    assert f"<h1>Reflection: {escape(content.title)}</h1>" in page.text
    assert f'<label for="body">{escape(reflections.KINDS[kind][1])}</label>' in page.text
    assert f"Up to {REFLECTION_MAX:,} characters." in page.text
    assert textarea(page.text) == "" and "Delete the reflection" not in page.text


def test_save_edit_and_delete_a_reflection(client, db, student, catalog):
    module = catalog.modules[0]
    saved = client.post(url("module", module.id), data={"body": "  First thought.\r\nSecond line.  \r\n"})
    assert saved.status_code == 302 and saved.location == url("module", module.id)
    assert stored(db, student.id) == [(f"module/{module.id}", "First thought.\nSecond line.")]
    page = client.get(url("module", module.id)).text
    assert "Your reflection was saved. Only you can see it." in page
    assert textarea(page) == "First thought.\nSecond line." and "Delete the reflection" in page
    first_saved = db.session.scalar(select(Reflection.updated_at))

    client.post(url("module", module.id), data={"body": "Changed my mind."})
    assert stored(db, student.id) == [(f"module/{module.id}", "Changed my mind.")]
    row = db.session.scalar(select(Reflection))
    assert row.updated_at >= first_saved and row.created_at <= row.updated_at

    deleted = client.post(url("module", module.id) + "/delete")
    assert deleted.location == url("module", module.id)
    assert stored(db, student.id) == []
    assert "Your reflection was deleted." in client.get(url("module", module.id)).text
    again = client.post(url("module", module.id) + "/delete", follow_redirects=True)
    assert "There was no reflection to delete here." in again.text


def test_saving_twice_keeps_one_reflection_per_subject(db, auth, catalog):
    learner = auth.create("student")
    ref = f"quiz/{catalog.quizzes[0].id}"
    reflections.save(learner.id, ref, "one")
    reflections.save(learner.id, ref, "two")
    db.session.commit()
    assert stored(db, learner.id) == [(ref, "two")]


def test_emptying_a_reflection_deletes_it_and_an_empty_new_one_asks_for_text(client, db, student, catalog):
    quiz = catalog.quizzes[0]
    empty = client.post(url("quiz", quiz.id), data={"body": "   \r\n  "})
    assert empty.status_code == 422
    assert "Write something to save, or delete the reflection." in empty.text
    assert 'aria-invalid="true"' in empty.text and rows(db, Reflection) == 0

    client.post(url("quiz", quiz.id), data={"body": "Keep this"})
    cleared = client.post(url("quiz", quiz.id), data={"body": ""}, follow_redirects=True)
    assert "You emptied your reflection, so it was deleted." in cleared.text
    assert rows(db, Reflection) == 0


def test_too_long_a_reflection_is_refused_with_the_text_kept(client, db, student, catalog):
    conversation = catalog.conversations[0]
    client.post(url("conversation", conversation.id), data={"body": "Earlier text"})
    long_text = "<b>x</b> " + "y" * REFLECTION_MAX
    response = client.post(url("conversation", conversation.id), data={"body": long_text})
    assert response.status_code == 422
    assert f"the most is {REFLECTION_MAX:,}" in response.text and "your text is kept below" in response.text
    assert textarea(response.text) == str(escape(long_text))  # kept whole, and escaped
    assert stored(db, student.id) == [(f"conversation/{conversation.id}", "Earlier text")]  # nothing lost
    exactly = "z" * REFLECTION_MAX
    assert client.post(url("conversation", conversation.id), data={"body": exactly}).status_code == 302
    assert stored(db, student.id)[0][1] == exactly


@pytest.mark.parametrize(
    "path, message",
    [
        ("/learn/reflections/lesson/anything", "There is nothing here to reflect on"),
        ("/learn/reflections/module/no-such-module", "There is nothing here to reflect on"),
        ("/learn/reflections/quiz/no-such-quiz/delete", "There is nothing here to reflect on"),
    ],
)
def test_unknown_subjects_are_a_friendly_404(client, db, student, path, message):
    for method in ("GET", "POST") if not path.endswith("/delete") else ("POST",):
        response = client.open(path, method=method, data={"body": "text"})
        assert response.status_code == 404 and message in response.text
    assert rows(db, Reflection) == 0


def test_a_reflection_on_retired_content_is_listed_and_can_still_be_edited_and_deleted(client, db, student):
    db.session.add(Reflection(user_id=student.id, subject_ref="module/old-module", body="Old note"))
    db.session.commit()
    progress = client.get("/learn/progress").text
    assert "Module: “old-module” (no longer offered)" in progress and "Old note" in progress
    page = client.get(url("module", "old-module"))
    assert page.status_code == 200 and textarea(page.text) == "Old note"
    assert "Back to your progress" in page.text
    deleted = client.post(url("module", "old-module") + "/delete")
    assert deleted.location == "/learn/progress#reflections-heading"
    assert client.get(url("module", "old-module")).status_code == 404  # retired, and nothing left to show


def test_progress_lists_reflections_newest_first_escaped_with_line_breaks(client, student, catalog):
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    client.post(url("module", module.id), data={"body": "Module <script>alert(1)</script>\nline two"})
    client.post(url("quiz", quiz.id), data={"body": "Quiz note"})
    page = client.get("/learn/progress").text
    listed = page.split('id="reflections-heading"')[1]
    assert listed.index(f"Quiz: {escape(quiz.title)}") < listed.index(f"Module: {escape(module.title)}")
    assert "Module &lt;script&gt;alert(1)&lt;/script&gt;<br>line two" in listed
    assert "<script>" not in page
    assert f'href="{url("quiz", quiz.id)}">Edit' in listed


def test_content_pages_prompt_for_a_reflection_then_show_it(client, student, catalog, quiz):
    module = catalog.module(quiz.module_id)
    conversation = catalog.conversations[0]
    assert "Write a reflection" in client.get(f"/learn/modules/{module.id}").text
    client.post(url("module", module.id), data={"body": "What I will do: listen first.\nThen agree goals."})
    page = client.get(f"/learn/modules/{module.id}").text
    assert "What I will do: listen first.<br>Then agree goals." in page
    assert f'href="{url("module", module.id)}">Edit' in page and "Write a reflection" not in page

    data = answers_by_grade(quiz, "best") | {f"confidence-{item.id}": "2" for item in quiz.items}
    attempt = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    results = client.get(client.post(attempt, data=data).location).text
    assert f'href="{url("quiz", quiz.id)}">Write a reflection' in results

    played = client.post(f"/learn/conversations/{conversation.id}/attempts").location
    for step, reply in enumerate(conversation.best_path, start=1):
        client.post(played, data={"step": str(step), "reply": reply, "confidence": "2"})
    debrief = client.get(played).text
    assert "Debrief:" in debrief and f'href="{url("conversation", conversation.id)}">Write a reflection' in debrief


@pytest.mark.parametrize("role", ["student", "educator", "admin"])
def test_nobody_but_the_author_sees_or_changes_a_reflection(client, db, auth, catalog, role):
    module = catalog.modules[0]
    alice = auth.create("student", email="alice@example.org", name="Alice")
    auth.sign_in("alice@example.org")
    client.post(url("module", module.id), data={"body": "Alice's private thought"})
    auth.sign_out()

    auth.as_role(role)
    pages = [
        client.get(path).text for path in (url("module", module.id), "/learn/progress", f"/learn/modules/{module.id}")
    ]
    assert not any("Alice's private thought" in page or "Alice&#39;s private thought" in page for page in pages)
    assert textarea(pages[0]) == "" and "You have not written a reflection yet." in pages[1]
    client.post(url("module", module.id) + "/delete")  # deletes only their own (there is none)
    client.post(url("module", module.id), data={"body": "Mine"})
    mine = stored(db, alice.id)
    assert mine == [(f"module/{module.id}", "Alice's private thought")]
    assert rows(db, Reflection) == 2  # each wrote their own


class TestCsrf:
    """With CSRF protection on, as in production, a reflection form without its token changes nothing."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """The real setting: CSRF protection on."""
        app_settings["WTF_CSRF_ENABLED"] = True
        return app_settings

    def test_a_reflection_form_without_its_token_saves_and_deletes_nothing(self, client, db, auth, catalog):
        auth.create("student")
        token = csrf_token(client.get("/auth/sign-in").text)
        client.post("/auth/sign-in", data={"email": "student@example.org", "password": PASSWORD, "csrf_token": token})
        module = catalog.modules[0]
        page = client.get(url("module", module.id)).text
        refused = client.post(url("module", module.id), data={"body": "forged"})
        assert refused.status_code == 400 and "Nothing was saved" in refused.text
        assert rows(db, Reflection) == 0
        accepted = client.post(url("module", module.id), data={"body": "real", "csrf_token": csrf_token(page)})
        assert accepted.status_code == 302 and rows(db, Reflection) == 1
        assert client.post(url("module", module.id) + "/delete").status_code == 400
        assert rows(db, Reflection) == 1
