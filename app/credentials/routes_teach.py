"""The educator's side: a cohort's certificates, and revoking one (with a reason the verification page shows)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.credentials import badges, issuing, teach_bp
from app.credentials.forms import RevokeForm
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
