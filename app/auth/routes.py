"""Sign-up, sign-in and sign-out views, and the user loader that checks each session on the server."""

from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import OperationalError

from app import mail
from app.auth import bp, budgets
from app.auth.email_links import send_verification
from app.auth.forms import SignInForm, SignUpForm
from app.extensions import db, limiter, login_manager
from app.models import User
from app.models.types import utcnow
from app.services import accounts, sessions

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"

NO_MATCH = "That email and password do not match an account. Check both and try again."


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: only a live session (not signed out, not expired) of an active account signs in."""
    # Marking the session seen is a write: it is made only when nothing else has used the database
    # in this request yet, so committing it can never carry part of a view's unfinished work.
    fresh = not db.session().in_transaction()
    user, wrote = sessions.load(session_id, touch=fresh)
    if wrote:
        try:
            db.session.commit()
        except OperationalError:
            # The database cannot take writes (a full disk, a long lock): the visit is noted
            # another time, and reading pages goes on.
            db.session.rollback()
    return user


def sign_in_as(user: User, *, remember: bool) -> None:
    """Open a new session for the account (ending the one this browser had), commit, and sign in.

    Every way in counts as a sign-in: signing up and following a password link too.
    """
    if current_user.is_authenticated:
        sessions.end(current_user._get_current_object())
    user.last_sign_in_at = utcnow()
    sessions.start(user, remembered=remember, user_agent=request.headers.get("User-Agent", ""))
    db.session.commit()
    login_user(user, remember=remember)


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
            # A line break would split the Location header (and cannot be sent at all).
            and not any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
        ):
            return target
    return url_for("learn.home")


def _failed(response) -> bool:
    """Only refused attempts count toward a limit: a class signing in together is never slowed."""
    return response.status_code != 302


def _address_and_email() -> str:
    """Guesses at one account from one address share a budget; other accounts keep theirs."""
    return f"{get_remote_address()}|{accounts.normalise_email(request.form.get('email', ''))}"


def _refused(template: str, form, wait: int):
    """The form again with its message, as a 429 saying when to try again."""
    response = make_response(render_template(template, form=form), 429)
    response.headers["Retry-After"] = str(wait)
    return response


# Hard limit: failures at one account from one address (a correct password too is refused once spent).
_per_account = limiter.limit(
    lambda: current_app.config["SIGN_IN_RATE_LIMIT"], key_func=_address_and_email, methods=["POST"], deduct_when=_failed
)
# Failed sign-ups from one address.
_per_address = limiter.limit(lambda: current_app.config["ADDRESS_RATE_LIMIT"], methods=["POST"], deduct_when=_failed)


@bp.route("/sign-up", methods=["GET", "POST"])
@_per_address
def sign_up():
    """Create a student account and sign in; where mail is configured, send a link to verify the address."""
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        limit, key = current_app.config["SIGN_UP_RATE_LIMIT"], ("sign-ups", get_remote_address())
        if not budgets.has_room(limit, *key):
            wait = budgets.seconds_left(limit, *key)
            form.form_errors.append(
                "Many accounts have been created from your network just now, so no more can be made "
                f"from it for a while. Wait {budgets.minutes(wait)}, then try again."
            )
            return _refused("auth/sign_up.html", form, wait)
        try:
            user = accounts.create_user(form.email.data, form.display_name.data, form.password.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            budgets.spend(limit, *key)
            token = accounts.new_email_link(user) if mail.is_configured() else None
            sign_in_as(user, remember=False)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            if token:
                send_verification(user, token)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/sign_up.html", form=form), 422 if form.errors else 200


@bp.route("/sign-in", methods=["GET", "POST"])
@_per_account
def sign_in():
    """Sign in with email and password.

    Failures from one address share a budget that only slows failures: past it, a failed attempt
    is answered 429 with the time to wait, but a right password always signs in, so one person's
    typos, or an attacker's guesses, never lock out the rest of a class behind the same address.
    """
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            wait = budgets.spend(current_app.config["ADDRESS_RATE_LIMIT"], "sign-in-failures", get_remote_address())
            if wait is None:
                form.form_errors.append(NO_MATCH)
            else:
                form.form_errors.append(
                    "That email and password do not match an account. The password may be mistyped: check it, "
                    f"then wait {budgets.seconds(wait)} before trying again (many sign-ins have just failed from your network)."
                )
                return _refused("auth/sign_in.html", form, wait)
        else:
            sign_in_as(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/sign_in.html", form=form), 422 if form.errors else 200


@bp.post("/sign-out")
def sign_out():
    """Sign out: this session ends on the server, so a copy of its cookies opens nothing any more.

    A POST with CSRF, so no link elsewhere can sign people out.
    """
    # CSRFProtect has refused a POST without a valid token before this view runs.
    if current_user.is_authenticated:
        sessions.end(current_user._get_current_object())
        db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("public.index"))
