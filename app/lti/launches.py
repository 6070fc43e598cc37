"""What a verified launch does in Alliance: the account, the cohort of the platform's course, and the link opened.

pylti1p3 has checked the launch (state, nonce, signature, issuer, deployment, expiry) before any of
this runs. Accounts are found by (issuer, sub) only. Roles: a Learner is a student whatever else the
claim says; Instructor, Teaching Assistant, Faculty or Administrator (and no Learner) make an educator.
A platform never makes an Alliance admin, and never lowers a role an account already has.
"""

import hashlib
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from app.content import Catalog
from app.extensions import db
from app.lti.tool import origin
from app.models import Cohort, CohortEducator, Course, LtiAccount, LtiContext, LtiLink, LtiPlatform, User
from app.models.lti import LINK_KINDS
from app.models.types import utcnow
from app.services import accounts, cohorts
from app.services.courses import content_for

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES_CLAIM = CLAIM + "roles"
CONTEXT_CLAIM = CLAIM + "context"
LINK_CLAIM = CLAIM + "resource_link"
CUSTOM_CLAIM = CLAIM + "custom"
DEPLOYMENT_CLAIM = CLAIM + "deployment_id"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
#: The custom parameter a link carries to say what it opens, e.g. "quiz:q-empathy" or "course:12".
ITEM_PARAMETER = "alliance_item"
STAFF_ROLES = {"Instructor", "TeachingAssistant", "Faculty", "Administrator", "SysAdmin"}


class LaunchError(ValueError):
    """A verified launch Alliance cannot act on; the message says what to do."""


def role_names(roles) -> set[str]:
    """The bare names of LIS role URIs ("…/membership#Instructor" -> "Instructor", "…/Instructor" too)."""
    if not isinstance(roles, list):
        return set()
    return {str(role).rsplit("#", 1)[-1].rsplit("/", 1)[-1] for role in roles if isinstance(role, str)}


def role_for(roles) -> str:
    """Our role for a roles claim: a Learner is a student, whatever else is claimed; staff roles make an educator."""
    names = role_names(roles)
    if "Learner" in names or "Student" in names:
        return "student"
    return "educator" if names & STAFF_ROLES else "student"


def _synthetic_email(issuer: str, sub: str) -> str:
    """An address no one receives mail at, unique per (issuer, sub): LTI accounts never share a local one."""
    digest = hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:32]
    return f"lti-{digest}@lti.invalid"


def display_name(claims: dict, fallback: str) -> str:
    """The person's name from the claims, or `fallback`."""
    parts = (claims.get("given_name"), claims.get("family_name"))
    name = claims.get("name") or " ".join(p for p in parts if isinstance(p, str) and p)
    name = " ".join(name.split()) if isinstance(name, str) else ""
    return (name or fallback)[:100]


def account_for(issuer: str, sub: str, role: str, name: str, email: str | None, *, launched: bool = True) -> User:
    """The account of (issuer, sub): made on the first launch; later a student may become an educator, never less."""
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
        raise LaunchError("The platform sent no usable user id (sub), so Alliance cannot tell who you are.")
    link = db.session.scalar(select(LtiAccount).where(LtiAccount.issuer == issuer, LtiAccount.sub == sub))
    if link is None:
        user = accounts.create_user(_synthetic_email(issuer, sub), name, None, role)
        link = LtiAccount(issuer=issuer, sub=sub, user_id=user.id)
        db.session.add(link)
    else:
        user = db.session.get(User, link.user_id)
        if role == "educator" and user.role == "student":
            user.role = "educator"
    if not user.is_active:
        raise LaunchError("Your Alliance account is deactivated. Ask the Alliance administrator at your institution.")
    link.email = email[:254] if isinstance(email, str) and email else link.email
    if launched:
        link.last_launch_at = utcnow()
    db.session.flush()
    return user


def context_for(platform: LtiPlatform, deployment_id: str, claims: dict) -> LtiContext | None:
    """The cohort standing for the platform's course (made on its first launch), or None when the launch has no course."""
    context = claims.get(CONTEXT_CLAIM)
    if not isinstance(context, dict) or not isinstance(context.get("id"), str) or not context["id"]:
        return None
    found = db.session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id,
            LtiContext.deployment_id == deployment_id,
            LtiContext.context_id == context["id"][:255],
        )
    )
    title = str(context.get("title") or context.get("label") or f"Course from {platform.name}")[:200]
    nrps = claims.get(NRPS_CLAIM)
    memberships = nrps.get("context_memberships_url") if isinstance(nrps, dict) else None
    if found is None:
        cohort = Cohort(name=title, join_code=cohorts.new_join_code(), is_join_open=False)
        db.session.add(cohort)
        db.session.flush()
        found = LtiContext(
            platform_id=platform.id, deployment_id=deployment_id, context_id=context["id"][:255], cohort_id=cohort.id
        )
        db.session.add(found)
    found.title = title
    if isinstance(memberships, str) and origin(memberships):
        found.memberships_url = memberships[:1000]
    db.session.flush()
    return found


def join_context(context: LtiContext, user: User, role: str) -> None:
    """Put the person in the cohort: an instructor teaches it (the first one owns it), a learner joins it.

    A learner an educator removed from the cohort stays removed: the launch still opens the activity.
    """
    cohort = db.session.get(Cohort, context.cohort_id)
    if role == "educator":
        has_owner = db.session.scalar(
            select(CohortEducator.user_id).where(CohortEducator.cohort_id == cohort.id, CohortEducator.is_owner)
        )
        row = db.session.get(CohortEducator, (cohort.id, user.id))
        now = utcnow()
        if row is None:
            db.session.add(
                CohortEducator(cohort_id=cohort.id, user_id=user.id, is_owner=not has_owner, accepted_at=now)
            )
        elif row.accepted_at is None:
            row.accepted_at = now  # invited by a colleague: teaching the platform's course is the answer
        if not has_owner and cohort.created_by_id is None:
            cohort.created_by_id = user.id
        db.session.flush()
        return
    member = cohorts.membership(cohort, user.id)
    if member is None or (member.removed_at is not None and member.left_at is not None):
        cohorts.add_member(cohort, user.id, "roster")


def parse_item(value) -> tuple[str, str] | None:
    """("quiz", "q-id") from "quiz:q-id"; None for anything else."""
    if not isinstance(value, str) or ":" not in value:
        return None
    kind, ref = value.split(":", 1)
    kind, ref = kind.strip(), ref.strip()
    if kind not in LINK_KINDS or not ref or len(ref) > 100:
        return None
    return kind, ref


def item_title(catalog: Catalog, kind: str, ref: str) -> str | None:
    """The title of a linked item, or None when it no longer exists (or a course is not published)."""
    if kind == "course":
        course = db.session.get(Course, int(ref)) if ref.isdigit() and 0 < int(ref) < 2**31 else None
        return course.title if course is not None and course.is_published else None
    content = content_for(catalog, kind, ref)
    return content.title if content is not None else None


def link_for(
    platform: LtiPlatform, deployment_id: str, context: LtiContext | None, claims: dict, catalog
) -> LtiLink | None:
    """The link launched, kept with its line item; None when the launch names no Alliance item."""
    resource = claims.get(LINK_CLAIM) or {}
    custom = claims.get(CUSTOM_CLAIM) or {}
    item = parse_item(custom.get(ITEM_PARAMETER) if isinstance(custom, dict) else None)
    resource_id = resource.get("id") if isinstance(resource, dict) else None
    if item is None or not isinstance(resource_id, str) or not resource_id:
        return None
    kind, ref = item
    title = item_title(catalog, kind, ref)
    if title is None:
        raise LaunchError(
            "This link opens an Alliance activity that no longer exists. Ask your instructor to choose another one."
        )
    link = db.session.scalar(
        select(LtiLink).where(
            LtiLink.platform_id == platform.id,
            LtiLink.deployment_id == deployment_id,
            LtiLink.resource_link_id == resource_id[:255],
        )
    )
    if link is None:
        link = LtiLink(platform_id=platform.id, deployment_id=deployment_id, resource_link_id=resource_id[:255])
        db.session.add(link)
    link.context_id = context.id if context else None
    link.kind, link.item_ref, link.title = kind, ref, title[:200]
    ags = claims.get(AGS_CLAIM) or {}
    lineitem = ags.get("lineitem") if isinstance(ags, dict) else None
    if isinstance(lineitem, str) and origin(lineitem):
        link.lineitem_url = lineitem[:1000]
    scopes = ags.get("scope") if isinstance(ags, dict) else None
    link.ags_scopes = " ".join(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ""
    db.session.flush()
    return link


@dataclass(frozen=True)
class Launched:
    """What a verified resource launch came to: who, where, and which cohort."""

    user: User
    target: str
    context: LtiContext | None


def destination(link: LtiLink | None, context: LtiContext | None, user: User, role: str) -> str:
    """Where the launch opens: the linked item (a course's teaching page for its instructors), else home."""
    if link is None:
        if role == "educator" and context is not None:
            return url_for("teach.cohort", cohort_id=context.cohort_id)
        return url_for("learn.home")
    if link.kind == "module":
        return url_for("learn.module", module_id=link.item_ref)
    if link.kind == "quiz":
        return url_for("learn.quiz", quiz_id=link.item_ref)
    if link.kind == "conversation":
        return url_for("learn.conversation", conversation_id=link.item_ref)
    if role == "educator" and context is not None:
        return url_for("teach.cohort", cohort_id=context.cohort_id)
    return url_for("learn.course", course_id=int(link.item_ref))


def ensure_course_assigned(link: LtiLink | None, context: LtiContext | None) -> None:
    """A linked course is assigned to the cohort, so its learners find it (the platform's link is the assignment)."""
    if link is None or link.kind != "course" or context is None:
        return
    course = db.session.get(Course, int(link.item_ref))
    cohort = db.session.get(Cohort, context.cohort_id)
    if not any(a.course_id == course.id for a in cohorts.assignments(cohort)):
        owner = db.session.get(User, course.owner_id)
        cohorts.assign(cohort, course, owner, None, None)


def _has_nul(value) -> bool:
    """Whether a NUL character hides anywhere in a claim (no database text column can hold one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def resource_launch(platform: LtiPlatform, claims: dict, catalog: Catalog) -> Launched:
    """Act on a verified resource link launch: account, cohort, link; the caller signs the person in and commits."""
    if _has_nul(claims):
        # Signed, so the platform itself sent it: refuse plainly rather than store half of it.
        raise LaunchError("The platform sent text with a NUL character, which Alliance cannot store. Tell its administrator.")
    deployment_id = claims[DEPLOYMENT_CLAIM]
    role = role_for(claims.get(ROLES_CLAIM))
    user = account_for(
        platform.issuer,
        claims.get("sub"),
        role,
        display_name(claims, f"Learner from {platform.name}"),
        claims.get("email"),
    )
    # Teaching this course takes both: an instructor's claim, and an account that may teach.
    here = "educator" if role == "educator" and user.is_educator else "student"
    context = context_for(platform, deployment_id, claims)
    if context is not None:
        join_context(context, user, here)
    link = link_for(platform, deployment_id, context, claims, catalog)
    ensure_course_assigned(link, context)
    return Launched(user, destination(link, context, user, here), context)


def frame_origins(platform: LtiPlatform) -> list[str]:
    """The origins that may show Alliance in a frame after this platform's launch."""
    found = [origin(platform.issuer), origin(platform.auth_login_url)]
    found += [origin(extra) for extra in platform.frame_origins.split()]
    return sorted({o for o in found if o})
