"""LTI Dynamic Registration 1.0: a platform registers Alliance itself, from a one-time link an admin made.

The administrator makes a registration link on the platforms page and pastes it into the platform
(Moodle: "Tool URL" under "Add an LTI Advantage tool"). The platform opens it with its OpenID
configuration's address and a registration token; pylti1p3 reads the configuration, posts Alliance's
tool configuration, and the platform answers with our client id and deployment. Without a valid
link nothing is fetched and nothing registered: no stranger can add a platform.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import render_template, request
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException

from app.extensions import db
from app.lti import bp, platforms, tool
from app.lti.grades import _TimedSession

LINK_LIFETIME = timedelta(days=2)
TOOL_SPEC = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_SPEC = "https://purl.imsglobal.org/spec/lti-platform-configuration"


def _key(token: str) -> str:
    return "registration-" + hashlib.sha256(token.encode()).hexdigest()


def new_link() -> str:
    """A one-time registration address (valid two days); only its hash is kept."""
    token = secrets.token_urlsafe(24)
    tool.put_state(_key(token), {"made": True}, LINK_LIFETIME)
    return tool.site_url(f"/lti/register?link={token}")


class AllianceRegistration(DynamicRegistration):
    """pylti1p3's dynamic registration, told Alliance's addresses and what it asks for."""

    client_name = "Alliance"
    description = "Lessons, clinical scenario quizzes and conversations on the therapeutic alliance."

    def __init__(self, openid_configuration: str, registration_token: str | None):
        self._configuration_url = openid_configuration
        self._token = registration_token
        self.saved = None

    def get_request_session(self):
        """Every request with a timeout."""
        return _TimedSession(10)

    def get_initiate_login_uri(self) -> str:
        """Our login initiation URL."""
        return tool.site_url("/lti/login")

    def get_jwks_uri(self) -> str:
        """Our key set."""
        return tool.site_url("/lti/jwks")

    def get_redirect_uris(self) -> list[str]:
        """Where launches land."""
        return [tool.site_url("/lti/launch")]

    def get_scopes(self) -> list[str]:
        """Grades and rosters."""
        return list(tool.SCOPES)

    def get_domain(self) -> str:
        """Our host (and port)."""
        return tool.origin(tool.site_url("/")).split("://", 1)[1]

    def get_target_link_uri(self) -> str:
        """Launches land at /lti/launch."""
        return tool.site_url("/lti/launch")

    def get_claims(self) -> list[str]:
        """Who the person is, and their name for class lists."""
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict]:
        """Deep linking, so instructors pick items from a course's editor."""
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": tool.site_url("/lti/launch"),
                "label": "Add an Alliance activity",
            }
        ]

    def get_logo_uri(self) -> str:
        """No logo is offered (the platform shows the name)."""
        return ""

    def get_openid_configuration_endpoint(self) -> str:
        """The address the platform gave."""
        return self._configuration_url

    def get_registration_token(self) -> str | None:
        """The token the platform gave."""
        return self._token

    def complete_registration(self, openid_configuration: dict, openid_registration: dict):
        """Keep the platform the registration made (flush only)."""
        settings = openid_registration.get(TOOL_SPEC) or {}
        product = (openid_configuration.get(PLATFORM_SPEC) or {}).get("product_family_code") or ""
        self.saved = platforms.add(
            platforms.NewPlatform(
                name=f"{product} {openid_configuration.get('issuer', '')}".strip(),
                issuer=str(openid_configuration.get("issuer", "")),
                client_id=str(openid_registration.get("client_id", "")),
                deployment_ids=(str(settings.get("deployment_id", "")),),
                auth_login_url=str(openid_configuration.get("authorization_endpoint", "")),
                auth_token_url=str(openid_configuration.get("token_endpoint", "")),
                keyset_url=str(openid_configuration.get("jwks_uri", "")),
            )
        )
        return self.saved


@bp.get("/register")
def register():
    """Dynamic registration, started by the platform with a registration link an admin made."""
    token = request.args.get("link", "")
    configuration = request.args.get("openid_configuration", "")
    if not token or len(token) > 100 or tool.get_state(_key(token)) is None:
        return render_template("lti/register_refused.html", reason="link"), 403
    if tool.origin(configuration) is None:
        return render_template("lti/register_refused.html", reason="platform"), 400
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
