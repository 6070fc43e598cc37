"""Admin views (accounts and roles)."""

from app.admin import bp  # noqa: F401
