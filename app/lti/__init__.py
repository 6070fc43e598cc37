"""LTI 1.3 Advantage: Alliance as a tool inside Moodle, Canvas, Blackboard or Brightspace (docs/lti.md).

`bp` (/lti) holds the protocol's endpoints, which platforms call without an Alliance sign-in (login
initiation, launch, key set, dynamic registration), and the pages a launch leads to (the deep linking
picker, the roster sync), each checking its own caller. `admin_bp` (/lti/platforms), nested in it, is
the administrators' registration pages behind one guard.
"""

from flask import Blueprint
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app import worker
from app.errors import refuse
from app.lti import frames, grades

bp = Blueprint("lti", __name__)
admin_bp = Blueprint("admin", __name__)


@admin_bp.before_request
@login_required
def _guard() -> None:
    """The registration pages are for administrators."""
    if not current_user.is_admin:
        refuse(Forbidden, "Registering learning platforms is for administrators.")


bp.record_once(lambda state: frames.install(state.app))
grades.register()
worker.register("lti-grades", grades.drain)

from app.lti import admin, deep_linking, registration, routes  # noqa: E402,F401  (routes attach themselves)

bp.register_blueprint(admin_bp, url_prefix="/platforms")
