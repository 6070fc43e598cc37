"""Files in and out of the editor: the export is a quiz file `alliance content check` passes, importing it gives
the same quiz, GIFT and Moodle XML banks come in as drafts, and every bad file gets a message, never a 500."""

import html
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.content import content_dirs
from app.content.loader import load_content
from app.models import AuthoredQuiz
from app.services import authoring
from tests.authoring_helpers import write_quiz


@pytest.fixture
def educator(auth):
    """A signed-in educator."""
    return auth.as_role("educator")


def upload(client, quiz_id: int, content: bytes, kind: str = "yaml", name: str = "quiz.yaml"):
    """Send a file to the import form."""
    return client.post(
        f"/author/{quiz_id}/import",
        data={"kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_export_passes_content_check_and_importing_it_gives_the_same_quiz(client, db, educator, catalog, tmp_path):
    quiz_id = write_quiz(client, items=3)
    exported = client.get(f"/author/{quiz_id}/export.yaml")
    assert exported.mimetype == "application/yaml"
    name = re.search(r'filename="([^"]+)"', exported.headers["Content-Disposition"])[1]
    assert name.startswith(f"a-{quiz_id}-") and name.endswith(".yaml")
    folder = tmp_path / "institution"
    folder.mkdir()
    (folder / name).write_bytes(exported.data)
    checked = load_content(content_dirs([folder]), explicit=frozenset([folder]))  # as `alliance content check` runs
    assert checked.errors == [], checked.errors
    written = checked.catalog.quiz(name.removesuffix(".yaml"))
    again = write_quiz(client, title="Empty", items=0)
    assert upload(client, again, exported.data).location == f"/author/{again}"
    original, imported = db.session.get(AuthoredQuiz, quiz_id), db.session.get(AuthoredQuiz, again)
    db.session.refresh(original)
    db.session.refresh(imported)
    assert {**imported.draft, "id": original.ref} == original.draft
    rebuilt = authoring.check(imported, catalog).quiz
    assert [(i.id, i.prompt_html, i.version) for i in rebuilt.items] == [
        (i.id, i.prompt_html, i.version) for i in written.items
    ]


def test_a_published_version_downloads_by_number(client, db, educator):
    quiz_id = write_quiz(client, items=3)
    client.post(f"/author/{quiz_id}/publish")
    client.post(f"/author/{quiz_id}", data={"title": "Renamed", "module": "bordin-components", "pass_mark": "70"})
    first = client.get(f"/author/{quiz_id}/export.yaml?version=1")
    assert "title: Goals in primary care" in first.text and first.headers["Content-Disposition"].endswith('-v1.yaml"')
    assert "title: Renamed" in client.get(f"/author/{quiz_id}/export.yaml").text
    for bad in ("2", "x", "-1", ""):
        assert client.get(f"/author/{quiz_id}/export.yaml?version={bad}").status_code == 404


def test_a_gift_bank_comes_in_as_a_draft_with_what_to_fill_in(client, db, educator):
    quiz_id = write_quiz(client, items=1)
    gift = "::Goals:: Which question opens agreement on goals? {=What matters most to you? ~Shall we start? ~Any questions?}\n"
    response = upload(client, quiz_id, gift.encode(), kind="gift", name="bank.gift")
    assert response.location == f"/author/{quiz_id}"
    page = client.get(response.location).text
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    db.session.refresh(quiz)
    assert quiz.draft["title"] == "Goals in primary care" and len(quiz.draft["items"]) == 1
    assert "Fill in:" in page and "problem" in page  # the checker lists what the bank could not give


BAD_FILES = [
    ("yaml", b"\xff\xfe\x00bad", "The file is not UTF-8 text."),
    ("yaml", b"items: [\n", "The file is not valid YAML at line"),
    ("yaml", b"- just\n- a list\n", "The file is YAML but not a quiz"),
    ("yaml", b"type: conversation\nitems: []\n", "holds a 'conversation', not a quiz"),
    ("yaml", b"a: &x [1, 2]\nb: *x\n", "The file uses YAML aliases"),
    ("yaml", b"   \n", "The file is empty."),
    ("gift", b"\x89PNG\r\n\x1a\n\x00\x00", "this is not a GIFT file: it holds binary data"),
    ("moodle", b"<html><body/></html>", "its root element is <html>, not <quiz>"),
]


@pytest.mark.parametrize(("kind", "content", "message"), BAD_FILES)
def test_a_bad_file_gets_a_clear_message_and_the_draft_is_untouched(client, db, educator, kind, content, message):
    quiz_id = write_quiz(client, items=1)
    response = upload(client, quiz_id, content, kind=kind)
    assert response.status_code == 422 and message in html.unescape(response.text)
    assert 'aria-describedby="import-file-error"' in response.text
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    db.session.refresh(quiz)
    assert len(quiz.draft["items"]) == 1


def test_no_file_a_too_large_file_and_an_unknown_kind_are_refused_with_a_message(client, educator):
    quiz_id = write_quiz(client, items=0)
    assert "Choose a file to import." in client.post(f"/author/{quiz_id}/import", data={"kind": "yaml"}).text
    assert "Choose what kind of file it is." in upload(client, quiz_id, b"x", kind="pdf").text
    big = upload(client, quiz_id, b"# " + b"x" * (1024 * 1024 + 10))
    assert big.status_code == 422 and "larger than 1024 KB" in big.text
    huge = upload(client, quiz_id, b"x" * (2 * 1024 * 1024))
    assert huge.status_code == 413


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400), kind=st.sampled_from(["yaml", "gift", "moodle"]))
def test_any_upload_gets_a_page_never_a_server_error(client, educator, content, kind):
    quiz_id = _one_quiz(client)
    response = upload(client, quiz_id, content, kind=kind)
    assert response.status_code in (302, 422), response.text[:300]
    assert client.get(f"/author/{quiz_id}").status_code == 200
    assert client.get(f"/author/{quiz_id}/preview").status_code in (200, 409)


_made: dict[int, int] = {}


def _one_quiz(client) -> int:
    """One quiz per client, reused across Hypothesis examples."""
    key = id(client)
    if key not in _made:
        _made[key] = write_quiz(client, items=0)
    return _made[key]
