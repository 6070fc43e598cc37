"""A one-time link for a student of the educator's cohort to choose a new password (where no mail can reset it).

Shown once, on the page answering the POST that made it: only its hash is stored.
"""

from flask import make_response, render_template
from flask_login import current_user
from werkzeug.exceptions import Conflict, Forbidden, NotFound

from app.auth.email_links import site_link
from app.errors import refuse
from app.extensions import db
from app.services import password_links
from app.teach import bp
from app.teach.cohorts import cohort_or_404


@bp.post("/cohorts/<int:cohort_id>/members/<int:user_id>/password-link")
def member_password_link(cohort_id: int, user_id: int):
    """A new link for a current student of the cohort to set or reset their password; earlier links stop working."""
    cohort = cohort_or_404(cohort_id)
    try:
        student = password_links.student_of(current_user, cohort, user_id)
    except password_links.IssueRefused as refusal:
        refuse({403: Forbidden, 409: Conflict}.get(refusal.status, NotFound), str(refusal))
    token, kind = password_links.issue(student, current_user)
    db.session.commit()
    response = make_response(
        render_template(
            "teach/password_link.html",
            cohort=cohort,
            student=student,
            kind=kind,
            link=site_link("auth.set_password", token=token),
            lifetime=password_links.lifetime_in_words(password_links.LIFETIMES[kind]),
        )
    )
    # The page holds a key to the student's account: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
