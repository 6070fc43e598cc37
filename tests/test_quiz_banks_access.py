"""Who may download a quiz's bank: educators and admins, like the quiz previews; students and visitors never."""

import io
import zipfile

import pytest

from tests.test_access import ROLES, Case, assert_friendly_error, assert_outcome, become, teaching

BANK = ("bank", None)

CASES = [Case("/teach/quizzes/<quiz_id>/bank/<format_name>", "GET", teaching(BANK))]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_quiz_bank_route_answers_each_role_as_expected(client, auth, catalog, case, role):
    user = become(role, auth)
    quiz = catalog.quizzes[0]
    path = f"/teach/quizzes/{quiz.id}/bank/gift"
    response = client.open(path, method=case.method)
    kind, value = case.expect[role]
    if kind == "bank":
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == f'attachment; filename="{quiz.id}.gift.txt"'
        assert f"::{quiz.items[0].id}::[html]" in response.text
    else:
        assert assert_outcome(response, kind, value, None, user, path), f"no check for outcome {kind!r}"


@pytest.mark.parametrize(
    ("format_name", "media_type", "extension"),
    [
        ("gift", "text/plain", "gift.txt"),
        ("moodle-xml", "application/xml", "moodle.xml"),
        ("qti21", "application/zip", "qti21.zip"),
    ],
)
def test_an_educator_downloads_each_format(client, auth, catalog, format_name, media_type, extension):
    auth.as_role("educator")
    quiz = catalog.quizzes[0]
    response = client.get(f"/teach/quizzes/{quiz.id}/bank/{format_name}")
    assert response.status_code == 200 and response.mimetype == media_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="{quiz.id}.{extension}"'
    if format_name == "qti21":
        names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
        assert names == ["imsmanifest.xml", "assessment.xml"] + [f"items/{item.id}.xml" for item in quiz.items]
    elif format_name == "moodle-xml":
        assert (
            response.data.startswith(b"<?xml") and f"<idnumber>{quiz.items[0].id}</idnumber>".encode() in response.data
        )


@pytest.mark.parametrize("path", ["/teach/quizzes/no-such-quiz/bank/gift", "/teach/quizzes/{quiz}/bank/pdf"])
def test_an_unknown_quiz_or_format_is_a_friendly_404(client, auth, catalog, path):
    auth.as_role("educator")
    response = client.get(path.format(quiz=catalog.quizzes[0].id))
    assert_friendly_error(response, 404)


def test_the_course_builder_offers_each_quizs_bank_beside_it(client, auth, catalog):
    auth.as_role("educator")
    quiz, module = catalog.quizzes[0], catalog.modules[0]
    course_path = client.post("/teach/courses/new", data={"title": "Banks", "description": ""}).headers["Location"]
    client.post(f"{course_path}/items", data={"choice": [f"quiz:{quiz.id}", f"module:{module.id}"], "is_required": "y"})
    page = client.get(course_path).text
    for format_name in ("gift", "moodle-xml", "qti21"):
        assert page.count(f'href="/teach/quizzes/{quiz.id}/bank/{format_name}" download') == 1
    assert page.count("Download for another platform") == 1  # beside the quiz, not the module


def test_the_course_builder_says_plainly_what_a_harmful_reply_costs_in_the_downloads(client, auth, catalog):
    import re
    from html import unescape

    auth.as_role("educator")
    quiz, module = catalog.quizzes[0], catalog.modules[0]
    course_path = client.post("/teach/courses/new", data={"title": "Banks", "description": ""}).headers["Location"]
    client.post(f"{course_path}/items", data={"choice": [f"module:{module.id}"], "is_required": "y"})
    assert "harmful" not in client.get(course_path).text  # no quiz, nothing to download, nothing to explain
    client.post(f"{course_path}/items", data={"choice": [f"quiz:{quiz.id}"], "is_required": "y"})
    note = " ".join(re.sub(r"<[^>]+>", " ", unescape(client.get(course_path).text)).split())
    assert "Here a harmful reply scores 0" in note
    # The penalty the page states is the one the downloaded files carry.
    stated = re.search(r"a harmful reply is a penalty: it is worth (-\d+)% of the question’s mark", note).group(1)
    gift = client.get(f"/teach/quizzes/{quiz.id}/bank/gift").text
    moodle = client.get(f"/teach/quizzes/{quiz.id}/bank/moodle-xml").text
    assert f"harmful {stated}%" in gift and f"harmful {stated}%" in moodle
    harmful = [
        o
        for item in quiz.items
        if hasattr(item, "options")
        for o in item.options
        if getattr(o, "grade", None) == "harmful"
    ]
    assert harmful and f"~%{stated}%" in gift
