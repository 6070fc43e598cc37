"""Learner views of cohorts and courses: joining with a code or a link, assigned courses, a course's page."""

from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.content import catalog
from app.errors import not_found
from app.extensions import db, limiter
from app.learn import bp
from app.models.types import MAX_ID, utcnow
from app.services import cohorts, courses, progress

COMPLETION_RULE = (
    "This course is complete when every required item is completed (modules) or passed (quizzes and conversations)."
)


class JoinForm(FlaskForm):
    """A cohort's join code, as the educator gave it."""

    code = StringField(
        "Join code",
        validators=[
            DataRequired("Enter the join code your educator gave you."),
            Length(max=32, message="A join code has 8 letters and digits; check it with your educator."),
        ],
    )
    submit = SubmitField("Join")


class JoinLinkForm(FlaskForm):
    """The button of a join link: only its CSRF token matters."""


def today() -> date:
    """Today's date (UTC), for start and due dates."""
    return utcnow().date()


# --- joining


def _join(code: str):
    """Join with the code; a redirect home saying what happened. CohortError if the code cannot be used."""
    cohort, already = cohorts.join(current_user, code)
    db.session.commit()
    if already:
        flash(f"You are already a member of {cohort.name}.", "info")
    else:
        flash(f"You joined {cohort.name}. Its courses are under “Assigned to you”.", "success")
    return redirect(url_for(".home"))


def _join_refused(response) -> bool:
    """A refused join: a POST that did not join, or a join link (GET) whose code no cohort has."""
    return response.status_code == 404 if request.method == "GET" else response.status_code != 302


# Join codes are short: refused attempts count against the account, so guessing one is slow. Opening
# a join link costs too when its code is wrong, else links would be a free way to try codes; the form
# and the links spend one budget.
_per_account = limiter.shared_limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"],
    scope="join",
    key_func=lambda: f"join|{current_user.id if current_user.is_authenticated else 'anonymous'}",
    methods=["GET", "POST"],
    deduct_when=_join_refused,
)


@bp.route("/join", methods=["GET", "POST"])
@_per_account
def join():
    """Join a cohort by typing its code."""
    form = JoinForm()
    if form.validate_on_submit():
        try:
            return _join(form.code.data)
        except cohorts.CohortError as exc:
            db.session.rollback()
            form.code.errors.append(str(exc))
    return render_template("learn/join.html", form=form, cohort=None), 422 if form.errors else 200


@bp.route("/join/<code>", methods=["GET", "POST"])
@_per_account
def join_link(code: str):
    """A join link: the cohort's name and a button; joining happens only on the POST."""
    cohort = cohorts.by_code(code)
    if cohort is None:
        not_found("No cohort has this join link. Check the link with your educator, or type the code they gave you.")
    form = JoinLinkForm()
    error = None
    if form.validate_on_submit():
        try:
            return _join(code)
        except cohorts.CohortError as exc:
            db.session.rollback()
            error = str(exc)
    return render_template(
        "learn/join.html",
        form=form,
        cohort=cohort,
        error=error,
        is_member=(member := cohorts.membership(cohort, current_user.id)) is not None and member.removed_at is None,
    ), 422 if error else 200


# --- assigned courses


@bp.get("/courses/<int:course_id>")
def course(course_id: int):
    """A course assigned to the learner: its items in order, where they stand, and what is left."""
    mine = [a for a in cohorts.learner_assignments(current_user.id) if a.course.id == course_id]
    if not 0 < course_id <= MAX_ID or not mine:
        not_found("This course is not assigned to you. Your courses are listed under “Assigned to you” on My learning.")
    status = courses.status(current_user.id, mine[0].course, catalog())
    standing = progress.modules_progress(current_user.id, catalog(), progress.modules_of(status, catalog()))
    now = today()
    return render_template(
        "learn/course.html",
        course=mine[0].course,
        status=status,
        next_step=progress.course_next_step(status, {p.module.id: p for p in standing}),
        assignments=[(a, a.is_overdue(now, status.is_complete), a.has_started(now)) for a in mine],
        state_labels=courses.STATE_LABELS,
        kind_labels=courses.KIND_LABELS,
        completion_rule=COMPLETION_RULE,
    )
