"""Issuing and revoking certificates: the rules, with no web or file work (services flush, never commit).

A learner earns a certificate when an assigned course (published, assigned to a cohort they are a current
member of) is complete by the completion rule of app.services.courses, and they have passed as many observed
stations in that cohort as the assignment asks for (app.credentials.requirements). It is issued inside the
write that completed the last of these (a progress hook), when an educator lowers an assignment's
requirement, or later by `alliance credentials issue --missing`. One learner
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


def completed_competencies(standing: courses.CourseStatus) -> list[str]:
    """Competency ids of the course's items the learner completed (or passed), in course order."""
    return _competencies((s.item.kind, s.content) for s in standing.items if s.is_done)


def _competencies(items: Iterable[tuple[str, object]]) -> list[str]:
    """Competency ids of (kind, content) items, once each, in order: lessons' sections, quiz items, conversation replies."""
    refs: list[str] = []
    for kind, content in items:
        if content is None:
            continue
        if kind == "module":
            refs += [c for lesson in content.lessons for c in lesson.competencies]
        elif kind == "quiz":
            refs += [c for quiz_item in content.items for c in quiz_item.competencies]
        else:
            refs += [c for node in content.nodes for c in node.best.competencies]
    return list(dict.fromkeys(refs))


_insert_once = sql.InsertIfAbsent(Certificate, conflict=["user_id", "course_id"])


def issue(
    user: User,
    course: Course,
    cohort_id: int | None,
    found: Catalog,
    standing: courses.CourseStatus | None = None,
    stations: list | None = None,
) -> bool:
    """Issue the learner's certificate for the course; False if they already have one (never a second).

    It names the competencies of the items they completed and, apart, those seen at the stations they passed
    in the cohort (`standing` and `stations` are read when not given).
    """
    if standing is None:
        standing = courses.status(user.id, course, found)
    if stations is None:
        stations = requirements.passed(user.id, cohort_id, found) if cohort_id is not None else []
    return _insert_once(
        {
            "public_id": new_public_id(),
            "user_id": user.id,
            "course_id": course.id,
            "cohort_id": cohort_id,
            "learner_name": user.display_name,
            "course_title": course.title,
            "course_description": course.description or "",
            "competency_refs": completed_competencies(standing),
            "station_competency_refs": requirements.seen_at_stations(stations, found),
            "issuer_name": current_app.config["CREDENTIAL_ISSUER_NAME"],
            "issued_at": utcnow(),
        }
    )


def _candidates(user_ids: Iterable[int] | None, item: tuple[str, str] | None = None):
    """SQL: (learner, course, cohort, observed stations asked) for published courses assigned to the learners'
    current cohorts, not yet certified.

    With `item` ("kind", "ref"), only courses that require that item: the only ones it can have completed.
    """
    query = (
        select(CohortMember.user_id, Assignment.course_id, Assignment.cohort_id, Assignment.observed_stations)
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


def _issue_earned(user: User, candidates: list[tuple[int, int, int | None]], found: Catalog) -> list[int]:
    """Issue a certificate for each candidate (course id, cohort id, stations asked) the learner has earned."""
    cohorts_of: dict[int, list[tuple[int, int]]] = {}
    for course_id, cohort_id, stations in candidates:
        # Lowest cohort id first; an assignment that says nothing asks what the site does.
        cohorts_of.setdefault(course_id, []).append((cohort_id, requirements.needed(stations)))
    wanted = list(
        db.session.scalars(select(Course).options(selectinload(Course.items)).where(Course.id.in_(cohorts_of)))
    )
    issued = []
    for course_id, standing in courses.statuses(user.id, wanted, found).items():
        if not standing.is_complete:
            continue
        # The first cohort it is assigned through whose stations the learner has passed (any, when none are asked).
        for cohort_id, stations in cohorts_of[course_id]:
            passed = requirements.passed(user.id, cohort_id, found)
            if len(passed) >= stations:
                if issue(user, standing.course, cohort_id, found, standing, passed):
                    issued.append(course_id)
                break
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
        _issue_earned(user, [tuple(row[1:]) for row in rows], catalog())
    db.session.flush()


def on_station(progress: hooks.Progress) -> None:
    """After a station's ratings are released (or a staff rating lands at a released one; `ref`: the station id).

    Issue what the learner's completed courses assigned through the station's cohort, with passed stations
    asked, now earn, in the transaction of the release; an assignment asking for none changes nothing here
    (the course's own completion issued the certificate).
    """
    cohort_id = requirements.cohort_of_station(progress.ref)
    if cohort_id is None:
        return
    rows = db.session.execute(_candidates([progress.user_id]).where(Assignment.cohort_id == cohort_id)).all()
    waiting = [tuple(row[1:]) for row in rows if requirements.needed(row[3])]
    if waiting:
        _issue_earned(db.session.get(User, progress.user_id), waiting, catalog())
    db.session.flush()


def set_observed_stations(assignment: Assignment, stations: int | None) -> int:
    """Change what an assignment's certificate asks for; a lower number issues what is now earned, here and now.

    Returns how many certificates that issued. A higher number never revokes one already issued.
    """
    before = requirements.needed(assignment.observed_stations)
    assignment.observed_stations = stations
    db.session.flush()
    if requirements.needed(stations) >= before:
        return 0
    found = catalog()
    by_learner: dict[int, list[tuple[int, int, int | None]]] = {}
    query = _candidates(None).where(
        Assignment.cohort_id == assignment.cohort_id, Assignment.course_id == assignment.course_id
    )
    for user_id, course_id, cohort_id, asked in db.session.execute(query):
        by_learner.setdefault(user_id, []).append((course_id, cohort_id, asked))
    issued = sum(len(_issue_earned(db.session.get(User, u), rows, found)) for u, rows in by_learner.items())
    db.session.flush()
    return issued


def issue_missing() -> int:
    """Issue every certificate already earned but not issued (learners who completed before this feature)."""
    found = catalog()
    by_learner: dict[int, list[tuple[int, int, int | None]]] = {}
    for user_id, course_id, cohort_id, asked in db.session.execute(_candidates(None)):
        by_learner.setdefault(user_id, []).append((course_id, cohort_id, asked))
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
