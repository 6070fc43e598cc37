"""The learner's screens: home, modules, lessons, quizzes, progress. Signed-in people only."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("learn", __name__)


@bp.before_request
@login_required
def _guard() -> None:
    """One access guard for the whole blueprint: every role may learn, anonymous visitors may not."""


from app.learn import (  # noqa: E402,F401  (routes attach themselves to bp)
    attempts,  # taking a quiz: its form, submitting, answers saved as the learner goes
    cohorts,  # invitations, the learner's cohorts, leaving one
    courses,
    practice_runner,  # noqa: E402,F401
    practice_sets,
    records,  # noqa: E402,F401  (the learner's learning records download)
    reflections,
    review,  # noqa: E402,F401  (the spaced review queue)
    routes,
    search,  # noqa: E402,F401  (search over lessons, the glossary and quizzes)
    transcript,  # noqa: E402,F401  (the learner's own transcript, page and PDF)
)
