"""Verifying an email address with a one-time link mailed to it, where the site sends email at all."""

import smtplib

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests

from app import mail
from app.auth import bp, budgets
from app.extensions import db, limiter
from app.models import User
from app.services import accounts

SUBJECT = "Verify your email address for Alliance"


def site_link(endpoint: str, **values) -> str:
    """A page's full address, for a link sent by email or passed on by hand."""
    path = url_for(endpoint, **values)
    # The configured address, not the request's Host header: a forged Host must not put its own site in the mail.
    if current_app.config["SITE_URL_IS_SET"]:
        return current_app.config["SITE_URL"] + path
    return url_for(endpoint, **values, _external=True)


def _link(token: str) -> str:
    """The verification link's full address."""
    return site_link("auth.verify_email", token=token)


def send_verification(user: User, token: str) -> bool:
    """Mail the verification link to the account's address and say so (or say it failed); whether it was sent."""
    days = accounts.EMAIL_LINK_LIFETIME.days
    body = (
        f"Hello {user.display_name},\n\n"
        "Please confirm that this is your email address for Alliance by opening this link:\n\n"
        f"{_link(token)}\n\n"
        f"The link works once and for {days} days. If you did not create an Alliance account, ignore this message: "
        "nothing more will be sent.\n"
    )
    try:
        mail.send(
            user.email, SUBJECT, body, user_id=user.id, purpose="verify-email", valid_for=accounts.EMAIL_LINK_LIFETIME
        )
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("Could not send the verification email")
        flash(
            "We could not send the email to verify your address just now. "
            "Ask for a new link on your account page in a little while.",
            "warning",
        )
        return False
    flash(f"We sent a link to {user.email}. Open it to verify your email address.", "info")
    return True


def _unusable(problem: accounts.EmailLinkError):
    """The page for a link that cannot be used: why, and what to do (404 unknown, 410 used or expired)."""
    status = 404 if problem.reason == "unknown" else 410
    page = render_template("auth/email_link.html", problem=problem, lifetime_days=accounts.EMAIL_LINK_LIFETIME.days)
    return page, status


# Guessing links is hopeless (256 bits), but refused ones still count toward the address's budget.
# Every page a mailed link opens uses it (verification here, email changes in details.py).
link_guesses = limiter.limit(
    lambda: current_app.config["ADDRESS_RATE_LIMIT"],
    deduct_when=lambda response: response.status_code >= 400,
)


@bp.get("/verify-email/<token>")
@link_guesses
def verify_email(token: str):
    """Follow the mailed link: the account's address is verified, once."""
    try:
        user = accounts.verify_email(token)
    except accounts.EmailLinkError as problem:
        db.session.rollback()
        response = make_response(*_unusable(problem))
    else:
        db.session.commit()
        if current_user.is_authenticated and current_user.id == user.id:
            flash(f"Thank you: your email address {user.email} is verified.", "success")
            return redirect(url_for("auth.account"))
        response = make_response(render_template("auth/email_link.html", verified=user))
    # The address holds the token: keep the page out of caches, and the address out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/account/email-link")
@login_required
def send_email_link():
    """Send a new verification link to the signed-in person's address (a few an hour)."""
    if not mail.is_configured():
        flash("This site does not send email, so there is no link to send.", "info")
    elif current_user.email_verified_at is not None:
        flash("Your email address is already verified. There is nothing more to do.", "info")
    else:
        wait = budgets.spend(current_app.config["EMAIL_LINK_RATE_LIMIT"], "email-links", str(current_user.id))
        if wait is not None:
            error = TooManyRequests(
                "You have asked for several links just now. Check your spam folder for the ones already sent, "
                f"or wait {budgets.minutes(wait)} and ask again.",
                retry_after=wait,
            )
            error.is_for_people = True
            raise error
        user = current_user._get_current_object()
        token = accounts.new_email_link(user)
        db.session.commit()
        send_verification(user, token)
    return redirect(url_for("auth.account"))
