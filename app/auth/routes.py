"""Sign-up, sign-in and sign-out views."""

import hmac
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from app.auth import bp
from app.auth.forms import SignInForm, SignUpForm
from app.extensions import db, limiter, login_manager
from app.models import User
from app.models.types import MAX_ID
from app.services import accounts

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: deactivated accounts, and sessions their token no longer matches, are signed out."""
    user_id, _, token = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and int(user_id) <= MAX_ID else None
    if user is None or not user.is_active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in, so the link cannot send people elsewhere."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for("learn.home")


def _failed(response) -> bool:
    """Only refused attempts count toward a limit: a class signing in together is never slowed."""
    return response.status_code != 302


def _address_and_email() -> str:
    """Guesses at one account from one address share a budget; other accounts keep theirs."""
    return f"{get_remote_address()}|{accounts.normalise_email(request.form.get('email', ''))}"


_per_account = limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"], key_func=_address_and_email, methods=["POST"], deduct_when=_failed
)
_per_address = limiter.limit(lambda: current_app.config["ADDRESS_RATE_LIMIT"], methods=["POST"], deduct_when=_failed)


@bp.route("/sign-up", methods=["GET", "POST"])
@_per_address
def sign_up():
    """Create a student account and sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.display_name.data, form.password.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/sign_up.html", form=form), 422 if form.errors else 200


@bp.route("/sign-in", methods=["GET", "POST"])
@_per_account
@_per_address
def sign_in():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append("That email and password do not match an account. Check both and try again.")
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/sign_in.html", form=form), 422 if form.errors else 200


@bp.post("/sign-out")
def sign_out():
    """Sign out (a POST with CSRF, so no link elsewhere can sign people out)."""
    # CSRFProtect has refused a POST without a valid token before this view runs.
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("public.index"))
