"""The learner's cohorts: invitations from class lists to accept or decline, the cohorts they are in,
and leaving one. Nobody sees a learner's work in a cohort they did not choose to join."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest

from app.errors import not_found, refuse
from app.extensions import db
from app.learn import bp
from app.services import invitations


class LeaveForm(FlaskForm):
    """The button that confirms leaving a cohort: only its CSRF token matters."""


@bp.get("/cohorts")
def my_cohorts():
    """The learner's invitations and current cohorts, with what their educators see."""
    return render_template(
        "learn/cohorts.html",
        pending=invitations.pending_for(current_user.id),
        cohorts=invitations.current_cohorts(current_user.id),
    )


@bp.post("/invitations/<int:invitation_id>")
def answer_invitation(invitation_id: int):
    """Accept (join the cohort) or decline an invitation a class list sent."""
    action = request.form.get("action")
    if action not in ("accept", "decline"):
        refuse(BadRequest, "Choose Accept or Decline to answer the invitation.")
    try:
        cohort = invitations.answer(current_user, invitation_id, action == "accept")
    except invitations.NoInvitation as exc:
        not_found(str(exc))
    except invitations.InvitationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".my_cohorts"))
    db.session.commit()
    if action == "accept":
        flash(f"You joined {cohort.name}. Its courses are under “Assigned to you”.", "success")
    else:
        flash(f"You declined the invitation to {cohort.name}. Its educators see nothing of your work.", "info")
    return redirect(url_for(".home"))


@bp.route("/cohorts/<int:cohort_id>/leave", methods=["GET", "POST"])
def leave_cohort(cohort_id: int):
    """Ask, then leave one of the learner's cohorts: its educators stop seeing their work."""
    cohort = invitations.current_cohort(current_user.id, cohort_id)
    if cohort is None:
        not_found("You are not a member of a cohort at this address. Your cohorts are listed under “My cohorts”.")
    form = LeaveForm()
    if form.validate_on_submit():
        invitations.leave(current_user, cohort)
        db.session.commit()
        flash(f"You left {cohort.name}. Its educators no longer see your work; you can join again with its code.", "success")
        return redirect(url_for(".my_cohorts"))
    return render_template("learn/leave_cohort.html", cohort=cohort, form=form)
