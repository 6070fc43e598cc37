"""Setting or resetting a password through a one-time link: made from a class list, issued by an admin or
educator, or mailed on request. Using one signs the person in and ends every other session of the account."""

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SubmitField

from app.auth import bp
from app.auth.forms import NewPasswordForm
from app.auth.routes import sign_in_as
from app.extensions import db, limiter
from app.services import password_links

#: The button, by kind of link.
SUBMIT = {"set": "Set password and sign in", "reset": "Save the new password", "forgot": "Save the new password"}


class SetPasswordForm(NewPasswordForm):
    """A new password, twice, under the same rules as signing up."""

    submit = SubmitField("Set password and sign in")


def _private(page, status: int):
    """The address holds the token: keep the page out of caches, and the address out of Referer headers."""
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _unusable(problem: password_links.LinkError):
    """The page for a link that cannot be used: why, and what to do (404 unknown, 410 used or expired)."""
    status = 404 if problem.reason == "unknown" else 410
    return _private(render_template("auth/set_password_invalid.html", problem=problem), status)


# Guessing tokens is hopeless (256 bits), but refused attempts still count toward the address's budget.
_per_address = limiter.limit(
    lambda: current_app.config["ADDRESS_RATE_LIMIT"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@_per_address
def set_password(token: str):
    """Set a password with a one-time link, then sign in here and out everywhere else; the link works once."""
    try:
        found = password_links.find(token)
    except password_links.LinkError as problem:
        return _unusable(problem)
    form = SetPasswordForm()
    form.about_the_person = (found.user.email, found.user.display_name)
    form.submit.label.text = SUBMIT[found.kind]
    if form.validate_on_submit():
        try:
            user = password_links.use(token, form.password.data)
        except password_links.LinkError as problem:
            db.session.rollback()
            return _unusable(problem)
        sign_in_as(user, remember=False)
        if found.kind == "set":
            flash(f"Your password is set and you are signed in. Welcome, {user.display_name}.", "success")
        else:
            flash(
                "Your new password is saved and you are signed in. Anyone signed in to your account on another "
                "device has been signed out.",
                "success",
            )
        return redirect(url_for("learn.home"))
    page = render_template(
        "auth/set_password.html",
        form=form,
        account=found.user,
        kind=found.kind,
        issued_by=found.issued_by,
        signed_in_as_other=current_user.is_authenticated and current_user.id != found.user.id,
        signed_in_as_them=current_user.is_authenticated and current_user.id == found.user.id,
    )
    return _private(page, 422 if form.errors else 200)
