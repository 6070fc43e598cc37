"""SCORM packages played in real Chromium under an independent run-time: npm `scorm-again` as the LMS.

A loopback static server serves a parent page that makes scorm-again the platform's API (window.API
for 1.2, window.API_1484_11 for 2004) and opens the unzipped package in a frame. The learner reads
every lesson, answers the quiz and leaves; the test then reads the calls the package made and the
final cmi values from scorm-again, and compares the scores with the server's grader.
"""

import dataclasses
import functools
import io
import json
import math
import re
import shutil
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.content import content_dirs, load_once
from app.exchange.scorm import package
from app.extensions import db
from app.services import accounts
from tests.browser.checks import assert_accessible
from tests.browser.conftest import PASSWORD, TIMEOUT_MS, Learner, signed_in_cookies
from tests.test_scorm_grading import server_result

SCORM_AGAIN = Path(__file__).resolve().parents[2] / "node_modules" / "scorm-again" / "dist" / "scorm-again.min.js"
CATALOG = load_once(content_dirs())
#: A standard-marked quiz for 1.2 and a certainty-marked one for 2004; both have items of every type.
MODULES = {"1.2": "developing-the-alliance", "2004": "the-evidence"}
CALLS = {
    "1.2": ("LMSInitialize", "LMSGetValue", "LMSSetValue", "LMSCommit", "LMSFinish"),
    "2004": ("Initialize", "GetValue", "SetValue", "Commit", "Terminate"),
}
INTERACTION_TYPES = {
    "scenario": "choice",
    "multiple_response": "choice",
    "ordering": "sequencing",
    "matching": "matching",
}

LMS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test platform</title>
<script src="scorm-again.min.js"></script><script src="lms.js"></script></head>
<body><main><h1>Test platform</h1></main></body></html>"""
# The platform: scorm-again as the API, every call logged with its answer and error code, the package in a frame.
LMS_SCRIPT = """
const params = new URLSearchParams(location.search);
const version = params.get("v");
const api = version === "1.2" ? new Scorm12API({logLevel: 5}) : new Scorm2004API({logLevel: 5});
if (window.RESUME) api.loadFromJSON(window.RESUME, "");
const names = version === "1.2"
  ? ["LMSInitialize", "LMSGetValue", "LMSSetValue", "LMSCommit", "LMSFinish"]
  : ["Initialize", "GetValue", "SetValue", "Commit", "Terminate"];
const lastError = version === "1.2" ? "LMSGetLastError" : "GetLastError";
window.calls = [];
for (const name of names) {
  const real = api[name].bind(api);
  api[name] = (...args) => {
    const result = real(...args);
    window.calls.push({name, args, result: String(result), error: String(api[lastError]())});
    return result;
  };
}
window[version === "1.2" ? "API" : "API_1484_11"] = api;
window.lms = api;
addEventListener("DOMContentLoaded", () => {
  const frame = document.createElement("iframe");
  frame.id = "sco";
  frame.title = "The package";
  frame.style.width = "1200px";
  frame.style.height = "700px";
  frame.src = params.get("pkg") + "/index.html";
  document.querySelector("main").appendChild(frame);
});
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        """No log line per file."""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """A loopback static server holding the test platform and both versions' packages, unzipped."""
    root = tmp_path_factory.mktemp("scorm-platform")
    if not SCORM_AGAIN.is_file():
        pytest.fail(f"scorm-again is missing at {SCORM_AGAIN}: run `npm ci` in the repository root.")
    shutil.copy(SCORM_AGAIN, root / "scorm-again.min.js")
    (root / "lms.html").write_text(LMS_PAGE)
    (root / "lms.js").write_text(LMS_SCRIPT)
    for version, module_id in MODULES.items():
        data = package.build(CATALOG, module_id, version)
        zipfile.ZipFile(io.BytesIO(data)).extractall(root / f"p{version}")
    lessons_only = dataclasses.replace(CATALOG, quizzes=())
    zipfile.ZipFile(io.BytesIO(package.build(lessons_only, MODULES["1.2"], "1.2"))).extractall(root / "lessons-only")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def tab(browser):
    """A fresh browser context and page (no app server needed: the package is static)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def answers_for(quiz, passing: bool) -> dict:
    """The answer key, or an answer worth nothing for every item."""
    return {
        item.id: item.handler.right_answer(item) if passing else item.handler.wrong_answer(item) for item in quiz.items
    }


def read_lessons(content, module) -> None:
    """Read the module through with each lesson's Next link, ending on the quiz."""
    for lesson in module.lessons:
        expect(content.get_by_role("heading", level=1, name=lesson.title)).to_be_visible()
        content.get_by_role("link", name=re.compile(r"^Next: ")).click()


def answer_quiz(content, quiz, answers: dict, confidence: str | None, count: int | None = None) -> None:
    """Answer every item (or the first `count`) through its labelled controls, and how sure when asked."""
    helper = Learner(None, None)
    total = len(quiz.items)
    for number, item in enumerate(quiz.items[:count], start=1):
        group = content.get_by_role("group", name=re.compile(rf"^Item {number} of {total}\."))
        helper.answer_item(group, item, answers[item.id])
        if confidence:
            content.get_by_role("group", name=f"How sure are you of your answer to item {number}?").get_by_role(
                "radio", name=confidence, exact=True
            ).check()


def leave(tab) -> None:
    """The learner leaves: the platform closes the package's frame, which ends the session."""
    tab.evaluate("document.getElementById('sco').remove()")


def lms_state(tab) -> tuple[list[dict], dict]:
    """The calls the package made, and the final cmi values scorm-again holds."""
    return tab.evaluate("window.calls"), tab.evaluate("JSON.parse(JSON.stringify(window.lms.cmi))")


def play(tab, platform, version: str, passing: bool):
    """One whole attempt: open the package in the platform, read every lesson, answer the quiz, submit, leave."""
    module = CATALOG.module(MODULES[version])
    quiz = CATALOG.first_quiz_for(module.id)
    tab.goto(f"{platform}/lms.html?v={version}&pkg=p{version}")
    shell = tab.frame_locator("#sco")
    content = shell.frame_locator("#content")
    read_lessons(content, module)
    expect(content.get_by_role("heading", level=1, name=quiz.title)).to_be_visible()
    answers = answers_for(quiz, passing)
    cbm = quiz.marking == "certainty"
    answer_quiz(content, quiz, answers, "Very sure" if cbm else None)
    content.get_by_role("button", name="Submit answers").click()
    verdict = "You passed." if passing else "You did not pass this time."
    expect(content.get_by_text(verdict)).to_be_visible()
    expect(shell.get_by_role("status")).to_contain_text(
        f"Lessons seen: {len(module.lessons)} of {len(module.lessons)}."
    )
    leave(tab)
    calls, cmi = lms_state(tab)
    confidence = {item.id: 3 for item in quiz.items} if cbm else {}
    return module, quiz, answers, server_result(quiz, answers, confidence), calls, cmi


def assert_sequence(calls: list[dict], version: str) -> None:
    """Initialize first, Terminate last, each once; every call accepted; a commit before the end."""
    initialize, get, set_, commit, finish = CALLS[version]
    names = [c["name"] for c in calls]
    assert names[0] == initialize and names.count(initialize) == 1
    assert names[-1] == finish and names.count(finish) == 1
    assert names[-2] == commit
    refused = [c for c in calls if c["name"] != get and c["result"] != "true"]
    assert not refused, f"the platform refused: {refused[:5]}"
    sets = [c for c in calls if c["name"] == set_]
    assert sets and all(c["error"] == "0" for c in sets)


def suspend_state(text: str, module, passing_submitted: bool = True) -> None:
    """The bookmark says every lesson was seen and the quiz submitted, within SCORM 1.2's 4,096 characters."""
    assert len(text) <= 4096
    version, seen, _, submitted = text.split("|")
    assert version == "A1" and seen == "1" * len(module.lessons) and submitted == "1"


@pytest.mark.parametrize("passing", [True, False], ids=["passed", "failed"])
def test_a_scorm_12_attempt_reports_status_score_and_one_interaction_per_item(tab, platform, passing):
    module, quiz, answers, expected, calls, cmi = play(tab, platform, "1.2", passing)
    assert_sequence(calls, "1.2")
    core = cmi["core"]
    assert core["lesson_status"] == ("passed" if passing else "failed")
    assert core["lesson_location"] == "quiz"
    assert core["exit"] == ""
    assert float(core["score"]["raw"]) == math.floor(min(100, max(0, expected["percent"])) * 100) / 100
    assert (core["score"]["min"], core["score"]["max"]) == ("0", "100")
    assert expected["is_passed"] is passing
    interactions = [cmi["interactions"][str(n)] for n in range(len(cmi["interactions"]))]
    assert len(interactions) == len(quiz.items)
    for item, interaction, graded in zip(quiz.items, interactions, expected["items"], strict=True):
        assert interaction["id"] == item.id
        assert interaction["type"] == INTERACTION_TYPES[item.type]
        assert float(interaction["weighting"]) == item.max_score
        pattern = interaction["correct_responses"]["0"]["pattern"]
        response = interaction["student_response"]
        # SCORM 1.2: choices and steps are single characters; a match is two joined by a period.
        one = r"[0-9a-z]" if item.type != "matching" else r"[0-9a-z]\.[0-9a-z]"
        assert re.fullmatch(rf"{one}(,{one})*", response) and re.fullmatch(rf"{one}(,{one})*", pattern)
        assert (response == pattern) is passing
        assert interaction["result"] == ("correct" if graded["is_correct"] else "wrong")
        assert re.fullmatch(r"\d\d:\d\d:\d\d", interaction["time"])
    suspend_state(cmi["suspend_data"], module)


@pytest.mark.parametrize("passing", [True, False], ids=["passed", "failed"])
def test_a_scorm_2004_attempt_reports_completion_success_scores_and_interactions(tab, platform, passing):
    module, quiz, answers, expected, calls, cmi = play(tab, platform, "2004", passing)
    assert_sequence(calls, "2004")
    assert quiz.marking == "certainty"
    assert cmi["completion_status"] == "completed"
    assert cmi["success_status"] == ("passed" if passing else "failed")
    assert cmi["location"] == "quiz" and cmi["exit"] == "normal"
    assert float(cmi["progress_measure"]) == 1.0
    score = cmi["score"]
    assert float(score["scaled"]) == expected["scaled"]
    assert float(score["raw"]) == round(expected["score"], 4)
    assert (float(score["min"]), float(score["max"])) == (expected["min"], expected["max"])
    # Every answer wrong at "very sure": the lowest mark there is; all right: the highest.
    assert float(score["raw"]) == (expected["max"] if passing else expected["min"])
    interactions = [cmi["interactions"][str(n)] for n in range(len(cmi["interactions"]))]
    assert len(interactions) == len(quiz.items)
    for item, interaction, graded in zip(quiz.items, interactions, expected["items"], strict=True):
        assert interaction["id"] == f"urn:alliance:{quiz.id}:{item.id}"
        assert interaction["type"] == INTERACTION_TYPES[item.type]
        assert interaction["description"] and interaction["description"] in re.sub(r"<[^>]+>", "", item.prompt_html)
        pattern = interaction["correct_responses"]["0"]["pattern"]
        response = interaction["learner_response"]
        assert (response == pattern) is passing
        assert interaction["result"] == ("correct" if graded["is_correct"] else "incorrect")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", interaction["timestamp"])
    suspend_state(cmi["suspend_data"], module)


def test_a_module_without_a_quiz_is_completed_once_every_lesson_is_read(tab, platform):
    module = CATALOG.module(MODULES["1.2"])
    tab.goto(f"{platform}/lms.html?v=1.2&pkg=lessons-only")
    content = tab.frame_locator("#sco").frame_locator("#content")
    for lesson in module.lessons[:-1]:
        expect(content.get_by_role("heading", level=1, name=lesson.title)).to_be_visible()
        content.get_by_role("link", name=re.compile(r"^Next: ")).click()
    expect(content.get_by_role("heading", level=1, name=module.lessons[-1].title)).to_be_visible()
    expect(tab.frame_locator("#sco").get_by_role("status")).to_contain_text(
        f"Lessons seen: {len(module.lessons)} of {len(module.lessons)}."
    )
    leave(tab)
    calls, cmi = lms_state(tab)
    assert_sequence(calls, "1.2")
    assert cmi["core"]["lesson_status"] == "completed" and cmi["core"]["exit"] == ""
    assert cmi["core"]["lesson_location"] == f"lesson-{len(module.lessons)}"
    assert cmi["interactions"] == {} and cmi["core"]["score"]["raw"] == ""


def test_a_learner_who_leaves_mid_quiz_comes_back_to_their_answers(tab, platform):
    module, quiz = CATALOG.module(MODULES["1.2"]), CATALOG.first_quiz_for(MODULES["1.2"])
    tab.goto(f"{platform}/lms.html?v=1.2&pkg=p1.2")
    shell = tab.frame_locator("#sco")
    content = shell.frame_locator("#content")
    content.get_by_role("link", name=re.compile(r"^Next: ")).click()  # lesson 1 read, on to lesson 2
    shell.get_by_role("link", name=f"Quiz: {quiz.title}").click()
    answers = answers_for(quiz, passing=True)
    first_three = quiz.items[:3]
    answer_quiz(content, quiz, answers, None, count=3)
    leave(tab)
    calls, cmi = lms_state(tab)
    assert cmi["core"]["exit"] == "suspend" and cmi["core"]["lesson_status"] == "incomplete"
    assert cmi["core"]["lesson_location"] == "quiz"
    assert [c["name"] for c in calls][-1] == "LMSFinish"

    # The next session: the platform hands back the bookmark, and the package opens where the learner was.
    saved = {"suspend_data": cmi["suspend_data"], "core": {"lesson_location": "quiz", "entry": "resume"}}
    tab.add_init_script(f"window.RESUME = {json.dumps(saved)};")
    tab.goto(f"{platform}/lms.html?v=1.2&pkg=p1.2")
    expect(content.get_by_role("heading", level=1, name=quiz.title)).to_be_visible()
    helper = Learner(None, None)
    assert any(item.type == "scenario" for item in first_three)
    for number, item in enumerate(first_three, start=1):
        group = content.get_by_role("group", name=re.compile(rf"^Item {number} of {len(quiz.items)}\."))
        if item.type == "scenario":
            expect(
                group.get_by_role("radio", name=helper.text_of(item.option(answers[item.id]).text_html))
            ).to_be_checked()
    contents = shell.get_by_role("navigation", name="Module contents")
    expect(contents.get_by_role("link", name=f"1. {module.lessons[0].title}")).to_have_class(re.compile("seen"))
    expect(contents.get_by_role("link", name=f"3. {module.lessons[2].title}")).not_to_have_class(re.compile("seen"))


def test_the_package_pages_are_accessible_at_desktop_and_phone_widths(tab, platform, axe_path):
    base = f"{platform}/p2004"
    module = CATALOG.module(MODULES["2004"])
    quiz = CATALOG.first_quiz_for(module.id)
    for width in (1280, 375):
        tab.set_viewport_size({"width": width, "height": 800})
        for name in ("index.html", "lesson-1.html", "lesson-2.html", "glossary.html", "quiz.html"):
            tab.goto(f"{base}/{name}")
            if name == "index.html":
                expect(tab.get_by_role("status")).to_contain_text("No learning platform found")
            assert_accessible(tab, axe_path)
            tab.screenshot(path=f"/tmp/shots/scorm-{name.removesuffix('.html')}-{width}.png", full_page=True)
        # The quiz refuses half an answer, then marks a whole one, outside a platform too.
        tab.get_by_role("button", name="Submit answers").click()
        expect(tab.get_by_role("alert")).to_contain_text("Item 1: it has no answer.")
        assert_accessible(tab, axe_path)
        answer_quiz(tab, quiz, answers_for(quiz, passing=True), "Fairly sure")
        tab.get_by_role("button", name="Submit answers").click()
        expect(tab.get_by_text("You passed.")).to_be_visible()
        expect(tab.get_by_text("the result is not recorded anywhere")).to_be_visible()
        assert_accessible(tab, axe_path)
        tab.screenshot(path=f"/tmp/shots/scorm-quiz-result-{width}.png", full_page=True)


def test_an_educator_downloads_a_package_from_the_module_page(browser, live_server, axe_path):
    with live_server.app.app_context():
        accounts.create_user("scorm.educator@example.org", "Scorm Educator", PASSWORD, role="educator")
        db.session.commit()
    account = type("Account", (), {"email": "scorm.educator@example.org", "password": PASSWORD})
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies(signed_in_cookies(browser, live_server, account))
    try:
        tab = context.new_page()
        module = live_server.catalog.modules[0]
        tab.goto(f"/learn/modules/{module.id}")
        section = tab.get_by_role("region", name="Use this module in your learning platform")
        for width in (1280, 375):
            tab.set_viewport_size({"width": width, "height": 800})
            section.scroll_into_view_if_needed()
            assert_accessible(tab, axe_path)
            tab.screenshot(path=f"/tmp/shots/scorm-module-page-{width}.png")
        with tab.expect_download() as download:
            section.get_by_role("link", name="Download SCORM 2004 package").click()
        assert download.value.suggested_filename == f"{module.id}-scorm-2004.zip"
        with zipfile.ZipFile(download.value.path()) as archive:
            assert "imsmanifest.xml" in archive.namelist() and "quiz.html" in archive.namelist()
    finally:
        context.close()
