"""A person's data rights: what ties each row to them (the registry), and deleting their account.

`HOLDINGS` names every column that ties a row to a person, says which section of the download
carries it, and what deleting the account does to it; `DERIVED` names tables whose rows hang off
a person's rows without naming the person. tests/test_data_rights.py reads the database's own
foreign keys and fails when a table is in neither, so a new table cannot escape the download or
the deletion.

Deletion removes, it does not anonymise: the account row goes, and the database's ON DELETE
CASCADE foreign keys take every row of theirs with it in the same statement (SQLite enforces
them because the app turns `PRAGMA foreign_keys` on for every connection). Rows other people
made that merely name them (who created a cohort, assigned a course, made a set-password link),
and rows other people rely on (an examiner's submitted rating of a student, a published version of
a quiz learners took), stay with that name cleared by ON DELETE SET NULL. Nothing is kept back:
there is no soft delete. Observed stations, LTI and authored quizzes: app/services/account_data_areas.py;
the download itself: app/services/account_download.py.
"""

from dataclasses import dataclass

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select

from app.extensions import db
from app.models import CohortEducator, Course, User
from app.services import account_data_areas

#: The download's sections, in order, with what each holds (the download's "about" text).
SECTIONS = {
    "account": "Your account: name, email, role, when it was made and last signed in (never your password or session keys).",
    "lesson_progress": "Each lesson you opened: how often, when first and last, and when you completed it.",
    "quiz_attempts": "Each attempt at a quiz, practice set or conversation, with every answer you gave, its grade, "
    "score and how sure you said you were (confidence 1 not sure, 2 fairly sure, 3 very sure).",
    "quiz_progress": "Your summary per quiz or conversation: attempts, best and last percent, passed or not.",
    "competency_progress": "Your summary per competency: items answered, correct, harmful replies, points.",
    "answer_summaries": "What your progress page shows per competency, practice included (competency \"*\": all "
    "your answers): answers, right, harmful, your latest outcomes (1 right, 0 not), since when a harmful reply "
    "blocks mastery, and answers and right answers at each confidence level (1 not sure, 2 fairly, 3 very sure).",
    "learning_events": "Every action the tracker logged for you (the source of your learning records), oldest first.",
    "reflections": "Your private reflections on modules, quizzes and conversations.",
    "review_cards": "Your spaced review queue: each item, when it is next due and the scheduler's state.",
    "cohort_memberships": "The cohorts (classes) you belong or belonged to: name, how and when you joined, when removed "
    "or when you left.",
    "cohort_invitations": "Invitations a class list sent you to join a cohort: its name, when, and your answer.",
    "assignments": "Courses assigned to the cohorts you belong or belonged to, with their start and due dates.",
    "password_links": "Password links made for your account (to set your first password, to reset it, or asked "
    "for by email): only that they existed, what for and when (the link itself is never stored, only a one-way "
    "hash, which is not included).",
    "certificates": "Your certificates for completed courses: what each says, its public verification address id, "
    "when issued, and when and why it was revoked if it was.",
    # Observed stations, learning platforms (LTI) and authored quizzes: app/services/account_data_areas.py.
    **account_data_areas.SECTIONS,
}


@dataclass(frozen=True)
class Holding:
    """A column that ties rows to a person: where the download carries them and what deletion does."""

    table: str
    column: str
    #: The download's section holding these rows, or None when they are not the person's own data.
    section: str | None
    #: What deleting the account does to the rows: "delete" (ON DELETE CASCADE) or "keep" (SET NULL).
    #: Where `why` says so, `account_data_areas.before_delete` first deletes or hands on some "keep" rows.
    on_delete: str
    why: str


HOLDINGS = (
    Holding("learning_event", "user_id", "learning_events", "delete", "what they did"),
    Holding("lesson_progress", "user_id", "lesson_progress", "delete", "their lessons"),
    Holding("quiz_attempt", "user_id", "quiz_attempts", "delete", "their attempts"),
    Holding("item_response", "user_id", "quiz_attempts", "delete", "their answers, inside each attempt"),
    Holding("quiz_progress", "user_id", "quiz_progress", "delete", "their quiz summaries"),
    Holding("competency_progress", "user_id", "competency_progress", "delete", "their competency summaries"),
    Holding("answer_summary", "user_id", "answer_summaries", "delete", "their mastery and calibration summaries"),
    Holding("reflection", "user_id", "reflections", "delete", "their private notes"),
    Holding("review_card", "user_id", "review_cards", "delete", "their review queue"),
    Holding("cohort_member", "user_id", "cohort_memberships", "delete", "their place in a class"),
    Holding("password_link", "user_id", "password_links", "delete", "links made for their account"),
    Holding("cohort_invitation", "user_id", "cohort_invitations", "delete", "invitations to join a class"),
    Holding("certificate", "user_id", "certificates", "delete", "their certificates (their verification pages go too)"),
    Holding("certificate", "revoked_by_id", None, "keep", "a revoked certificate stays revoked; who revoked it is cleared"),
    Holding(
        "cohort_invitation",
        "invited_by_id",
        None,
        "keep",
        "an invitation an educator's class list sent is the student's; who sent it is cleared",
    ),
    Holding(
        "cohort_educator",
        "invited_by_id",
        None,
        "keep",
        "a colleague's invitation to teach belongs to that colleague's place in the class; who sent it is cleared",
    ),
    Holding(
        "user_session",
        "user_id",
        None,
        "delete",
        "their signed-in sessions: keys to the account (only a hash is stored), never handed out; the account "
        "page lists where they are signed in, and deleting the account ends every session",
    ),
    Holding(
        "course",
        "owner_id",
        None,
        "delete",
        "an educator's teaching material, assigned to other people's classes: an account that owns courses "
        "cannot be deleted from the account page, so the cascade never runs from there",
    ),
    Holding(
        "cohort_educator",
        "user_id",
        None,
        "delete",
        "who teaches a class, part of that class's set-up: an account that teaches cohorts cannot be deleted "
        "from the account page",
    ),
    Holding(
        "cohort", "created_by_id", None, "keep", "the class belongs to its educators and students; the name is cleared"
    ),
    Holding("assignment", "assigned_by_id", None, "keep", "the class's assignment stays; who assigned it is cleared"),
    Holding(
        "password_link",
        "created_by_id",
        None,
        "keep",
        "a link an educator made for a student is the student's; the maker is cleared",
    ),
    # Observed stations (app/models/observation.py).
    Holding(
        "observation",
        "student_id",
        "observations",
        "delete",
        "every rating of them (staff, self, peer, patient, with the patient's comments): the station's report "
        "and statistics are recomputed without them",
    ),
    Holding(
        "observation",
        "rater_id",
        "observations_given",
        "keep",
        "ratings they gave: their peer ratings and any rating they had not submitted are deleted first; a "
        "submitted educator's or examiner's rating stays, since the student's result at the station rests on it, "
        "with the rater cleared (shown as former staff: a deleted examiner)",
    ),
    Holding(
        "patient_link",
        "student_id",
        "patient_links",
        "delete",
        "one-time links for a patient to rate them (the patients' ratings go with their other ratings)",
    ),
    Holding(
        "patient_link",
        "created_by_id",
        None,
        "keep",
        "a link an educator made for a patient to rate a student is the student's; the maker is cleared",
    ),
    Holding("station", "created_by_id", None, "keep", "a cohort's station stays with the cohort; the maker is cleared"),
    Holding(
        "cohort_examiner",
        "user_id",
        "examiner_of",
        "delete",
        "their place as an examiner of a cohort's stations (the ratings they submitted stay: observation.rater_id)",
    ),
    Holding(
        "cohort_examiner",
        "added_by_id",
        None,
        "keep",
        "an examiner's place belongs to the examiner; who added them is cleared",
    ),
    # Learning platforms, LTI 1.3 (app/models/lti.py).
    Holding(
        "lti_account",
        "user_id",
        "lti_identities",
        "delete",
        "how a platform knows them (issuer and sub): a later launch from the platform makes a new, empty account",
    ),
    Holding(
        "lti_score",
        "user_id",
        "lti_scores",
        "delete",
        "their scores for a platform's gradebook, sent or waiting: waiting ones are never sent; the platform keeps "
        "what it already received",
    ),
    # Quizzes written in the browser (app/models/authoring.py).
    Holding(
        "authored_quiz",
        "owner_id",
        "authored_quizzes",
        "keep",
        "a quiz they own passes to its longest-standing co-editor; without one, a published quiz stays with no "
        "owner (attempts and courses name its versions) and a quiz never published is deleted first",
    ),
    Holding(
        "authored_co_editor",
        "user_id",
        "authored_quizzes",
        "delete",
        "their right to edit another educator's quiz",
    ),
    Holding(
        "authored_version",
        "published_by_id",
        "authored_quizzes",
        "keep",
        "a published version is what learners' attempts were taken on: it stays, who published it is cleared",
    ),
    # The mail outbox (app/models/mail.py).
    Holding(
        "outgoing_mail",
        "user_id",
        None,
        "delete",
        "mail waiting to be sent to them (a link or a notice): sent mail is not kept; waiting mail goes with the account, unsent",
    ),
)

#: Tables whose rows hang off a person's rows (by a cascading foreign key) without naming the
#: person, and why they are not a section of their own. Deleting the parent row deletes them.
DERIVED = {
    # The learning-records helper's outbox (issue 5): rename here if its table is named otherwise.
    "statement_outbox": "copies of learning events queued for an external Learning Record Store; the events "
    "themselves are in the download, and the queued copies are deleted with them",
    # Answers saved as you go (issue 12): a working copy of a quiz form not yet submitted.
    "draft_answer": "answers saved as you go in a quiz attempt not yet submitted: a working copy of the form, "
    "deleted when the attempt is submitted (the graded answers are then in the download) and with the attempt",
}


class DeletionRefused(ValueError):
    """The account cannot be deleted here; the message says why and what to do."""


# --- deletion


def refusal(user: User) -> str | None:
    """Why this account cannot delete itself here (staff, or still holding teaching), or None if it can."""
    if user.is_educator:
        return (
            f"Your account is an {user.role}'s: the courses and cohorts it runs are other people's teaching. "
            "Ask an admin to change your role to student first; then you can delete your account here."
        )
    teaching = db.session.execute(
        select(
            select(func.count()).select_from(Course).where(Course.owner_id == user.id).scalar_subquery(),
            select(func.count()).select_from(CohortEducator).where(CohortEducator.user_id == user.id).scalar_subquery(),
        )
    ).one()
    if any(teaching):
        return (
            "Your account still owns courses or teaches cohorts from when it was an educator's, and other "
            "people's classes use them. Ask an admin to hand them to another educator first."
        )
    return None


def delete(user: User) -> None:
    """Delete the account and every row of theirs (DeletionRefused for staff); flushes, never commits.

    First `account_data_areas.before_delete` (their peer and unfinished ratings, their authored
    quizzes handed on); then one DELETE of the account row: the database's ON DELETE CASCADE keys
    remove their tracking, study, cohort, rating and platform rows in the same statement, and SET
    NULL keys clear their name from rows other people own or rely on.
    """
    problem = refusal(user)
    if problem:
        raise DeletionRefused(problem)
    db.session.flush()
    # Ratings they gave and quizzes they own: rows the keys alone would keep or lose wrongly.
    account_data_areas.before_delete(user.id)
    # Core DELETE: the ORM must not try to null out or load children; the database's keys do the work.
    db.session.execute(sql_delete(User).where(User.id == user.id).execution_options(synchronize_session=False))
    db.session.expunge(user)
