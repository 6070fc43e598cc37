"""Admin views (accounts and roles): thin, they call app.services.admin and commit once."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ROLE_LABELS, RoleForm, UserSearchForm
from app.converters import page_number
from app.errors import not_found
from app.extensions import db
from app.models import User
from app.services import admin

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
    return render_template(
        "admin/user.html",
        user=user,
        is_self=user.id == current_user.id,
        records=admin.records_of(user),
        role_form=role_form or RoleForm(formdata=None, role=user.role),
        problem=problem,
        role_labels=ROLE_LABELS,
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


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    """Stop the account signing in and end its sessions; its records are kept."""
    user = _user_or_404(user_id)
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
