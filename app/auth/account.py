"""The signed-in person's own account: details, download all their data, delete the account."""

import json

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import Forbidden
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired

from app.auth import bp
from app.errors import refuse
from app.extensions import db, limiter
from app.models.types import utcnow
from app.services import account_data, accounts

WRONG_PASSWORD = "That is not your password. Nothing was deleted: type the password you sign in with."


class DeleteAccountForm(FlaskForm):
    """The password again, and a tick saying the person understands it cannot be undone."""

    password = PasswordField("Your password", validators=[DataRequired("Type your password to confirm it is you.")])
    confirm = BooleanField(
        "I understand that my account and all my learning records will be deleted for good",
        validators=[DataRequired("Tick the box to confirm you want everything deleted.")],
    )
    submit = SubmitField("Delete my account")


def _signed_in_account() -> str:
    """Password guesses from one signed-in session share the sign-in budget of that account."""
    return f"delete-account|{current_user.get_id()}"


# Someone at an unlocked computer must not be able to guess the password here faster than at sign-in.
_per_account = limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"],
    key_func=_signed_in_account,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)


@bp.get("/account")
@login_required
def account():
    """The person's account: who they are, and their data rights."""
    return render_template("auth/account.html")


@bp.get("/account/data.json", endpoint="account_data")
@login_required
def download_data():
    """Everything stored about the person, as a JSON file to keep."""
    data = account_data.export(current_user.id)
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="alliance-my-data-{utcnow():%Y-%m-%d}.json"'
    # Personal data: never kept by a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@_per_account
def delete_account():
    """Explain what deleting removes and keeps; with the password and a tick, delete the account."""
    refusal = account_data.refusal(current_user)
    form = DeleteAccountForm()
    if refusal is None and form.validate_on_submit():
        if accounts.authenticate(current_user.email, form.password.data) is None:
            db.session.rollback()
            form.password.errors.append(WRONG_PASSWORD)
        else:
            name = current_user.display_name
            account_data.delete(current_user._get_current_object())
            db.session.commit()
            logout_user()
            flash(f"Your account and all your data have been deleted. Goodbye, {name}.", "success")
            return redirect(url_for("public.index"))
    elif refusal is not None and form.is_submitted():
        refuse(Forbidden, refusal)
    status = 422 if form.errors else 200
    return render_template("auth/delete_account.html", form=form, refusal=refusal), status
