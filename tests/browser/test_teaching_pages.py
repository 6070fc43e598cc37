"""The educator's, admin's and joining pages in a real browser: axe-core finds no violations at two widths,
nothing scrolls sideways at 320 px, and the course builder and cohort forms work from the keyboard alone.

The data behind the pages (a course, a cohort with students and their attempts) is written once through
the app's services; the pages are then reached the way a person reaches them, elements found by role and name.
"""

import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.learn.courses import today
from app.services import accounts, cohorts, courses, invitations, password_links, progress, quizzes
from tests.browser.checks import assert_accessible, assert_reflows
from tests.browser.conftest import signed_in_cookies

_numbers = itertools.count(1)
COURSE_TITLE = "Alliance essentials (pages)"
COHORT_NAME = "Physiotherapy year 2, 2026 (pages)"
ROSTER_COHORT = "Physiotherapy year 1, 2026 (class lists)"  # roster imports add students here, not to COHORT_NAME


# --- the data, written once through the services


@dataclass
class World:
    """Accounts (conftest's Student records) and the ids of what the pages show, with each account's cookies."""

    accounts: dict
    cohort_id: int
    join_code: str
    course_id: int
    quiz: object
    cookies: dict = field(default_factory=dict)


def _answers(quiz, worst: bool) -> dict:
    """Full marks, or the lowest-scoring option of every scenario item (a failing attempt)."""
    return {
        item.id: min(item.options, key=lambda o: o.score).id
        if worst and item.type == "scenario"
        else item.handler.right_answer(item)
        for item in quiz.items
    }


def _take(user_id: int, quiz, answers: dict) -> None:
    attempt = quizzes.start_attempt(user_id, quiz)
    quizzes.submit_attempt(user_id, attempt, quiz, answers)


@pytest.fixture(scope="module")
def world(browser, live_server, learning_module, module_quiz) -> World:
    """An educator's published course (module, quiz, optional conversation) assigned to a cohort, overdue;
    one member passed the quiz, one failed it twice, one outsider has not joined; an admin; a new educator."""
    catalog = live_server.catalog
    roles = {"educator": "educator", "newcomer": "educator", "admin": "admin"}
    people = {kind: live_server.create_student(kind) for kind in ("educator", "newcomer", "admin", "passed", "late")}
    people["outsider"] = live_server.create_student("outsider")
    with live_server.app.app_context():
        users = {kind: accounts.find_by_email(a.email) for kind, a in people.items()}
        for kind, role in roles.items():
            users[kind].role = role
        course = courses.create(users["educator"], COURSE_TITLE, "The first module, its quiz, and a conversation.")
        courses.add_item(catalog, course, f"module:{learning_module.id}")
        courses.add_item(catalog, course, f"quiz:{module_quiz.id}")
        courses.add_item(catalog, course, f"conversation:{catalog.conversations[0].id}", is_required=False)
        courses.set_published(course, True)
        cohort = cohorts.create(users["educator"], COHORT_NAME)
        cohorts.add_member(cohorts.create(users["educator"], ROSTER_COHORT), users["passed"].id, "code")
        cohorts.assign(cohort, course, users["educator"], today() - timedelta(days=30), today() - timedelta(days=2))
        for kind in ("passed", "late"):
            cohorts.add_member(cohort, users[kind].id, "code")
        # The outsider already had an account when a class list named them: invited, not yet answered.
        invitations.invite(cohort, [users["outsider"].id], users["educator"])
        # The new educator has been asked to teach the cohort and has not answered either.
        invitations.share(cohort, people["newcomer"].email, users["educator"])
        for lesson in learning_module.lessons[:2]:
            progress.complete_lesson(users["passed"].id, learning_module, lesson)
        _take(users["passed"].id, module_quiz, _answers(module_quiz, worst=False))
        _take(users["late"].id, module_quiz, _answers(module_quiz, worst=True))
        _take(users["late"].id, module_quiz, _answers(module_quiz, worst=True))
        db.session.commit()
        found = World(people, cohort.id, cohort.join_code, course.id, module_quiz)
    found.cookies = {kind: signed_in_cookies(browser, live_server, account) for kind, account in people.items()}
    return found


# --- axe and reflow


# --- the pages: each arrives as a person would, from the page before when it has one


def _teaching(page, world: World) -> None:
    page.goto("/teach/")
    expect(page.get_by_role("heading", level=1, name="Teaching")).to_be_visible()


def dashboard_empty(page, world: World) -> None:
    """A new educator's dashboard: no cohorts, no courses of their own."""
    _teaching(page, world)
    expect(page.get_by_role("region", name="Your cohorts")).to_contain_text("You have no cohorts yet.")


def dashboard(page, world: World) -> None:
    """The dashboard with a cohort and a course."""
    _teaching(page, world)
    expect(page.get_by_role("region", name="Your cohorts").get_by_role("link", name=COHORT_NAME)).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("^Your courses"))).to_contain_text(COURSE_TITLE)


def course_builder(page, world: World) -> None:
    """The builder of a published course with three items."""
    _teaching(page, world)
    page.get_by_role("link", name=COURSE_TITLE).click()
    expect(page.get_by_role("heading", level=1, name=COURSE_TITLE)).to_be_visible()
    expect(page.get_by_role("region", name="Items, in order").get_by_role("listitem")).to_have_count(3)


def course_builder_with_error(page, world: World) -> None:
    """The builder after "Add to the course" with nothing chosen."""
    course_builder(page, world)
    page.get_by_role("button", name="Add to the course").click()
    expect(page.get_by_role("alert")).to_contain_text("Content to add: Tick at least one module, quiz or conversation")
    expect(page.get_by_role("group", name="Content to add")).to_have_accessible_description(re.compile(r"Error: "))


def new_course_with_error(page, world: World) -> None:
    """The new-course form sent without a title."""
    _teaching(page, world)
    page.get_by_role("link", name="Create a course").click()
    page.get_by_role("button", name="Create the course").click()
    expect(page.get_by_role("alert").get_by_role("link", name="Title: Give the course a title.")).to_be_visible()
    expect(page).to_have_title(re.compile("^Error: New course"))


def _cohort(page, world: World, name: str = COHORT_NAME) -> None:
    _teaching(page, world)
    page.get_by_role("region", name="Your cohorts").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def cohort_page(page, world: World) -> None:
    """A cohort with members and an assigned course."""
    _cohort(page, world)
    expect(page.get_by_role("table", name="Students in this cohort").get_by_role("row")).to_have_count(3)
    expect(page.get_by_role("table", name="Courses assigned to this cohort")).to_contain_text(COURSE_TITLE)
    expect(page.get_by_role("region", name="Joining")).to_contain_text(world.join_code)


def cohort_share_error(page, world: World) -> None:
    """The cohort page after sharing with an address that is not an email."""
    _cohort(page, world)
    page.get_by_label("Co-educator's email").fill("not an email")
    page.get_by_role("button", name="Invite to teach this cohort").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid email address.")
    expect(page.get_by_label("Co-educator's email")).to_have_attribute("aria-invalid", "true")


def cohort_invited(page, world: World) -> None:
    """The cohort page's list of students invited by a class list who have not answered."""
    _cohort(page, world)
    invited = page.get_by_role("table", name="Invited, not yet members")
    expect(invited).to_contain_text(world.accounts["outsider"].name)
    expect(invited).to_contain_text("Invited")
    expect(page.get_by_role("region", name="Educators")).to_contain_text("invited, has not accepted yet")


def dashboard_invited_to_teach(page, world: World) -> None:
    """A new educator's dashboard with a colleague's unanswered invitation to teach a cohort."""
    _teaching(page, world)
    invitation = page.get_by_role("region", name="Invitations to teach")
    expect(invitation).to_contain_text(COHORT_NAME)
    expect(invitation.get_by_role("button", name=f"Accept {COHORT_NAME}")).to_be_visible()


def home_with_invitation(page, world: World) -> None:
    """My learning with an invitation from a class list, to accept or decline."""
    page.goto("/learn/")
    invitation = page.get_by_role("region", name="Invitations")
    expect(invitation).to_contain_text(COHORT_NAME)
    expect(invitation.get_by_role("button", name=f"Decline the invitation to {COHORT_NAME}")).to_be_visible()


def my_cohorts(page, world: World) -> None:
    """The learner's cohorts, with who teaches them and what those educators see."""
    page.goto("/learn/")
    page.get_by_role("link", name="My cohorts").click()
    expect(page.get_by_role("heading", level=1, name="My cohorts")).to_be_visible()
    expect(page.get_by_role("region", name="Cohorts you are in")).to_contain_text(COHORT_NAME)


def leave_cohort(page, world: World) -> None:
    """The page that asks before the learner leaves a cohort."""
    my_cohorts(page, world)
    page.get_by_role("link", name=f"Leave {COHORT_NAME}").click()
    expect(page.get_by_role("heading", level=1, name=f"Leave {COHORT_NAME}?")).to_be_visible()


def roster_import(page, world: World) -> None:
    """The roster import form."""
    _cohort(page, world, ROSTER_COHORT)
    page.get_by_role("link", name="Import a class list (CSV with email and name)").click()
    expect(page.get_by_role("heading", level=1, name=f"Import students into {ROSTER_COHORT}")).to_be_visible()


def roster_result(page, world: World) -> None:
    """The result of a CSV with new students, an existing member and refused rows: the one-time links."""
    roster_import(page, world)
    n = next(_numbers)
    member = world.accounts["passed"]
    roster = "\n".join(
        [
            "email,name",
            f"ada.okafor.{n}@example.org,Ada Okafor",
            f"sam.o-connor.{n}@example.org,Sam O’Connor with a long name to wrap at narrow widths",
            f"{member.email},{member.name}",
            "not-an-email,Nobody",
            f"ada.okafor.{n}@example.org,Ada Again",
            f"missing.name.{n}@example.org,",
        ]
    )
    page.get_by_label("Roster file (CSV)").set_input_files(
        files=[{"name": "class-list.csv", "mimeType": "text/csv", "buffer": roster.encode()}]
    )
    page.get_by_role("button", name="Import students").click()
    expect(page.get_by_role("heading", level=1, name=f"Students imported into {ROSTER_COHORT}")).to_be_visible()
    refused = page.get_by_role("table", name="Rows not imported, with their line numbers in the file")
    expect(refused.get_by_role("row")).to_have_count(4)
    links = page.get_by_role("table", name="One-time set-password links for the new accounts")
    expect(links.get_by_role("row")).to_have_count(3)
    expect(links).to_contain_text("/auth/set-password/")
    copy_box = page.get_by_label("All links, to copy in one go")
    expect(copy_box).to_have_js_property("readOnly", True)
    expect(copy_box).to_have_value(re.compile(rf"^Name\tEmail\tLink\nAda Okafor\tada\.okafor\.{n}@example\.org\thttp"))


def roster_new_link(page, world: World) -> None:
    """A fresh one-time link for an imported student who never signed in."""
    roster_result(page, world)
    page.get_by_role("link", name="Import another file").click()
    page.get_by_role("button", name="Make a new link for Ada Okafor").first.click()
    expect(page.get_by_role("heading", level=1, name="New set-password link for Ada Okafor")).to_be_visible()


def _report(page, world: World) -> None:
    _cohort(page, world)
    page.get_by_role("link", name=f"Progress report for {COURSE_TITLE}").click()
    expect(page.get_by_role("heading", level=1, name=f"Progress report: {COURSE_TITLE}")).to_be_visible()


def report_matrix(page, world: World) -> None:
    """The progress matrix: two students, one passed and one failed twice, overdue."""
    _report(page, world)
    matrix = page.get_by_role("table", name=re.compile("^Progress of each current student"))
    expect(matrix.get_by_role("rowheader")).to_have_count(3)  # two students and the totals


def report_print(page, world: World) -> None:
    """The printable matrix."""
    _report(page, world)
    page.get_by_role("link", name="Printable view").click()
    expect(page.get_by_role("heading", level=1, name=f"Progress report: {COURSE_TITLE}")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("printed")


def report_competencies(page, world: World) -> None:
    """The competency heatmap and its table."""
    _report(page, world)
    page.get_by_role("navigation", name=f"Reports on {COHORT_NAME}").get_by_role(
        "link", name="Competency heatmap"
    ).click()
    expect(page.get_by_role("heading", level=1, name=f"Competencies: {COHORT_NAME}")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Share of best answers per competency"))).to_be_visible()


def report_competency_groups(page, world: World) -> None:
    """The heatmap by competency group: one row per group."""
    report_competencies(page, world)
    page.get_by_role("link", name="Show competency groups instead (fewer rows)").click()
    expect(page.get_by_role("img", name=re.compile("^Share of best answers per competency group"))).to_be_visible()


def report_item_analysis(page, world: World) -> None:
    """Item analysis of the quiz, from the matrix's column heading; one student flagged."""
    _report(page, world)
    page.get_by_role("link", name=f"Quiz: {world.quiz.title}").click()
    expect(page.get_by_role("heading", level=1, name=f"Item analysis: {world.quiz.title}")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("2 of 2 current students submitted this quiz")


def report_learner(page, world: World) -> None:
    """One student's record, from the matrix."""
    _report(page, world)
    page.get_by_role("link", name=world.accounts["late"].name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=f"Learning record: {world.accounts['late'].name}")).to_be_visible()


def admin_accounts_search(page, world: World) -> None:
    """The list of accounts after a search."""
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1, name="Accounts")).to_be_visible()
    page.get_by_label("Name or email contains").fill(world.accounts["late"].email.split("@")[0])
    page.get_by_label("Role").select_option(label="Student")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table", name=re.compile("^Accounts matching the search"))).to_be_visible()


def admin_account(page, world: World) -> None:
    """An account's page with the role and access forms."""
    admin_accounts_search(page, world)
    late = world.accounts["late"]
    page.get_by_role("link", name=late.name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=late.name)).to_be_visible()


def _join(page) -> None:
    page.goto("/learn/")
    page.get_by_role("link", name="Join a cohort").click()
    expect(page.get_by_role("heading", level=1, name="Join a cohort")).to_be_visible()


def join_page(page, world: World) -> None:
    """Join a cohort by code."""
    _join(page)


def join_page_with_error(page, world: World) -> None:
    """Join with a code no cohort has."""
    _join(page)
    page.get_by_label("Join code").fill("ZZZZ ZZZZ" if world.join_code != "ZZZZZZZZ" else "YYYY YYYY")
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("No cohort has that join code.")
    expect(page.get_by_label("Join code")).to_have_accessible_description(
        re.compile("Error: No cohort has that join code")
    )


def join_link_page(page, world: World) -> None:
    """The page a join link opens: the cohort's name and a button."""
    page.goto(f"/learn/join/{world.join_code}")
    expect(page.get_by_role("button", name=f"Join {COHORT_NAME}")).to_be_visible()


def learner_course(page, world: World) -> None:
    """An assigned course's page, overdue, one quiz failed twice."""
    page.goto("/learn/")
    page.get_by_role("region", name="Assigned to you").get_by_role("link", name=COURSE_TITLE).click()
    expect(page.get_by_role("heading", level=1, name=COURSE_TITLE)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Overdue")


def home_overdue(page, world: World) -> None:
    """My learning with an assigned course past its due date."""
    page.goto("/learn/")
    assigned = page.get_by_role("region", name="Assigned to you")
    expect(assigned).to_contain_text("Overdue: the due date has passed and the course is not complete.")
    expect(assigned.get_by_role("progressbar", name=f"Progress in {COURSE_TITLE}")).to_have_js_property("value", 0)


def _password_link(server, world: World) -> str:
    """A one-time link for a new account that has never had a password."""
    with server.app.app_context():
        user = accounts.create_user(f"imported-{next(_numbers)}@example.org", "Imported Student", "x" * 20)
        user.password_hash = password_links.unusable_password()
        token = password_links.make(user.id, accounts.find_by_email(world.accounts["educator"].email).id)
        db.session.commit()
    return f"/auth/set-password/{token}"


def set_password_page(page, world: World, server) -> None:
    """The set-password page of a fresh link, after sending two different passwords."""
    page.goto(_password_link(server, world))
    expect(page.get_by_role("heading", level=1, name="Set your password")).to_be_visible()
    page.get_by_label("New password").fill("a long enough password")
    page.get_by_label("Repeat the password").fill("another long password")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The two passwords differ.")


def set_password_invalid(page, world: World) -> None:
    """A link that is not (or no longer) valid."""
    page.goto("/auth/set-password/" + "x" * 43)
    expect(page.get_by_role("heading", level=1, name="This link cannot be used")).to_be_visible()


#: Each page and whose cookies it is visited with (None: signed out).
PAGES = [
    (dashboard_empty, "newcomer"),
    (dashboard, "educator"),
    (course_builder, "educator"),
    (course_builder_with_error, "educator"),
    (new_course_with_error, "educator"),
    (cohort_page, "educator"),
    (cohort_share_error, "educator"),
    (cohort_invited, "educator"),
    (dashboard_invited_to_teach, "newcomer"),
    (home_with_invitation, "outsider"),
    (my_cohorts, "late"),
    (leave_cohort, "late"),
    (roster_import, "educator"),
    (roster_result, "educator"),
    (roster_new_link, "educator"),
    (report_matrix, "educator"),
    (report_print, "educator"),
    (report_competencies, "educator"),
    (report_competency_groups, "educator"),
    (report_item_analysis, "educator"),
    (report_learner, "educator"),
    (admin_accounts_search, "admin"),
    (admin_account, "admin"),
    (join_page, "outsider"),
    (join_page_with_error, "outsider"),
    (join_link_page, "outsider"),
    (learner_course, "late"),
    (home_overdue, "late"),
    (set_password_page, None),
    (set_password_invalid, None),
]


@pytest.mark.browser
@pytest.mark.parametrize(("arrive", "who"), PAGES, ids=[f.__name__.replace("_", "-") for f, _ in PAGES])
def test_page_is_accessible(arrive, who, page, world, live_server, axe_path):
    if who:
        page.context.add_cookies(world.cookies[who])
    if arrive is set_password_page:
        arrive(page, world, live_server)
    else:
        arrive(page, world)
    assert_accessible(page, axe_path)

    assert_reflows(page, axe_path)


@pytest.mark.browser
def test_printing_a_report_leaves_out_navigation_and_buttons(page, world):
    page.context.add_cookies(world.cookies["educator"])
    _report(page, world)
    page.emulate_media(media="print")
    for hidden in (
        page.get_by_role("banner"),
        page.get_by_role("navigation", name="Breadcrumb"),
        page.get_by_role("link", name="Printable view"),
        page.get_by_role("link", name="Download as CSV"),
    ):
        expect(hidden).to_be_hidden()
    matrix = page.get_by_role("table", name=re.compile("^Progress of each current student"))
    expect(matrix).to_be_visible()
    # On paper the matrix is never cut off by its scrolling box.
    assert page.evaluate("() => getComputedStyle(document.querySelector('.table-scroll')).overflowX") == "visible"

    page.emulate_media(media="screen")
    page.get_by_role("link", name="Printable view").click()
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Back to the report")).to_be_hidden()
    expect(matrix).to_be_visible()


# --- the keyboard alone

_FOCUS_STATE = """el => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || el.getAttribute('aria-label') || el.id || '').trim().slice(0, 60),
    // A date field takes four Tab stops: month, day, year, then its calendar button. On the button the field
    // no longer matches :focus; Chromium rings the button itself, which a script cannot see (checked by eye).
    focusVisible: el.matches(':focus-visible') || (el.type === 'date' && !el.matches(':focus')),
    ring: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || !['', 'none'].includes(style.boxShadow)
      || (el.type === 'date' && !el.matches(':focus')),
    shown: style.visibility === 'visible' && parseFloat(style.opacity) > 0 && box.width > 0 && box.height > 0
      && box.bottom > 0 && box.right > 0 && box.top < window.innerHeight && box.left < window.innerWidth,
  };
}"""


def _assert_focus_is_visible(page) -> bool:
    """The focused element is on screen, matches :focus-visible and draws a focus ring.

    False when Tab has gone past the last element (the browser's own controls, then the top of the page).
    """
    state = page.evaluate(f"({_FOCUS_STATE})(document.activeElement)")
    where = f"focused <{state['tag']}> {state['text']!r}"
    if state["tag"] in ("body", "html"):
        return False
    assert state["shown"], f"{where} is not visible on screen: {state}"
    assert state["focusVisible"] and state["ring"], f"{where} has no visible focus indicator: {state}"
    return True


def _tab_to(page, target, limit: int = 60) -> None:
    """Press Tab until `target` has focus, checking the focus ring at every stop on the way."""
    wraps, outside = 0, False
    for _ in range(limit):
        page.keyboard.press("Tab")
        if not _assert_focus_is_visible(page):  # past the end: Tab comes back to the top of the page
            wraps += not outside
            outside = True
            assert wraps == 1, f"Tab went round the whole page without reaching {target}"
            continue
        outside = False
        if target.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"{target} was not reached within {limit} presses of Tab")


@pytest.fixture
def keyboard_page(browser, live_server, world):
    """A page signed in as the educator, in US English (the date fields then read month, day, year)."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(5_000)
    context.add_cookies(world.cookies["educator"])
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_course_builder_by_keyboard_alone(keyboard_page, live_server, world, learning_module, module_quiz):
    page, catalog = keyboard_page, live_server.catalog
    conversation = catalog.conversations[0]
    with live_server.app.app_context():
        educator = accounts.find_by_email(world.accounts["educator"].email)
        course = courses.create(educator, "Keyboard course", "")
        for choice in (f"quiz:{module_quiz.id}", f"module:{learning_module.id}", f"conversation:{conversation.id}"):
            courses.add_item(catalog, course, choice)
        db.session.commit()
        course_id = course.id
    page.goto(f"/teach/courses/{course_id}")
    items = page.get_by_role("region", name="Items, in order").get_by_role("listitem")

    # Move the module above its quiz: Tab to the button, press Enter.
    _tab_to(page, page.get_by_role("button", name=f"Move up “{learning_module.title}”", exact=True))
    page.keyboard.press("Enter")
    expect(items.first).to_contain_text(learning_module.title)
    expect(items.nth(1)).to_contain_text(module_quiz.title)

    # Remove the conversation: Enter on its link, then the space bar on the button of the page that asks first.
    _tab_to(page, page.get_by_role("link", name=f"Remove “{conversation.title}”", exact=True))
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", level=1, name=re.compile(f"^Remove “{re.escape(conversation.title)}”"))
    ).to_be_visible()
    _tab_to(page, page.get_by_role("button", name=f"Remove “{conversation.title}”", exact=True))
    page.keyboard.press("Space")
    expect(items).to_have_count(2)
    expect(page.get_by_role("region", name="Items, in order")).not_to_contain_text(conversation.title)

    # Make the quiz optional, then publish, still by keyboard.
    _tab_to(page, page.get_by_role("button", name=f"Make optional “{module_quiz.title}”", exact=True))
    page.keyboard.press("Enter")
    expect(items.nth(1)).to_contain_text("Optional")
    # From the top of the page, as someone arriving at the course would: after the form above, the focus starts at
    # its item's anchor near the end, and the walk round the page's end to the top once failed in CI.
    page.goto(f"/teach/courses/{course_id}")
    _tab_to(page, page.get_by_role("button", name="Publish the course"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("The course is published")


@pytest.mark.browser
def test_cohort_forms_by_keyboard_alone(keyboard_page, live_server, world):
    page = keyboard_page
    with live_server.app.app_context():
        educator = accounts.find_by_email(world.accounts["educator"].email)
        cohort = cohorts.create(educator, "Keyboard cohort")
        cohorts.add_member(cohort, accounts.find_by_email(world.accounts["outsider"].email).id, "code")
        db.session.commit()
        cohort_id = cohort.id
    due = today() + timedelta(days=21)
    outsider, colleague = world.accounts["outsider"], world.accounts["newcomer"]
    page.goto(f"/teach/cohorts/{cohort_id}")
    status = page.get_by_role("status")

    # Close joining by code, then open it again.
    _tab_to(page, page.get_by_role("button", name="Close joining by code"))
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Joining by code is closed.")
    _tab_to(page, page.get_by_role("button", name="Open joining by code"))
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Students can join with the code.")

    # Assign the published course: the arrow key chooses it, the due date is typed, Enter sends the form.
    course = page.get_by_label("Course", exact=True)
    _tab_to(page, course)
    page.keyboard.press("ArrowDown")
    expect(course).to_have_value(str(world.course_id))
    _tab_to(page, page.get_by_label("Due date (optional)"))
    page.keyboard.type(due.strftime("%m%d%Y"))
    expect(page.get_by_label("Due date (optional)")).to_have_value(due.isoformat())
    _tab_to(page, page.get_by_role("button", name="Assign the course"))
    page.keyboard.press("Enter")
    expect(status).to_contain_text(f"“{COURSE_TITLE}” is assigned to Keyboard cohort.")
    row = page.get_by_role("table", name="Courses assigned to this cohort").get_by_role("row").nth(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text(due.strftime("%-d %b %Y"))

    # Remove the student: Enter on their link, then the space bar on the button of the page that asks first.
    _tab_to(page, page.get_by_role("link", name=f"Remove {outsider.name}"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=f"Remove {outsider.name} from Keyboard cohort?")).to_be_visible()
    _tab_to(page, page.get_by_role("button", name=f"Remove {outsider.name}"))
    page.keyboard.press("Space")
    expect(status).to_contain_text("The student was removed from the cohort.")

    # Invite a colleague to teach the cohort: type the address and press Enter in the field.
    _tab_to(page, page.get_by_label("Co-educator's email"))
    page.keyboard.type(colleague.email)
    page.keyboard.press("Enter")
    expect(status).to_contain_text(f"{colleague.name} is invited to teach this cohort.")


@pytest.mark.browser
def test_a_learner_accepts_an_invitation_and_leaves_the_cohort_by_keyboard(page, live_server, world):
    """Invited by a class list, a learner accepts from the home page, then leaves from My cohorts."""
    account = live_server.create_student("invited")
    with live_server.app.app_context():
        educator = accounts.find_by_email(world.accounts["educator"].email)
        cohort = cohorts.create(educator, "Placement group (invitations)")
        invitations.invite(cohort, [accounts.find_by_email(account.email).id], educator)
        db.session.commit()
    page.context.add_cookies(signed_in_cookies(page.context.browser, live_server, account))
    page.goto("/learn/")
    accept = page.get_by_role("button", name="Accept the invitation to Placement group (invitations)")
    accept.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("You joined Placement group (invitations).")
    expect(page.get_by_role("region", name="Invitations")).to_have_count(0)
    page.get_by_role("link", name="My cohorts").focus()
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Leave Placement group (invitations)").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Leave Placement group (invitations)").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("You left Placement group (invitations).")
    expect(page.get_by_role("region", name="Cohorts you are in")).not_to_contain_text("Placement group (invitations)")
