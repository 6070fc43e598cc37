"""A learning platform on loopback for the LTI tests, built on PyPI `lti1p3platform` (independent of pylti1p3).

It does what Moodle or Canvas do, over real HTTP on 127.0.0.1: answers the tool's OIDC login
redirect with a signed launch (`lti1p3platform` signs it, with the nonce and state the tool sent),
publishes its key set, issues service tokens only for a client assertion signed with the tool's
published key (`lti1p3platform` checks it), takes scores at its line items and serves its course
roster (both only with a valid token of the right scope), and checks deep linking responses with the
tool's key. What it received is kept for the tests to look at.
"""

import functools
import json
import re
import threading
from dataclasses import dataclass, field
from html import escape, unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER, INSTRUCTOR = ROLE + "Learner", ROLE + "Instructor"
ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"


@functools.cache
def platform_key_pair() -> tuple[str, str]:
    """The platforms' key pair, made once per test process (making one takes a good part of a second)."""
    return new_key_pair()


def seed_tool_key(app) -> None:
    """Give the app's instance folder a tool key made once per process (tests/test_lti_admin.py tests making one)."""
    path = Path(app.instance_path) / "lti_key.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_tool_key())
    path.chmod(0o600)


@functools.cache
def _tool_key() -> str:
    return new_key_pair()[0]


def new_key_pair() -> tuple[str, str]:
    """A fresh RSA key pair as PEM (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class Planned:
    """A launch the platform will sign when the tool's login comes back with this message hint."""

    sub: str
    roles: list[str]
    name: str = "Pat Learner"
    email: str | None = None
    context: tuple[str, str] | None = ("course-1", "Physio 101")
    resource_link: str | None = "link-1"
    custom: dict | None = None
    lineitem: str | None = None
    deep_linking: bool = False
    expires_in: int = 300


@dataclass
class Received:
    """What the tool sent the platform."""

    scores: list[tuple[str, dict]] = field(default_factory=list)
    deep_link_items: list[list[dict]] = field(default_factory=list)
    token_requests: int = 0
    refused_tokens: list[str] = field(default_factory=list)
    registrations: list[dict] = field(default_factory=list)


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, platform: "LoopbackPlatform") -> None:
        self._registration = (
            Registration()
            .set_iss(platform.issuer)
            .set_client_id(platform.client_id)
            .set_deployment_id(platform.deployment_id)
            .set_launch_url(platform.tool_url + "/lti/launch")
            .set_deeplink_launch_url(platform.tool_url + "/lti/launch")
            .set_oidc_login_url(platform.tool_url + "/lti/login")
            .set_platform_public_key(platform.public_key)
            .set_platform_private_key(platform.private_key)
        )
        if platform.tool_jwks:
            self._registration.set_tool_key_set(platform.tool_jwks)

    def get_registration_by_params(self, **kwargs):
        return self._registration


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, preflight: dict, conf: _Conf):
        super().__init__(None, conf)
        self._preflight = preflight

    def get_preflight_response(self):
        return self._preflight

    def render_launch_form(self, launch_data, **kwargs):
        return launch_data


class LoopbackPlatform:
    """The platform: start it, register it in Alliance, plan launches, and drive a browser-less launch."""

    client_id = "alliance-client"
    deployment_id = "deployment-1"

    def __init__(self, tool_url: str = "http://127.0.0.1:5000"):
        self.tool_url = tool_url
        self.private_key, self.public_key = platform_key_pair()
        self.tool_jwks: dict | None = None
        self.planned: dict[str, Planned] = {}
        self.members: list[dict] = []
        self.received = Received()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    # --- set-up

    def registration(self) -> dict:
        """What an administrator copies from the platform into `alliance lti platforms add`."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "deployment_ids": (self.deployment_id,),
            "auth_login_url": self.issuer + "/auth",
            "auth_token_url": self.issuer + "/token",
            "keyset_url": self.issuer + "/jwks",
        }

    def trust_tool(self, jwks: dict) -> None:
        """Keep the tool's published key set (what the platform fetches from the tool's jwks_uri)."""
        self.tool_jwks = jwks

    def plan(self, hint: str, planned: Planned) -> None:
        """Have the next login with this message hint launch as `planned`."""
        self.planned[hint] = planned

    # --- a launch without a browser: the test client plays the browser

    def login(self, client, hint: str, *, issuer: str | None = None, method: str = "post", base_url: str | None = None):
        """The platform's third-party login initiation: the browser goes to the tool's /lti/login."""
        data = {
            "iss": issuer or self.issuer,
            "login_hint": self.planned[hint].sub if hint in self.planned else "nobody",
            "target_link_uri": self.tool_url + "/lti/launch",
            "lti_message_hint": hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        where = {"base_url": base_url} if base_url else {}
        if method == "get":
            return client.get("/lti/login?" + urlencode(data), **where)
        return client.post("/lti/login", data=data, **where)

    def authorize(self, location: str) -> dict:
        """The browser follows the tool's redirect to the platform, which answers with the signed launch form."""
        answer = requests.get(location, timeout=10)
        assert answer.status_code == 200, answer.text
        return dict(
            (name, unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', answer.text)
        )

    def launch(self, client, hint: str):
        """A whole launch: login initiation, the platform's authorisation, and the form posted to the tool."""
        started = self.login(client, hint)
        assert started.status_code == 302, started.text
        return client.post("/lti/launch", data=self.authorize(started.headers["Location"]))

    # --- the platform's endpoints

    def _conf(self) -> _Conf:
        return _Conf(platform=self)

    def _authorize(self, query: dict) -> tuple[int, str]:
        planned = self.planned.get(query.get("lti_message_hint", ""))
        if planned is None or query.get("redirect_uri") != self.tool_url + "/lti/launch":
            return 400, "unknown launch"
        launch = _Launch(query, self._conf())
        launch.set_user_data(planned.sub, planned.roles, full_name=planned.name, email_address=planned.email)
        if planned.context:
            launch.set_launch_context_claim(planned.context[0], context_title=planned.context[1])
        if planned.resource_link:
            launch.set_resource_link_claim(planned.resource_link, title="Alliance activity")
        if planned.custom:
            launch.set_custom_parameters_claim(planned.custom)
        if planned.lineitem:
            launch.set_ags(self.issuer + "/lineitems", planned.lineitem)
        launch.set_nrps(self.issuer + "/memberships")
        if planned.deep_linking:
            launch.set_dl(self.issuer + "/deep_link_return", title="Add activity")
        launch.set_id_token_expiration(planned.expires_in)
        data = launch.lti_launch()
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{escape(str(data[name]))}">' for name in ("id_token", "state")
        )
        return 200, (
            f'<form method="post" action="{escape(data["launch_url"])}">{inputs}<button>Go</button></form>'
            "<script>document.forms[0].submit()</script>"
        )

    def _token(self, form: dict) -> tuple[int, dict]:
        self.received.token_requests += 1
        try:
            return 200, self._conf().get_access_token(form)
        except Exception as exc:  # any refusal is an OAuth error to the tool
            self.received.refused_tokens.append(f"{type(exc).__name__}: {exc}")
            return 400, {"error": "invalid_client"}

    def _bearer_allows(self, headers, scope: str) -> bool:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            return self._conf().validate_token(token, allowed_scopes=[scope])
        except Exception:
            return False

    def _memberships(self, query: dict) -> tuple[int, dict, dict]:
        page = int(query.get("page", "1"))
        size = 2
        members = self.members[(page - 1) * size : page * size]
        headers = {"Content-Type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"}
        if page * size < len(self.members):
            headers["Link"] = f'<{self.issuer}/memberships?page={page + 1}>; rel="next"'
        body = {"id": self.issuer + "/memberships", "context": {"id": "course-1"}, "members": members}
        return 200, body, headers

    def course_page(self, hint: str) -> str:
        """The platform's course page: the activity in a frame, as platforms embed tools."""
        return (
            '<!doctype html><html lang="en"><head><title>Course</title></head><body><main><h1>Physio 101</h1>'
            f'<iframe title="Alliance activity" src="/start/{escape(hint)}" width="1000" height="700"></iframe>'
            "</main></body></html>"
        )

    def start_page(self, hint: str) -> str:
        """Third-party login initiation in the browser: a form the page posts to the tool's login at once."""
        fields = {
            "iss": self.issuer,
            "login_hint": self.planned[hint].sub if hint in self.planned else "nobody",
            "target_link_uri": self.tool_url + "/lti/launch",
            "lti_message_hint": hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        inputs = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in fields.items())
        return (
            f'<form method="post" action="{escape(self.tool_url)}/lti/login">{inputs}<button>Go</button></form>'
            "<script>document.forms[0].submit()</script>"
        )

    def openid_configuration(self) -> dict:
        """The platform's OpenID configuration, as dynamic registration reads it."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/auth",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "registration_endpoint": self.issuer + "/register",
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "loopback"},
        }

    def _register(self, headers, form: dict) -> tuple[int, dict]:
        if headers.get("Authorization") != "Bearer registration-token":
            return 401, {"error": "invalid registration token"}
        tool = json.loads(form["raw"])
        self.received.registrations.append(tool)
        return 200, {
            **tool,
            "client_id": "dynamic-client",
            "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                **tool["https://purl.imsglobal.org/spec/lti-tool-configuration"],
                "deployment_id": "dynamic-deployment",
            },
        }

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            # One write per answer and no Nagle delay: loopback answers in a millisecond, not 40.
            wbufsize = -1
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _send(self, status: int, body, headers: dict | None = None) -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                content_type = "text/html" if isinstance(body, str) else "application/json"
                for name, value in {"Content-Type": content_type, **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _form(self) -> dict:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    return {k: v[0] for k, v in parse_qs(raw).items()}
                return {"raw": raw}

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/jwks":
                    self._send(200, {"keys": [Registration.get_jwk(platform.public_key)]})
                elif parts.path == "/.well-known/openid-configuration":
                    self._send(200, platform.openid_configuration())
                elif parts.path.startswith("/course/"):
                    self._send(200, platform.course_page(parts.path.removeprefix("/course/")))
                elif parts.path.startswith("/start/"):
                    self._send(200, platform.start_page(parts.path.removeprefix("/start/")))
                elif parts.path == "/auth":
                    self._send(*platform._authorize(query))
                elif parts.path == "/memberships":
                    if not platform._bearer_allows(self.headers, NRPS_SCOPE):
                        self._send(401, {"error": "invalid_token"})
                    else:
                        self._send(*platform._memberships(query))
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self):
                parts = urlsplit(self.path)
                form = self._form()
                if parts.path == "/token":
                    self._send(*platform._token(form))
                elif parts.path.startswith("/lineitems/") and parts.path.endswith("/scores"):
                    if not platform._bearer_allows(self.headers, SCORE_SCOPE):
                        self._send(401, {"error": "invalid_token"})
                    elif self.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
                        self._send(415, {"error": "score media type expected"})
                    else:
                        lineitem = platform.issuer + parts.path.removesuffix("/scores")
                        platform.received.scores.append((lineitem, json.loads(form["raw"])))
                        self._send(200, {})
                elif parts.path == "/register":
                    self._send(*platform._register(self.headers, form))
                elif parts.path == "/deep_link_return":
                    try:
                        items = platform._conf().validate_deeplinking_resp({"JWT": form.get("JWT", "")})
                    except Exception as exc:
                        self._send(400, f"<p>Refused: {escape(str(exc))}</p>")
                        return
                    platform.received.deep_link_items.append(items)
                    self._send(200, "<p>Items added.</p>")
                else:
                    self._send(404, {"error": "not found"})

        return Handler
