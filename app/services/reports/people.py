"""Who the reports are about: a cohort's current students, and the courses assigned to it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Assignment,
    Course,
    User,
)
from app.models.types import MAX_ID
from app.services.cohorts import member_ids

# --- people


@dataclass(frozen=True)
class Student:
    """A current student of the cohort, as the reports name them."""

    id: int
    name: str
    email: str
    #: None: the account has never been signed in to (an imported student who never used their link).
    last_sign_in_at: datetime | None = None

    @property
    def never_signed_in(self) -> bool:
        """Whether the student has never signed in, so they cannot have seen their work."""
        return self.last_sign_in_at is None


def students(cohort_id: int) -> list[Student]:
    """The cohort's current students, by name (one query)."""
    rows = db.session.execute(
        select(User.id, User.display_name, User.email, User.last_sign_in_at)
        .where(User.id.in_(member_ids(cohort_id)))
        .order_by(User.display_name, User.id)
    )
    return [Student(*row) for row in rows]


def current_member(cohort_id: int, user_id: int) -> User | None:
    """The student, only while they are a current member of the cohort (one query)."""
    if not 0 < user_id <= MAX_ID:
        return None
    return db.session.scalar(select(User).where(User.id == user_id, User.id.in_(member_ids(cohort_id))))


def assigned_course(cohort_id: int, course_id: int) -> tuple[Course, Assignment] | None:
    """A course assigned to the cohort, with its items and the assignment (two queries), or None."""
    if not 0 < course_id <= MAX_ID:
        return None
    row = db.session.execute(
        select(Course, Assignment)
        .join(Assignment, Assignment.course_id == Course.id)
        .where(Assignment.cohort_id == cohort_id, Course.id == course_id)
        .options(selectinload(Course.items))
    ).first()
    return (row[0], row[1]) if row else None




def assigned_courses(cohort_id: int) -> list[tuple[Course, Assignment]]:
    """Every course assigned to the cohort with its items and assignment, soonest due first (one query)."""
    rows = db.session.execute(
        select(Course, Assignment)
        .join(Assignment, Assignment.course_id == Course.id)
        .where(Assignment.cohort_id == cohort_id)
        .order_by(Assignment.due_on.is_(None), Assignment.due_on, Assignment.id)
        .options(joinedload(Course.items))
    ).unique()
    return [(course, assignment) for course, assignment in rows]
