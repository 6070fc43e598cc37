"""The learner's certificates: "My certificates", and each one's PDF and Open Badge downloads."""

from flask import Response, render_template
from flask_login import current_user

from app.credentials import badges, bp, issuing, pdf
from app.errors import not_found

_NOT_YOURS = "You have no certificate at this address. Your certificates are listed under “My certificates”."


def _mine(public_id: str):
    """The signed-in learner's certificate with this public id, or a 404 (another's answers the same)."""
    certificate = issuing.learner_certificate(current_user.id, public_id)
    if certificate is None:
        not_found(_NOT_YOURS)
    return certificate


@bp.get("/")
def mine():
    """Every certificate the learner has earned, with its downloads and its public verification page."""
    return render_template(
        "credentials/mine.html",
        certificates=issuing.for_learner(current_user.id),
        verify_url=badges.verify_url,
        file_name=pdf.file_name,
    )


@bp.get("/<public_id>.pdf")
def certificate_pdf(public_id: str):
    """The certificate as a PDF, with its verification address and QR code."""
    return pdf.response(_mine(public_id))


@bp.get("/<public_id>.jwt")
def badge(public_id: str):
    """The certificate as an Open Badges 3.0 credential: a signed VC-JWT file."""
    certificate = _mine(public_id)
    answer = Response(badges.signed_badge(certificate), mimetype="application/vc+jwt")
    answer.headers["Content-Disposition"] = f'attachment; filename="{pdf.file_name(certificate, "jwt")}"'
    answer.headers["Cache-Control"] = "private, no-store"
    return answer
