"""What a certificate needs, in a real browser: the educator chooses the observed stations when assigning a course
and changes them on the assignment's certificate page; the learner's course page says what is still needed.
axe and the Nu HTML checker find nothing on each page state at 1280 and 375 px, and none scrolls sideways.

Screenshots go to /tmp/shots/credentials-<state>-<width>.png (ALLIANCE_SCREENSHOT_DIR to change the folder).
"""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Assignment
from app.services import accounts, cohorts, courses, quizzes
from tests.browser.test_credentials_pages import check_both_widths
from tests.helpers import answers_by_grade, given_answers


def _waiting_learner(live_server):
    """A cohort with a one-quiz course assigned asking for 1 observed station, a student who passed the quiz, and
    a second published course not yet assigned: (educator, student, cohort id, course id)."""
    educator = live_server.create_student("req-teacher")
    student = live_server.create_student("req-learner")
    with live_server.app.app_context():
        teacher = accounts.find_by_email(educator.email)
        teacher.role = "educator"
        learner = accounts.find_by_email(student.email)
        quiz = live_server.catalog.quizzes[0]
        cohort = cohorts.create(teacher, "Ward 9 class")
        course = courses.create(teacher, "Alliance on placement", "")
        other = courses.create(teacher, "Second placement", "")
        for made in (course, other):
            courses.add_item(live_server.catalog, made, f"quiz:{quiz.id}")
            courses.set_published(made, True)
        cohorts.add_member(cohort, learner.id, "code")
        assignment: Assignment = cohorts.assign(cohort, course, teacher, None, None, 1)
        db.session.commit()
        attempt = quizzes.start_attempt(learner.id, quiz)
        quizzes.submit_attempt(learner.id, attempt, quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
        db.session.commit()  # the course is complete; its certificate waits for a station
        return educator, student, cohort.id, assignment.course_id


@pytest.mark.browser
def test_an_educator_sets_what_the_certificate_needs_and_the_learner_sees_it(page, learner, live_server, axe_path):
    educator, student, cohort_id, course_id = _waiting_learner(live_server)

    learner.sign_in(student)
    page.goto(f"/learn/courses/{course_id}")
    expect(page.locator(".certificate-waiting")).to_contain_text("1 observed station to pass: 0 passed.")
    check_both_widths(page, axe_path, "course-waiting")
    page.get_by_role("button", name="Sign out").first.click()

    learner.sign_in(educator)
    page.goto(f"/teach/cohorts/{cohort_id}")
    expect(page.get_by_role("cell", name="Course and 1 observed station")).to_be_visible()
    stations = page.get_by_label("Observed stations to pass for the certificate")
    expect(stations).to_have_value("0")  # the site's default
    page.get_by_label("Course", exact=True).select_option(label="Second placement")
    stations.fill("1000")
    page.get_by_role("button", name="Assign the course").click()
    expect(page.get_by_role("alert")).to_contain_text("a whole number from 0 (none) to 20")
    expect(page.get_by_label("Observed stations to pass for the certificate")).to_have_value("1000")
    check_both_widths(page, axe_path, "assign-error")
    page.get_by_label("Observed stations to pass for the certificate").fill("2")
    page.get_by_role("button", name="Assign the course").click()
    expect(page.get_by_role("cell", name="Course and 2 observed stations")).to_be_visible()
    check_both_widths(page, axe_path, "cohort-requirements")

    page.get_by_role("link", name="Change what the certificate of Alliance on placement needs").click()
    expect(
        page.get_by_role("heading", level=1, name="What the certificate of Alliance on placement needs")
    ).to_be_visible()
    check_both_widths(page, axe_path, "requirement")
    page.get_by_label("Observed stations to pass").fill("-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("a whole number from 0 (none) to 20")
    check_both_widths(page, axe_path, "requirement-error")
    page.get_by_label("Observed stations to pass").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("1 certificate now earned was issued.")).to_be_visible()
    expect(page.get_by_role("cell", name="Course complete")).to_be_visible()
    page.get_by_role("button", name="Sign out").first.click()

    learner.sign_in(student)
    page.goto(f"/learn/courses/{course_id}")
    expect(page.get_by_role("link", name="Your certificate for this course")).to_be_visible()
