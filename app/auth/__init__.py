"""Accounts: sign up, sign in, sign out, and the person's own account page (their data rights)."""

from flask import Blueprint

from app import mail

bp = Blueprint("auth", __name__)
# Accounts are what sends mail (verification links), so mail is set up with them, once per app.
bp.record_once(lambda state: mail.init_app(state.app))

from app.auth import account, details, email_links, forgot, password_links, routes  # noqa: E402,F401  (routes attach themselves to bp)
