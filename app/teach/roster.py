"""Roster views: import a cohort's students from a CSV file; one-time links for those still to set a password.

The links are shown once, on the page that answers the POST that made them: only their hashes
are stored, so no later page can show them again (a fresh link can be made instead).
"""

from flask import make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import not_found
from app.extensions import db
from app.services import cohorts, password_links, roster, roster_file
from app.teach import bp
from app.teach.cohorts import cohort_or_404

# Room for the rest of a multipart body (boundaries, headers, the CSRF token) around the file.
_FORM_OVERHEAD = 64 * 1024
TOO_LARGE = (
    f"The file is larger than {roster_file.MAX_BYTES // 1_000_000} MB. Split the roster into smaller files and import each."
)


class RosterForm(FlaskForm):
    """A CSV file of students."""

    file = FileField("Roster file (CSV)", validators=[FileRequired("Choose a CSV file to import.")])


def set_password_url(token: str) -> str:
    """The full address of a one-time link, to paste into an email or a message."""
    return url_for("auth.set_password", token=token, _external=True)


def _not_stored(template: str, **context):
    """A page showing set-password links: no browser or proxy may keep a copy of it."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.url_value_preprocessor
def _limit_upload(endpoint: str | None, values: dict | None) -> None:
    """Cap the roster upload before anything reads the body (the CSRF check does, before the view)."""
    if endpoint == "teach.import_roster":
        request.max_content_length = roster_file.MAX_BYTES + _FORM_OVERHEAD


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    """A roster file over the cap: the form again, saying so; elsewhere the usual error page."""
    cohort_id = (request.view_args or {}).get("cohort_id")
    if (
        request.endpoint == "teach.import_roster"
        and current_user.is_authenticated
        and current_user.is_educator
        and (cohort := cohorts.get_for(current_user, cohort_id)) is not None
    ):
        form = RosterForm(formdata=None)
        form.file.errors = [TOO_LARGE]
        return _page(cohort, form), 413
    message = "What you sent is too large, so none of it was read or saved. Send less at a time, or a smaller file."
    return render_template("errors/error.html", code=413, title="Too large", message=message), 413


def _page(cohort, form: RosterForm) -> str:
    return render_template(
        "teach/roster.html",
        cohort=cohort,
        form=form,
        awaiting=roster.awaiting_members(cohort, current_user),
        max_rows=roster_file.MAX_ROWS,
    )


@bp.route("/cohorts/<int:cohort_id>/roster", methods=["GET", "POST"])
def import_roster(cohort_id: int):
    """Upload a CSV of students; every row is checked, the valid ones imported together."""
    cohort = cohort_or_404(cohort_id)
    form = RosterForm()
    if form.validate_on_submit():
        data = form.file.data.read(roster_file.MAX_BYTES + 1)
        try:
            checked = roster_file.check(data)
        except roster_file.RosterError as exc:
            form.file.errors.append(str(exc))
        else:
            outcome = roster.import_rows(cohort, checked, current_user)
            db.session.commit()
            named = {u.id for u in outcome.awaiting}
            return _not_stored(
                "teach/roster_result.html",
                cohort=cohort,
                outcome=outcome,
                awaiting=[u for u in roster.awaiting_members(cohort, current_user) if u.id in named],
                links={c.user_id: set_password_url(c.token) for c in outcome.created},
                lifetime_days=password_links.LIFETIME.days,
                filename=form.file.data.filename,
            )
    return _page(cohort, form), 422 if form.errors else 200


@bp.post("/cohorts/<int:cohort_id>/roster/students/<int:user_id>/password-link")
def new_password_link(cohort_id: int, user_id: int):
    """A fresh one-time link for an imported student who has never signed in; earlier links stop working."""
    cohort = cohort_or_404(cohort_id)
    student = roster.awaiting_member(cohort, user_id, current_user)
    if student is None:
        not_found(
            "There is no student in this cohort at this address who still has to set a password. "
            "Students who have already set a password sign in with it."
        )
    token = password_links.make(student.id, current_user.id)
    db.session.commit()
    return _not_stored(
        "teach/roster_link.html",
        cohort=cohort,
        student=student,
        link=set_password_url(token),
        lifetime_days=password_links.LIFETIME.days,
    )
