"""Accounts."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ROLES = ("student", "educator", "admin")


def new_session_token() -> str:
    """A fresh random session token."""
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    """A person who signs in: a student, an educator or an admin."""

    __tablename__ = "user"
    # Ids are never reused, even after an account is deleted: learning records name people by them.
    __table_args__ = (
        CheckConstraint("role IN ('student', 'educator', 'admin')", name="role"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="student")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Part of every session's id: changing it (on deactivation) ends every session of the account for good.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember-me cookie: account and session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_educator(self) -> bool:
        """True for educators and admins, who may build courses."""
        return self.role in ("educator", "admin")

    @property
    def is_admin(self) -> bool:
        """True for admins."""
        return self.role == "admin"
