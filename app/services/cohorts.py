"""Cohorts: who teaches them, who is in them, how students join, and the courses assigned to them."""

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Assignment, Cohort, CohortEducator, CohortMember, Course, User
from app.models.types import MAX_ID, utcnow
from app.services import sql

# No 0/O, 1/I/L: a join code is read aloud in class and typed from a slide.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class CohortError(ValueError):
    """A change to a cohort that cannot be made, with a message for the person who asked."""


def new_join_code() -> str:
    """A random join code, easy to read aloud."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """A join code as typed (any case, spaces or dashes) in its stored form."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def is_teaching(user_id: int):
    """SQL: the cohort is taught by this educator (owned, or shared and accepted)."""
    return exists().where(
        CohortEducator.cohort_id == Cohort.id,
        CohortEducator.user_id == user_id,
        CohortEducator.accepted_at.is_not(None),
    )


def cohorts_for(user: User) -> list[Cohort]:
    """The cohorts an educator owns or shares (admins: every cohort), by name."""
    query = select(Cohort).order_by(Cohort.name, Cohort.id)
    if not user.is_admin:
        query = query.where(is_teaching(user.id))
    return list(db.session.scalars(query))


def get_for(user: User, cohort_id: int) -> Cohort | None:
    """A cohort the educator may see; one they do not teach answers like a missing one."""
    if not 0 < cohort_id < 2**31:
        return None
    query = select(Cohort).where(Cohort.id == cohort_id)
    if not user.is_admin:
        query = query.where(is_teaching(user.id))
    return db.session.scalar(query)


def create(owner: User, name: str) -> Cohort:
    """A new cohort owned by `owner`, with a fresh join code."""
    cohort = Cohort(name=name.strip(), join_code=new_join_code(), created_by_id=owner.id)
    db.session.add(cohort)
    db.session.flush()
    db.session.add(CohortEducator(cohort_id=cohort.id, user_id=owner.id, is_owner=True, accepted_at=cohort.created_at))
    db.session.flush()
    return cohort


def educators(cohort: Cohort) -> list[tuple[CohortEducator, User]]:
    """Who teaches the cohort (owner first), then colleagues invited who have not yet accepted."""
    return list(
        db.session.execute(
            select(CohortEducator, User)
            .join(User, User.id == CohortEducator.user_id)
            .where(CohortEducator.cohort_id == cohort.id)
            .order_by(CohortEducator.is_owner.desc(), CohortEducator.accepted_at.is_(None), User.display_name)
        ).all()
    )


def members(cohort: Cohort) -> list[tuple[CohortMember, User]]:
    """The cohort's current students, by name."""
    return list(
        db.session.execute(
            select(CohortMember, User)
            .join(User, User.id == CohortMember.user_id)
            .where(CohortMember.cohort_id == cohort.id, CohortMember.removed_at.is_(None))
            .order_by(User.display_name, User.id)
        ).all()
    )


MEMBERS_PAGE_SIZE = 100


def members_page(cohort: Cohort, page: int) -> tuple[list[tuple[CohortMember, User]], int] | None:
    """One page of the cohort's current students by name, and how many there are; None past the last page."""
    if not 0 < page <= MAX_ID // MEMBERS_PAGE_SIZE:
        return None
    total = db.session.scalar(select(func.count()).select_from(member_ids(cohort.id).subquery()))
    if page > 1 and (page - 1) * MEMBERS_PAGE_SIZE >= total:
        return None
    rows = db.session.execute(
        select(CohortMember, User)
        .join(User, User.id == CohortMember.user_id)
        .where(CohortMember.cohort_id == cohort.id, CohortMember.removed_at.is_(None))
        .order_by(User.display_name, User.id)
        .limit(MEMBERS_PAGE_SIZE)
        .offset((page - 1) * MEMBERS_PAGE_SIZE)
    ).all()
    return list(rows), total


def member_ids(cohort_id: int):
    """SQL: the ids of the cohort's current students (for IN clauses: no list of ids is built)."""
    return select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id, CohortMember.removed_at.is_(None))


_add_member = sql.Upsert(
    CohortMember,
    conflict=["cohort_id", "user_id"],
    # Joining again after being removed, or after leaving, re-opens the same membership row.
    update={"removed_at": lambda t, e: None, "left_at": lambda t, e: None},
)


def add_members(cohort: Cohort, user_ids: list[int], via: str) -> None:
    """Put students in the cohort (again, if they had been removed), in one statement per thousand."""
    now = utcnow()
    rows = [{"cohort_id": cohort.id, "user_id": user_id, "joined_via": via, "joined_at": now} for user_id in user_ids]
    for start in range(0, len(rows), 1000):
        _add_member(rows[start : start + 1000])


def add_member(cohort: Cohort, user_id: int, via: str) -> None:
    """Put a student in the cohort (again, if they had been removed)."""
    add_members(cohort, [user_id], via)


def by_code(code: str) -> Cohort | None:
    """The cohort with this join code, as typed (any case, spaces or dashes), if any."""
    normal = normalise_code(code)
    if not normal or len(normal) > 32:
        return None
    return db.session.scalar(select(Cohort).where(Cohort.join_code == normal))


def membership(cohort: Cohort, user_id: int) -> CohortMember | None:
    """The learner's membership row of the cohort, current or ended, if any."""
    return db.session.scalar(
        select(CohortMember).where(CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id)
    )


def join(user: User, code: str) -> tuple[Cohort, bool]:
    """A student joins a cohort with its code; also says whether they were a member already."""
    cohort = by_code(code)
    if cohort is None:
        raise CohortError("No cohort has that join code. Check it with your educator.")
    member = membership(cohort, user.id)
    if member is not None and member.removed_at is not None and member.left_at is None:
        # A removal stands until an educator invites the student again (from a class list).
        raise CohortError("You were removed from this cohort. Ask your educator to add you again.")
    if member is not None and member.removed_at is None:
        return cohort, True
    if not cohort.is_join_open:
        raise CohortError("This cohort is not taking new members. Ask your educator.")
    add_member(cohort, user.id, "code")
    return cohort, False


def remove_member(cohort: Cohort, user_id: int) -> bool:
    """End a student's membership; their learning records are kept. False if they were not a member."""
    if not 0 < user_id <= MAX_ID:
        return False
    member = db.session.scalar(
        select(CohortMember).where(
            CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id, CohortMember.removed_at.is_(None)
        )
    )
    if member is None:
        return False
    member.removed_at = utcnow()
    db.session.flush()
    return True


_assign = sql.Upsert(
    Assignment,
    conflict=["cohort_id", "course_id"],
    update={"starts_on": lambda t, e: e.starts_on, "due_on": lambda t, e: e.due_on},
)


def assign(
    cohort: Cohort,
    course: Course,
    by: User,
    starts_on: date | None,
    due_on: date | None,
    observed_stations: int | None = None,
) -> Assignment:
    """Assign a published course to the cohort, or change the dates of an existing assignment.

    `observed_stations`: what a new assignment's certificate asks for (None: the site's default); an existing
    assignment keeps its own (app.credentials.issuing.set_observed_stations changes it).
    """
    if not course.is_published:
        raise CohortError("Publish the course before assigning it.")
    if starts_on and due_on and due_on < starts_on:
        raise CohortError("The due date must not be before the start date.")
    # One statement, so assigning twice at once (a double click) changes the dates instead of failing.
    _assign(
        [
            {
                "cohort_id": cohort.id,
                "course_id": course.id,
                "starts_on": starts_on,
                "due_on": due_on,
                "assigned_by_id": by.id,
                "assigned_at": utcnow(),
                "observed_stations": observed_stations,
            }
        ]
    )
    return db.session.scalar(
        select(Assignment)
        .where(Assignment.cohort_id == cohort.id, Assignment.course_id == course.id)
        .execution_options(populate_existing=True)
    )


def assignments(cohort: Cohort) -> list[Assignment]:
    """The courses assigned to a cohort, soonest due first."""
    return list(
        db.session.scalars(
            select(Assignment)
            .options(selectinload(Assignment.course))
            .where(Assignment.cohort_id == cohort.id)
            .order_by(Assignment.due_on.is_(None), Assignment.due_on, Assignment.id)
        )
    )


@dataclass(frozen=True)
class Assigned:
    """A course assigned to the learner through one of their cohorts."""

    assignment: Assignment
    course: Course
    cohort: Cohort

    def is_overdue(self, today: date, done: bool) -> bool:
        """Past its due date and not complete."""
        return bool(self.assignment.due_on and self.assignment.due_on < today and not done)

    def has_started(self, today: date) -> bool:
        """Its start date (if any) has come."""
        return self.assignment.starts_on is None or self.assignment.starts_on <= today


# Built once (the home page runs it on every visit; building it cost more than running it).
_LEARNER_ASSIGNMENTS = (
    select(Assignment, Course, Cohort)
    .options(selectinload(Course.items))
    .join(Course, Course.id == Assignment.course_id)
    .join(Cohort, Cohort.id == Assignment.cohort_id)
    .join(CohortMember, CohortMember.cohort_id == Cohort.id)
    .where(
        CohortMember.user_id == bindparam("user_id"), CohortMember.removed_at.is_(None), Course.is_published.is_(True)
    )
    .order_by(Assignment.due_on.is_(None), Assignment.due_on, Course.title)
)


def learner_assignments(user_id: int) -> list[Assigned]:
    """Published courses assigned to the learner's current cohorts, soonest due first."""
    rows = db.session.execute(_LEARNER_ASSIGNMENTS, {"user_id": user_id}).all()
    return [Assigned(a, course, cohort) for a, course, cohort in rows]
