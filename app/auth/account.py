"""The signed-in person's own account: details, sessions, password, download all their data, delete the account."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import Forbidden
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired

from app import mail
from app.auth import bp
from app.auth.forms import ChangePasswordForm
from app.errors import refuse
from app.extensions import db, limiter
from app.learn.records import download_limit, streamed_download
from app.models.types import utcnow
from app.services import account_data, account_download, accounts, sessions

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
    """The account whose password is being typed (a visitor is sent to sign in before it matters)."""
    return f"account|{current_user.id if current_user.is_authenticated else 'anonymous'}"


# Someone at an unlocked computer must not be able to guess the password faster than at sign-in:
# guesses on the delete and the change-password forms spend one budget per account.
current_password_limit = limiter.shared_limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"],
    scope="current-password",
    key_func=_signed_in_account,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)


@bp.get("/account")
@login_required
def account():
    """The person's account: who they are, where they are signed in, and their data rights."""
    return render_template(
        "auth/account.html",
        sessions=sessions.live(current_user),
        mail_configured=mail.is_configured(),
    )


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of the account, on every device, this one included."""
    sessions.end_all(current_user.id)
    db.session.commit()
    logout_user()
    flash("You are signed out everywhere: on every device where you were signed in, including this one.", "info")
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@current_password_limit
def change_password():
    """Change the password, given the current one; every other session ends, this one stays signed in."""
    form = ChangePasswordForm()
    form.about_the_person = (current_user.email, current_user.display_name)
    if form.validate_on_submit():
        if not accounts.check_password(current_user, form.current_password.data):
            form.current_password.errors.append(
                "That is not your current password. Nothing was changed: type the password you sign in with now."
            )
        else:
            user = current_user._get_current_object()
            accounts.set_password(user, form.password.data)
            ended = sessions.end_all(user.id, keep=user)
            db.session.commit()
            elsewhere = f" You were signed out on {ended} other device{'s' if ended != 1 else ''}." if ended else ""
            flash(f"Your password is changed.{elsewhere}", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200


@bp.get("/account/data.json", endpoint="account_data")
@login_required
@download_limit
def download_data():
    """Everything stored about the person, as a JSON file to keep, streamed a batch of rows at a time."""
    response = streamed_download(account_download.export_chunks(current_user.id), f"alliance-my-data-{utcnow():%Y-%m-%d}.json")
    # Personal data: never kept by a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@current_password_limit
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
