"""Educators' reports and transcripts in a real browser, as an educator (and a student) meets them.

The progress matrix fits a 1280 px window and scrolls inside its own box with its header row and student column
in view; the heatmap's text stays at least 12 px on a 375 px phone; the learner record is grouped and folded, not one
very long page; transcripts print and download as PDFs that name the learner and give their scores. axe-core finds
nothing on any of these pages at 1280 and 375 px.
"""

import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import insert, select

from app.extensions import db
from app.learn.courses import today
from app.models import User
from app.models.types import utcnow
from app.services import accounts, cohorts, conversations, courses, practice, progress, quizzes
from tests.browser.checks import assert_accessible
from tests.browser.conftest import signed_in_cookies

COURSE = "Every module, quiz and conversation (report pages)"
COHORT = "Ward 12, spring (report pages)"
CROWD = 44  # students who never signed in, so the matrix scrolls both ways
BUSY_ATTEMPTS = 24  # more than a page of the learner record

_numbers = itertools.count(1)


@dataclass
class World:
    """Who is who, and the ids of what the pages show."""

    cohort_id: int
    course_id: int
    quiz: object
    certainty_quiz: object
    star: object  # conftest's Student: signed in, passed the quiz, failed the certainty-marked one
    star_id: int
    busy_id: int
    cookies: dict = field(default_factory=dict)

    def learner(self, user_id: int | None = None, query: str = "") -> str:
        """A learning record's address."""
        return f"/teach/cohorts/{self.cohort_id}/learners/{user_id or self.star_id}{query}"


def _right(quiz) -> dict:
    return {item.id: item.handler.right_answer(item) for item in quiz.items}


def _wrong(quiz) -> dict:
    return {item.id: item.handler.wrong_answer(item) for item in quiz.items}


@pytest.fixture(scope="module")
def world(browser, live_server, learning_module, module_quiz) -> World:
    """A course of every module, quiz and conversation, assigned to a cohort of 47 and overdue: a star student who
    signed in, passed the module's quiz and conversation and failed a certainty-marked quiz; a busy student with
    24 failed attempts; a crowd who never signed in."""
    catalog = live_server.catalog
    educator, star, busy = (live_server.create_student(kind) for kind in ("report-educator", "star", "busy"))
    certainty_quiz = next(q for q in catalog.quizzes if q.marking == "certainty")
    conversation = catalog.conversations[0]
    with live_server.app.app_context():
        teacher = accounts.find_by_email(educator.email)
        teacher.role = "educator"
        star_user, busy_user = accounts.find_by_email(star.email), accounts.find_by_email(busy.email)
        course = courses.create(teacher, COURSE, "Everything, to see a wide matrix.")
        for kind, items in (
            ("module", catalog.modules),
            ("quiz", catalog.quizzes),
            ("conversation", catalog.conversations),
        ):
            for content in items:
                courses.add_item(catalog, course, f"{kind}:{content.id}")
        courses.set_published(course, True)
        cohort = cohorts.create(teacher, COHORT)
        cohorts.assign(cohort, course, teacher, today() - timedelta(days=30), today() - timedelta(days=3))
        batch = next(_numbers)
        emails = [f"crowd-{batch}-{n:02d}@example.org" for n in range(CROWD)]
        db.session.execute(
            insert(User),
            [
                {
                    "email": e,
                    "display_name": f"Crowd student {n:02d}",
                    "password_hash": "x",
                    "role": "student",
                    "created_at": utcnow(),
                }
                for n, e in enumerate(emails)
            ],
        )
        crowd = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
        cohorts.add_members(cohort, [star_user.id, busy_user.id, *crowd], "code")
        for lesson in learning_module.lessons:
            progress.complete_lesson(star_user.id, learning_module, lesson)
        attempt = quizzes.start_attempt(star_user.id, module_quiz)
        quizzes.submit_attempt(star_user.id, attempt, module_quiz, _right(module_quiz))
        attempt = quizzes.start_attempt(star_user.id, certainty_quiz)
        quizzes.submit_attempt(
            star_user.id, attempt, certainty_quiz, _wrong(certainty_quiz), {i.id: 3 for i in certainty_quiz.items}
        )
        talk = quizzes.start_attempt(star_user.id, conversation)
        for step, reply in enumerate(conversation.best_path, start=1):
            conversations.reply(star_user.id, talk, conversation, step, reply)
        practising = practice.start_quiz(star_user.id, module_quiz)  # practice: never on a report
        first = module_quiz.items[0]
        practice.answer(
            star_user.id,
            practising,
            practice.next_step(practising, catalog),
            first.handler.wrong_answer(first),
            1,
            catalog,
        )
        for n in range(BUSY_ATTEMPTS):
            attempt = quizzes.start_attempt(busy_user.id, module_quiz)
            quizzes.submit_attempt(
                busy_user.id, attempt, module_quiz, _wrong(module_quiz) if n % 3 else _right(module_quiz)
            )
        db.session.commit()
        found = World(cohort.id, course.id, module_quiz, certainty_quiz, star, star_user.id, busy_user.id)
    found.cookies = {
        "educator": signed_in_cookies(browser, live_server, educator),
        "star": signed_in_cookies(browser, live_server, star),
    }
    return found


def _as(page, world: World, who: str) -> None:
    page.context.add_cookies(world.cookies[who])


def _matrix(page, world: World) -> None:
    """The progress matrix, reached from the cohort page."""
    page.goto("/teach/")
    page.get_by_role("link", name=COHORT).first.click()
    page.get_by_role("link", name=f"Progress report for {COURSE}").click()
    expect(page.get_by_role("heading", level=1, name=f"Progress report: {COURSE}")).to_be_visible()


_BOX = (
    """sel => { const b = document.querySelector(sel).getBoundingClientRect(); return {top: b.top, left: b.left}; }"""
)


@pytest.mark.browser
def test_the_matrix_fits_the_window_and_keeps_its_headers_in_view(page, world):
    _as(page, world, "educator")
    _matrix(page, world)
    sizes = page.evaluate(
        """() => { const box = document.querySelector('.matrix-scroll');
        return {page: document.documentElement.scrollWidth, window: document.documentElement.clientWidth,
                boxWide: box.scrollWidth, boxShown: box.clientWidth, boxTall: box.scrollHeight, boxHigh: box.clientHeight}; }"""
    )
    assert sizes["page"] <= sizes["window"] == 1280, sizes  # the page itself never scrolls sideways
    assert sizes["boxWide"] > sizes["boxShown"] and sizes["boxTall"] > sizes["boxHigh"], sizes  # the matrix does
    matrix = page.get_by_role("table", name=re.compile("^Progress of each current student"))
    star_row = matrix.get_by_role("row").filter(has=page.get_by_role("rowheader", name=world.star.name))
    expect(star_row).to_contain_text("Attempted, not passed")
    expect(star_row.get_by_role("cell").nth(1)).to_have_text("Overdue")
    crowd_row = matrix.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Crowd student 07"))
    expect(crowd_row.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^Overdue\s*Never signed in$"))
    expect(page.get_by_role("region", name="Needs attention")).to_contain_text("46 students have not completed")

    # Scrolled down and across inside its box, the header row and the student column stay where they were.
    region = page.get_by_role("region", name=re.compile("^Progress of each current student"))
    region.evaluate("box => { box.scrollIntoView(); box.scrollTop = 900; box.scrollLeft = 1200; }")
    box = page.evaluate(_BOX, ".matrix-scroll")
    corner = matrix.get_by_role("columnheader", name="Student", exact=True)
    corner_box = corner.bounding_box()
    assert abs(corner_box["y"] - box["top"]) <= 2 and abs(corner_box["x"] - box["left"]) <= 2, (corner_box, box)
    last_heading = matrix.get_by_role("columnheader").last
    heading_box = last_heading.bounding_box()
    assert abs(heading_box["y"] - box["top"]) <= 2, (heading_box, box)
    shown = page.evaluate(
        """() => { const box = document.querySelector('.matrix-scroll').getBoundingClientRect();
        const x = box.left + 30, y = box.top + box.height / 2;
        const hit = document.elementFromPoint(x, y); return hit.closest('th') ? hit.closest('th').textContent.trim() : hit.tagName; }"""
    )
    assert shown.startswith("Crowd student"), shown  # a student's name, not a cell sliding under it
    on_top = page.evaluate(
        """() => { const box = document.querySelector('.matrix-scroll').getBoundingClientRect();
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + 10); return hit.closest('thead') !== null; }"""
    )
    assert on_top, "the header row is hidden under the rows scrolled beneath it"


_FONT_SIZES = """() => {
  const sizes = [];
  for (const el of document.querySelectorAll('table.heatmap-data th, table.heatmap-data td, table.heatmap-data td *, table.heatmap-data th *'))
    if (el.textContent.trim() && !el.closest('.visually-hidden'))
      sizes.push([el.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(el).fontSize)]);
  const svg = document.querySelector('svg.heatmap');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  for (const text of svg.querySelectorAll('text'))
    sizes.push(['svg: ' + text.textContent.slice(0, 24), parseFloat(getComputedStyle(text).fontSize) * scale]);
  return sizes;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("by", ["competency", "group"])
def test_heatmap_text_is_at_least_12px_on_a_phone(page, world, by):
    _as(page, world, "educator")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/teach/cohorts/{world.cohort_id}/competencies" + ("?by=group" if by == "group" else ""))
    table = page.get_by_role("table", name=re.compile("^Share of best answers per"))
    expect(
        table.get_by_role("rowheader", name="Empathy" if by == "competency" else "Communication skills")
    ).to_be_visible()
    expect(table.get_by_role("columnheader", name=world.star.name)).to_be_visible()
    sizes = page.evaluate(_FONT_SIZES)
    assert len(sizes) > 100
    small = [(text, size) for text, size in sizes if size < 12]
    assert not small, small[:10]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.browser
def test_the_learner_record_is_grouped_folded_and_filtered(page, world, module_quiz):
    _as(page, world, "educator")
    page.goto(world.learner(world.busy_id))
    expect(page.get_by_role("heading", level=1, name=re.compile("^Learning record: Busy"))).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, height  # 20 attempts with their answers folded away, not a 20,000 px page
    answers = page.locator("details.answers")
    expect(answers).to_have_count(20)
    assert not any(answers.evaluate_all("all => all.map(d => d.open)"))
    first = answers.first
    answer_table = first.get_by_role("table")
    expect(answer_table).to_be_hidden()
    first.locator("summary").click()
    expect(answer_table.get_by_role("row")).to_have_count(len(module_quiz.items) + 1)

    # An attempt's number in the table leads to its answers and opens them, with no script involved.
    second = page.locator("details.answers").nth(1)
    number = re.search(r"no\. (\d+)", second.locator("summary").inner_text()).group(1)
    page.get_by_role("link", name=f"No. {number}", exact=True).click()
    expect(second.get_by_role("table")).to_be_visible()
    assert second.evaluate("d => d.open")

    # Only the failed attempts at the quiz: 16 of 24, on one page.
    page.get_by_label("Activity").select_option(label=f"Quiz: {module_quiz.title}")
    page.get_by_label("Result").select_option(label="Not passed")
    page.get_by_role("button", name="Show attempts").click()
    expect(page).to_have_url(re.compile(r"result=not-passed"))
    attempts = page.get_by_role("table", name=f"Marked attempts at Quiz: {module_quiz.title}, newest first")
    expect(attempts.get_by_role("row")).to_have_count(1 + 16)
    expect(page.get_by_role("main")).to_contain_text("16 of 24 attempts match")
    expect(page.get_by_label("Result")).to_have_value("not-passed")


@pytest.mark.browser
def test_the_educator_prints_and_downloads_a_transcript(page, world, module_quiz):
    _as(page, world, "educator")
    page.goto(world.learner())
    page.get_by_role("link", name="Transcript (printable)").click()
    expect(page.get_by_role("heading", level=1, name=f"Transcript: {world.star.name}")).to_be_visible()
    print_button = page.get_by_role("button", name="Print")
    expect(print_button).to_be_visible()  # shown by the script; without it the page says to use the browser's Print
    page.emulate_media(media="print")
    expect(page.get_by_role("banner")).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(page.get_by_role("table", name=re.compile("^Quizzes:"))).to_be_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download as PDF").click()
    download = caught.value
    assert download.suggested_filename.startswith("transcript-star-") and download.suggested_filename.endswith(".pdf")
    text = _pdf_text(open(download.path(), "rb").read())
    points = f"{module_quiz.max_score:g}"
    assert f"Transcript: {world.star.name}" in text and f"{points} of {points} (100%)" in text, text[:500]
    assert "accuracy 0%, average mark −6.00 (−6 to 3)" in text  # the certainty-marked quiz, very sure and wrong


@pytest.mark.browser
def test_a_student_downloads_their_own_transcript_from_their_progress(page, world, module_quiz):
    _as(page, world, "star")
    page.goto("/learn/progress")
    page.get_by_role("link", name=re.compile("^Your transcript")).click()
    expect(page.get_by_role("heading", level=1, name=f"Transcript: {world.star.name}")).to_be_visible()
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download as PDF").click()
    text = _pdf_text(open(caught.value.path(), "rb").read())
    assert world.star.name in text and module_quiz.title.split(":")[0] in text
    assert "Practice" not in text.replace("Practice and review sessions are never marked", "")


def _pdf_text(data: bytes) -> str:
    """A PDF's text as a reader extracts it, line breaks as spaces."""
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


# --- axe at two widths on every state of these pages


def _heatmap(page, world):
    _matrix(page, world)
    page.get_by_role("navigation", name=f"Reports on {COHORT}").get_by_role("link", name="Competency heatmap").click()
    expect(page.get_by_role("heading", level=1, name=f"Competencies: {COHORT}")).to_be_visible()


def _groups(page, world):
    _heatmap(page, world)
    page.get_by_role("link", name="Show competency groups instead (fewer rows)").click()
    expect(page.get_by_role("table", name=re.compile("^Share of best answers per competency group"))).to_be_visible()


def _print(page, world):
    _matrix(page, world)
    page.get_by_role("link", name="Printable view").click()
    expect(page.get_by_role("main")).to_contain_text("printed")


def _analysis(page, world):
    _matrix(page, world)
    page.get_by_role("link", name=f"Quiz: {world.quiz.title}").click()
    expect(page.get_by_role("heading", level=1, name=f"Item analysis: {world.quiz.title}")).to_be_visible()


def _record(page, world):
    _matrix(page, world)
    page.get_by_role("link", name=world.star.name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=f"Learning record: {world.star.name}")).to_be_visible()


def _record_answers_open(page, world):
    _record(page, world)
    page.locator("details.answers summary").first.click()
    expect(page.locator("details.answers").first.get_by_role("table")).to_be_visible()
    page.locator("details.module-lessons summary").first.click()


def _record_filtered(page, world):
    page.goto(world.learner(world.busy_id, "?result=not-passed&page=1"))
    expect(page.get_by_role("link", name="Show every attempt")).to_be_visible()


def _record_second_page(page, world):
    page.goto(world.learner(world.busy_id, "?page=2"))
    expect(page.get_by_role("navigation", name="Pages of attempts")).to_contain_text("Page 2 of 2")


def _transcript(page, world):
    _record(page, world)
    page.get_by_role("link", name="Transcript (printable)").click()
    expect(page.get_by_role("heading", level=1, name=f"Transcript: {world.star.name}")).to_be_visible()


def _own_transcript(page, world):
    page.goto("/learn/progress")
    page.get_by_role("link", name=re.compile("^Your transcript")).click()
    expect(page.get_by_role("heading", level=1, name=f"Transcript: {world.star.name}")).to_be_visible()


STATES = [
    (_matrix, "educator"),
    (_print, "educator"),
    (_heatmap, "educator"),
    (_groups, "educator"),
    (_analysis, "educator"),
    (_record, "educator"),
    (_record_answers_open, "educator"),
    (_record_filtered, "educator"),
    (_record_second_page, "educator"),
    (_transcript, "educator"),
    (_own_transcript, "star"),
]


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize(("arrive", "who"), STATES, ids=[f.__name__.strip("_").replace("_", "-") for f, _ in STATES])
def test_report_page_is_accessible_and_fits(arrive, who, width, page, world, axe_path):
    _as(page, world, who)
    page.set_viewport_size({"width": width, "height": 800})
    arrive(page, world)
    assert_accessible(page, axe_path)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide}px wide at {width}px"
