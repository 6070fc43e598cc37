"""A forgotten password: where the site sends email, a one-time link mailed on request; elsewhere, whom to ask.

The answer to a request is the same page whether or not an account has the address, and the mail
goes out in the background, so neither the page nor the time it takes tells who has an account.
"""

import smtplib
import threading

from flask import current_app, make_response, render_template
from flask_wtf import FlaskForm
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from app import mail
from app.auth import bp, budgets
from app.auth.email_links import site_link
from app.auth.forms import strip_spaces
from app.extensions import db, limiter
from app.models import User
from app.services import accounts, password_links

SUBJECT = "Choose a new password for Alliance"

#: Mail still being sent, so a test (or a shutting-down worker) can wait for it.
_sending: list[threading.Thread] = []


class ForgotPasswordForm(FlaskForm):
    """The address the person signs in with."""

    email = EmailField(
        "Email",
        filters=[strip_spaces],
        validators=[
            DataRequired("Enter the email address you sign in with."),
            Email("Enter a valid email address, like name@example.org."),
            Length(max=254, message="Email addresses have at most 254 characters."),
        ],
    )
    submit = SubmitField("Email me a link")


def _body(user: User, token: str) -> str:
    lifetime = password_links.lifetime_in_words(password_links.FORGOT_LIFETIME)
    return (
        f"Hello {user.display_name},\n\n"
        f"Someone, we hope you, asked for a new password for your Alliance account ({user.email}). "
        "Open this link to choose it:\n\n"
        f"{site_link('auth.set_password', token=token)}\n\n"
        f"The link works once, for {lifetime}. Choosing a new password signs you out on every other device.\n\n"
        "If you did not ask, ignore this message: your password stays as it is.\n"
    )


def _send_in_background(to: str, body: str, user_id: int) -> None:
    """Send the mail from another thread: a slow mail server must not make the answer slower for real accounts."""
    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            try:
                mail.send(
                    to,
                    SUBJECT,
                    body,
                    user_id=user_id,
                    purpose="password-reset",
                    valid_for=password_links.FORGOT_LIFETIME,
                )
            except (smtplib.SMTPException, OSError):
                app.logger.exception("Could not send the password reset email")

    _sending[:] = [thread for thread in _sending if thread.is_alive()]
    thread = threading.Thread(target=send, name="password-reset-mail")
    _sending.append(thread)
    thread.start()


def wait_for_mail(timeout: float = 10) -> None:
    """Wait until the mail being sent in the background has gone (or failed)."""
    for thread in list(_sending):
        thread.join(timeout)


# Every request counts toward the address's budget: the answer never says whether it found an account.
_per_address = limiter.limit(lambda: current_app.config["ADDRESS_RATE_LIMIT"], methods=["POST"])


@bp.route("/forgot-password", methods=["GET", "POST"])
@_per_address
def forgot_password():
    """Ask for a link to choose a new password (where mail is sent); otherwise, say whom to ask for one."""
    form = ForgotPasswordForm()
    configured = mail.is_configured()
    context = {
        "form": form,
        "mail_configured": configured,
        "emailed_lifetime": password_links.lifetime_in_words(password_links.FORGOT_LIFETIME),
        "issued_lifetime": password_links.lifetime_in_words(password_links.RESET_LIFETIME),
    }
    if configured and form.validate_on_submit():
        address = accounts.normalise_email(form.email.data)
        # Counted per address typed, whether or not it has an account, so the refusal reveals nothing either.
        wait = budgets.spend(current_app.config["EMAIL_LINK_RATE_LIMIT"], "password-reset-mail", address)
        if wait is not None:
            form.form_errors.append(
                "Several links have been sent to this address just now. Check its inbox and spam folder for them, "
                f"or wait {budgets.minutes(wait)} and ask again."
            )
            response = make_response(render_template("auth/forgot_password.html", **context), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        user = accounts.find_by_email(address)
        if user is not None and user.is_active:
            token, _ = password_links.issue(user, None)
            db.session.commit()
            _send_in_background(user.email, _body(user, token), user.id)
        return render_template("auth/forgot_password_sent.html", address=form.email.data.strip(), **context)
    return render_template("auth/forgot_password.html", **context), 422 if form.errors else 200
