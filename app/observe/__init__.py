"""Observed consultations: stations where educators, examiners, peers, patients and students themselves rate.

Three blueprints, one access guard each:
- `bp` (/observe): the rating staff. Educator accounts only (students are refused); each page then
  finds the cohort through `access.staff_role`, so a cohort the person neither teaches nor examines
  answers 404 like a missing one.
- `learner` (/stations): any signed-in person; stations are found only through the person's own
  current cohort memberships.
- `patient` (/rate): no account; a page opens only with a one-time link's token.
"""

from flask import Blueprint
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.errors import refuse

bp = Blueprint("observe", __name__)
learner = Blueprint("observe_learner", __name__)
patient = Blueprint("observe_patient", __name__)


@bp.before_request
@login_required
def _staff_guard() -> None:
    """Educators, examiners (educator accounts) and admins; students are refused."""
    if not current_user.is_educator:
        refuse(Forbidden, "These pages are for educators and examiners. Your own stations are under “My learning”.")


@learner.before_request
@login_required
def _learner_guard() -> None:
    """Every signed-in person; each page shows only stations of their own cohorts."""


@patient.before_request
def _patient_guard() -> None:
    """Open to anyone holding a link: the token is the only key, checked by each page."""


from app.observe import learner_routes, patient_routes, staff_routes  # noqa: E402,F401  (routes attach themselves)


def register(app) -> None:
    """Register the three blueprints at their addresses."""
    app.register_blueprint(bp, url_prefix="/observe")
    app.register_blueprint(learner, url_prefix="/stations")
    app.register_blueprint(patient, url_prefix="/rate")


@bp.app_template_global("observed_in_cohort")
def observed_in_cohort(cohort_id: int, columns) -> list:
    """For the cohort's competency map: per column, the mean "seen to do" at stations and students seen."""
    from app.content import catalog
    from app.observe.services import results

    return results.cohort_seen(catalog(), cohort_id, columns)
