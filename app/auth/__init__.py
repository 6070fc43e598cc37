"""Accounts: sign up, sign in, sign out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import password_links, routes  # noqa: E402,F401  (routes attach themselves to bp)
