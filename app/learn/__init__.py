"""The learner's screens: home, modules, lessons, quizzes, progress. Signed-in people only."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("learn", __name__)


@bp.before_request
@login_required
def _guard() -> None:
    """One access guard for the whole blueprint: every role may learn, anonymous visitors may not."""


from app.learn import courses, routes  # noqa: E402,F401  (routes attach themselves to bp)
