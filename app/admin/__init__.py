"""The admin's screens: accounts and roles. Admins only."""

from flask import Blueprint
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.errors import refuse

bp = Blueprint("admin", __name__)


@bp.before_request
@login_required
def _guard() -> None:
    """One access guard for the whole blueprint: admins only."""
    if not current_user.is_admin:
        refuse(Forbidden, "These pages are for administrators.")


from app.admin import routes  # noqa: E402,F401  (routes attach themselves to bp)
