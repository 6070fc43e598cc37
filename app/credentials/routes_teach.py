"""The educator's side: a cohort's certificates, revoking one (with a reason the verification page shows), and
how many observed stations the certificate of a course assigned to the cohort also needs."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.credentials import badges, issuing, requirements, teach_bp
from app.credentials.forms import RequirementForm, RevokeForm
from app.errors import not_found
from app.extensions import db
from app.services import cohorts


@teach_bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    """Certificates earned through a cohort the educator teaches, each with its state and a way to revoke it."""
    found = cohorts.get_for(current_user, cohort_id)
    if found is None:
        not_found("There is no cohort of yours at this address.")
    return render_template(
        "credentials/cohort.html", cohort=found, certificates=issuing.for_cohort(found), verify_url=badges.verify_url
    )


@teach_bp.route("/<public_id>/revoke", methods=["GET", "POST"])
def revoke(public_id: str):
    """Revoke a certificate: asks for the reason first (GET), revokes on the POST."""
    certificate = issuing.revocable_by(current_user, public_id)
    if certificate is None:
        not_found("There is no certificate you may revoke at this address.")
    form = RevokeForm()
    if not certificate.is_revoked and form.validate_on_submit():
        try:
            issuing.revoke(certificate, current_user, form.reason.data)
        except issuing.RevocationError as exc:
            db.session.rollback()
            form.reason.errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                f"The certificate of {certificate.learner_name} for “{certificate.course_title}” is revoked.", "success"
            )
            if certificate.cohort_id is not None and cohorts.get_for(current_user, certificate.cohort_id):
                return redirect(url_for(".cohort", cohort_id=certificate.cohort_id))
            return redirect(url_for("credentials_public.verify", public_id=certificate.public_id))
    status = 422 if form.errors else 200
    return render_template("credentials/revoke.html", certificate=certificate, form=form), status


@teach_bp.route("/cohorts/<int:cohort_id>/courses/<int:course_id>", methods=["GET", "POST"])
def requirement(cohort_id: int, course_id: int):
    """What the certificate of a course assigned to the cohort needs: change its observed stations (0 for none)."""
    found = cohorts.get_for(current_user, cohort_id)
    assignment = requirements.assignment_of(found.id, course_id) if found is not None else None
    if assignment is None:
        not_found("That course is not assigned to a cohort of yours. Your cohorts are listed under Teaching.")
    needed = requirements.needed(assignment.observed_stations)
    form = RequirementForm(data={"observed_stations": needed})
    if form.validate_on_submit():
        issued = issuing.set_observed_stations(assignment, form.observed_stations.data)
        db.session.commit()
        stations = form.observed_stations.data
        message = f"The certificate of “{assignment.course.title}” now needs " + (
            f"{stations} passed observed station{'s' if stations != 1 else ''} besides the course."
            if stations
            else "the completed course alone."
        )
        if issued:
            message += f" {issued} certificate{'s' if issued != 1 else ''} now earned {'were' if issued != 1 else 'was'} issued."
        flash(message, "success")
        return redirect(url_for("teach.cohort", cohort_id=found.id, _anchor="assignments"))
    return render_template(
        "credentials/requirement.html",
        cohort=found,
        assignment=assignment,
        needed=needed,
        stations_so_far=requirements.stations_in(found.id),
        form=form,
    ), 422 if form.errors else 200
