"""Issuing and revoking certificates: the rules, with no web or file work (services flush, never commit).

A learner earns a certificate when an assigned course (published, assigned to a cohort they are a current
member of) is complete by the completion rule of app.services.courses. It is issued inside the write that
completed the course (a progress hook), or later by `alliance credentials issue --missing`. One learner
gets one certificate per course, whatever the number of cohorts or completions (a unique constraint, and
an insert that does nothing on conflict, so two requests at once cannot make two).
"""

import secrets
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import selectinload

from app.content import Catalog, catalog
from app.credentials import requirements
from app.extensions import db
from app.models import Assignment, Certificate, Cohort, CohortMember, Course, CourseItem, User
from app.models.types import utcnow
from app.services import cohorts, courses, hooks, sql

MAX_REASON = 500


class RevocationError(ValueError):
    """A revocation that cannot be made, with a message for the educator."""


def new_public_id() -> str:
    """A random public id: 24 bytes (192 bits), URL-safe."""
    return secrets.token_urlsafe(24)


def competencies_of(found: Catalog, course: Course) -> list[str]:
    """Competency ids the course's items evidence, in course order: lessons' sections, quiz items, conversation replies."""
    refs: list[str] = []
    for item in course.items:
        content = courses.content_for(found, item.kind, item.item_ref)
        if content is None:
            continue
        if item.kind == "module":
            refs += [c for lesson in content.lessons for c in lesson.competencies]
        elif item.kind == "quiz":
            refs += [c for quiz_item in content.items for c in quiz_item.competencies]
        else:
            refs += [c for node in content.nodes for c in node.best.competencies]
    return list(dict.fromkeys(refs))


_insert_once = sql.InsertIfAbsent(Certificate, conflict=["user_id", "course_id"])


def issue(user: User, course: Course, cohort_id: int | None, found: Catalog) -> bool:
    """Issue the learner's certificate for the course; False if they already have one (never a second)."""
    return _insert_once(
        {
            "public_id": new_public_id(),
            "user_id": user.id,
            "course_id": course.id,
            "cohort_id": cohort_id,
            "learner_name": user.display_name,
            "course_title": course.title,
            "course_description": course.description or "",
            "competency_refs": competencies_of(found, course),
            "issuer_name": current_app.config["CREDENTIAL_ISSUER_NAME"],
            "issued_at": utcnow(),
        }
    )


def _candidates(user_ids: Iterable[int] | None, item: tuple[str, str] | None = None):
    """SQL: (learner, course, cohort) for published courses assigned to the learners' current cohorts, not yet certified.

    With `item` ("kind", "ref"), only courses that require that item: the only ones it can have completed.
    """
    query = (
        select(CohortMember.user_id, Assignment.course_id, Assignment.cohort_id)
        .join(Assignment, Assignment.cohort_id == CohortMember.cohort_id)
        .join(Course, Course.id == Assignment.course_id)
        .where(
            CohortMember.removed_at.is_(None),
            Course.is_published.is_(True),
            ~exists().where(Certificate.user_id == CohortMember.user_id, Certificate.course_id == Course.id),
        )
        .order_by(CohortMember.user_id, Assignment.course_id, Assignment.cohort_id)
    )
    if user_ids is not None:
        query = query.where(CohortMember.user_id.in_(list(user_ids)))
    if item is not None:
        query = query.where(
            exists().where(
                and_(
                    CourseItem.course_id == Course.id,
                    CourseItem.kind == item[0],
                    CourseItem.item_ref == item[1],
                    CourseItem.is_required.is_(True),
                )
            )
        )
    return query


def _issue_earned(user: User, candidates: list[tuple[int, int]], found: Catalog) -> list[int]:
    """Issue a certificate for each candidate course (course id, cohort id) the learner has completed."""
    cohorts_of: dict[int, list[int]] = {}
    for course_id, cohort_id in candidates:
        cohorts_of.setdefault(course_id, []).append(cohort_id)  # lowest cohort id first
    wanted = list(
        db.session.scalars(select(Course).options(selectinload(Course.items)).where(Course.id.in_(cohorts_of)))
    )
    issued = []
    for course_id, standing in courses.statuses(user.id, wanted, found).items():
        if not standing.is_complete:
            continue
        # The first cohort it is assigned through whose stations the learner has passed (any, when none are asked).
        through = next((c for c in cohorts_of[course_id] if requirements.stations_met(user.id, c)), None)
        if through is not None and issue(user, standing.course, through, found):
            issued.append(course_id)
    return issued


#: `_candidates` for one learner and one item, built once with bound parameters: every step of
#: progress runs it, and building it cost more than running it.
_EARNABLE = _candidates(None, (bindparam("earn_kind"), bindparam("earn_ref"))).where(
    CohortMember.user_id == bindparam("earn_user")
)


def on_progress(progress: hooks.Progress) -> None:
    """After a lesson, quiz or conversation: issue what the learner's assigned courses that require it now earn.

    One query when no such course waits for a certificate (the usual case); otherwise two more for the
    learner's standing, whatever the number of courses.
    """
    if progress.kind == "station":
        return on_station(progress)
    kind, ref = ("module", progress.ref.split("/", 1)[0]) if progress.kind == "lesson" else (progress.kind, progress.ref)
    rows = db.session.execute(_EARNABLE, {"earn_user": progress.user_id, "earn_kind": kind, "earn_ref": ref}).all()
    if rows:
        user = db.session.get(User, progress.user_id)
        _issue_earned(user, [(course_id, cohort_id) for _uid, course_id, cohort_id in rows], catalog())
    db.session.flush()


def on_station(progress: hooks.Progress) -> None:
    """After a station's ratings are released (or a staff rating lands at a released one; `ref`: the station id).

    Where the site asks for passed stations, issue what the learner's completed courses assigned through
    the station's cohort now earn, in the transaction of the release; where it asks for none, a station
    changes nothing (the course's own completion issued the certificate).
    """
    if not requirements.required():
        return
    cohort_id = requirements.cohort_of_station(progress.ref)
    if cohort_id is None:
        return
    rows = db.session.execute(_candidates([progress.user_id]).where(Assignment.cohort_id == cohort_id)).all()
    if rows:
        user = db.session.get(User, progress.user_id)
        _issue_earned(user, [(course_id, cohort_id) for _uid, course_id, cohort_id in rows], catalog())
    db.session.flush()


def issue_missing() -> int:
    """Issue every certificate already earned but not issued (learners who completed before this feature)."""
    found = catalog()
    by_learner: dict[int, list[tuple[int, int]]] = {}
    for user_id, course_id, cohort_id in db.session.execute(_candidates(None)):
        by_learner.setdefault(user_id, []).append((course_id, cohort_id))
    issued = 0
    for user_id, candidates in by_learner.items():
        issued += len(_issue_earned(db.session.get(User, user_id), candidates, found))
    db.session.flush()
    return issued


# --- reading


def for_learner(user_id: int) -> list[Certificate]:
    """The learner's certificates, newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user_id)
            .order_by(Certificate.issued_at.desc(), Certificate.id)
        )
    )


def learner_certificate(user_id: int, public_id: str) -> Certificate | None:
    """One of the learner's own certificates by its public id (another's answers like a missing one)."""
    return db.session.scalar(
        select(Certificate).where(Certificate.public_id == public_id[:64], Certificate.user_id == user_id)
    )


def for_course(user_id: int, course_id: int) -> Certificate | None:
    """The learner's certificate for a course, if they have one."""
    return db.session.scalar(
        select(Certificate).where(Certificate.user_id == user_id, Certificate.course_id == course_id)
    )


def by_public_id(public_id: str) -> Certificate | None:
    """Any certificate by its public id."""
    return db.session.scalar(select(Certificate).where(Certificate.public_id == public_id[:64]))


def for_cohort(cohort: Cohort) -> list[Certificate]:
    """Certificates earned through a cohort's assignments, newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.cohort_id == cohort.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id)
        )
    )


# --- revoking


def revocable_by(user: User, public_id: str) -> Certificate | None:
    """A certificate this person may revoke: an admin any, an educator those earned through a cohort they teach."""
    certificate = by_public_id(public_id)
    if certificate is None or user.is_admin:
        return certificate
    if not user.is_educator or certificate.cohort_id is None:
        return None
    return certificate if cohorts.get_for(user, certificate.cohort_id) is not None else None


def revoke(certificate: Certificate, by: User, reason: str) -> None:
    """Revoke with a reason (shown on the verification page); a second revocation keeps the first."""
    reason = " ".join(reason.split())
    if not reason:
        raise RevocationError("Give the reason for revoking: the verification page shows it.")
    if len(reason) > MAX_REASON:
        raise RevocationError(f"Keep the reason under {MAX_REASON} characters.")
    if certificate.is_revoked:
        raise RevocationError("This certificate has already been revoked.")
    certificate.revoked_at, certificate.revoked_by_id, certificate.revocation_reason = utcnow(), by.id, reason
    db.session.flush()
