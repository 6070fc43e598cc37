"""The educator's screens: courses, cohorts, assignments and reports. Educators and admins only."""

from flask import Blueprint
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.errors import refuse

bp = Blueprint("teach", __name__)


@bp.before_request
@login_required
def _guard() -> None:
    """One access guard for the whole blueprint: educators and admins; students are refused."""
    if not current_user.is_educator:
        refuse(Forbidden, "These pages are for educators. Your own learning is under “My learning”.")


from app.teach import (  # noqa: E402,F401  (routes attach themselves to bp)
    cohorts,
    courses,
    password_resets,  # noqa: E402,F401  (a student's new password link)
    quiz_banks,  # noqa: E402,F401  (a quiz as GIFT, Moodle XML or QTI 2.1)
    records,  # noqa: E402,F401  (a cohort's learning records download)
    reports,
    roster,
)
