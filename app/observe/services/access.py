"""Who may rate at a cohort's stations: its educators (owner, co-educators, admins) and its examiners."""

from sqlalchemy import delete, exists, select

from app.extensions import db
from app.models import Cohort, CohortExaminer, User
from app.models.types import MAX_ID
from app.services import accounts, cohorts


class ExaminerError(ValueError):
    """An examiner cannot be added; the message says why."""


def staff_role(user: User, cohort_id: int) -> str | None:
    """The person's role at the cohort's stations: "educator" (teaches it, or an admin), "examiner", or None."""
    if not 0 < cohort_id <= MAX_ID:
        return None
    if cohorts.get_for(user, cohort_id) is not None:
        return "educator"
    is_examiner = db.session.scalar(
        select(exists().where(CohortExaminer.cohort_id == cohort_id, CohortExaminer.user_id == user.id))
    )
    return "examiner" if is_examiner and user.is_educator else None


def examined_cohorts(user: User) -> list[Cohort]:
    """The cohorts this account examines (and does not teach), by name."""
    return list(
        db.session.scalars(
            select(Cohort)
            .join(CohortExaminer, CohortExaminer.cohort_id == Cohort.id)
            .where(CohortExaminer.user_id == user.id, ~cohorts.is_teaching(user.id))
            .order_by(Cohort.name, Cohort.id)
        )
    )


def examiners(cohort: Cohort) -> list[User]:
    """The cohort's examiners, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(CohortExaminer, CohortExaminer.user_id == User.id)
            .where(CohortExaminer.cohort_id == cohort.id)
            .order_by(User.display_name, User.id)
        )
    )


def add_examiner(cohort: Cohort, email: str, by: User) -> User:
    """Add the educator account with this address as an examiner of the cohort; flushes."""
    user = accounts.find_by_email(email)
    if user is None or not user.is_active:
        raise ExaminerError("There is no active account with that address. An administrator can create one.")
    if not user.is_educator:
        raise ExaminerError(
            f"{user.display_name}'s account is a student's: examiners need an educator account, "
            "so they never rate from a learner's account. An administrator can make one."
        )
    if staff_role(user, cohort.id) is not None:
        raise ExaminerError(f"{user.display_name} already rates at this cohort's stations.")
    db.session.add(CohortExaminer(cohort_id=cohort.id, user_id=user.id, added_by_id=by.id))
    db.session.flush()
    return user


def remove_examiner(cohort: Cohort, user_id: int) -> bool:
    """Remove an examiner (their ratings stay); False if they were not one; flushes."""
    if not 0 < user_id <= MAX_ID:
        return False
    removed = db.session.execute(
        delete(CohortExaminer).where(CohortExaminer.cohort_id == cohort.id, CohortExaminer.user_id == user_id)
    ).rowcount
    db.session.flush()
    return removed == 1
