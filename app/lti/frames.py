"""Alliance inside a platform's frame: the session cookie and the framing policy of sessions started by a launch.

Every other page forbids framing (`frame-ancestors 'none'`, `X-Frame-Options: DENY`) and keeps its
cookies `SameSite=Lax`. A session started by an LTI launch remembers the platform's origins; its pages
may then be framed by those origins only, and over HTTPS its session cookie is sent `SameSite=None;
Secure; Partitioned`, since a browser sends nothing else to a site framed by another (Partitioned keeps
the cookie to that platform's frame where browsers block third-party cookies). Over plain HTTP (a
workstation) browsers refuse `SameSite=None`, so nothing changes there.

Signing out (any way: the button, everywhere, deleting the account) or signing in as anyone forgets the
origins, so the browser's next session is an ordinary one that no platform may frame; a launch sets
them again right after its own sign-in.
"""

import re

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_logged_in, user_logged_out

#: The session key holding the origins of the platform that launched this session.
SESSION_KEY = "lti_frame_origins"
_FRAME_ANCESTORS = re.compile(r"frame-ancestors [^;]*")


def launched_origins() -> list[str]:
    """The platform origins this session was launched from (empty outside an LTI session)."""
    origins = session.get(SESSION_KEY)
    return [o for o in origins if isinstance(o, str)] if isinstance(origins, list) else []


class LtiSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, sent cross-site (over HTTPS) once an LTI launch started it."""

    def _cross_site(self) -> bool:
        return bool(launched_origins()) and request.is_secure

    def get_cookie_samesite(self, app: Flask):
        """None for a launched session over HTTPS, else the configured value."""
        return "None" if self._cross_site() else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        """A cross-site cookie must be Secure."""
        return True if self._cross_site() else super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        """Partitioned (CHIPS) for a launched session over HTTPS."""
        return True if self._cross_site() else super().get_cookie_partitioned(app)


def allow_platform_frames(response):
    """Let the launching platform frame this session's pages (and only it); every other page keeps 'none'."""
    origins = launched_origins()
    policy = response.headers.get("Content-Security-Policy")
    if not origins or not policy:
        return response
    response.headers["Content-Security-Policy"] = _FRAME_ANCESTORS.sub(
        "frame-ancestors 'self' " + " ".join(origins), policy
    )
    # X-Frame-Options cannot name an origin; browsers follow frame-ancestors when both are present,
    # older ones would block the frame, so it goes.
    response.headers.pop("X-Frame-Options", None)
    return response


def forget_platform(_app, **_extra) -> None:
    """A sign-in or sign-out ends the launched session: no platform may frame what follows."""
    session.pop(SESSION_KEY, None)


def install(app: Flask) -> None:
    """Use the LTI-aware session cookie and framing policy in this app."""
    app.session_interface = LtiSessionInterface()
    app.after_request(allow_platform_frames)
    # Flask-Login sends these for every login_user/logout_user, whichever view calls them.
    user_logged_in.connect(forget_platform, app)
    user_logged_out.connect(forget_platform, app)
