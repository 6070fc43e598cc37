"""Consent between people: invitations a learner answers before an educator sees their work, cohorts
shared only with colleagues who accept, and learners leaving a cohort of their own accord.

A class list never enrols an existing account: it invites it (`CohortInvitation`). Until the learner
accepts, the educator sees their name and "invited", nothing of what they did. The one exception is an
account the same educator's own import created that has never been used: it holds no work to protect.
Sharing a cohort likewise writes a `CohortEducator` row with no `accepted_at`; it grants nothing until
the colleague accepts. Services flush; the view commits.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, exists, func, select, update

from app.extensions import db
from app.models import Cohort, CohortEducator, CohortInvitation, CohortMember, PasswordLink, User
from app.models.types import MAX_ID, utcnow
from app.services import accounts, sql
from app.services.cohorts import CohortError, add_members


class InvitationError(ValueError):
    """An invitation that cannot be answered as asked; the message says why and what to do."""


class NoInvitation(InvitationError):
    """No invitation of this person's is at that address (answered like a missing page)."""


# --- learners invited by a class list


_invite = sql.Upsert(
    CohortInvitation,
    conflict=["cohort_id", "user_id"],
    # A new invitation after an accepted one (the learner left or was removed) asks again.
    update={
        "state": lambda t, e: "pending",
        "answered_at": lambda t, e: None,
        "invited_by_id": lambda t, e: e.invited_by_id,
        "created_at": lambda t, e: e.created_at,
    },
)


def states(cohort: Cohort, user_ids: list[int]) -> dict[int, str]:
    """The invitation state ('pending', 'accepted', 'declined') of each of these accounts that has one."""
    found: dict[int, str] = {}
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        found |= dict(
            db.session.execute(
                select(CohortInvitation.user_id, CohortInvitation.state).where(
                    CohortInvitation.cohort_id == cohort.id, CohortInvitation.user_id.in_(chunk)
                )
            ).all()
        )
    return found


def invite(cohort: Cohort, user_ids: list[int], by: User) -> None:
    """Invite these accounts to the cohort (again, if they had accepted once and are no longer members)."""
    now = utcnow()
    rows = [
        {"cohort_id": cohort.id, "user_id": user_id, "invited_by_id": by.id, "state": "pending", "created_at": now}
        for user_id in user_ids
    ]
    for start in range(0, len(rows), 1000):
        _invite(rows[start : start + 1000])


def created_by(user_ids: list[int], educator: User) -> set[int]:
    """Which of these accounts the educator made (an import of theirs issued the account's link)."""
    found: set[int] = set()
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        found |= set(
            db.session.scalars(
                select(PasswordLink.user_id)
                .where(PasswordLink.user_id.in_(chunk), PasswordLink.created_by_id == educator.id)
                .distinct()
            )
        )
    return found


def made_by(educator: User):
    """SQL: the account's set-password link was issued by this educator (only they, or an admin, reissue it)."""
    return exists().where(PasswordLink.user_id == User.id, PasswordLink.created_by_id == educator.id)


@dataclass(frozen=True)
class Pending:
    """An invitation waiting for the learner's answer, with the cohort and who teaches it."""

    invitation: CohortInvitation
    cohort: Cohort
    educators: list[str]


def _educator_names(cohort_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for cohort_id, name in db.session.execute(
        select(CohortEducator.cohort_id, User.display_name)
        .join(User, User.id == CohortEducator.user_id)
        .where(CohortEducator.cohort_id.in_(cohort_ids), CohortEducator.accepted_at.is_not(None))
        .order_by(CohortEducator.is_owner.desc(), User.display_name)
    ):
        names.setdefault(cohort_id, []).append(name)
    return names


# Built once: the home page asks on every visit.
_PENDING = (
    select(CohortInvitation, Cohort)
    .join(Cohort, Cohort.id == CohortInvitation.cohort_id)
    .where(CohortInvitation.user_id == bindparam("user_id"), CohortInvitation.state == "pending")
    .order_by(CohortInvitation.created_at.desc(), CohortInvitation.id.desc())
)


def pending_for(user_id: int) -> list[Pending]:
    """The learner's invitations still to answer, newest first (two queries)."""
    rows = db.session.execute(_PENDING, {"user_id": user_id}).all()
    names = _educator_names([cohort.id for _, cohort in rows]) if rows else {}
    return [Pending(invitation, cohort, names.get(cohort.id, [])) for invitation, cohort in rows]


def answer(user: User, invitation_id: int, accept: bool) -> Cohort:
    """Accept (join the cohort) or decline the learner's own pending invitation; InvitationError if it cannot be."""
    invitation = None
    if 0 < invitation_id <= MAX_ID:
        invitation = db.session.scalar(
            select(CohortInvitation).where(CohortInvitation.id == invitation_id, CohortInvitation.user_id == user.id)
        )
    if invitation is None:
        raise NoInvitation("There is no invitation of yours at this address. Your invitations are on your home page.")
    cohort = db.session.get(Cohort, invitation.cohort_id)
    if invitation.state != "pending":
        raise InvitationError(f"You have already answered the invitation to {cohort.name}.")
    if accept and not accounts.is_email_trusted(user):
        raise InvitationError(
            "Confirm your email address first (the link is on your account page), so your educator knows this "
            "account is yours. Then accept the invitation."
        )
    # The conditional update decides between two answers sent at once (a double click): one wins.
    answered = db.session.execute(
        update(CohortInvitation)
        .where(CohortInvitation.id == invitation.id, CohortInvitation.state == "pending")
        .values(state="accepted" if accept else "declined", answered_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if answered != 1:
        raise InvitationError(f"You have already answered the invitation to {cohort.name}.")
    if accept:
        add_members(cohort, [user.id], "roster")
    db.session.flush()
    return cohort


def for_cohort(cohort: Cohort, limit: int = 200) -> list[tuple[CohortInvitation, User]]:
    """The cohort's invitations not accepted (pending first, then declined), by name; at most `limit`."""
    return list(
        db.session.execute(
            select(CohortInvitation, User)
            .join(User, User.id == CohortInvitation.user_id)
            .where(CohortInvitation.cohort_id == cohort.id, CohortInvitation.state != "accepted")
            .order_by(CohortInvitation.state.desc(), User.display_name, User.id)
            .limit(limit)
        ).all()
    )


def count_for_cohort(cohort: Cohort) -> dict[str, int]:
    """How many of the cohort's invitations are pending and declined."""
    counts = dict(
        db.session.execute(
            select(CohortInvitation.state, func.count())
            .where(CohortInvitation.cohort_id == cohort.id, CohortInvitation.state != "accepted")
            .group_by(CohortInvitation.state)
        ).all()
    )
    return {"pending": counts.get("pending", 0), "declined": counts.get("declined", 0)}


# --- leaving a cohort


def current_cohorts(user_id: int) -> list[tuple[CohortMember, Cohort, list[str]]]:
    """The learner's current cohorts, by name, each with its educators' names (two queries)."""
    rows = db.session.execute(
        select(CohortMember, Cohort)
        .join(Cohort, Cohort.id == CohortMember.cohort_id)
        .where(CohortMember.user_id == user_id, CohortMember.removed_at.is_(None))
        .order_by(Cohort.name, Cohort.id)
    ).all()
    names = _educator_names([cohort.id for _, cohort in rows]) if rows else {}
    return [(member, cohort, names.get(cohort.id, [])) for member, cohort in rows]


def current_cohort(user_id: int, cohort_id: int) -> Cohort | None:
    """One of the learner's current cohorts, or None."""
    if not 0 < cohort_id <= MAX_ID:
        return None
    return db.session.scalar(
        select(Cohort)
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .where(Cohort.id == cohort_id, CohortMember.user_id == user_id, CohortMember.removed_at.is_(None))
    )


def leave(user: User, cohort: Cohort) -> None:
    """End the learner's membership at their own wish; they may join again with the code."""
    now = utcnow()
    db.session.execute(
        update(CohortMember)
        .where(CohortMember.cohort_id == cohort.id, CohortMember.user_id == user.id, CohortMember.removed_at.is_(None))
        .values(removed_at=now, left_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


# --- colleagues invited to teach a cohort


_invite_colleague = sql.InsertIfAbsent(CohortEducator, conflict=["cohort_id", "user_id"])


def share(cohort: Cohort, email: str, by: User) -> User:
    """Invite another educator to teach the cohort; they see nothing of it until they accept."""
    colleague = accounts.find_by_email(email)
    if colleague is None or not colleague.is_educator or not colleague.is_active:
        raise CohortError("There is no active educator account with that email address.")
    row = {
        "cohort_id": cohort.id,
        "user_id": colleague.id,
        "is_owner": False,
        "added_at": utcnow(),
        "accepted_at": None,
        "invited_by_id": by.id,
    }
    if not _invite_colleague(row):
        existing = db.session.scalar(
            select(CohortEducator.accepted_at).where(
                CohortEducator.cohort_id == cohort.id, CohortEducator.user_id == colleague.id
            )
        )
        if existing is None:
            raise CohortError(f"{colleague.display_name} is already invited to teach this cohort.")
        raise CohortError(f"{colleague.display_name} already teaches this cohort.")
    return colleague


def pending_shares(user: User) -> list[tuple[Cohort, str | None]]:
    """Cohorts colleagues have invited this educator to teach, with who invited them."""
    inviter = select(User.display_name).where(User.id == CohortEducator.invited_by_id).scalar_subquery()
    return [
        (cohort, name)
        for cohort, name in db.session.execute(
            select(Cohort, inviter)
            .join(CohortEducator, CohortEducator.cohort_id == Cohort.id)
            .where(CohortEducator.user_id == user.id, CohortEducator.accepted_at.is_(None))
            .order_by(Cohort.name, Cohort.id)
        ).all()
    ]


def answer_share(user: User, cohort_id: int, accept: bool) -> Cohort:
    """Accept (start teaching) or decline (the invitation is removed) a cohort shared with this educator."""
    cohort = None
    if 0 < cohort_id <= MAX_ID:
        cohort = db.session.scalar(
            select(Cohort)
            .join(CohortEducator, CohortEducator.cohort_id == Cohort.id)
            .where(Cohort.id == cohort_id, CohortEducator.user_id == user.id, CohortEducator.accepted_at.is_(None))
        )
    if cohort is None:
        raise NoInvitation("There is no invitation to teach a cohort at this address. Your invitations are under Teaching.")
    mine = (CohortEducator.cohort_id == cohort.id) & (CohortEducator.user_id == user.id)
    if accept:
        db.session.execute(
            update(CohortEducator)
            .where(mine, CohortEducator.accepted_at.is_(None))
            .values(accepted_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(delete(CohortEducator).where(mine, CohortEducator.accepted_at.is_(None)))
    db.session.flush()
    return cohort
