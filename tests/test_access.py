"""Who may open what: every route for every role, learners kept apart, friendly 404s, deactivated accounts."""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.content.items import field_name
from app.models import CohortInvitation, ItemResponse, LessonProgress, QuizAttempt, User
from app.services import cohorts, conversations, courses, invitations, password_links, practice, quizzes
from tests import worlds
from tests.conftest import PASSWORD
from tests.helpers import expected_percent, given_answers, rows

# "invited": a student a class list has invited to the world's cohort, who has not answered yet.
# "other educator": an educator who owns nothing of the first educator's (a cohort shared with them
# waits, unanswered, for their consent).
ROLES = ("anonymous", "student", "invited", "educator", "other educator", "admin")
SIGNED_IN = ROLES[1:]
#: The account kind each role signs in as.
KIND = {"invited": "student", "other educator": "educator"}
#: The account kinds, for tests that need one of each rather than the whole access table.
KINDS = ("anonymous", "student", "educator", "admin")
KINDS_SIGNED_IN = KINDS[1:]


def form_answers(quiz, best_items: int | None = None) -> dict:
    """Quiz form data: the right answer to the first `best_items` items (all by default), a wrong one to the rest."""
    count = len(quiz.items) if best_items is None else best_items
    data = {}
    for position, item in enumerate(quiz.items):
        handler = item.handler
        data |= handler.form_data(item, handler.right_answer(item) if position < count else handler.wrong_answer(item))
        data[f"confidence-{item.id}"] = "2"
    return data


def assert_friendly_error(response, status: int) -> None:
    """An error page a person can use: the status, a heading, advice and a way home, no stack trace."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert re.search(r"<h1>[^<]+</h1>", response.text)
    assert 'href="/">Go to the home page</a>' in response.text
    assert "Traceback" not in response.text and 'File "' not in response.text


# --- the access table: one entry per route and method, with the outcome for each role


@dataclass(frozen=True)
class World:
    """Real ids for one test: the first module, lesson and quiz, and the learner's two attempts."""

    module_id: str
    lesson_id: str
    module_title: str
    lesson_title: str
    next_lesson_id: str
    quiz_id: str
    quiz_title: str
    owner_email: str
    open_attempt: int
    submitted_attempt: int
    answers: dict[str, str]
    conversation_id: str
    conversation_title: str
    first_reply: str
    open_conversation: int
    finished_conversation: int
    cohort_id: int = 0
    cohort_name: str = ""
    join_code: str = ""
    course_id: int = 0
    course_title: str = ""
    course_item_id: int = 0
    member_id: int = 0
    member_name: str = ""
    colleague_email: str = ""
    newcomer_token: str = ""
    new_content: str = ""
    practice_attempt: int = 0
    practice_answer: dict = field(default_factory=dict)
    invitation_id: int = 0


def page(h1: Callable[[World], str]):
    """Outcome: 200 with this main heading."""
    return ("page", h1)


def redirect_to(target: Callable[[World], str]):
    """Outcome: 302 to exactly this address."""
    return ("redirect", target)


def redirect_like(pattern: str):
    """Outcome: 302 to an address matching this pattern (for ids made by the request itself)."""
    return ("redirect-like", pattern)


SIGN_IN = ("sign-in", None)
FORBIDDEN = ("403", None)
NOT_FOUND = ("404", None)


def teaching(outcome) -> dict:
    """Outcomes for the educator's own pages: visitors sign in, students are refused, every educator and admin gets
    `outcome` (a dashboard, a new course or cohort, a colleague's published course)."""
    return {
        "anonymous": SIGN_IN,
        "student": FORBIDDEN,
        "invited": FORBIDDEN,
        "educator": outcome,
        "other educator": outcome,
        "admin": outcome,
    }


def mine(outcome) -> dict:
    """Outcomes for pages of the first educator's cohort or course: an educator who owns nothing of it gets a 404."""
    return teaching(outcome) | {"other educator": ("404", None)}


def admin_only(outcome) -> dict:
    """Outcomes for the admin's pages: visitors sign in, students and educators are refused."""
    return {
        "anonymous": SIGN_IN,
        "student": FORBIDDEN,
        "invited": FORBIDDEN,
        "educator": FORBIDDEN,
        "other educator": FORBIDDEN,
        "admin": outcome,
    }  # 302 to /auth/sign-in?next=<the requested path>


NOT_ALLOWED = ("405", None)


def by_role(anonymous, signed_in) -> dict:
    """Outcomes for a visitor and, identically, for every signed-in role (every role may learn)."""
    return {"anonymous": anonymous, **{role: signed_in for role in SIGNED_IN}}


def everyone(outcome) -> dict:
    """The same outcome for all four roles."""
    return {role: outcome for role in ROLES}


@dataclass(frozen=True)
class Case:
    """One route and method, the request to send, and what each role gets."""

    rule: str
    method: str
    expect: dict
    attempt: str = "open"  # which of the learner's attempts fills <attempt_id>: open, submitted, conversation
    data: Callable[[World], dict] | None = None


def _new_account(_w: World) -> dict:
    """A valid sign-up form for a new address."""
    return {"email": "newcomer@example.org", "display_name": "Newcomer", "password": PASSWORD, "confirm": PASSWORD}


def _credentials(w: World) -> dict:
    """The sign-in form filled with the attempt owner's account."""
    return {"email": w.owner_email, "password": PASSWORD}


HOME = "/learn/"
CASES = [
    Case("/", "GET", by_role(page(lambda w: "Learn to build a therapeutic alliance"), redirect_to(lambda w: HOME))),
    Case("/auth/sign-up", "GET", by_role(page(lambda w: "Create an account"), redirect_to(lambda w: HOME))),
    Case("/auth/sign-up", "POST", everyone(redirect_to(lambda w: HOME)), data=_new_account),
    Case("/auth/sign-in", "GET", by_role(page(lambda w: "Sign in"), redirect_to(lambda w: HOME))),
    Case("/auth/sign-in", "POST", everyone(redirect_to(lambda w: HOME)), data=_credentials),
    # Forgot your password?: the tests send no mail, so the page says whom to ask, whatever is posted.
    Case("/auth/forgot-password", "GET", everyone(page(lambda w: "Forgot your password?"))),
    Case(
        "/auth/forgot-password",
        "POST",
        everyone(page(lambda w: "Forgot your password?")),
        data=lambda w: {"email": w.owner_email},
    ),
    Case("/auth/sign-out", "GET", everyone(NOT_ALLOWED)),
    Case("/auth/sign-out", "POST", everyone(redirect_to(lambda w: "/"))),
    Case("/learn/", "GET", by_role(SIGN_IN, page(lambda w: "My learning"))),
    Case("/learn/modules/<module_id>", "GET", by_role(SIGN_IN, page(lambda w: w.module_title))),
    Case("/learn/modules/<module_id>/lessons/<lesson_id>", "GET", by_role(SIGN_IN, page(lambda w: w.lesson_title))),
    Case("/learn/modules/<module_id>/lessons/<lesson_id>/complete", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/modules/<module_id>/lessons/<lesson_id>/complete",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/modules/{w.module_id}/lessons/{w.next_lesson_id}")),
    ),
    Case("/learn/quizzes/<quiz_id>", "GET", by_role(SIGN_IN, page(lambda w: w.quiz_title))),
    Case("/learn/quizzes/<quiz_id>/attempts", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/quizzes/<quiz_id>/attempts",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/attempts/{w.open_attempt}")),
    ),
    Case("/learn/quizzes/<quiz_id>/practice", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/quizzes/<quiz_id>/practice",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/practice/attempts/{w.practice_attempt}")),
    ),
    Case(
        "/learn/practice/attempts/<int:attempt_id>",
        "GET",
        by_role(SIGN_IN, page(lambda w: f"Practice: {w.quiz_title}")),
        attempt="practice",
    ),
    Case(
        "/learn/practice/attempts/<int:attempt_id>",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/practice/attempts/{w.practice_attempt}/items/2")),
        attempt="practice",
        data=lambda w: w.practice_answer,
    ),
    Case(
        "/learn/practice/attempts/<int:attempt_id>/items/<int:position>",
        "GET",
        by_role(SIGN_IN, page(lambda w: f"Practice: {w.quiz_title}")),
        attempt="practice",
    ),
    Case("/learn/conversations/<conversation_id>/practice", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/conversations/<conversation_id>/practice",
        "POST",
        by_role(SIGN_IN, redirect_like(r"/learn/conversations/attempts/\d+")),
    ),
    Case("/learn/attempts/<int:attempt_id>", "GET", by_role(SIGN_IN, page(lambda w: w.quiz_title))),
    Case(
        "/learn/attempts/<int:attempt_id>",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/attempts/{w.open_attempt}/results")),
        data=lambda w: w.answers,
    ),
    # "Save and continue later": the learner's own open attempt is saved and they go back to the quiz page;
    # a visitor signs in, and another learner's attempt is not found (anonymous's owner is someone else).
    Case("/learn/attempts/<int:attempt_id>/save", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/attempts/<int:attempt_id>/save",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/quizzes/{w.quiz_id}")),
        data=lambda w: w.answers,
    ),
    Case(
        "/learn/attempts/<int:attempt_id>/results",
        "GET",
        by_role(SIGN_IN, page(lambda w: f"Results: {w.quiz_title}")),
        attempt="submitted",
    ),
    Case("/learn/progress", "GET", by_role(SIGN_IN, page(lambda w: "My progress"))),
    # The learner's own transcript names them: each role's account is named after the role.
    Case(
        "/learn/transcript",
        "GET",
        {
            "anonymous": SIGN_IN,
            "student": page(lambda w: "Transcript: Student"),
            "invited": page(lambda w: "Transcript: Invited"),
            "educator": page(lambda w: "Transcript: Educator"),
            "other educator": page(lambda w: "Transcript: Other Educator"),
            "admin": page(lambda w: "Transcript: Admin"),
        },
    ),
    Case("/learn/transcript.pdf", "GET", by_role(SIGN_IN, ("pdf", None))),
    Case("/learn/records.json", "GET", by_role(SIGN_IN, ("json", None))),  # learning records (xAPI)
    Case("/learn/glossary", "GET", by_role(SIGN_IN, page(lambda w: "Glossary"))),
    Case("/learn/search", "GET", by_role(SIGN_IN, page(lambda w: "Search"))),
    # --- practising one competency, and private reflections (on the world's first module)
    Case("/learn/practice/competencies/<competency_id>", "GET", by_role(SIGN_IN, page(lambda w: "Practise: Empathy"))),
    Case(
        "/learn/practice/competencies/<competency_id>",
        "POST",
        by_role(SIGN_IN, redirect_like(r"/learn/practice/attempts/\d+")),
    ),
    Case(
        "/learn/reflections/<kind>/<subject_id>",
        "GET",
        by_role(SIGN_IN, page(lambda w: f"Reflection: {w.module_title}")),
    ),
    Case(
        "/learn/reflections/<kind>/<subject_id>",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/reflections/module/{w.module_id}")),
        data=lambda w: {"body": "Next time I will ask about goals first."},
    ),
    Case("/learn/reflections/<kind>/<subject_id>/delete", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/reflections/<kind>/<subject_id>/delete",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/reflections/module/{w.module_id}")),
    ),
    # --- the spaced review queue (the world's learner answered everything right: nothing is due)
    Case("/learn/review", "GET", by_role(SIGN_IN, page(lambda w: "Review"))),
    Case("/learn/review/sessions", "GET", everyone(NOT_ALLOWED)),
    Case("/learn/review/sessions", "POST", by_role(SIGN_IN, redirect_to(lambda w: "/learn/review"))),
    # --- learners and cohorts
    Case("/learn/join", "GET", by_role(SIGN_IN, page(lambda w: "Join a cohort"))),
    Case("/learn/join", "POST", by_role(SIGN_IN, redirect_to(lambda w: HOME)), data=lambda w: {"code": w.join_code}),
    Case("/learn/join/<code>", "GET", by_role(SIGN_IN, page(lambda w: f"Join {w.cohort_name}"))),
    Case("/learn/join/<code>", "POST", by_role(SIGN_IN, redirect_to(lambda w: HOME))),
    Case(
        "/learn/courses/<int:course_id>",
        "GET",  # the invited learner has not joined the cohort the course is assigned to
        by_role(SIGN_IN, page(lambda w: w.course_title)) | {"invited": NOT_FOUND},
    ),
    Case("/learn/cohorts", "GET", by_role(SIGN_IN, page(lambda w: "My cohorts"))),
    Case("/learn/invitations/<int:invitation_id>", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/invitations/<int:invitation_id>",
        "POST",  # only the invited learner has an invitation at this address
        by_role(SIGN_IN, NOT_FOUND) | {"invited": redirect_to(lambda w: HOME)},
        data=lambda w: {"action": "accept"},
    ),
    Case(
        "/learn/cohorts/<int:cohort_id>/leave",
        "GET",
        by_role(SIGN_IN, page(lambda w: f"Leave {w.cohort_name}?")) | {"invited": NOT_FOUND},
    ),
    Case(
        "/learn/cohorts/<int:cohort_id>/leave",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: "/learn/cohorts")) | {"invited": NOT_FOUND},
    ),
    # --- the person's own account and data rights (a student may delete; staff are refused)
    Case("/auth/account", "GET", by_role(SIGN_IN, page(lambda w: "Your account"))),
    Case("/auth/account/data.json", "GET", by_role(SIGN_IN, ("my-data", None))),
    Case("/auth/account/password", "GET", by_role(SIGN_IN, page(lambda w: "Change your password"))),
    Case(
        "/auth/account/password",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: "/auth/account")),
        data=lambda w: {
            "current_password": PASSWORD,
            "password": "quince lantern tundra",
            "confirm": "quince lantern tundra",
        },
    ),
    Case("/auth/account/name", "GET", by_role(SIGN_IN, page(lambda w: "Change your name"))),
    Case(
        "/auth/account/name",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: "/auth/account")),
        data=lambda w: {"display_name": "A New Name"},
    ),
    Case("/auth/account/email", "GET", by_role(SIGN_IN, page(lambda w: "Change your email address"))),
    Case(
        "/auth/account/email",
        "POST",  # no mail is sent in the tests: the address changes at once
        by_role(SIGN_IN, redirect_to(lambda w: "/auth/account")),
        data=lambda w: {"email": "changed.address@example.org", "password": PASSWORD},
    ),
    Case("/auth/account/email/cancel", "GET", everyone(NOT_ALLOWED)),
    Case("/auth/account/email/cancel", "POST", by_role(SIGN_IN, redirect_to(lambda w: "/auth/account"))),
    # <token> is a set-password link's token, which no email change has: a clear 404 for everyone.
    Case("/auth/confirm-email/<token>", "GET", everyone(NOT_FOUND)),
    Case("/auth/account/sign-out-everywhere", "GET", everyone(NOT_ALLOWED)),
    Case("/auth/account/sign-out-everywhere", "POST", by_role(SIGN_IN, redirect_to(lambda w: "/"))),
    Case("/auth/account/email-link", "GET", everyone(NOT_ALLOWED)),
    Case("/auth/account/email-link", "POST", by_role(SIGN_IN, redirect_to(lambda w: "/auth/account"))),
    # <token> is a set-password link's token, which no verification link has: a clear 404 for everyone.
    Case("/auth/verify-email/<token>", "GET", everyone(NOT_FOUND)),
    Case("/auth/account/delete", "GET", by_role(SIGN_IN, page(lambda w: "Delete your account"))),
    Case(
        "/auth/account/delete",
        "POST",
        {
            "anonymous": SIGN_IN,
            "student": redirect_to(lambda w: "/"),
            "invited": redirect_to(lambda w: "/"),
            "educator": FORBIDDEN,
            "other educator": FORBIDDEN,
            "admin": FORBIDDEN,
        },
        data=lambda w: {"password": PASSWORD, "confirm": "y"},
    ),
    Case("/auth/set-password/<token>", "GET", everyone(page(lambda w: "Set your password"))),
    Case(
        "/auth/set-password/<token>",
        "POST",
        everyone(redirect_to(lambda w: HOME)),
        data=lambda w: {"password": PASSWORD, "confirm": PASSWORD},
    ),
    # --- educators
    Case("/teach/", "GET", teaching(page(lambda w: "Teaching"))),
    Case("/teach/invitations/<int:cohort_id>", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/invitations/<int:cohort_id>",
        "POST",  # only the other educator has an unanswered invitation to teach the world's cohort
        teaching(NOT_FOUND) | {"other educator": redirect_to(lambda w: f"/teach/cohorts/{w.cohort_id}")},
        data=lambda w: {"action": "accept"},
    ),
    Case("/teach/courses/new", "GET", teaching(page(lambda w: "New course"))),
    Case(
        "/teach/courses/new",
        "POST",
        teaching(redirect_like(r"/teach/courses/\d+")),
        data=lambda w: {"title": "Another course", "description": ""},
    ),
    Case("/teach/courses/<int:course_id>", "GET", teaching(page(lambda w: w.course_title))),
    Case("/teach/courses/<int:course_id>/edit", "GET", mine(page(lambda w: f"Edit “{w.course_title}”"))),
    Case(
        "/teach/courses/<int:course_id>/edit",
        "POST",
        mine(redirect_to(lambda w: f"/teach/courses/{w.course_id}")),
        data=lambda w: {"title": w.course_title, "description": "Changed."},
    ),
    Case("/teach/courses/<int:course_id>/items", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/courses/<int:course_id>/items",
        "POST",
        mine(redirect_to(lambda w: f"/teach/courses/{w.course_id}#items")),
        data=lambda w: {"choice": w.new_content, "is_required": "y"},
    ),
    Case("/teach/courses/<int:course_id>/items/<int:item_id>", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/courses/<int:course_id>/items/<int:item_id>",
        "POST",
        mine(redirect_to(lambda w: f"/teach/courses/{w.course_id}#item-{w.course_item_id}")),
        data=lambda w: {"action": "optional"},
    ),
    # Removing an item asks first: the GET is the question, the POST the answer.
    Case(
        "/teach/courses/<int:course_id>/items/<int:item_id>/remove",
        "GET",
        mine(page(lambda w: f"Remove “{w.module_title}” from “{w.course_title}”?")),
    ),
    Case(
        "/teach/courses/<int:course_id>/items/<int:item_id>/remove",
        "POST",
        mine(redirect_to(lambda w: f"/teach/courses/{w.course_id}#items")),
    ),
    # Previews of catalogue content as students see it: any educator may look before adding it to a course.
    Case("/teach/preview/modules/<module_id>", "GET", teaching(page(lambda w: f"Preview: {w.module_title}"))),
    Case("/teach/preview/quizzes/<quiz_id>", "GET", teaching(page(lambda w: f"Preview: {w.quiz_title}"))),
    Case(
        "/teach/preview/conversations/<conversation_id>",
        "GET",
        teaching(page(lambda w: f"Preview: {w.conversation_title}")),
    ),
    Case("/teach/courses/<int:course_id>/publish", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/courses/<int:course_id>/publish",
        "POST",
        mine(redirect_to(lambda w: f"/teach/courses/{w.course_id}")),
        data=lambda w: {"action": "publish"},
    ),
    Case("/teach/courses/<int:course_id>/copy", "GET", everyone(NOT_ALLOWED)),
    Case("/teach/courses/<int:course_id>/copy", "POST", teaching(redirect_like(r"/teach/courses/\d+"))),
    Case("/teach/cohorts/new", "GET", teaching(page(lambda w: "New cohort"))),
    Case(
        "/teach/cohorts/new", "POST", teaching(redirect_like(r"/teach/cohorts/\d+")), data=lambda w: {"name": "Class B"}
    ),
    Case("/teach/cohorts/<int:cohort_id>", "GET", mine(page(lambda w: w.cohort_name))),
    Case("/teach/cohorts/<int:cohort_id>/share", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/cohorts/<int:cohort_id>/share",
        "POST",
        mine(redirect_to(lambda w: f"/teach/cohorts/{w.cohort_id}#educators")),
        data=lambda w: {"email": w.colleague_email},
    ),
    # Removing a student asks first: the GET is the question, the POST the answer.
    Case(
        "/teach/cohorts/<int:cohort_id>/members/<int:user_id>/remove",
        "GET",
        mine(page(lambda w: f"Remove {w.member_name} from {w.cohort_name}?")),
    ),
    Case(
        "/teach/cohorts/<int:cohort_id>/members/<int:user_id>/remove",
        "POST",
        mine(redirect_to(lambda w: f"/teach/cohorts/{w.cohort_id}#members")),
    ),
    Case("/teach/cohorts/<int:cohort_id>/members/<int:user_id>/password-link", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/cohorts/<int:cohort_id>/members/<int:user_id>/password-link",
        "POST",  # the member was imported by the cohort's educator and has no password yet: a new link, shown once
        mine(page(lambda w: f"New password link for {w.member_name}")),
    ),
    Case("/teach/cohorts/<int:cohort_id>/joining", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/cohorts/<int:cohort_id>/joining",
        "POST",
        mine(redirect_to(lambda w: f"/teach/cohorts/{w.cohort_id}#joining")),
        data=lambda w: {"action": "close"},
    ),
    Case("/teach/cohorts/<int:cohort_id>/assignments", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/cohorts/<int:cohort_id>/assignments",
        "POST",
        mine(redirect_to(lambda w: f"/teach/cohorts/{w.cohort_id}#assignments")),
        data=lambda w: {"course": str(w.course_id), "due_on": "2030-01-31"},
    ),
    Case(
        "/teach/cohorts/<int:cohort_id>/roster",
        "GET",
        mine(page(lambda w: f"Import students into {w.cohort_name}")),
    ),
    Case(
        "/teach/cohorts/<int:cohort_id>/roster",
        "POST",
        mine(page(lambda w: f"Students imported into {w.cohort_name}")),
        data=lambda w: {
            "file": (io.BytesIO(b"email,name\nroster.newcomer@example.org,Roster Newcomer\n"), "class.csv")
        },
    ),
    Case("/teach/cohorts/<int:cohort_id>/roster/students/<int:user_id>/password-link", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/teach/cohorts/<int:cohort_id>/roster/students/<int:user_id>/password-link",
        "POST",
        mine(page(lambda w: f"New set-password link for {w.member_name}")),
    ),
    Case(
        "/teach/cohorts/<int:cohort_id>/courses/<int:course_id>/report",
        "GET",
        mine(page(lambda w: f"Progress report: {w.course_title}")),
    ),
    Case(
        "/teach/cohorts/<int:cohort_id>/courses/<int:course_id>/report/print",
        "GET",
        mine(("print", lambda w: f"Progress report: {w.course_title}")),
    ),
    Case("/teach/cohorts/<int:cohort_id>/courses/<int:course_id>/report.csv", "GET", mine(("csv", None))),
    Case("/teach/cohorts/<int:cohort_id>/attempts.csv", "GET", mine(("csv", None))),
    Case("/teach/cohorts/<int:cohort_id>/records.json", "GET", mine(("json", None))),  # learning records (xAPI)
    Case(
        "/teach/cohorts/<int:cohort_id>/learners/<int:user_id>",
        "GET",
        mine(page(lambda w: f"Learning record: {w.member_name}")),
    ),
    Case(
        "/teach/cohorts/<int:cohort_id>/learners/<int:user_id>/transcript",
        "GET",
        mine(page(lambda w: f"Transcript: {w.member_name}")),
    ),
    Case("/teach/cohorts/<int:cohort_id>/learners/<int:user_id>/transcript.pdf", "GET", mine(("pdf", None))),
    Case("/teach/cohorts/<int:cohort_id>/competencies", "GET", mine(page(lambda w: f"Competencies: {w.cohort_name}"))),
    Case(
        "/teach/cohorts/<int:cohort_id>/quizzes/<quiz_id>/analysis",
        "GET",
        mine(page(lambda w: f"Item analysis: {w.quiz_title}")),
    ),
    # --- admins
    Case("/admin/", "GET", admin_only(redirect_to(lambda w: "/admin/users"))),
    Case("/admin/users", "GET", admin_only(page(lambda w: "Accounts"))),
    Case("/admin/users/<int:user_id>", "GET", admin_only(page(lambda w: w.member_name))),
    Case("/admin/users/<int:user_id>/role", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/admin/users/<int:user_id>/role",
        "POST",
        admin_only(redirect_to(lambda w: f"/admin/users/{w.member_id}")),
        data=lambda w: {"role": "educator"},
    ),
    Case("/admin/users/<int:user_id>/deactivate", "GET", admin_only(page(lambda w: f"Deactivate {w.member_name}?"))),
    Case("/admin/users/new", "GET", admin_only(page(lambda w: "Create an account"))),
    Case(
        "/admin/users/new",
        "POST",  # the answer shows the new account's one-time link
        admin_only(page(lambda w: "Account created")),
        data=lambda w: {"display_name": "Made By Admin", "email": "made.by.admin@example.org", "role": "educator"},
    ),
    Case("/admin/users/<int:user_id>/password-link", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/admin/users/<int:user_id>/password-link",
        "POST",
        admin_only(page(lambda w: f"New password link for {w.member_name}")),
    ),
    Case(
        "/admin/users/<int:user_id>/deactivate",
        "POST",
        admin_only(redirect_to(lambda w: f"/admin/users/{w.member_id}")),
    ),
    Case("/admin/users/<int:user_id>/reactivate", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/admin/users/<int:user_id>/reactivate",
        "POST",
        admin_only(redirect_to(lambda w: f"/admin/users/{w.member_id}")),
    ),
    Case("/learn/conversations/<conversation_id>", "GET", by_role(SIGN_IN, page(lambda w: w.conversation_title))),
    Case("/learn/conversations/<conversation_id>/attempts", "GET", everyone(NOT_ALLOWED)),
    Case(
        "/learn/conversations/<conversation_id>/attempts",
        "POST",
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/conversations/attempts/{w.open_conversation}")),
    ),
    # "Start again" asks first: the GET is the question, the POST the answer.
    Case(
        "/learn/conversations/<conversation_id>/restart",
        "GET",
        by_role(SIGN_IN, page(lambda w: f"Start “{w.conversation_title}” again?")),
    ),
    Case(
        "/learn/conversations/<conversation_id>/restart",
        "POST",
        by_role(SIGN_IN, redirect_like(r"/learn/conversations/attempts/\d+")),
    ),
    Case(
        "/learn/conversations/attempts/<int:attempt_id>",
        "GET",
        by_role(SIGN_IN, page(lambda w: w.conversation_title)),
        attempt="conversation",
    ),
    Case(
        "/learn/conversations/attempts/<int:attempt_id>",
        "POST",
        # The page opens at the patient's answer to the reply.
        by_role(SIGN_IN, redirect_to(lambda w: f"/learn/conversations/attempts/{w.open_conversation}#now")),
        attempt="conversation",
        data=lambda w: {"step": "1", "reply": w.first_reply, "confidence": "2"},
    ),
]


def become(role: str, auth) -> User | None:
    """Sign in as a fresh account of `role` ("invited" and "other educator" get their own address); None for a visitor."""
    if role in KIND:
        user = auth.create(KIND[role], email=f"{role.replace(' ', '.')}@example.org", name=role.title())
        assert auth.sign_in(user.email).status_code == 302
        return user
    return auth.as_role(role)


def fill(rule: str, values: dict) -> str:
    """The route rule with each `<placeholder>` (converter or not) replaced by its value."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def assert_outcome(response, kind: str, value, world, user: User | None, path: str) -> bool:
    """Check `response` against an access-table outcome of a common kind; False (nothing checked) for any other kind.

    Area tables check their own kinds (a badge, a bank, a launch refused...) and pass the rest here.
    """
    if kind == "page":
        assert response.status_code == 200, response.text[:500]
        assert f"<h1>{escape(value(world))}</h1>" in response.text
        # The tab's title is plain text: markup there is shown to the person as characters.
        assert "<" not in re.search(r"<title>(.*?)</title>", response.text, re.S).group(1)
        if user is not None:
            assert f'<li class="who">{escape(user.display_name)}' in response.text
    elif kind == "redirect":
        assert response.status_code == 302, response.text[:500]
        assert response.headers["Location"] == value(world)
    elif kind == "print":  # a page for paper: no site navigation
        assert response.status_code == 200, response.text[:500]
        assert f"<h1>{escape(value(world))}</h1>" in response.text and 'class="who"' not in response.text
    elif kind in ("403", "404"):
        assert_friendly_error(response, int(kind))
    elif kind == "csv":
        assert response.status_code == 200 and response.mimetype == "text/csv", response.text[:300]
    elif kind == "pdf":  # a printable record: a PDF attachment
        assert response.status_code == 200 and response.mimetype == "application/pdf", response.text[:300]
        assert response.headers["Content-Disposition"].startswith("attachment;") and response.data.startswith(b"%PDF-")
    elif kind == "json":  # a download of learning records: an attachment holding a JSON array
        assert response.status_code == 200 and response.mimetype == "application/json", response.text[:300]
        assert response.headers["Content-Disposition"].startswith("attachment;") and isinstance(response.json, list)
    elif kind == "my-data":  # the person's own data download: an attachment holding their account
        assert response.status_code == 200 and response.mimetype == "application/json", response.text[:300]
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.json["account"]["email"] == user.email
    elif kind == "redirect-like":
        assert response.status_code == 302, response.text[:500]
        assert re.fullmatch(value, response.headers["Location"])
    elif kind == "sign-in":
        assert response.status_code == 302
        target = urlsplit(response.headers["Location"])
        assert target.path == "/auth/sign-in"
        assert parse_qs(target.query) == {"next": [path]}
    elif kind == "405":
        assert_friendly_error(response, 405)
        assert "<h1>That can’t be done here</h1>" in response.text
    else:
        return False
    return True


def build_world(role: str, auth, db, catalog) -> tuple[User | None, World]:
    """Become `role`, then give the learner (for a visitor: another student) a submitted and an open attempt."""
    user = become(role, auth)
    owner = user or auth.create("student", email="owner@example.org", name="Owner")
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    answers = form_answers(quiz)
    given = given_answers(quiz, answers)
    submitted = quizzes.start_attempt(owner.id, quiz)
    quizzes.submit_attempt(owner.id, submitted, quiz, given)
    db.session.commit()
    still_open = quizzes.start_attempt(owner.id, quiz)
    conversation = catalog.conversations[0]
    finished = quizzes.start_attempt(owner.id, conversation)
    for step, reply_id in enumerate(conversation.best_path, start=1):
        conversations.reply(owner.id, finished, conversation, step, reply_id)
    talking = quizzes.start_attempt(owner.id, conversation)
    # Practice at the quiz, its first item answered (so its feedback page exists).
    practising = practice.start_quiz(owner.id, quiz)
    first_step = practice.next_step(practising, catalog)
    first_item, second_item = quiz.items[0], quiz.items[1]
    practice.answer(owner.id, practising, first_step, first_item.handler.right_answer(first_item), 2, catalog)
    # Teaching: a cohort taught by the educator (or, for other roles, by a colleague; admins see every
    # cohort), with the learner and a second student in it, and a published course assigned to it.
    teacher = user if role == "educator" else auth.create("educator", email="teacher@example.org", name="Teacher")
    auth.create("educator", email="colleague@example.org", name="Colleague")
    member = auth.create("student", email="member@example.org", name="Member Student")
    cohort = cohorts.create(teacher, "Ward 7 class")
    course = courses.create(teacher, "Alliance on placement", "")
    first_item = courses.add_item(catalog, course, f"module:{module.id}")
    courses.add_item(catalog, course, f"quiz:{quiz.id}")
    courses.set_published(course, True)
    # The invited learner is not a member: a class list invited them and they have not answered.
    cohorts.add_members(cohort, [member.id] if role == "invited" else [owner.id, member.id], "roster")
    invitee = owner if role == "invited" else auth.create("student", email="invitee@example.org", name="Invitee")
    invitations.invite(cohort, [invitee.id], teacher)
    invitation_id = db.session.scalar(select(CohortInvitation.id).where(CohortInvitation.user_id == invitee.id))
    if role == "other educator":
        invitations.share(cohort, user.email, teacher)  # unanswered: it grants nothing yet
    cohorts.assign(cohort, course, teacher, None, None)
    newcomer = auth.create("student", email="newcomer.link@example.org", name="Newcomer")
    member.password_hash = password_links.unusable_password()  # imported, never signed in
    token = password_links.make(newcomer.id, teacher.id)
    password_links.make(member.id, teacher.id)  # the member was imported by the cohort's educator
    db.session.commit()
    world = World(
        module_id=module.id,
        lesson_id=module.lessons[0].id,
        module_title=module.title,
        lesson_title=module.lessons[0].title,
        next_lesson_id=module.lessons[1].id,
        quiz_id=quiz.id,
        quiz_title=quiz.title,
        owner_email=owner.email,
        open_attempt=still_open.id,
        submitted_attempt=submitted.id,
        answers=answers,
        conversation_id=conversation.id,
        conversation_title=conversation.title,
        first_reply=conversation.best_path[0],
        open_conversation=talking.id,
        finished_conversation=finished.id,
        cohort_id=cohort.id,
        cohort_name=cohort.name,
        join_code=cohort.join_code,
        course_id=course.id,
        course_title=course.title,
        course_item_id=first_item.id,
        member_id=member.id,
        member_name=member.display_name,
        colleague_email="colleague@example.org",
        newcomer_token=token,
        new_content=f"conversation:{conversation.id}",
        practice_attempt=practising.id,
        invitation_id=invitation_id,
        practice_answer={
            "position": "2",
            "confidence-" + second_item.id: "3",
            **second_item.handler.form_data(second_item, second_item.handler.right_answer(second_item)),
        },
    )
    return user, world


def path_for(case: Case, world: World) -> str:
    """The rule with its placeholders filled with the world's real ids."""
    values = {
        "module_id": world.module_id,
        "lesson_id": world.lesson_id,
        "quiz_id": world.quiz_id,
        "conversation_id": world.conversation_id,
        "cohort_id": world.cohort_id,
        "course_id": world.course_id,
        "item_id": world.course_item_id,
        "user_id": world.member_id,
        "code": world.join_code,
        "token": world.newcomer_token,
        "attempt_id": {
            "submitted": world.submitted_attempt,
            "conversation": world.open_conversation,
            "practice": world.practice_attempt,
        }.get(case.attempt, world.open_attempt),
        "position": 1,
        "invitation_id": world.invitation_id,
        "competency_id": "comm.empathy",
        "kind": "module",
        "subject_id": world.module_id,
        # Credentials (their own world is in tests/test_credentials_access.py): no certificate here, a real list.
        "public_id": "no-such-certificate",
        "key_id": "no-such-key",
        "number": 1,
        # LTI (its own world is in tests/test_lti_access.py): no such launch or platform here.
        "launch_id": "no-such-launch",
        "platform_id": 1,
        # Conversations written in the browser (their own world is in tests/test_author_access.py).
        "node_id": "opening",
        # Stations (tests/test_observe_access.py), quiz banks and SCORM packages: a real format, no such station.
        "station_id": 1,
        "format_name": "gift",
        "version": "12",
    }
    return fill(case.rule, values)


def area_cases() -> list[Case]:
    """The access tables of areas with a world of their own (LTI, observations...): `tests/test_*_access.py`.

    Each such file keeps a module-level `CASES` list of `Case` rows, every role given, and its own
    test that sends them; this table only checks that together they cover every route once.
    """
    import importlib
    from pathlib import Path

    found: list[Case] = []
    for path in sorted(Path(__file__).parent.glob("test_*_access.py")):
        found += importlib.import_module(f"tests.{path.stem}").CASES
    return found


def test_every_route_of_the_app_is_in_the_access_table(app):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = rule.methods - {"HEAD", "OPTIONS"}
        served |= {(rule.rule, method) for method in methods}
        if "GET" not in methods:
            served.add((rule.rule, "GET"))  # a POST-only route must be seen answering GET with 405
    every_case = CASES + area_cases()
    tested = {(case.rule, case.method) for case in every_case}
    assert not served - tested, f"routes without access tests: {sorted(served - tested)}"
    assert not tested - served, f"access tests for routes that no longer exist: {sorted(tested - served)}"
    assert len(tested) == len(every_case), "a route and method is listed twice"
    for case in every_case:
        assert set(case.expect) == set(ROLES), f"{case.method} {case.rule} lacks a role"
    get_only_rules = {rule.rule for rule in app.url_map.iter_rules() if "GET" not in rule.methods}
    for case in every_case:
        if case.method == "GET" and case.rule in get_only_rules:
            assert case.expect == everyone(NOT_ALLOWED), f"GET {case.rule} should be 405 for everyone"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_route_answers_each_role_as_expected(app, client, db, auth, catalog, case, role):
    user, world = worlds.once(("access", role), app, client, lambda: build_world(role, auth, db, catalog))
    path = path_for(case, world)
    data = case.data(world) if case.data else None
    response = client.open(path, method=case.method, data=data)
    kind, value = case.expect[role]
    assert assert_outcome(response, kind, value, world, user, path), f"no check for outcome {kind!r}"


@pytest.mark.parametrize("role", KINDS_SIGNED_IN)
def test_signed_in_people_posting_the_sign_up_form_get_no_second_account(client, db, auth, role):
    auth.as_role(role)
    before = rows(db, User)
    response = client.post(
        "/auth/sign-up",
        data={
            "email": "second@example.org",
            "display_name": "Second",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.headers["Location"] == "/learn/"
    assert rows(db, User) == before
    assert db.session.scalar(select(User).where(User.email == "second@example.org")) is None


@pytest.mark.parametrize("role", KINDS)
def test_visitors_reach_learn_pages_only_after_signing_in(client, auth, catalog, role):
    module = catalog.modules[0]
    auth.as_role(role)
    response = client.get(f"/learn/modules/{module.id}", follow_redirects=True)
    if role == "anonymous":
        assert "<h1>Sign in</h1>" in response.text
        assert "Please sign in to see that page." in response.text
        assert module.objectives[0] not in response.text
    else:
        assert f"<h1>{escape(module.title)}</h1>" in response.text


# --- isolation: one learner never sees another's data


def _take_quiz(client, quiz, best_items: int | None = None) -> str:
    """Start an attempt through the app, submit the answers, and return the attempt's path."""
    attempt_path = client.post(f"/learn/quizzes/{quiz.id}/attempts").headers["Location"]
    submitted = client.post(attempt_path, data=form_answers(quiz, best_items))
    assert submitted.headers["Location"] == f"{attempt_path}/results"
    return attempt_path


def _chosen_snippets(quiz, answers: dict[str, str]) -> list[str]:
    """How the results page shows each chosen reply."""
    return [
        f"<dt>You chose</dt><dd>{item.option(answers[field_name(item)]).text_html}</dd>"
        for item in quiz.items
        if item.type == "scenario"
    ]


@pytest.mark.parametrize("role", KINDS_SIGNED_IN)
def test_another_learners_attempt_is_a_404_that_reveals_nothing(client, db, auth, catalog, role):
    quiz = catalog.quizzes[0]
    alice = auth.create("student", email="alice@example.org", name="Alice Zephyrine")
    auth.sign_in(alice.email)
    done_path = _take_quiz(client, quiz, best_items=0)
    open_path = client.post(f"/learn/quizzes/{quiz.id}/attempts").headers["Location"]
    chosen = _chosen_snippets(quiz, form_answers(quiz, best_items=0))
    assert all(snippet in client.get(f"{done_path}/results").text for snippet in chosen)  # Alice sees them
    auth.sign_out()

    bob = auth.as_role(role)
    open_id = int(open_path.rsplit("/", 1)[1])
    for path in (done_path, f"{done_path}/results", open_path, f"{open_path}/results"):
        response = client.get(path)
        assert_friendly_error(response, 404)
        assert "There is no attempt of yours at this address." in response.text
        assert "Alice" not in response.text and "alice@example.org" not in response.text
        assert "You chose" not in response.text and not any(s in response.text for s in chosen)
        assert 'name="item-' not in response.text  # not Alice's open question form either

    for path in (open_path, done_path):
        response = client.post(path, data=form_answers(quiz))
        assert_friendly_error(response, 404)
        assert "Alice" not in response.text
    assert db.session.scalar(select(QuizAttempt.submitted_at).where(QuizAttempt.id == open_id)) is None
    assert rows(db, ItemResponse) == len(quiz.items)  # only Alice's one submission
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.user_id == bob.id)) == 0


@pytest.mark.parametrize("role", KINDS_SIGNED_IN)
def test_a_learner_never_sees_another_learners_progress(client, auth, catalog, role):
    module, quiz = catalog.modules[0], catalog.quizzes[0]
    lesson = module.lessons[0]
    auth.create("student", email="alice@example.org", name="Alice Zephyrine")
    auth.sign_in("alice@example.org")
    client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    _take_quiz(client, quiz, best_items=len(quiz.items) // 2)
    answers = form_answers(quiz, best_items=len(quiz.items) // 2)
    percent = expected_percent(quiz, answers)
    alices_score = f"best {percent:.0f}%"
    answered = re.compile(r"\d+ of \d+ \(\d+%\)")
    lessons_done = re.compile(r"<td>[1-9]\d* of \d+</td>")
    alices = client.get("/learn/progress").text
    assert alices_score in alices and answered.search(alices) and lessons_done.search(alices)  # the markers work
    assert 'class="status done"' in client.get(f"/learn/modules/{module.id}").text
    auth.sign_out()

    auth.as_role(role)
    progress = client.get("/learn/progress").text
    assert f"{escape(quiz.title)}: not taken" in progress
    assert alices_score not in progress
    assert not answered.search(progress), "another learner's answers are counted"
    assert not lessons_done.search(progress), "another learner's lessons are counted"
    assert "none answered yet" in progress
    module_page = client.get(f"/learn/modules/{module.id}").text
    assert 'class="status done"' not in module_page and "Not taken yet" in module_page
    quiz_page = client.get(f"/learn/quizzes/{quiz.id}").text
    assert "Your attempts" not in quiz_page and "Start the quiz" in quiz_page
    assert "Continue where you left off" not in client.get("/learn/").text
    assert "Alice" not in progress + module_page + quiz_page


# --- unknown and malformed addresses


UNKNOWN = [
    ("GET", "/learn/modules/no-such-module", "There is no module at this address."),
    ("GET", "/learn/modules/{module}/lessons/no-such-lesson", "This module has no such lesson."),
    ("GET", "/learn/modules/no-such-module/lessons/{lesson}", "There is no module at this address."),
    ("POST", "/learn/modules/{module}/lessons/no-such-lesson/complete", "This module has no such lesson."),
    ("POST", "/learn/modules/no-such-module/lessons/{lesson}/complete", "There is no module at this address."),
    ("GET", "/learn/quizzes/no-such-quiz", "There is no quiz at this address."),
    ("POST", "/learn/quizzes/no-such-quiz/attempts", "There is no quiz at this address."),
    ("GET", "/learn/attempts/999999", "There is no attempt of yours at this address."),
    ("POST", "/learn/attempts/999999", "There is no attempt of yours at this address."),
    ("GET", "/learn/attempts/999999/results", "There is no attempt of yours at this address."),
]


@pytest.mark.parametrize("method, template, message", UNKNOWN, ids=[f"{m} {t}" for m, t, _ in UNKNOWN])
def test_unknown_ids_get_a_friendly_404(client, db, auth, catalog, method, template, message):
    auth.as_role("student")
    module = catalog.modules[0]
    path = template.format(module=module.id, lesson=module.lessons[0].id)
    response = client.open(path, method=method, data=form_answers(catalog.quizzes[0]) if method == "POST" else None)
    assert_friendly_error(response, 404)
    assert message in response.text
    assert rows(db, LessonProgress) == 0 and rows(db, QuizAttempt) == 0


NOT_INTEGERS = ["abc", "1.5", "-1", "1e3", "0x10", "%20"]


@pytest.mark.parametrize("attempt_id", NOT_INTEGERS)
@pytest.mark.parametrize("suffix", ["", "/results"])
def test_a_non_integer_attempt_id_is_404(client, auth, attempt_id, suffix):
    auth.as_role("student")
    response = client.get(f"/learn/attempts/{attempt_id}{suffix}")
    assert_friendly_error(response, 404)
    assert "Nothing is at this address. Check the link, or start again from your home page." in response.text


@pytest.mark.parametrize("attempt_id", ["2147483648", "9223372036854775808", "99999999999999999999"])
@pytest.mark.parametrize("suffix", ["", "/results"])
def test_an_attempt_id_beyond_the_database_integer_range_is_404(client, auth, attempt_id, suffix):
    auth.as_role("student")
    response = client.get(f"/learn/attempts/{attempt_id}{suffix}")
    assert_friendly_error(response, 404)
    # A number that cannot be a database id is no address of the app: the general advice.
    assert "Nothing is at this address. Check the link, or start again from your home page." in response.text


# --- deactivated accounts


def _deactivate(db, user: User) -> None:
    """Deactivate an account as an admin would, in the database."""
    user.is_active = False
    db.session.commit()


def test_a_deactivated_account_is_signed_out_on_its_next_request(client, db, auth, catalog):
    module = catalog.modules[0]
    lesson = module.lessons[0]
    user = auth.as_role("student")
    assert client.get("/learn/progress").status_code == 200
    _deactivate(db, user)

    response = client.get("/learn/progress")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/auth/sign-in"
    landing = client.get("/")
    assert landing.status_code == 200 and user.display_name not in landing.text
    refused = client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    assert urlsplit(refused.headers["Location"]).path == "/auth/sign-in"
    assert rows(db, LessonProgress) == 0


def test_a_deactivated_account_cannot_sign_in(client, db, auth):
    user = auth.create("student")
    _deactivate(db, user)
    response = auth.sign_in(user.email)
    assert response.status_code == 422
    assert "That email and password do not match an account. Check both and try again." in response.text
    assert client.get("/learn/").status_code == 302
    assert db.session.scalar(select(User.last_sign_in_at).where(User.id == user.id)) is None


def test_a_deactivated_account_is_not_signed_back_in_by_its_remember_cookie(client, db, auth):
    user = auth.create("student")
    client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    client.delete_cookie("session")
    assert client.get("/learn/").status_code == 200  # the remember cookie alone signs in
    _deactivate(db, user)
    client.delete_cookie("session")
    assert client.get_cookie("remember_token") is not None
    assert client.get("/learn/").status_code == 302


def test_a_head_request_does_not_count_as_reading_a_lesson(client, db, auth, catalog):
    student = auth.as_role("student")
    module = catalog.modules[0]
    path = f"/learn/modules/{module.id}/lessons/{module.lessons[0].id}"
    assert client.head(path).status_code == 200
    assert rows(db, LessonProgress, user_id=student.id) == 0


def test_a_wrong_method_is_answered_with_what_is_allowed(client, auth, catalog):
    auth.as_role("student")
    response = client.get(f"/learn/quizzes/{catalog.quizzes[0].id}/attempts")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"] and "GET" not in response.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/sign-in", {"email": "h\x00@example.org", "password": "whatever password"}),
        (
            "/auth/sign-up",
            {"email": "n@example.org", "display_name": "N\x00x", "password": "p" * 12, "confirm": "p" * 12},
        ),
    ],
)
def test_a_nul_character_in_a_form_is_refused_clearly(client, db, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "a character that is not allowed" in response.text
    assert rows(db, User) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/learn/reflections/module/%00"),
        ("POST", "/learn/reflections/quiz/a%00b"),
        ("POST", "/learn/reflections/conversation/%00/delete"),
        ("GET", "/learn/practice/competencies/ta%00"),
        ("GET", "/learn/quizzes/%00"),
    ],
)
def test_a_nul_character_in_an_address_is_refused_clearly(client, auth, method, path):
    auth.as_role("student")
    response = client.open(path, method=method, data={})
    assert_friendly_error(response, 400)
    assert "a character that is not allowed" in response.text
