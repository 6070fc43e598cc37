"""The tool's side of pylti1p3: registrations read from the database, protocol state kept in it, and our URLs.

pylti1p3 does the protocol (OIDC login, launch validation, deep linking responses, service tokens);
this module only tells it where things are. Protocol state lives in `lti_state`, not in the session
cookie, so it works whichever worker a request reaches: a login's nonce is used once (checking it
deletes it, so a replayed launch is refused), a deep linking launch is kept for the picker. The classes
pylti1p3 calls back (tool configuration, launch storage) are in app/lti/protocol.py, imported only when
a protocol route runs, so building the app loads no pylti1p3.
"""

import json
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select

from app.extensions import db
from app.lti import keys
from app.models import LtiPlatform, LtiState
from app.models.types import utcnow
from app.services import sql

#: Scopes Alliance asks platforms for: post scores, create and read line items, read rosters.
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
#: How long protocol state is kept when pylti1p3 names no lifetime (a login takes seconds; a picker, minutes).
DEFAULT_LIFETIME = timedelta(hours=2)


def site_url(path: str) -> str:
    """An absolute address on this site, from ALLIANCE_SITE_URL: what platforms are told and must call."""
    return current_app.config["SITE_URL"] + path


def urls() -> dict[str, str]:
    """The tool's addresses an administrator gives a platform."""
    return {
        "oidc_initiation_url": site_url("/lti/login"),
        "target_link_uri": site_url("/lti/launch"),
        "jwks_uri": site_url("/lti/jwks"),
        "deep_linking_url": site_url("/lti/launch"),
        "redirect_uris": [site_url("/lti/launch")],
    }


def origin(url: str) -> str | None:
    """The scheme, host and port of an address (None for anything that is not http or https)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def registration_for(platform: LtiPlatform):
    """pylti1p3's registration object for a platform, signed with the tool's current key."""
    from pylti1p3.registration import Registration  # pylti1p3 loads when a protocol route runs (app/lti/protocol.py)

    private = keys.private_pem()
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.keyset_url)
        .set_tool_private_key(private)
        .set_tool_public_key(keys.public_pem(private))
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    return registration


def find_platform(issuer: str, client_id: str | None) -> LtiPlatform | None:
    """The registered platform for an issuer and client id; with no client id, the issuer's only registration."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        return db.session.scalar(query.where(LtiPlatform.client_id == client_id))
    found = db.session.scalars(query.limit(2)).all()
    return found[0] if len(found) == 1 else None


_put_state = sql.Upsert(
    LtiState, conflict=["key"], update={"value": lambda t, e: e.value, "expires_at": lambda t, e: e.expires_at}
)


def put_state(key: str, value, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
    """Keep a value (JSON) under a key for a while."""
    _put_state([{"key": key, "value": json.dumps(value), "expires_at": utcnow() + lifetime}])


def get_state(key: str):
    """A value kept and not yet expired, or None."""
    row = db.session.get(LtiState, key)
    if row is None or row.expires_at < utcnow():
        return None
    return json.loads(row.value)


def take_state(key: str) -> bool:
    """Delete a key, and say whether it was there and alive: a value that can be used once."""
    taken = db.session.execute(
        delete(LtiState).where(LtiState.key == key, LtiState.expires_at >= utcnow()).returning(LtiState.key)
    ).first()
    return taken is not None


def forget_expired() -> int:
    """Delete protocol state past its time (logins never finished, pickers abandoned)."""
    return len(db.session.execute(delete(LtiState).where(LtiState.expires_at < utcnow()).returning(LtiState.key)).all())
