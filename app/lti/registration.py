"""LTI Dynamic Registration 1.0: a platform registers Alliance itself, from a one-time link an admin made.

The administrator makes a registration link on the platforms page and pastes it into the platform
(Moodle: "Tool URL" under "Add an LTI Advantage tool"). The platform opens it with its OpenID
configuration's address and a registration token; pylti1p3 reads the configuration, posts Alliance's
tool configuration, and the platform answers with our client id and deployment. Without a valid
link nothing is fetched and nothing registered: no stranger can add a platform. The registration itself
(a pylti1p3 subclass) is app.lti.protocol.AllianceRegistration, imported when a platform registers.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import render_template, request

from app.extensions import db
from app.lti import bp, platforms, tool

LINK_LIFETIME = timedelta(days=2)


def _key(token: str) -> str:
    return "registration-" + hashlib.sha256(token.encode()).hexdigest()


def new_link() -> str:
    """A one-time registration address (valid two days); only its hash is kept."""
    token = secrets.token_urlsafe(24)
    tool.put_state(_key(token), {"made": True}, LINK_LIFETIME)
    return tool.site_url(f"/lti/register?link={token}")


@bp.get("/register")
def register():
    """Dynamic registration, started by the platform with a registration link an admin made."""
    token = request.args.get("link", "")
    configuration = request.args.get("openid_configuration", "")
    if not token or len(token) > 100 or tool.get_state(_key(token)) is None:
        return render_template("lti/register_refused.html", reason="link"), 403
    if tool.origin(configuration) is None:
        return render_template("lti/register_refused.html", reason="platform"), 400
    # pylti1p3 loads only for a valid link: a stranger's visit costs the worker no memory.
    from pylti1p3.exception import LtiException

    from app.lti.protocol import AllianceRegistration

    registration = AllianceRegistration(configuration, request.args.get("registration_token"))
    try:
        registration.register()
    except platforms.PlatformError as exc:
        db.session.rollback()
        return render_template("lti/register_refused.html", reason="data", detail=str(exc)), 400
    except (LtiException, AssertionError, ValueError, KeyError, TypeError, OSError) as exc:
        db.session.rollback()
        return render_template("lti/register_refused.html", reason="platform", detail=type(exc).__name__), 502
    tool.take_state(_key(token))
    db.session.commit()
    return render_template("lti/registered.html", platform=registration.saved)
