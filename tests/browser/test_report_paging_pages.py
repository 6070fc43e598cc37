"""The progress report of a large cohort in a real browser: a page of students at a time, the lists of students an
educator acts on, and links that keep the list chosen; accessible and within the window at 1280 and 375 px."""

import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert, select

from app.extensions import db
from app.learn.courses import today
from app.models import User
from app.models.types import utcnow
from app.services import accounts, cohorts, courses, progress
from tests.browser.checks import assert_accessible
from tests.browser.conftest import signed_in_cookies

COURSE = "Paged report course"
COHORT = "Ward 9, autumn (paged report)"
CROWD = 129  # with the one who signed in: 130 students, two pages
SHOTS = Path("/tmp/shots")

_numbers = itertools.count(1)


@dataclass
class World:
    """The cohort and course, and the educator's cookies."""

    cohort_id: int
    course_id: int
    signed_in_name: str
    cookies: list = field(default_factory=list)

    @property
    def report(self) -> str:
        """The progress report's address."""
        return f"/teach/cohorts/{self.cohort_id}/courses/{self.course_id}/report"


@pytest.fixture(scope="module")
def world(browser, live_server, learning_module, module_quiz) -> World:
    """A cohort of 130 assigned a module and its quiz, due three days ago: one student signed in and completed the
    module; 129 never signed in."""
    catalog = live_server.catalog
    educator, keen = (live_server.create_student(kind) for kind in ("paged-educator", "paged-keen"))
    with live_server.app.app_context():
        teacher = accounts.find_by_email(educator.email)
        teacher.role = "educator"
        keen_user = accounts.find_by_email(keen.email)
        keen_user.last_sign_in_at = utcnow()
        course = courses.create(teacher, COURSE, "A module and its quiz.")
        courses.add_item(catalog, course, f"module:{learning_module.id}")
        courses.add_item(catalog, course, f"quiz:{module_quiz.id}")
        courses.set_published(course, True)
        cohort = cohorts.create(teacher, COHORT)
        cohorts.assign(cohort, course, teacher, today() - timedelta(days=30), today() - timedelta(days=3))
        batch = next(_numbers)
        emails = [f"paged-{batch}-{n:03d}@example.org" for n in range(CROWD)]
        db.session.execute(
            insert(User),
            [
                {
                    "email": e,
                    "display_name": f"Paged student {n:03d}",
                    "password_hash": "x",
                    "role": "student",
                    "created_at": utcnow(),
                }
                for n, e in enumerate(emails)
            ],
        )
        crowd = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
        cohorts.add_members(cohort, [keen_user.id, *crowd], "code")
        for lesson in learning_module.lessons:
            progress.complete_lesson(keen_user.id, learning_module, lesson)
        db.session.commit()
        found = World(cohort.id, course.id, keen.name)
    found.cookies = signed_in_cookies(browser, live_server, educator)
    return found


def _matrix_table(page):
    return page.get_by_role("table", name=re.compile("^Progress of each current student"))


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_an_educator_pages_through_a_large_cohort_and_lists_who_never_signed_in(page, world, width, axe_path):
    page.context.add_cookies(world.cookies)
    page.set_viewport_size({"width": width, "height": 900})
    SHOTS.mkdir(exist_ok=True)
    page.goto(world.report)
    expect(page.get_by_text("Cohort Ward 9, autumn (paged report) · 130 current students")).to_be_visible()
    table = _matrix_table(page)
    expect(table.get_by_role("rowheader")).to_have_count(100 + 1)  # a page of students, and the whole-cohort row
    expect(table.get_by_role("rowheader", name="Done (of 130)")).to_be_visible()
    pager = page.get_by_role("navigation", name="Pages of students, above the table")
    expect(pager.get_by_text("Students 1 to 100 of 130 (page 1 of 2), by name.")).to_be_visible()
    assert_accessible(page, axe_path)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"report-paging-first-{width}.png"), full_page=False)

    page.get_by_role("navigation", name="Pages of students, below the table").get_by_role(
        "link", name="Next page"
    ).click()
    expect(page).to_have_url(re.compile(r"/report\?page=2$"))
    expect(_matrix_table(page).get_by_role("rowheader")).to_have_count(30 + 1)
    expect(page.get_by_text("Students 101 to 130 of 130 (page 2 of 2), by name.").first).to_be_visible()
    assert_accessible(page, axe_path)

    # From "Needs attention", the students who never signed in, then their second page: the list is kept.
    page.get_by_role("region", name="Needs attention").get_by_role("link", name="List only these students").last.click()
    lists = page.get_by_role("navigation", name="Which students to list")
    expect(lists.get_by_text("Never signed in (129)")).to_have_attribute("aria-current", "true")
    expect(_matrix_table(page).get_by_role("rowheader", name=world.signed_in_name)).to_have_count(0)
    page.get_by_role("navigation", name="Pages of students, above the table").get_by_role(
        "link", name="Next page"
    ).click()
    expect(page).to_have_url(re.compile(r"/report\?show=never-signed-in&page=2$"))
    expect(_matrix_table(page).get_by_role("rowheader")).to_have_count(29 + 1)
    assert_accessible(page, axe_path)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"report-paging-never-signed-in-{width}.png"), full_page=True)

    page.get_by_role("link", name="Printable view of this page").click()
    expect(_matrix_table(page).get_by_role("rowheader")).to_have_count(29 + 1)
    expect(page.get_by_text(re.compile("listed: never signed in, 101 to 129 of 129 by name"))).to_be_visible()
    assert_accessible(page, axe_path)
