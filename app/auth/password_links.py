"""Setting a password through a one-time link an educator passed on (accounts made from a roster)."""

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo

from app.auth import bp
from app.auth.forms import SignUpForm
from app.extensions import db, limiter
from app.services import password_links


class SetPasswordForm(FlaskForm):
    """A new password, twice, under the same rules as signing up."""

    password = PasswordField("New password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two passwords differ.")],
    )
    submit = SubmitField("Set password and sign in")

    validate_password = SignUpForm.validate_password


def _unusable(problem: password_links.LinkError):
    """The page for a link that cannot be used: why, and what to do (404 unknown, 410 used or expired)."""
    status = 404 if problem.reason == "unknown" else 410
    return render_template("auth/set_password_invalid.html", problem=problem), status


# Guessing tokens is hopeless (256 bits), but refused attempts still count toward the address's budget.
_per_address = limiter.limit(
    lambda: current_app.config["ADDRESS_RATE_LIMIT"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@_per_address
def set_password(token: str):
    """Set a password with a one-time link, then sign in; the link works once."""
    try:
        found = password_links.find(token)
    except password_links.LinkError as problem:
        return _unusable(problem)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = password_links.use(token, form.password.data)
        except password_links.LinkError as problem:
            db.session.rollback()
            return _unusable(problem)
        db.session.commit()
        login_user(user)
        flash(f"Your password is set and you are signed in. Welcome, {user.display_name}.", "success")
        return redirect(url_for("learn.home"))
    page = render_template(
        "auth/set_password.html",
        form=form,
        account=found.user,
        signed_in_as_other=current_user.is_authenticated and current_user.id != found.user.id,
    )
    response = make_response(page, 422 if form.errors else 200)
    # The address holds the token: keep the page out of caches, and the address out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
