"""Alliance's subclasses of pylti1p3's and requests' classes: imported only when a protocol route or command runs.

pylti1p3 brings requests, jwcrypto, PyJWT and cryptography with it (about 10 MB in every worker), and
most pages of most sites never speak LTI. So building the app imports none of it: the routes, the grade
sender and the roster sync import this module (and pylti1p3) inside the functions that use them.
- `TimedSession`: requests with a timeout on every call (pylti1p3 sets none);
- `Connector`: the service connector, caching platform tokens per registration and scopes;
- `DatabaseToolConf`, `DatabaseLaunchStorage`: registrations and protocol state from the database (app/lti/tool.py);
- `AllianceRegistration`: dynamic registration, told Alliance's addresses (app/lti/registration.py).
"""

from datetime import datetime, timedelta

import requests
from pylti1p3.deployment import Deployment
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select

from app.extensions import db
from app.lti import platforms, tool
from app.models import LtiDeployment
from app.models.types import utcnow

TOOL_SPEC = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_SPEC = "https://purl.imsglobal.org/spec/lti-platform-configuration"


class TimedSession(requests.Session):
    """A requests session whose every call has a timeout (pylti1p3 sets none)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = "Alliance LTI tool"

    def request(self, *args, **kwargs):
        """Send with the session's timeout unless one is given."""
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


class Connector(ServiceConnector):
    """pylti1p3's service connector, caching platform tokens per registration (issuer, client id) and scopes."""

    tokens: dict[str, tuple[str, datetime]] = {}

    def _key(self, scope_key: str) -> str:
        return f"{self._registration.get_client_id()}|{scope_key}"

    def _get_cached_access_token(self, scope_key: str):
        found = self.tokens.get(self._key(scope_key))
        return found[0] if found and found[1] > utcnow() else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float):
        # A minute's margin, so a token is never used as it expires.
        self.tokens[self._key(scope_key)] = (access_token, utcnow() + timedelta(seconds=max(0, float(expires_in) - 60)))


class DatabaseToolConf(ToolConfAbstract):
    """Registrations and deployments from `lti_platform` and `lti_deployment`; an issuer may have several clients."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never: every registration is found by issuer and client id."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Always: see check_iss_has_one_client."""
        return True

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        """The issuer's only registration (pylti1p3's older interface)."""
        platform = tool.find_platform(iss, None)
        return tool.registration_for(platform) if platform else None

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        """The registration for this issuer and client id (None when unknown)."""
        platform = tool.find_platform(iss, client_id)
        return tool.registration_for(platform) if platform else None

    def find_deployment(self, iss, deployment_id):
        """A deployment of the issuer's only registration."""
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        """The deployment if the registration knows it, else None (the launch is then refused)."""
        platform = tool.find_platform(iss, client_id)
        if platform is None or not isinstance(deployment_id, str):
            return None
        known = db.session.scalar(
            select(LtiDeployment.id).where(
                LtiDeployment.platform_id == platform.id, LtiDeployment.deployment_id == deployment_id
            )
        )
        return Deployment().set_deployment_id(deployment_id) if known else None


class DatabaseLaunchStorage(LaunchDataStorage):
    """pylti1p3's launch data storage over `lti_state`; `check_value` (used only for nonces) consumes the value."""

    def get_session_cookie_name(self):
        """No session cookie: keys are random (nonces, launch ids), so they need no per-browser prefix."""
        return None

    def can_set_keys_expiration(self) -> bool:
        """Keys do expire."""
        return True

    def get_value(self, key):
        """The value, or None."""
        return tool.get_state(self._prepare_key(key))

    def set_value(self, key, value, exp=None) -> None:
        """Keep a value for `exp` seconds (two hours when not given)."""
        tool.put_state(self._prepare_key(key), value, timedelta(seconds=exp) if exp else tool.DEFAULT_LIFETIME)

    def check_value(self, key) -> bool:
        """Whether a nonce was issued by this tool and not yet used; using it here deletes it."""
        return tool.take_state(self._prepare_key(key))


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
        return TimedSession(10)

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
