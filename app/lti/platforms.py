"""Registering platforms: checked once here for the CLI, the admin page and dynamic registration alike."""

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.lti.tool import origin
from app.models import LtiContext, LtiDeployment, LtiPlatform


class PlatformError(ValueError):
    """A registration that cannot be saved; the message says what to change."""


@dataclass(frozen=True)
class NewPlatform:
    """What an administrator gives to register a platform."""

    name: str
    issuer: str
    client_id: str
    deployment_ids: tuple[str, ...]
    auth_login_url: str
    auth_token_url: str
    keyset_url: str
    auth_audience: str = ""
    frame_origins: str = ""


def _url(label: str, value: str) -> str:
    value = (value or "").strip()
    if len(value) > 1000 or origin(value) is None:
        raise PlatformError(f"The {label} must be a web address starting with https:// (or http:// on a test machine).")
    return value


def _text(label: str, value: str, limit: int = 255) -> str:
    value = (value or "").strip()
    if not value:
        raise PlatformError(f"Give the {label}.")
    if len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise PlatformError(f"The {label} must be one line of at most {limit} characters.")
    return value


def add(new: NewPlatform) -> LtiPlatform:
    """Register a platform with its deployments (flush only); a second registration of one client is refused."""
    issuer = _text("issuer", new.issuer)
    if origin(issuer) is None:
        raise PlatformError(
            "The issuer is the platform's address as it appears in its launches, such as https://moodle.example.edu."
        )
    client_id = _text("client id", new.client_id)
    deployments = [_text("deployment id", d) for d in new.deployment_ids if d and d.strip()]
    if not deployments:
        raise PlatformError("Give at least one deployment id (the platform shows it beside the client id).")
    origins = " ".join(_url("frame origin", o) for o in (new.frame_origins or "").split())
    taken = db.session.scalar(
        select(LtiPlatform.id).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    )
    if taken:
        raise PlatformError(f"This platform (issuer {issuer}, client id {client_id}) is registered already.")
    platform = LtiPlatform(
        name=_text("name", new.name or issuer, 200),
        issuer=issuer,
        client_id=client_id,
        auth_login_url=_url("login (authorisation) URL", new.auth_login_url),
        auth_token_url=_url("token URL", new.auth_token_url),
        keyset_url=_url("key set URL", new.keyset_url),
        auth_audience=(new.auth_audience or "").strip()[:1000] or None,
        frame_origins=origins,
    )
    db.session.add(platform)
    db.session.flush()
    for deployment_id in dict.fromkeys(deployments):
        db.session.add(LtiDeployment(platform_id=platform.id, deployment_id=deployment_id))
    db.session.flush()
    return platform


def all_platforms() -> list[tuple[LtiPlatform, list[str], int]]:
    """Every registered platform with its deployment ids and how many courses (cohorts) came from it."""
    platforms = db.session.scalars(select(LtiPlatform).order_by(LtiPlatform.name, LtiPlatform.id)).all()
    deployments: dict[int, list[str]] = {}
    for platform_id, deployment_id in db.session.execute(
        select(LtiDeployment.platform_id, LtiDeployment.deployment_id).order_by(LtiDeployment.id)
    ):
        deployments.setdefault(platform_id, []).append(deployment_id)
    contexts = dict(
        db.session.execute(select(LtiContext.platform_id, func.count()).group_by(LtiContext.platform_id)).all()
    )
    return [(p, deployments.get(p.id, []), contexts.get(p.id, 0)) for p in platforms]


def get(platform_id: int) -> LtiPlatform | None:
    """A platform by id."""
    return db.session.get(LtiPlatform, platform_id) if 0 < platform_id < 2**31 else None


def remove(platform: LtiPlatform) -> None:
    """Unregister a platform: its launches stop working; the accounts and cohorts it made stay (flush only)."""
    db.session.delete(platform)
    db.session.flush()
