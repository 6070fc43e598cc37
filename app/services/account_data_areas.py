"""Data rights for observed stations, LTI and authored quizzes: their download sections and deletion steps.

Split from app/services/account_data.py (which keeps the registry, `HOLDINGS`) and
app/services/account_download.py (the rest of the download) along the seam of these three areas.
Each section is one query, whatever the person did.

What the rules are, and why, is in docs/data-rights.md:
- Ratings of the learner: in full once the station is released (as the station page shows them);
  until then, and while a rater has not submitted, only that a rating exists (role and dates), so the
  download cannot be used to read marks before the cohort's educators release them. Their own self
  ratings are always in full. No rater is ever named (peers stay anonymous; staff names are theirs).
- Ratings they gave (peer, educator, examiner): in full, without naming the student rated.
- On deletion, a peer rating they gave and any rating they had not submitted are deleted; a submitted
  staff rating stays for the student's result, its rater cleared by the database (ON DELETE SET NULL).
- An authored quiz (or conversation) they own passes to its longest-standing co-editor; without one, a quiz with a
  published version stays with no owner (its versions are what attempts and courses name), and a
  quiz never published is deleted.
"""

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, or_, select, update

from app.content.observations import GLOBAL_RATINGS
from app.extensions import db
from app.models import (
    AuthoredCoEditor,
    AuthoredQuiz,
    AuthoredVersion,
    Cohort,
    CohortExaminer,
    LtiAccount,
    LtiLink,
    LtiPlatform,
    LtiScore,
    Observation,
    PatientLink,
    Station,
)

#: The download's sections for these areas, in order, with what each holds (appended to account_data.SECTIONS).
SECTIONS = {
    "observations": "Ratings of your observed consultations at stations: each rater's role (educator, examiner, "
    "self, peer or patient, never their name), the marks and comments per item, the global rating, comment, total "
    "and result. A rating by someone else is here in full once the station's ratings are released to you; until "
    "then (or while the rater has not submitted it) only that it exists and when, with 'withheld' saying why.",
    "observations_given": "Ratings you gave of other people at stations (as a peer, educator or examiner), as you "
    "gave them, without the name of the person rated (that is their data). Your own self ratings are under "
    "observations.",
    "patient_links": "One-time links an educator made for a patient to rate you at a station: when made, when they "
    "expire and when used (the link itself is never stored, only a one-way hash, which is not included).",
    "examiner_of": "The cohorts whose stations you were added to as an examiner, and when.",
    "lti_identities": "How learning platforms (Moodle, Canvas...) know you: the platform's issuer and your user id "
    "there (sub), the address it sent, when you first and last arrived from it.",
    "lti_scores": "Scores Alliance sent, or is waiting to send, to a platform's gradebook for you: the platform, "
    "the activity, the score, when you finished, and when it was sent or refused.",
    "authored_quizzes": "Quizzes and conversations you wrote in the browser or helped to write: your part (owner, "
    "co-editor, or published a version), their id, kind and title, and how many versions you published (export "
    "the content itself as YAML from its authoring page).",
}

#: Why a rating by someone else is withheld from the download (None: it is in full).
WITHHELD_UNRELEASED = "not released: the station's educators have not released its ratings to you yet"
WITHHELD_DRAFT = "not submitted: the rater has not finished it"


def _withheld(o: Observation, released_at) -> str | None:
    """Why this rating of the learner is not in full in their download, or None when it is."""
    if o.rater_role == "self":
        return None
    if o.submitted_at is None:
        return WITHHELD_DRAFT
    if released_at is None:
        return WITHHELD_UNRELEASED
    return None


def _marks(o: Observation) -> dict[str, Any]:
    """What the rater gave: marks and comments per item, global rating (as its words), comment, total, result."""
    g = o.global_rating
    return {
        "marks": o.marks,
        "item_comments": o.comments,
        "global_rating": GLOBAL_RATINGS[g] if g is not None and 0 <= g < len(GLOBAL_RATINGS) else None,
        "comment": o.comment,
        "total": o.total,
        "is_passed": o.is_passed,
    }


def _observations(uid: int, when: Callable) -> Iterator[dict[str, Any]]:
    """Every rating of the learner: in full, or only that it exists and why it is withheld."""
    query = (
        select(Observation, Station.title, Station.form_ref, Station.released_at, Cohort.name)
        .join(Station, Station.id == Observation.station_id)
        .join(Cohort, Cohort.id == Station.cohort_id)
        .where(Observation.student_id == uid)
        .order_by(Observation.started_at, Observation.id)
    )
    for o, title, form_ref, released_at, cohort in db.session.execute(query):
        withheld = _withheld(o, released_at)
        row = {
            "station": title,
            "cohort": cohort,
            "form_ref": form_ref,
            "form_version": o.form_version,
            "rater_role": o.rater_role,
            "started_at": when(o.started_at),
            "submitted_at": when(o.submitted_at),
            "released_at": when(released_at),
            "withheld": withheld,
        }
        yield row if withheld else row | _marks(o)


def _observations_given(uid: int, when: Callable) -> Iterator[dict[str, Any]]:
    """Ratings the person gave of others, in full, naming neither the student nor anyone else."""
    query = (
        select(Observation, Station.title, Station.form_ref, Cohort.name)
        .join(Station, Station.id == Observation.station_id)
        .join(Cohort, Cohort.id == Station.cohort_id)
        .where(Observation.rater_id == uid, Observation.rater_role != "self")
        .order_by(Observation.started_at, Observation.id)
    )
    for o, title, form_ref, cohort in db.session.execute(query):
        yield {
            "station": title,
            "cohort": cohort,
            "form_ref": form_ref,
            "form_version": o.form_version,
            "your_role": o.rater_role,
            "started_at": when(o.started_at),
            "submitted_at": when(o.submitted_at),
            **_marks(o),
        }


def _authored(uid: int, when: Callable) -> Iterator[dict[str, Any]]:
    """Authored quizzes the person owns, co-edits or published a version of (one query)."""
    is_co_editor = exists().where(AuthoredCoEditor.quiz_id == AuthoredQuiz.id, AuthoredCoEditor.user_id == uid)
    mine = (AuthoredVersion.quiz_id == AuthoredQuiz.id) & (AuthoredVersion.published_by_id == uid)
    published = select(func.count(AuthoredVersion.id)).where(mine).scalar_subquery()
    last = select(func.max(AuthoredVersion.published_at)).where(mine).scalar_subquery()
    query = (
        select(AuthoredQuiz, is_co_editor, published, last)
        .where(or_(AuthoredQuiz.owner_id == uid, is_co_editor, exists().where(mine)))
        .order_by(AuthoredQuiz.created_at, AuthoredQuiz.id)
    )
    for quiz, co_editing, count, last_at in db.session.execute(query):
        yield {
            "quiz_ref": quiz.ref,
            "kind": "conversation" if quiz.is_conversation else "quiz",
            "title": quiz.title,
            "your_part": "owner" if quiz.owner_id == uid else "co-editor" if co_editing else "published a version",
            "created_at": when(quiz.created_at),
            "updated_at": when(quiz.updated_at),
            "versions_you_published": count,
            "you_last_published_at": when(last_at),
        }


def sections(uid: int, when: Callable) -> dict[str, Callable[[], Iterator[dict[str, Any]]]]:
    """These areas' download sections, each a function yielding its rows (one query each)."""
    return {
        "observations": lambda: _observations(uid, when),
        "observations_given": lambda: _observations_given(uid, when),
        "patient_links": lambda: (
            {
                "station": title,
                "cohort": cohort,
                "created_at": when(link.created_at),
                "expires_at": when(link.expires_at),
                "used_at": when(link.used_at),
            }
            for link, title, cohort in db.session.execute(
                select(PatientLink, Station.title, Cohort.name)
                .join(Station, Station.id == PatientLink.station_id)
                .join(Cohort, Cohort.id == Station.cohort_id)
                .where(PatientLink.student_id == uid)
                .order_by(PatientLink.created_at, PatientLink.id)
            )
        ),
        "examiner_of": lambda: (
            {"cohort": name, "added_at": when(row.added_at)}
            for row, name in db.session.execute(
                select(CohortExaminer, Cohort.name)
                .join(Cohort, Cohort.id == CohortExaminer.cohort_id)
                .where(CohortExaminer.user_id == uid)
                .order_by(CohortExaminer.added_at, CohortExaminer.cohort_id)
            )
        ),
        "lti_identities": lambda: (
            {
                "issuer": a.issuer,
                "sub": a.sub,
                "email_from_platform": a.email,
                "created_at": when(a.created_at),
                "last_launch_at": when(a.last_launch_at),
            }
            for a in db.session.scalars(
                select(LtiAccount).where(LtiAccount.user_id == uid).order_by(LtiAccount.created_at, LtiAccount.id)
            )
        ),
        "lti_scores": lambda: (
            {
                "platform": platform,
                "activity": link.title,
                "kind": link.kind,
                "item_ref": link.item_ref,
                "score_given": s.score_given,
                "score_maximum": s.score_maximum,
                "activity_progress": s.activity_progress,
                "grading_progress": s.grading_progress,
                "finished_at": when(s.finished_at),
                "queued_at": when(s.created_at),
                "sent_at": when(s.sent_at),
                "refused_at": when(s.rejected_at),
            }
            for s, link, platform in db.session.execute(
                select(LtiScore, LtiLink, LtiPlatform.name)
                .join(LtiLink, LtiLink.id == LtiScore.link_id)
                .join(LtiPlatform, LtiPlatform.id == LtiLink.platform_id)
                .where(LtiScore.user_id == uid)
                .order_by(LtiScore.created_at, LtiScore.id)
            )
        ),
        "authored_quizzes": lambda: _authored(uid, when),
    }


def before_delete(uid: int) -> None:
    """What the database's keys cannot decide alone, done just before the account row goes (flushes).

    Ratings: their peer ratings and unsubmitted ratings are deleted (nobody relies on them and nobody
    could finish them); submitted staff ratings stay and the key clears the rater. Authored quizzes:
    each one they own passes to its longest-standing co-editor; one never published, with no
    co-editor, is deleted; one published stays, its owner cleared by the key.
    """
    db.session.execute(
        sql_delete(Observation)
        .where(
            Observation.rater_id == uid,
            or_(Observation.rater_role.in_(("self", "peer")), Observation.submitted_at.is_(None)),
        )
        .execution_options(synchronize_session=False)
    )
    has_co_editor = exists().where(AuthoredCoEditor.quiz_id == AuthoredQuiz.id)
    successor = (
        select(AuthoredCoEditor.user_id)
        .where(AuthoredCoEditor.quiz_id == AuthoredQuiz.id)
        .order_by(AuthoredCoEditor.added_at, AuthoredCoEditor.id)
        .limit(1)
        .scalar_subquery()
    )
    handed = db.session.scalars(
        update(AuthoredQuiz)
        .where(AuthoredQuiz.owner_id == uid, has_co_editor)
        .values(owner_id=successor)
        .returning(AuthoredQuiz.id)
        .execution_options(synchronize_session=False)
    ).all()
    if handed:
        # The new owner is no longer a co-editor of their own quiz.
        owner = select(AuthoredQuiz.owner_id).where(AuthoredQuiz.id == AuthoredCoEditor.quiz_id).scalar_subquery()
        db.session.execute(
            sql_delete(AuthoredCoEditor)
            .where(AuthoredCoEditor.quiz_id.in_(handed), AuthoredCoEditor.user_id == owner)
            .execution_options(synchronize_session=False)
        )
    never_published = ~exists().where(AuthoredVersion.quiz_id == AuthoredQuiz.id)
    db.session.execute(
        sql_delete(AuthoredQuiz)
        .where(AuthoredQuiz.owner_id == uid, never_published)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
