"""Findable, and usable on a phone, in a real browser: search and the glossary from the navigation, a
compact header with a menu that needs no script, tables that never break a word, charts with text a
person can read at 375 px. axe-core finds nothing on each page state at 1280 and 375 px.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.learn.courses import today
from app.services import accounts, cohorts, courses, estimates
from tests.browser.checks import assert_accessible
from tests.browser.conftest import TIMEOUT_MS

PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 800}
#: A course title long enough to wrap in a phone's table cell, as real ones do.
COURSE_TITLE = "Alliance basics for physiotherapy students (phones)"

# Words split across two lines inside table cells: a word is letters between spaces, hyphens or slashes
# (a break after a hyphen is ordinary typesetting); each word's boxes must all sit on one line.
_BROKEN_WORDS = """(root) => {
  const broken = [];
  for (const cell of root.querySelectorAll('th, td')) {
    if (cell.closest('.visually-hidden')) continue;
    if (cell.scrollWidth > cell.clientWidth + 1) broken.push(`cell overflows: ${cell.textContent.trim().slice(0, 40)}`);
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('.visually-hidden')) continue;
      for (const match of node.data.matchAll(/[^\\s\\-\\u2010-\\u2015\\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""

# The smallest rendered size of any text in the SVG charts: the computed size times the chart's scale.
_SMALLEST_CHART_TEXT = """(selector) => {
  const sizes = [...document.querySelectorAll(selector + ' text')]
    .filter(t => t.getBoundingClientRect().width > 0)
    .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  return sizes.length ? Math.min(...sizes) : null;
}"""


def _header_height(page) -> float:
    # Measured once the stylesheet has applied: the heading can be visible before the load event.
    page.wait_for_load_state("load")
    return page.evaluate("() => document.querySelector('header.site-header').getBoundingClientRect().height")


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My learning")).to_be_visible()


def _check_both_widths(page, axe_path) -> None:
    """axe finds nothing at 1280 px and at 375 px; the page ends at 1280 px."""
    page.set_viewport_size(PHONE)
    assert_accessible(page, axe_path)
    page.set_viewport_size(DESKTOP)
    assert_accessible(page, axe_path)


@pytest.fixture(scope="module")
def educator(live_server, learning_module, module_quiz):
    """An educator with a published course assigned to a cohort of one student (returned too)."""
    teacher, learner = live_server.create_student("phone-educator"), live_server.create_student("phone-learner")
    with live_server.app.app_context():
        user = accounts.find_by_email(teacher.email)
        user.role = "educator"
        course = courses.create(user, COURSE_TITLE, "The first module and its quiz.")
        courses.add_item(live_server.catalog, course, f"module:{learning_module.id}")
        courses.add_item(live_server.catalog, course, f"quiz:{module_quiz.id}")
        courses.set_published(course, True)
        cohort = cohorts.create(user, "Physiotherapy year 2 (phones)")
        cohorts.add_member(cohort, accounts.find_by_email(learner.email).id, "code")
        cohorts.assign(cohort, course, user, today() - timedelta(days=3), today() + timedelta(days=30))
        db.session.commit()
        return teacher, learner, course.id


# --- search and the glossary


@pytest.mark.browser
def test_a_learner_searches_from_the_header_and_lands_on_the_matching_section(page, learner, student, axe_path):
    learner.sign_in(student)
    search_box = page.get_by_role("search", name="Site").get_by_role(
        "searchbox", name="Search lessons, the glossary and quizzes"
    )
    search_box.fill("Rogers empathy")
    page.get_by_role("search", name="Site").get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", level=1, name="Search")).to_be_visible()
    expect(
        page.get_by_role("heading", level=2, name=re.compile(r"^\d+ results? for “Rogers empathy”$"))
    ).to_be_visible()
    results = page.get_by_role("list").filter(has=page.get_by_role("heading", level=3))
    first = results.get_by_role("listitem").first
    expect(first.locator("mark").first).to_be_visible()
    expect(first).to_contain_text("Lesson")
    _check_both_widths(page, axe_path)

    # The result opens the lesson at the section that matched, scrolled into view.
    first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/learn/modules/[^/]+/lessons/[^#]+#.+"))
    anchor = page.url.split("#", 1)[1]
    expect(page.locator(f"[id='{anchor}']")).to_be_in_viewport()


@pytest.mark.browser
def test_nothing_found_says_so_and_the_suggestion_finds_it(page, learner, student, axe_path):
    learner.sign_in(student)
    page.goto("/learn/search")  # before any words: the form and what it searches
    expect(page.get_by_role("link", name="browse the glossary")).to_be_visible()
    _check_both_widths(page, axe_path)
    page.goto("/learn/search?q=allaince")
    expect(page.get_by_role("heading", level=2, name="Nothing found for “allaince”")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search lessons, the glossary and quizzes")).to_have_value("allaince")
    _check_both_widths(page, axe_path)
    page.get_by_role("link", name="alliance", exact=True).click()
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^\d+ results for “alliance”$"))).to_be_visible()


@pytest.mark.browser
def test_the_glossary_is_in_the_navigation_and_finds_terms(page, learner, student, axe_path):
    learner.sign_in(student)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Glossary").click()
    expect(page.get_by_role("heading", level=1, name="Glossary")).to_be_visible()
    current = page.get_by_role("navigation", name="Main").get_by_role("link", name="Glossary")
    expect(current).to_have_attribute("aria-current", "page")
    _check_both_widths(page, axe_path)

    page.get_by_role("searchbox", name="Find a term").fill("goal")
    page.get_by_role("button", name="Look up").click()
    expect(
        page.get_by_role("heading", level=2, name=re.compile(r"^\d+ results for “goal” in the glossary$"))
    ).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Glossary \(\d+\)$"))).to_have_attribute("aria-current", "page")
    for href in page.locator("ol.search-results h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert href.startswith("/learn/glossary#term-"), href
    _check_both_widths(page, axe_path)


# --- the header on a phone


@pytest.mark.browser
@pytest.mark.parametrize("scripts", [True, False], ids=["javascript", "no-javascript"])
def test_a_phone_gets_a_compact_header_whose_menu_needs_no_script(browser, live_server, educator, axe_path, scripts):
    teacher, _, _ = educator
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=scripts, bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        _sign_in(page, teacher.email, teacher.password)
        # One row: the name of the site and "Menu" (the header took 190 px of a 375 px screen before).
        assert _header_height(page) <= 64, _header_height(page)
        expect(page.locator("details.nav-menu nav")).to_be_hidden()  # closed until asked for
        page.get_by_text("Menu", exact=True).click()
        menu = page.get_by_role("navigation", name="Main")
        for name in ("My learning", "Progress", "Review", "Glossary", "Search", "Teaching", "Your account"):
            expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
        if scripts:  # axe runs as a script: checked on the page with scripts on
            assert_accessible(page, axe_path)
        menu.get_by_role("link", name="Teaching").click()
        expect(page.get_by_role("heading", level=1, name="Teaching")).to_be_visible()
        assert _header_height(page) <= 64
    finally:
        context.close()


# --- tables and charts on a phone


@pytest.mark.browser
def test_tables_on_a_phone_never_break_a_word_and_scroll_in_their_own_box(
    browser, live_server, educator, shared_accounts, module_quiz
):
    teacher, learner_account, course_id = educator
    for who, paths in (
        (teacher, ["/teach/"]),
        (learner_account, ["/learn/progress", f"/learn/courses/{course_id}"]),
        (None, [f"/learn/quizzes/{module_quiz.id}"]),  # the veteran: a table of past attempts
    ):
        context = browser.new_context(base_url=live_server.url, viewport=PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            if who is None:
                context.add_cookies(shared_accounts.cookies("veteran"))
            else:
                _sign_in(page, who.email, who.password)
            for path in paths:
                page.goto(path)
                tables = page.locator("main table")
                assert tables.count(), f"{path} has no table to check"
                broken = page.evaluate(_BROKEN_WORDS, page.locator("main").element_handle())
                assert not broken, f"{path} breaks words at 375 px: {broken[:8]}"
                width = page.evaluate(
                    "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
                )
                assert width[0] <= width[1], f"{path} scrolls sideways at 375 px: {width}"
                # Still tables to assistive technology, headers and all.
                expect(page.get_by_role("table").first).to_be_visible()
                expect(page.get_by_role("columnheader").first).to_be_visible()
            if who is teacher:
                page.goto("/teach/")
                # The words this table used to break ("Ite-ms", "Publi-shed", "A colle-ague") are whole, in cells.
                table = page.get_by_role("table", name=re.compile("^Your courses"))
                expect(table.get_by_role("columnheader", name="Items", exact=True)).to_be_visible()
                # Other tests may have published courses too: the first such cell stands for them all.
                expect(table.get_by_role("cell", name="Published", exact=True).first).to_be_visible()
            if who is learner_account:
                page.goto("/learn/progress")
                wide = page.get_by_role("table").first  # the modules: wider than a phone, scrolled in its box
                box = wide.evaluate("t => [t.scrollWidth, t.clientWidth, getComputedStyle(t).overflowX]")
                assert box[0] > box[1] and box[2] == "auto", box
        finally:
            context.close()


@pytest.mark.browser
def test_charts_keep_text_of_at_least_12_px_on_a_phone(page, learner, student, live_server):
    learner.sign_in(student)
    page.set_viewport_size(PHONE)
    page.goto("/learn/progress")
    expect(page.get_by_role("img", name=re.compile("^Right answers in your last"))).to_be_visible()
    smallest = page.evaluate(_SMALLEST_CHART_TEXT, "svg.mastery-chart")
    assert smallest is not None and smallest >= 12, f"mastery chart text renders at {smallest:.1f} px"

    page.goto("/learn/review")
    smallest = page.evaluate(_SMALLEST_CHART_TEXT, "svg.review-chart")
    assert smallest is not None and smallest >= 12, f"review chart text renders at {smallest:.1f} px"

    module, lesson = next(
        (m, lesson)
        for m in live_server.catalog.modules
        for lesson in m.lessons
        if "chart-figure" in str(lesson.sections)
    )
    page.goto(f"/learn/modules/{module.id}/lessons/{lesson.id}")
    expect(page.locator("svg.chart").first).to_be_visible()
    smallest = page.evaluate(_SMALLEST_CHART_TEXT, "svg.chart")
    assert smallest is not None and smallest >= 12, f"lesson chart text renders at {smallest:.1f} px"
    # No chart text runs past the screen's edge.
    past = page.evaluate(
        "() => [...document.querySelectorAll('svg text')].filter(t => t.getBoundingClientRect().right > innerWidth)"
        ".map(t => t.textContent)"
    )
    assert not past, past


# --- time estimates


@pytest.mark.browser
def test_quiz_and_course_pages_say_how_long_they_take(browser, live_server, educator, module_quiz):
    _, learner_account, course_id = educator
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        _sign_in(page, learner_account.email, learner_account.password)
        page.goto(f"/learn/quizzes/{module_quiz.id}")
        minutes = estimates.minutes(module_quiz)
        expect(page.get_by_text(f"Takes about {minutes} minutes.")).to_be_visible()
        page.goto(f"/learn/courses/{course_id}")
        expect(page.get_by_text(re.compile(r"^All its items take about \d+ hours?( \d+ minutes?)?;"))).to_be_visible()
    finally:
        context.close()
