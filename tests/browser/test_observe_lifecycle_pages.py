"""A station's later life in a real browser: an examiner reopens a submitted rating, a student sees and reopens
their own, and an educator is asked before a station is deleted. axe and Nu find nothing at 1280 and 375 px."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.observe.services import access, ratings, stations
from app.services import accounts, cohorts
from tests.browser.test_observe_pages import FORM, account, check_both_widths, new_page, sign_in


@pytest.mark.browser
def test_reopen_a_rating_then_delete_the_station(browser, live_server, axe_path):
    form = live_server.catalog.observation(FORM)
    teacher = account(live_server, "educator", "lifecycle-teacher")
    examiner = account(live_server, "educator", "lifecycle-examiner")
    student = live_server.create_student("lifecycle-student")
    with live_server.app.app_context():
        owner = accounts.find_by_email(teacher.email)
        learner_id = accounts.find_by_email(student.email).id
        cohort = cohorts.create(owner, "Lifecycle class")
        cohorts.add_members(cohort, [learner_id], "roster")
        access.add_examiner(cohort, examiner.email, owner)
        station = stations.create(cohort, form, "Station to delete", owner)
        marks = {item.id: item.scale.high for item in form.items}
        for rater_id, role in ((accounts.find_by_email(examiner.email).id, "examiner"), (learner_id, "self")):
            observation = ratings.start(station, form, learner_id, rater_id, role)
            ratings.save(observation, ratings.Entered(marks=marks, global_rating=3))
            ratings.submit(observation, station, form, stations.pass_total(station, form))
        db.session.commit()
        station_id, cohort_id = station.id, cohort.id

    # --- The examiner sees their submitted rating with a way to reopen it, and reopens it.
    context, page = new_page(browser, live_server, 375, touch=True)
    sign_in(page, examiner)
    page.goto(f"/observe/stations/{station_id}/students/{learner_id}/rate")
    reopen = page.get_by_role("button", name="Reopen to change it")
    expect(reopen).to_be_visible()
    assert reopen.bounding_box()["height"] >= 44  # a touch-sized target
    check_both_widths(page, axe_path, "rating-submitted")
    reopen.click()
    expect(page.get_by_text("is a draft again")).to_be_visible()
    expect(page.get_by_role("button", name="Submit rating")).to_be_visible()
    check_both_widths(page, axe_path, "rating-reopened")
    context.close()

    # --- The student finds their own submitted rating from "My stations" and reopens it with the keyboard.
    context, page = new_page(browser, live_server, 375)
    sign_in(page, student)
    page.goto("/stations/")
    check_both_widths(page, axe_path, "my-stations-submitted")
    page.get_by_role("link", name="See or change your rating at Station to delete").click()
    page.get_by_role("button", name="Reopen to change it").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your rating of yourself is a draft again")).to_be_visible()
    context.close()

    # --- The educator is asked first, told what goes with the station (both ratings are drafts now), then deletes it.
    context, page = new_page(browser, live_server, 1280)
    sign_in(page, teacher)
    page.goto(f"/observe/stations/{station_id}")
    page.get_by_role("link", name="Delete this station").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “Station to delete”?")
    expect(page.get_by_text("2 unfinished drafts, of 1 student, are deleted")).to_be_visible()
    check_both_widths(page, axe_path, "delete-station")
    page.get_by_role("button", name="Delete “Station to delete”").click()
    expect(page.get_by_text("was deleted with every rating given at it")).to_be_visible()
    assert page.url.endswith(f"/observe/cohorts/{cohort_id}/stations")
    expect(page.get_by_role("link", name="Station to delete")).to_have_count(0)
    context.close()
