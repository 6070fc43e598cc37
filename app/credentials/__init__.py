"""Credentials: certificates (PDF with a QR code) and Open Badges 3.0 for completed assigned courses.

Three blueprints, one access guard each:
- `credentials_public` (open to anyone, no account): the verification page `/verify/<public id>`, checking an
  uploaded badge at `/verify`, and what verifiers fetch: the issuer profile, the public key, the revocation lists.
- `credentials` (signed-in people): "My certificates" at `/certificates/`, and each certificate's PDF and badge.
- `credentials_teach` (educators and admins): a cohort's certificates, revoking one, and what the certificate
  of a course assigned to a cohort asks for besides the completed course (passed observed stations).
Certificates are issued by a progress hook (app.services.hooks) registered when this package is imported.
"""

import os

from flask import Blueprint, Flask
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.errors import refuse

public_bp = Blueprint("credentials_public", __name__)
bp = Blueprint("credentials", __name__)
teach_bp = Blueprint("credentials_teach", __name__)


@bp.before_request
@login_required
def _guard() -> None:
    """Signed-in people only: every role may earn certificates."""


@teach_bp.before_request
@login_required
def _teach_guard() -> None:
    """Educators and admins; students are refused."""
    if not current_user.is_educator:
        refuse(Forbidden, "These pages are for educators. Your own certificates are under “My certificates”.")


def _settings() -> dict:
    """This area's settings from the environment (see docs/credentials.md)."""
    stations = (os.environ.get("ALLIANCE_CERTIFICATE_OBSERVED_STATIONS") or "0").strip()
    if not (stations.isascii() and stations.isdigit()):
        raise ValueError(
            f"ALLIANCE_CERTIFICATE_OBSERVED_STATIONS must be a whole number (0 for none), not {stations!r}."
        )
    return {
        "CREDENTIAL_ISSUER_NAME": (os.environ.get("ALLIANCE_CREDENTIAL_ISSUER_NAME") or "Alliance").strip()[:200],
        "CREDENTIAL_KEY_FILE": os.environ.get("ALLIANCE_CREDENTIAL_KEY_FILE") or None,
        "CERTIFICATE_OBSERVED_STATIONS": int(stations),
    }


def init_app(app: Flask) -> None:
    """Settings, the progress hook and the blueprints of the credentials area."""
    from app.config import ConfigError
    from app.credentials import issuing, requirements
    from app.services import hooks

    try:
        for name, value in _settings().items():
            app.config.setdefault(name, value)
        requirements.check_available(app.config["CERTIFICATE_OBSERVED_STATIONS"])
    except (ValueError, requirements.StationsUnavailable) as exc:
        raise ConfigError(f"Credentials: {exc}") from None
    hooks.on_progress("credentials", issuing.on_progress)
    # A completed course's page links to its certificate (templates/credentials/_course_link.html).
    app.add_template_global(lambda course_id: issuing.for_course(current_user.id, course_id), "certificate_for")
    # ... or what its certificate still waits for; and, on a cohort's page, what each assignment's asks for.
    app.add_template_global(lambda course_id: requirements.waiting(current_user.id, course_id), "certificate_waiting")
    app.add_template_global(lambda a: requirements.needed(a.observed_stations), "certificate_stations")
    app.register_blueprint(public_bp)
    app.register_blueprint(bp, url_prefix="/certificates")
    app.register_blueprint(teach_bp, url_prefix="/teach/certificates")


from app.credentials import routes_learner, routes_public, routes_teach  # noqa: E402,F401  (routes attach to the bps)
