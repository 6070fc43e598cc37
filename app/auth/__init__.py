"""Accounts: sign up, sign in, sign out, and the person's own account page (their data rights)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import account, password_links, routes  # noqa: E402,F401  (routes attach themselves to bp)
