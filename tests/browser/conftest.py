"""Real-browser fixtures: the app on a live local server (SQLite, CSRF on) and headless Chromium.

The tests here drive /usr/bin/chromium through Playwright's sync API. Nothing is downloaded:
`playwright install` is never needed. A missing browser or axe-core fails the run loudly.
"""

import html
import itertools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as exc:  # pragma: no cover - a broken environment, reported loudly
    raise ImportError("The browser tests need the playwright package: pip install -e '.[test]'") from exc

from app import create_app
from app.extensions import db as _db
from app.services import accounts

CHROMIUM = Path("/usr/bin/chromium")
# Chromium keeps only the last --disable-features it is given, so ours repeats Playwright's own list
# (playwright-core's chromiumSwitches.ts, as of 1.65) and adds the omnibox popup: since Chromium ~150 each
# window draws it as a hidden WebUI page, about 0.7 CPU-seconds for every browser context the tests open
# (measured: 30 contexts cost 29-33 CPU-s with it, 9 without), a third of the suite's Chromium time.
_DISABLED_FEATURES = [
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "SkipListAccountsWithoutGaiaCookies",
    "WebUIOmniboxPopup",
    "WebUIOmniboxAimPopup",
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    f"--disable-features={','.join(_DISABLED_FEATURES)}",
]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
TIMEOUT_MS = 5_000  # a local server answers in milliseconds; fail fast instead of waiting 30 s

_account_numbers = itertools.count(1)


@dataclass(frozen=True)
class Student:
    """An account the tests can sign in with."""

    email: str
    name: str
    password: str = PASSWORD


@dataclass(frozen=True)
class LiveServer:
    """The running app: its base URL and the Flask app behind it."""

    url: str
    app: Flask

    @property
    def catalog(self):
        """The content catalog the server renders."""
        return self.app.extensions["alliance.catalog"]

    def create_student(self, label: str = "student") -> Student:
        """A new student account written straight to the database (for tests that only need to sign in)."""
        number = next(_account_numbers)
        student = Student(email=f"{label}-{number}@example.org", name=f"{label.title()} {number}")
        with self.app.app_context():
            accounts.create_user(student.email, student.name, student.password)
            _db.session.commit()
        return student


class _QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (errors are still logged)."""

    def log_request(self, code="-", size="-") -> None:
        """Skip the access log."""


def _settings(url: str) -> dict:
    """Like tests/conftest.py's settings, but with CSRF protection on, as in production."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": True,
        "PASSWORD_MIN_LENGTH": 10,
        "RATELIMIT_ENABLED": False,  # the suite signs in more often than a person may; tests/test_rate_limit.py covers limits
        # Production's hashing costs 0.5 CPU-s per account made and signed in, and the browser tests make
        # hundreds; what the browser sees does not depend on it (tests/test_passwords.py checks a site keeps the strong profile).
        "ARGON2_PROFILE": "CHEAPEST",
    }


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    """The app on a fresh, migrated SQLite file, served on a free loopback port for the whole session."""
    saved_instance = os.environ.get("ALLIANCE_INSTANCE_PATH")
    os.environ["ALLIANCE_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("browser-instance"))
    database = tmp_path_factory.mktemp("browser-db") / "browser.sqlite"
    try:
        app = create_app(_settings(f"sqlite:///{database}"))
        with app.app_context():
            upgrade()
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            with app.app_context():
                _db.engine.dispose()
    finally:
        if saved_instance is None:
            os.environ.pop("ALLIANCE_INSTANCE_PATH", None)
        else:
            os.environ["ALLIANCE_INSTANCE_PATH"] = saved_instance


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright, shared by the session."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM} (apt-get install chromium); it is missing.")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) and page, with relative URLs resolved against the live server."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 800},
        bypass_csp=True,  # axe is injected inline
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session", autouse=True)
def nu_checker():
    """The Nu HTML checker, one for the whole run: every page state the browser tests check with axe is validated too."""
    from tests.browser import checks, nu

    try:
        checker = nu.shared(Path(os.environ["ALLIANCE_NU_DIR"]))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    checks.NU = checker
    yield checker
    checks.NU = None  # the run's main process ends the checker (tests/conftest.py)


@pytest.fixture(scope="session")
def axe_path() -> Path:
    """The axe-core script injected into pages (installed by `npm ci` from package.json)."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` in the repository root.")
    return AXE


@pytest.fixture
def student(live_server) -> Student:
    """A fresh student account, not yet signed in."""
    return live_server.create_student()


@pytest.fixture
def learner(page, live_server) -> "Learner":
    """Actions of a student in the browser, found by role and label like a screen-reader user would."""
    return Learner(page, live_server)


def text_of(fragment: str) -> str:
    """The text a person reads in an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


class Learner:
    """Student actions on a page, locating every element by its accessible role and name."""

    text_of = staticmethod(text_of)

    def __init__(self, page, server: LiveServer):
        self.page = page
        self.server = server

    def sign_in(self, student: Student) -> None:
        """Sign in through the sign-in form and arrive on My learning."""
        self.page.goto("/auth/sign-in")
        self.page.get_by_label("Email").fill(student.email)
        self.page.get_by_label("Password", exact=True).fill(student.password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", level=1, name="My learning")).to_be_visible()

    def item_group(self, number: int, total: int):
        """The fieldset of quiz item `number`, named by its legend."""
        return self.page.get_by_role("group", name=re.compile(rf"^Item {number} of {total}\."))

    def option_radio(self, number: int, total: int, option):
        """The radio button of a scenario option inside its item's group, found by its label."""
        return self.item_group(number, total).get_by_role("radio", name=text_of(option.text_html), exact=True)

    def answer(self, quiz, number: int, item, answer, confidence: str = "Fairly sure") -> None:
        """Give item `number` this answer (as the item type grades it) through its controls, found by their labels,
        and say how sure of it the learner is."""
        self.answer_item(self.item_group(number, len(quiz.items)), item, answer)
        self.say_confidence(number, confidence)

    def say_confidence(self, number: int, confidence: str) -> None:
        """Tick how sure the learner is of their answer to item `number`."""
        self.page.get_by_role("group", name=f"How sure are you of your answer to item {number}?").get_by_role(
            "radio", name=confidence, exact=True
        ).check()

    def answer_item(self, group, item, answer) -> None:
        """Give an item this answer through its controls inside its group."""
        if item.type == "scenario":
            group.get_by_role("radio", name=text_of(item.option(answer).text_html), exact=True).check()
        elif item.type == "ordering":
            for index, position in enumerate(answer):
                group.get_by_role("combobox", name=text_of(item.steps_html[index]), exact=True).select_option(
                    str(position)
                )
        elif item.type == "matching":
            for pair, choice in zip(item.pairs, answer, strict=True):
                group.get_by_role("combobox", name=text_of(pair.prompt_html), exact=True).select_option(label=choice)
        elif item.type == "multiple_response":
            for option in item.options:
                group.get_by_role("checkbox", name=text_of(option.text_html), exact=True).set_checked(
                    option.id in answer
                )
        else:
            pytest.fail(f"no way to answer an item of type {item.type!r} in the browser")

    def choose(self, quiz, answers: dict, skip: tuple[int, ...] = ()) -> None:
        """Answer every item whose number is not in `skip` (answers: item id -> the answer as graded)."""
        for number, item in enumerate(quiz.items, start=1):
            if number not in skip:
                self.answer(quiz, number, item, answers[item.id])

    def complete_first_lesson(self, module) -> None:
        """Open the module's first lesson and press "Next", which completes it."""
        first, second = module.lessons[0], module.lessons[1]
        self.page.goto(f"/learn/modules/{module.id}/lessons/{first.id}")
        self.page.get_by_role("button", name=f"Next: {second.title}").click()
        expect(self.page.get_by_role("heading", level=1, name=second.title)).to_be_visible()

    def start_quiz(self, quiz) -> None:
        """Open the quiz's front page and start (or resume) an attempt."""
        self.page.goto(f"/learn/quizzes/{quiz.id}")
        self.page.get_by_role(
            "button", name=re.compile(r"^(Start the quiz|Resume your attempt|Retake the quiz)$")
        ).click()
        expect(self.item_group(1, len(quiz.items))).to_be_visible()

    def submit_answers(self) -> None:
        """Press the quiz's submit button."""
        self.page.get_by_role("button", name="Submit answers").click()

    def take_quiz(self, quiz, choices: dict) -> None:
        """Start the quiz, answer every item and submit; end on the results page."""
        self.start_quiz(quiz)
        self.choose(quiz, choices)
        self.submit_answers()
        expect(self.page.get_by_role("heading", level=1, name=f"Results: {quiz.title}")).to_be_visible()


class SharedAccounts:
    """Signed-in students prepared once per session: a newcomer, one with an open attempt, a veteran."""

    def __init__(self, browser, server: LiveServer, module, quiz, answers: dict):
        self._browser, self._server = browser, server
        self._module, self._quiz, self._answers = module, quiz, answers
        self._cookies: dict[str, list] = {}
        self.results_path = ""

    def cookies(self, kind: str) -> list:
        """The session cookies of the `kind` account, preparing it on first use."""
        if kind not in self._cookies:
            self._cookies[kind] = self._prepare(kind)
        return self._cookies[kind]

    def _prepare(self, kind: str) -> list:
        """Sign a new account in through the form and give it its history; return its cookies."""
        context = self._browser.new_context(base_url=self._server.url, bypass_csp=True)  # axe is injected inline
        context.set_default_timeout(TIMEOUT_MS)
        try:
            learner = Learner(context.new_page(), self._server)
            learner.sign_in(self._server.create_student(kind))
            if kind == "veteran":  # first lesson completed and one quiz attempt submitted
                learner.complete_first_lesson(self._module)
                learner.take_quiz(self._quiz, self._answers)
                self.results_path = learner.page.url.removeprefix(self._server.url)
            return context.cookies()
        finally:
            context.close()


@pytest.fixture(scope="session")
def learning_module(live_server):
    """The first module of the catalog, which every browser test walks through."""
    return live_server.catalog.modules[0]


@pytest.fixture(scope="session")
def module_quiz(live_server, learning_module):
    """The quiz paired with that module."""
    quizzes = live_server.catalog.quizzes_for(learning_module.id)
    assert quizzes, f"module {learning_module.id} has no quiz to test"
    return quizzes[0]


@pytest.fixture(scope="session")
def answer_key(module_quiz) -> dict:
    """The deterministic answers the tests give (item id -> answer as graded): a scenario item's first
    option, whatever its grade; the right answer to every other item type."""
    return {
        item.id: item.options[0].id if item.type == "scenario" else item.handler.right_answer(item)
        for item in module_quiz.items
    }


@pytest.fixture(scope="session")
def shared_accounts(browser, live_server, learning_module, module_quiz, answer_key) -> SharedAccounts:
    """Accounts shared by tests that only look at pages, prepared lazily and reused through their cookies."""
    return SharedAccounts(browser, live_server, learning_module, module_quiz, answer_key)


def signed_in_cookies(browser, server, account) -> list:
    """Sign in through the form in a throwaway context; its cookies, for a test's own context to use."""
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/auth/sign-in")
        page.get_by_label("Email").fill(account.email)
        page.get_by_label("Password", exact=True).fill(account.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1, name="My learning")).to_be_visible()
        return context.cookies()
    finally:
        context.close()
