"""The observation form editor in a real browser: an educator writes a three-item form from empty (one item critical,
one anchored 1 to 5), meets a checker error at its field and fixes it, previews the rating page and the patient's
form, publishes it, sets a station on it in their cohort and rates a student on it at 375 px.

axe and the Nu HTML checker find nothing on any page state at 1280 and 375 px, and none scrolls sideways.
Screenshots go to /tmp/shots/observation-*.png.
"""

import re

from playwright.sync_api import expect

from app.extensions import db
from app.models import Observation
from app.services import accounts, cohorts
from tests.authoring_observation_helpers import CONSULTATION, ITEMS, PATIENT, REFERENCES, TITLE
from tests.browser.checks import assert_accessible
from tests.browser.test_authoring_pages import SHOTS, _educator

_WIDER = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def check(page, axe_path, name: str) -> None:
    """axe and Nu find nothing at 1280 and 375 px; no sideways scrolling; a screenshot at each width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, axe_path)
        assert not page.evaluate(_WIDER), f"{page.url} scrolls sideways at {width}px"
        page.screenshot(path=str(SHOTS / f"observation-{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def fill(page, form: dict[str, str]) -> None:
    """Fill fields by name, choosing in selects."""
    for name, value in form.items():
        field = page.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def add_item(page, form_path: str, item: dict[str, str]) -> None:
    """Add a behaviour item on its scale from the form's page, fill its form and save it."""
    page.goto(f"{form_path}/observation")
    page.get_by_label("Add a behaviour item rated on").select_option(item["scale"])
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("Behaviour item"))).to_be_visible()
    fill(page, {k: v for k, v in item.items() if k != "scale"})
    page.get_by_role("button", name="Save the item").click()


def test_an_educator_writes_previews_publishes_and_rates_on_an_observation_form(page, learner, live_server, axe_path):
    author = _educator(live_server)
    student = live_server.create_student("observed")
    with live_server.app.app_context():
        owner = accounts.find_by_email(author.email)
        cohort = cohorts.create(owner, "Tuesday clinic group")
        cohorts.add_members(cohort, [accounts.find_by_email(student.email).id], "roster")
        db.session.commit()
        cohort_id, student_id = cohort.id, accounts.find_by_email(student.email).id
    learner.sign_in(author)

    page.goto("/author/")
    page.get_by_role("link", name="New observation form").click()
    check(page, axe_path, "new")
    page.get_by_role("button", name="Start the observation form").click()
    expect(page.locator("#new-title-error")).to_contain_text("Give the observation form a title.")
    check(page, axe_path, "new-errors")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Module it goes with").select_option("communication-skills")
    page.get_by_label("The consultation it observes").fill(CONSULTATION)
    page.get_by_label("Minutes for the station").fill("8")
    page.get_by_role("button", name="Start the observation form").click()
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    check(page, axe_path, "empty")
    form_path = re.search(r"/author/\d+", page.url)[0]

    fill(page, REFERENCES)
    page.get_by_role("button", name="Save the sources").click()
    # The first item with a mistyped competency: the checker's message shows at the field.
    add_item(page, form_path, {**ITEMS[0], "competencies": "comm.active-listenin"})
    expect(page.locator("#f-competencies-error")).to_contain_text("unknown competency id 'comm.active-listenin'")
    expect(page.locator("#f-competencies")).to_have_attribute("aria-invalid", "true")
    check(page, axe_path, "item-error")
    page.get_by_role("link", name=re.compile("unknown competency id")).click()
    page.locator("#f-competencies").fill(ITEMS[0]["competencies"])
    page.get_by_role("button", name="Save the item").click()
    expect(page.locator("#f-competencies-error")).to_have_count(0)
    add_item(page, form_path, ITEMS[1])
    add_item(page, form_path, ITEMS[2])
    check(page, axe_path, "item-anchored")
    page.goto(f"{form_path}/observation")
    fill(page, PATIENT)
    page.get_by_role("button", name="Save the patient’s form").click()
    expect(page.get_by_text("The checker finds no problems.").first).to_be_visible()
    check(page, axe_path, "ready")

    page.get_by_role("link", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=f"Preview: {TITLE}")).to_be_visible()
    check(page, axe_path, "preview")
    page.locator('#item-i1 input[value="2"]').check()
    page.locator('#item-i2 input[value="0"]').check()
    page.locator('#item-i3 input[value="4"]').check()
    page.get_by_role("button", name="Score this preview").click()
    expect(page.locator(".preview-result")).to_contain_text("5 of 8")
    expect(page.locator(".preview-result")).to_contain_text("failed whatever the total")
    check(page, axe_path, "preview-scored")
    page.get_by_role("link", name="Patient’s form").click()
    expect(page.get_by_text("They asked what I already do at home.")).to_be_visible()
    check(page, axe_path, "preview-patient")

    page.goto(f"{form_path}/observation")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash")).to_contain_text("Version 1 published. Set a station on it")
    check(page, axe_path, "published")

    page.goto(f"/observe/cohorts/{cohort_id}/stations")
    page.get_by_label("Observation form").select_option(label=TITLE)
    page.get_by_role("button", name="Set the station").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    station_path = page.url

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{station_path}/students/{student_id}/rate")
    expect(page.get_by_text("Asks what the patient already does at home")).to_be_visible()
    check(page, axe_path, "rate")
    for item_id, value in (("i1", "2"), ("i2", "2"), ("i3", "5")):
        page.locator(f'#item-{item_id} input[value="{value}"]').check()
    page.get_by_text("Good", exact=True).click()
    page.get_by_role("button", name="Submit rating").click()
    expect(page.locator(".flash")).to_contain_text("submitted")
    check(page, axe_path, "station-rated")
    with live_server.app.app_context():
        rating = db.session.query(Observation).filter_by(student_id=student_id).one()
        assert rating.total == 2 + 2 + 4 and rating.is_passed and rating.global_rating == 3
