"""The quiz editor as an educator uses it: lint at every field on save, publishing and its rules, sharing,
what students see (never a draft), and text that cannot run script in anyone's browser."""

import html as html_lib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.models import AuthoredQuiz, AuthoredVersion
from app.services import authoring
from tests.authoring_helpers import scenario_form, write_quiz
from tests.helpers import rows


@pytest.fixture
def educator(auth):
    """A signed-in educator."""
    return auth.as_role("educator")


def field_error(html: str, anchor: str) -> str:
    """The error shown at a field: its message, checked to be tied to the input by aria-describedby."""
    found = re.search(
        rf'<p class="error" id="{anchor}-error"><span class="visually-hidden">Error:</span> ([^<]+)', html
    )
    assert found, f"no error at {anchor}"
    tag = re.search(rf'<(\w+) [^>]*id="{anchor}"[^>]*>', html)
    assert re.search(rf'aria-describedby="[^"]*{anchor}-error"', tag[0])
    assert tag[1] == "fieldset" or 'aria-invalid="true"' in tag[0]
    return html_lib.unescape(found[1])


def test_a_missing_feedback_is_shown_at_its_field_and_in_the_summary_and_stops_publishing(client, db, educator):
    quiz_id = write_quiz(client, items=3)
    broken = scenario_form(1) | {"options.2.feedback": ""}
    assert client.post(f"/author/{quiz_id}/items/2", data=broken).status_code == 302
    item_page = client.get(f"/author/{quiz_id}/items/2").text
    assert "option 3 has no feedback" in field_error(item_page, "f-options-2-feedback")
    assert "<title>Error: Item 2 of Goals in primary care" in item_page
    quiz_page = client.get(f"/author/{quiz_id}").text
    assert "1 problem to fix before publishing" in quiz_page
    assert re.search(
        rf'<a href="/author/{quiz_id}/items/2#f-options-2-feedback">Item 2: [^<]*option 3 has no feedback', quiz_page
    )
    assert '<button type="submit" class="button" disabled>Publish</button>' in quiz_page
    refused = client.post(f"/author/{quiz_id}/publish", follow_redirects=True)
    assert "The draft has 1 problem to fix before it can be published." in refused.text
    assert rows(db, AuthoredVersion) == 0
    assert client.post(f"/author/{quiz_id}/items/2", data=scenario_form(1)).status_code == 302
    assert "The checker finds no problems" in client.get(f"/author/{quiz_id}").text
    assert client.post(f"/author/{quiz_id}/publish").location == f"/author/{quiz_id}/history"
    assert rows(db, AuthoredVersion) == 1


@pytest.mark.parametrize(
    ("change", "anchor", "message"),
    [
        (
            {"options.0.competencies": "bordin.goals, made.up"},
            "f-options-0-competencies",
            "unknown competency id 'made.up'",
        ),
        ({"prompt": ""}, "f-prompt", "is missing 'prompt'"),
        ({"vignette.says": ""}, "f-vignette-says", "is missing 'says'"),
        ({"options.1.grade": ""}, "f-options-1-grade", "'grade' must be one of best"),
        ({"options.2.grade": "unhelpful"}, "f-options", "needs exactly one option graded 'best', not 0"),
        ({"options.3.feedback": "Serves [[bordin.goals]] well"}, "f-options-3-feedback", "works only in lessons"),
    ],
)
def test_each_kind_of_problem_is_shown_at_the_field_it_is_about(client, educator, change, anchor, message):
    quiz_id = write_quiz(client, items=1)
    client.post(f"/author/{quiz_id}/items/1", data=scenario_form(0) | change)
    assert message in field_error(client.get(f"/author/{quiz_id}/items/1").text, anchor)


def test_settings_are_checked_at_their_fields(client, educator):
    quiz_id = write_quiz(client, items=1)
    client.post(f"/author/{quiz_id}", data={"title": "", "module": "bordin-components", "pass_mark": "lots"})
    page = client.get(f"/author/{quiz_id}").text
    assert "is missing 'title'" in field_error(page, "f-title")
    assert "'pass_mark' must be a whole number from 1 to 100, not 'lots'" in field_error(page, "f-pass-mark")


def test_every_item_type_can_be_written_in_its_form_and_passes_the_checker(client, db, educator, catalog):
    quiz_id = write_quiz(client, items=1)
    forms = {
        "ordering": {
            "prompt": "Put the steps of agreeing a goal in order.",
            "competencies": "bordin.goals",
            "feedback": "Ask first, then agree, then plan, then review.",
            **{f"steps.{n}": step for n, step in enumerate(["Ask what matters", "Agree a goal", "Plan the steps", "Review"])},
        },
        "matching": {
            "prompt": "Match each part of the alliance with what it is about.",
            "competencies": "bordin.goals, bordin.tasks, bordin.bond",
            "feedback": "Bordin names three parts: goals, tasks and the bond.",
            "pairs.0.prompt": "Goals", "pairs.0.answer": "What therapy is for",
            "pairs.1.prompt": "Tasks", "pairs.1.answer": "What each person does",
            "pairs.2.prompt": "Bond", "pairs.2.answer": "Trust and liking",
            "distractors.0": "How long sessions last",
        },
        "multiple_response": {
            "prompt": "Which of these build agreement on goals?",
            "competencies": "bordin.goals",
            "options.0.text": "Asking what matters to the patient", "options.0.correct": "yes",
            "options.0.feedback": "It starts from the patient's view.",
            "options.1.text": "Setting the target for them", "options.1.correct": "no",
            "options.1.feedback": "The target is then yours, not shared.",
            "options.2.text": "Checking the goal together later", "options.2.correct": "yes",
            "options.2.feedback": "Reviewing keeps the goal shared.",
        },
    }  # fmt: skip
    for item_type, form in forms.items():
        location = client.post(f"/author/{quiz_id}/items", data={"type": item_type}).location
        client.post(location, data=form)
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    db.session.refresh(quiz)
    checked = authoring.check(quiz, catalog)
    assert checked.errors == [], checked.errors
    assert [i.type for i in checked.quiz.items] == ["scenario", "ordering", "matching", "multiple_response"]
    page = client.get(f"/author/{quiz_id}/items/3").text
    assert 'value="What therapy is for"' in page and 'value="How long sessions last"' in page


def test_items_move_duplicate_and_delete_keeping_their_ids(client, db, educator):
    quiz_id = write_quiz(client, items=3)

    def ids() -> list[str]:
        quiz = db.session.get(AuthoredQuiz, quiz_id)
        db.session.refresh(quiz)
        return [i["id"] for i in quiz.draft["items"]]

    assert ids() == ["i1", "i2", "i3"]
    assert client.post(f"/author/{quiz_id}/items/1/move", data={"direction": "down"}).location.endswith("#item-2")
    assert ids() == ["i2", "i1", "i3"]
    client.post(f"/author/{quiz_id}/items/3/move", data={"direction": "down"})  # already last: stays
    assert ids() == ["i2", "i1", "i3"]
    client.post(f"/author/{quiz_id}/items/1/duplicate")
    assert ids() == ["i2", "i4", "i1", "i3"]
    assert "will be removed from the draft" in client.get(f"/author/{quiz_id}/items/4/delete").text
    client.post(f"/author/{quiz_id}/items/4/delete")
    client.post(f"/author/{quiz_id}/items", data={"type": "scenario"})
    assert ids() == ["i2", "i4", "i1", "i5"]  # a deleted item's id is never given to a new one
    assert client.get(f"/author/{quiz_id}/items/9").status_code == 404
    assert client.post(f"/author/{quiz_id}/items/9/move", data={"direction": "up"}).status_code == 404


def test_publishing_makes_immutable_numbered_versions_and_refuses_an_unchanged_draft(client, db, educator):
    quiz_id = write_quiz(client, items=3)
    client.post(f"/author/{quiz_id}/publish")
    again = client.post(f"/author/{quiz_id}/publish", follow_redirects=True)
    assert "Nothing has changed since version 1, so there is nothing to publish." in again.text
    client.post(
        f"/author/{quiz_id}", data={"title": "Goals in primary care", "module": "bordin-components", "pass_mark": "80"}
    )
    client.post(f"/author/{quiz_id}/publish")
    versions = db.session.scalars(select(AuthoredVersion).order_by(AuthoredVersion.number)).all()
    assert [(v.number, v.published_by_id, v.content["pass_mark"]) for v in versions] == [
        (1, educator.id, 70),
        (2, educator.id, 80),
    ]
    assert versions[0].content_version != versions[1].content_version
    history = client.get(f"/author/{quiz_id}/history").text
    assert "Published" in history and f"by {educator.display_name}" in history
    assert re.search(r'<tr class="diff-removed">\s*<td>Removed</td>\s*<td><code>pass_mark: 70</code>', history)
    assert re.search(r'<tr class="diff-added">\s*<td>Added</td>\s*<td><code>pass_mark: 80</code>', history)
    versions[0].content = {"changed": True}
    with pytest.raises(ValueError, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()


def test_only_owners_and_co_editors_open_a_quiz_and_only_the_owner_shares_it(client, auth, db):
    owner = auth.as_role("educator")
    quiz_id = write_quiz(client, items=1)
    colleague = auth.create("educator", email="colleague@example.org", name="Colleague")
    student = auth.create("student", email="learner@example.org", name="Learner")
    refused = client.post(f"/author/{quiz_id}/share", data={"email": student.email}, follow_redirects=True)
    assert "Learner is not an educator: only educators can edit quizzes." in refused.text
    unknown = client.post(f"/author/{quiz_id}/share", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert "No account has that email address" in unknown.text
    client.post(f"/author/{quiz_id}/share", data={"email": "Colleague@Example.org"})
    auth.sign_out()
    auth.sign_in(colleague.email)
    assert "Goals in primary care" in client.get("/author/").text.split("Shared with you")[1]
    assert client.get(f"/author/{quiz_id}/items/1").status_code == 200
    assert client.post(f"/author/{quiz_id}/share", data={"email": "x@example.org"}).status_code == 403
    auth.sign_out()
    auth.sign_in(owner.email)
    client.post(f"/author/{quiz_id}/share/{colleague.id}/remove")
    auth.sign_out()
    auth.sign_in(colleague.email)
    assert client.get(f"/author/{quiz_id}").status_code == 404
    assert "Goals in primary care" not in client.get("/author/").text


def test_students_never_see_a_draft_and_see_a_published_version_once_published(client, auth, db):
    auth.as_role("educator")
    quiz_id = write_quiz(client, items=3)
    ref = db.session.get(AuthoredQuiz, quiz_id).ref
    assert ref.startswith(f"a-{quiz_id}-goals-in-primary-care")
    auth.sign_out()
    auth.as_role("student")
    assert client.get(f"/learn/quizzes/{ref}").status_code == 404
    assert client.get(f"/author/{quiz_id}/preview").status_code == 403
    auth.sign_out()
    auth.sign_in("educator@example.org")
    client.post(f"/author/{quiz_id}/publish")
    client.post(f"/author/{quiz_id}/items/1", data=scenario_form(0) | {"prompt": "A draft-only prompt?"})
    auth.sign_out()
    auth.sign_in("student@example.org")
    published = client.get(f"/learn/quizzes/{ref}")
    assert published.status_code == 200 and "Goals in primary care" in published.text
    start = client.post(f"/learn/quizzes/{ref}/attempts")
    attempt = client.get(start.location).text
    assert "What do you say next?" in attempt and "A draft-only prompt?" not in attempt


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>[link](javascript:alert(1))'


def test_script_typed_into_any_field_never_runs_for_author_or_learner(client, auth, db):
    auth.as_role("educator")
    quiz_id = write_quiz(client, items=3)
    client.post(
        f"/author/{quiz_id}",
        data={"title": f"Title {XSS}", "module": "bordin-components", "pass_mark": "70", "intro": f"Intro {XSS}"},
    )
    payloaded = {
        key: (value if key.endswith((".grade", ".competencies")) else f"{value} {XSS}")
        for key, value in scenario_form(0).items()
    }
    client.post(f"/author/{quiz_id}/items/1", data=payloaded)
    pages = [client.get(f"/author/{quiz_id}{suffix}").text for suffix in ("", "/items/1", "/preview", "/history")]
    pages.append(client.get("/author/").text)
    assert client.post(f"/author/{quiz_id}/publish").status_code == 302
    pages.append(client.get(f"/author/{quiz_id}/history").text)
    ref = db.session.get(AuthoredQuiz, quiz_id).ref
    auth.sign_out()
    auth.as_role("student")
    pages.append(client.get(f"/learn/quizzes/{ref}").text)
    attempt = client.post(f"/learn/quizzes/{ref}/attempts").location
    pages.append(client.get(attempt).text)
    answers = {"item-i1": "c", "item-i2": "a", "item-i3": "b"}
    results = client.post(attempt, data=answers).location
    pages.append(client.get(results).text)
    for html in pages:
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert 'href="javascript:' not in html
    assert "Intro" in pages[-3] and "alert" in pages[-2]  # the text is shown, as text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.dictionaries(
        st.sampled_from(sorted(scenario_form(0)) + ["steps.0", "pairs.0.prompt", "options.0.correct", "competencies"]),
        st.text(max_size=300),
        max_size=12,
    ),
    item_type=st.sampled_from(["scenario", "ordering", "matching", "multiple_response"]),
)
def test_whatever_is_typed_into_an_item_form_is_saved_and_checked_never_a_server_error(
    client, educator, values, item_type
):
    quiz_id = _quiz_for(client)
    location = client.post(f"/author/{quiz_id}/items", data={"type": item_type}).location
    saved = client.post(location, data=values)
    if any("\x00" in value for value in values.values()):
        # A NUL character is refused before any view, with a page that says so (app/errors.py).
        assert saved.status_code == 400 and "Traceback" not in saved.text
    else:
        assert saved.status_code == 302
    assert client.get(location).status_code == 200
    assert client.get(f"/author/{quiz_id}").status_code == 200
    assert client.get(f"/author/{quiz_id}/preview").status_code in (200, 409)
    client.post(f"{location}/delete")


_quizzes: dict[int, int] = {}


def _quiz_for(client) -> int:
    """One quiz per test client, reused by the Hypothesis examples."""
    if id(client) not in _quizzes:
        _quizzes[id(client)] = write_quiz(client, items=0)
    return _quizzes[id(client)]
