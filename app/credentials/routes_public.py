"""What anyone may open without an account: the verification page, checking a badge file, and what verifiers fetch."""

from flask import Response, jsonify, make_response, render_template

from app.credentials import badges, issuing, keys, public_bp
from app.credentials.forms import CheckBadgeForm
from app.errors import not_found
from app.models.types import MAX_ID

_UNKNOWN = (
    "No certificate has this address. Check the address against the certificate, or scan its QR code again; "
    "if it still is not found, the certificate was not issued here."
)


@public_bp.get("/verify/<public_id>")
def verify(public_id: str):
    """Whether a certificate is valid or revoked (when and why), with only the learner's name, course, date and issuer."""
    certificate = issuing.by_public_id(public_id)
    if certificate is None:
        not_found(_UNKNOWN)
    answer = make_response(render_template("credentials/verify.html", certificate=certificate))
    answer.headers["Cache-Control"] = "no-cache"  # a revocation must show at the next visit, never a stored copy
    return answer


@public_bp.route("/verify", methods=["GET", "POST"])
def check_badge():
    """Check an Open Badge file: this site's signature, unchanged, not revoked."""
    form = CheckBadgeForm()
    verdict = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(badges.MAX_TOKEN_BYTES + 1) if upload else b""
        token = badges.read_upload(data) if data else (form.token.data or "").strip()
        if not token:
            form.file.errors.append("Choose the badge file (.jwt), or paste its text.")
        else:
            verdict = badges.verify(token)
    status = 422 if form.errors else 200
    return render_template("credentials/check.html", form=form, verdict=verdict), status


@public_bp.get("/credentials/issuer")
def issuer():
    """The issuer's Open Badges profile, with its public key."""
    return jsonify(badges.issuer_profile())


@public_bp.get("/credentials/keys/<key_id>")
def public_key(key_id: str):
    """The issuer's public key as a JWK (the address is the key id badges are signed under)."""
    if key_id != keys.signing_key().thumbprint:
        not_found("This site signs with no key of that name. Its key is named in its issuer profile.")
    return jsonify(badges.public_jwk())


@public_bp.get("/credentials/status/<int:number>")
def status_list(number: int):
    """One revocation list: a signed Bitstring Status List credential (VC-JWT)."""
    if not 0 < number <= badges.place(MAX_ID)[0]:
        not_found("This site publishes no revocation list with that number.")
    answer = Response(badges.signed_status_list(number), mimetype="application/vc+jwt")
    answer.headers["Cache-Control"] = "no-cache"  # a revocation must show at the next check
    return answer
