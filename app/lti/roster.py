"""The roster of a platform's course (Names and Role Provisioning Services), brought into its cohort.

The members come from the platform with pylti1p3 (a client-credentials token, every page of the
membership container). Each active member is found or made by (issuer, user id) exactly as a launch
would: learners join the cohort; instructors whose account may teach are invited to co-teach it (a
`CohortEducator` row with no `accepted_at`, exactly as a colleague's share), since teaching a cohort
shows them its learners' work and that is theirs to accept: on their Teaching page, or by launching
Alliance from the course, which accepts it. Members the platform marks inactive are skipped; nobody is
removed by a sync (a platform's roster leaving someone out is not a request to delete their work here). pylti1p3 and requests are imported when a sync runs, not when the app is built: the
cohort page asks `context_of` only.
"""

from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.lti import launches
from app.lti.grades import connector
from app.models import Cohort, CohortEducator, LtiContext, LtiPlatform, User
from app.models.types import utcnow
from app.services import accounts, cohorts, sql

_invite = sql.InsertIfAbsent(CohortEducator, conflict=["cohort_id", "user_id"])


class RosterError(Exception):
    """The roster could not be fetched; the message says why and what to do."""


@dataclass
class Synced:
    """What a sync did."""

    added: int = 0
    already: int = 0
    instructors: int = 0
    invited: int = 0
    skipped: list[str] = field(default_factory=list)


def context_of(cohort_id: int) -> tuple[LtiContext, LtiPlatform] | None:
    """The platform course a cohort stands for, with its platform, if any."""
    row = db.session.execute(
        select(LtiContext, LtiPlatform)
        .join(LtiPlatform, LtiPlatform.id == LtiContext.platform_id)
        .where(LtiContext.cohort_id == cohort_id)
    ).first()
    return (row[0], row[1]) if row else None


def fetch_members(context: LtiContext, platform: LtiPlatform, timeout: float = 10) -> list[dict]:
    """Every member of the platform's course, all pages."""
    import requests
    from pylti1p3.exception import LtiException
    from pylti1p3.names_roles import NamesRolesProvisioningService

    if not context.memberships_url:
        raise RosterError(
            f"{platform.name} has not offered this course's roster to Alliance. Launch Alliance from the course "
            "once with the roster service (Names and Role Provisioning) switched on in the tool's settings."
        )
    service = NamesRolesProvisioningService(
        connector(platform, timeout), {"context_memberships_url": context.memberships_url}
    )
    try:
        return service.get_members()
    except (LtiException, requests.RequestException, ValueError) as exc:
        raise RosterError(f"{platform.name} did not give the roster ({type(exc).__name__}). Try again later.") from None


def _invite_to_teach(cohort: Cohort, user: User, by: User | None) -> bool:
    """Invite an instructor to co-teach the cohort unless they teach it or are invited already."""
    row = {
        "cohort_id": cohort.id,
        "user_id": user.id,
        "is_owner": False,
        "added_at": utcnow(),
        "accepted_at": None,
        "invited_by_id": by.id if by is not None else None,
    }
    return _invite(row)


def sync(cohort: Cohort, context: LtiContext, platform: LtiPlatform, members: list[dict], by: User | None = None) -> Synced:
    """Bring the members into the cohort, inviting its instructors to co-teach it (flush only)."""
    result = Synced()
    for member in members:
        if not isinstance(member, dict):
            continue
        sub = member.get("user_id")
        if member.get("status", "Active") != "Active" or not isinstance(sub, str) or not sub:
            continue
        role = launches.role_for(member.get("roles"))
        name = launches.display_name(member, f"Learner from {platform.name}")
        try:
            user = launches.account_for(platform.issuer, sub, role, name, member.get("email"), launched=False)
        except (launches.LaunchError, accounts.AccountError) as exc:
            result.skipped.append(f"{name}: {exc}")
            continue
        if role == "educator":
            result.instructors += 1
            if user.is_educator and _invite_to_teach(cohort, user, by):
                result.invited += 1
            continue
        membership = cohorts.membership(cohort, user.id)
        if membership is not None and membership.removed_at is None:
            result.already += 1
        elif membership is not None and membership.left_at is None:
            result.skipped.append(f"{user.display_name}: removed from this cohort by an educator")
        else:
            cohorts.add_member(cohort, user.id, "roster")
            result.added += 1
    context.last_roster_sync_at = utcnow()
    db.session.flush()
    return result
