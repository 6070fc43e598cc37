"""The person's own name and email address, changed from their account page.

A new address is confirmed where the site sends email: it becomes the account's only once the link
mailed to it is followed (until then the person signs in with the old one, which is told of the
change afterwards). Where no mail is sent, it changes at once. Either way the password is asked
first, so someone at an unlocked computer cannot move the account to their own address.
"""

import smtplib

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from app import mail
from app.auth import bp, budgets
from app.auth.account import current_password_limit
from app.auth.email_links import link_guesses, site_link
from app.auth.forms import plain_address, strip_spaces
from app.extensions import db
from app.models import User
from app.services import accounts, password_links

TAKEN = "Another account already uses this email address. Use another address."
CONFIRM_SUBJECT = "Confirm your new email address for Alliance"
CHANGED_SUBJECT = "Your Alliance email address was changed"


class NameForm(FlaskForm):
    """The name shown in the app, to the person and to their educators."""

    display_name = StringField(
        "Your name",
        validators=[
            DataRequired("Enter the name to show in the app."),
            Length(max=100, message="Keep your name under 100 characters."),
        ],
    )
    submit = SubmitField("Save your name")


class EmailForm(FlaskForm):
    """A new address, and the password to show it is the account's owner asking."""

    email = EmailField(
        "New email address",
        filters=[strip_spaces],
        validators=[
            DataRequired("Enter the new email address."),
            plain_address,
            Email("Enter a valid email address, like name@example.org."),
            Length(max=254, message="Email addresses have at most 254 characters."),
        ],
    )
    password = PasswordField("Your password", validators=[DataRequired("Type your password to confirm it is you.")])
    submit = SubmitField("Change email address")


@bp.route("/account/name", methods=["GET", "POST"])
@login_required
def change_name():
    """Change the name shown in the app."""
    form = NameForm(obj=current_user)
    if form.validate_on_submit():
        if accounts.change_name(current_user._get_current_object(), form.display_name.data):
            db.session.commit()
            flash(f"Your name is now {current_user.display_name}.", "success")
        else:
            flash("That is already your name; nothing changed.", "info")
        return redirect(url_for("auth.account"))
    return render_template("auth/change_name.html", form=form), 422 if form.errors else 200


def _confirmation(user: User, old: str, token: str) -> str:
    lifetime = password_links.lifetime_in_words(accounts.EMAIL_CHANGE_LIFETIME)
    return (
        f"Hello {user.display_name},\n\n"
        f"You asked to use this address for your Alliance account instead of {old}. "
        "Open this link to confirm it:\n\n"
        f"{site_link('auth.confirm_email', token=token)}\n\n"
        f"The link works once, for {lifetime}. Until you open it, you sign in with {old}.\n\n"
        "If you did not ask, ignore this message: nothing changes.\n"
    )


def _send_confirmation(user: User, old: str, token: str) -> bool:
    """Mail the confirmation link to the new address; whether it went (if not, the change is forgotten)."""
    try:
        # Not retried: on failure the change is cancelled, so a later copy would carry a dead link.
        mail.send(
            user.pending_email,
            CONFIRM_SUBJECT,
            _confirmation(user, old, token),
            user_id=user.id,
            purpose="confirm-email",
            retry=False,
        )
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("Could not send the email to confirm a new address")
        return False
    return True


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@current_password_limit
def change_email():
    """Change the email address, given the password: at once, or once the new address is confirmed."""
    form = EmailForm()
    configured = mail.is_configured()
    lifetime = password_links.lifetime_in_words(accounts.EMAIL_CHANGE_LIFETIME)
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        limit, key = current_app.config["EMAIL_LINK_RATE_LIMIT"], ("email-change", str(user.id))
        if not accounts.check_password(user, form.password.data):
            form.password.errors.append(
                "That is not your password. Nothing was changed: type the password you sign in with."
            )
        elif configured and not budgets.has_room(limit, *key):
            form.form_errors.append(
                "You have asked for several links just now. Check the new address's inbox and spam folder for them, "
                f"or wait {budgets.minutes(budgets.seconds_left(limit, *key))} and ask again."
            )
            status = 429
        else:
            try:
                if configured:
                    token = accounts.request_email_change(user, form.email.data)
                    db.session.commit()
                    budgets.spend(limit, *key)
                    if _send_confirmation(user, user.email, token):
                        flash(
                            f"We sent a link to {user.pending_email}. Open it within {lifetime} to make it your email "
                            f"address; until then you sign in with {user.email}.",
                            "info",
                        )
                    else:
                        accounts.cancel_email_change(user)
                        db.session.commit()
                        flash(
                            "We could not send the email to your new address just now, so your email address has not "
                            "changed. Try again in a little while.",
                            "warning",
                        )
                else:
                    accounts.change_email(user, form.email.data)
                    db.session.commit()
                    flash(f"Your email address is now {user.email}. Sign in with it from now on.", "success")
                return redirect(url_for("auth.account"))
            except accounts.AccountError as problem:
                db.session.rollback()
                form.email.errors.append(str(problem))
            except IntegrityError:  # another account took the address between the check and the write
                db.session.rollback()
                form.email.errors.append(TAKEN)
    status = 422 if form.errors and status == 200 else status
    page = render_template("auth/change_email.html", form=form, mail_configured=configured, lifetime=lifetime)
    return page, status


@bp.post("/account/email/cancel")
@login_required
def cancel_email_change():
    """Forget a new address waiting for confirmation: the link mailed to it stops working."""
    pending = current_user.pending_email
    if accounts.cancel_email_change(current_user._get_current_object()):
        db.session.commit()
        flash(f"The change to {pending} is cancelled. Your email address stays {current_user.email}.", "info")
    else:
        flash("No change of email address was waiting; nothing changed.", "info")
    return redirect(url_for("auth.account"))


def _notify_old_address(user: User, old: str) -> None:
    """Tell the old address its account moved, so an unwanted change does not go unnoticed."""
    body = (
        f"Hello {user.display_name},\n\n"
        f"The email address of your Alliance account was changed from {old} to {user.email}. "
        f"From now on you sign in with {user.email}.\n\n"
        "If you did not make this change, tell an administrator of your Alliance site at once.\n"
    )
    try:
        mail.send(old, CHANGED_SUBJECT, body, user_id=user.id, purpose="email-changed")
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("Could not tell the old address of an email change")


@bp.get("/confirm-email/<token>")
@link_guesses
def confirm_email(token: str):
    """Follow the link mailed to a new address: it becomes the account's address, verified, once."""
    try:
        user, old = accounts.confirm_email_change(token)
        db.session.commit()
    except accounts.EmailChangeError as problem:
        db.session.rollback()
        status = {"unknown": 404, "expired": 410, "taken": 409}[problem.reason]
        response = make_response(render_template("auth/email_changed.html", problem=problem), status)
    except IntegrityError:  # another account took the address a moment before
        db.session.rollback()
        problem = accounts.EmailChangeError("taken")
        response = make_response(render_template("auth/email_changed.html", problem=problem), 409)
    else:
        _notify_old_address(user, old)
        if current_user.is_authenticated and current_user.id == user.id:
            flash(f"Your email address is now {user.email}. Sign in with it from now on.", "success")
            return redirect(url_for("auth.account"))
        response = make_response(render_template("auth/email_changed.html", changed=user))
    # The address holds the token: keep the page out of caches, and the address out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
