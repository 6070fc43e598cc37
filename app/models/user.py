"""Accounts."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ROLES = ("student", "educator", "admin")


class User(UserMixin, db.Model):
    """A person who signs in: a student, an educator or an admin."""

    __tablename__ = "user"
    __table_args__ = (CheckConstraint("role IN ('student', 'educator', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="student")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_educator(self) -> bool:
        """True for educators and admins, who may build courses."""
        return self.role in ("educator", "admin")

    @property
    def is_admin(self) -> bool:
        """True for admins."""
        return self.role == "admin"
