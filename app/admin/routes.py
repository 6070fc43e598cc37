"""Admin views (accounts and roles): thin, they call app.services.admin and commit once."""

import smtplib

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app import mail
from app.admin import bp
from app.admin.forms import ROLE_LABELS, NewAccountForm, RoleForm, UserSearchForm
from app.auth.email_links import site_link
from app.converters import page_number
from app.errors import not_found
from app.extensions import db
from app.models import User
from app.services import admin, password_links

ARTICLES = {"student": "a student", "educator": "an educator", "admin": "an admin"}


@bp.get("/")
def index():
    """The admin's home is the list of accounts."""
    return redirect(url_for(".users"))


@bp.get("/users")
def users():
    """Find accounts by name or email, role and status; 50 to a page."""
    form = UserSearchForm(formdata=request.args)
    if not form.validate():
        return render_template("admin/users.html", form=form, results=None, filters={}), 422
    filters = {name: value for name in ("q", "role", "status") if (value := (form[name].data or "").strip())}
    results = admin.search_users(
        filters.get("q", ""), filters.get("role"), filters.get("status"), request.args.get("page", 1, type=page_number)
    )
    return render_template("admin/users.html", form=form, results=results, filters=filters)


def _user_or_404(user_id: int) -> User:
    user = admin.get_user(user_id)
    if user is None:
        not_found("There is no account at this address. Find the person from the list of accounts.")
    return user


def _account_page(user: User, role_form: RoleForm | None = None, problem: str | None = None, status: int = 200):
    has_password = password_links.has_usable_password(user)
    return render_template(
        "admin/user.html",
        user=user,
        is_self=user.id == current_user.id,
        has_password=has_password,
        records=admin.records_of(user),
        role_form=role_form or RoleForm(formdata=None, role=user.role),
        problem=problem,
        role_labels=ROLE_LABELS,
        link_lifetime=password_links.lifetime_in_words(password_links.LIFETIMES["reset" if has_password else "set"]),
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    """One account: its details and records, with forms to change its role and its access."""
    return _account_page(_user_or_404(user_id))


def _refused(user: User, error: admin.AdminError, role_form: RoleForm | None = None):
    """The account page again, saying why nothing changed."""
    db.session.rollback()
    return _account_page(user, role_form, problem=str(error), status=409)


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int):
    """Make the account a student, an educator or an admin."""
    user = _user_or_404(user_id)
    # CSRFProtect has refused any POST without a valid token before this view runs.
    form = RoleForm()
    if not form.validate():
        return _account_page(user, form, status=422)
    try:
        changed = admin.change_role(current_user, user, form.role.data)
    except admin.AdminError as error:
        return _refused(user, error, form)
    db.session.commit()
    if changed:
        flash(f"{user.display_name} is now {ARTICLES[user.role]}.", "success")
    else:
        flash(f"{user.display_name} is already {ARTICLES[user.role]}; nothing changed.", "info")
    return redirect(url_for(".user", user_id=user.id))


# One rule for both methods: werkzeug checks the method before the id, so two rules would answer a POST
# to an id past the database's range with 405 instead of 404.
@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
def deactivate(user_id: int):
    """GET asks first (what deactivating does and keeps, with a button; no script needed). POST stops the
    account signing in and ends its sessions; its records are kept."""
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _confirm_deactivate(user)
    try:
        changed = admin.deactivate(current_user, user)
    except admin.AdminError as error:
        return _refused(user, error)
    db.session.commit()
    if changed:
        flash(
            f"{user.display_name}'s account is deactivated: they cannot sign in, and any session they have open "
            "ends on their next request. Their records are kept.",
            "success",
        )
    else:
        flash(f"{user.display_name}'s account was already deactivated; nothing changed.", "info")
    return redirect(url_for(".user", user_id=user.id))


def _confirm_deactivate(user: User):
    if user.id == current_user.id:
        return _refused(user, admin.AdminError("You cannot deactivate your own account. Ask another admin to do it."))
    if not user.is_active:
        flash(f"{user.display_name}'s account is already deactivated; nothing to do.", "info")
        return redirect(url_for(".user", user_id=user.id))
    return render_template("admin/deactivate.html", user=user, records=admin.records_of(user))


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int):
    """Let a deactivated account sign in again."""
    user = _user_or_404(user_id)
    changed = admin.reactivate(user)
    db.session.commit()
    if changed:
        flash(f"{user.display_name}'s account is active again: they can sign in.", "success")
    else:
        flash(f"{user.display_name}'s account was already active; nothing changed.", "info")
    return redirect(url_for(".user", user_id=user.id))


def _not_stored(page: str):
    """A page showing a password link: no browser or proxy may keep a copy of it."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


def _mail_set_password_link(user: User, actor: User, link: str) -> bool:
    """Email a new account its link to set a password; whether it went."""
    lifetime = password_links.lifetime_in_words(password_links.LIFETIME)
    body = (
        f"Hello {user.display_name},\n\n"
        f"{actor.display_name} made you an Alliance account, signing in as {user.email}. "
        "Open this link to choose your password:\n\n"
        f"{link}\n\n"
        f"The link works once, for {lifetime}. If you did not expect this, ignore this message.\n"
    )
    try:
        # Not retried: on failure the admin is shown the link to pass on, and a later copy would only confuse.
        mail.send(
            user.email, "Your Alliance account is ready", body, user_id=user.id, purpose="account-ready", retry=False
        )
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("Could not email a new account its link")
        return False
    return True


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    """Create an account of any role; its owner sets a password through a one-time link, mailed or shown once."""
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user, token = admin.create_account(current_user, form.email.data, form.display_name.data, form.role.data)
        except admin.AdminError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            link = site_link("auth.set_password", token=token)
            mailed = mail.is_configured() and _mail_set_password_link(user, current_user, link)
            page = render_template(
                "admin/user_created.html",
                user=user,
                link=None if mailed else link,
                mail_failed=mail.is_configured() and not mailed,
                lifetime=password_links.lifetime_in_words(password_links.LIFETIME),
                role_labels=ROLE_LABELS,
            )
            return _not_stored(page)
    page = render_template("admin/new_user.html", form=form, mail_configured=mail.is_configured())
    return page, 422 if form.errors else 200


@bp.post("/users/<int:user_id>/password-link")
def password_link(user_id: int):
    """A new one-time link for the account to set or reset its password, shown once; earlier links stop working."""
    user = _user_or_404(user_id)
    try:
        token, kind = admin.issue_password_link(current_user, user)
    except admin.AdminError as error:
        return _refused(user, error)
    db.session.commit()
    page = render_template(
        "admin/password_link.html",
        user=user,
        kind=kind,
        link=site_link("auth.set_password", token=token),
        lifetime=password_links.lifetime_in_words(password_links.LIFETIMES[kind]),
    )
    return _not_stored(page)
