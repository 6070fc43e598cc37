"""Accounts and their signed-in sessions."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ROLES = ("student", "educator", "admin")


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
    #: When the owner followed the verification link mailed to the address (None: not verified).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 of the latest verification link's token (the token itself only travels in the email).
    email_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    email_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: An address the owner asked to change to, applied once they follow the link mailed to it.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    #: SHA-256 of that link's token, and when the link stops working.
    pending_email_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    pending_email_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: The key of the session this object was loaded for or signed in with; never stored (only its hash is).
    session_key = None

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember-me cookie: "<account id>:<session key>".

        It changes at every sign-in, and stops working once its session is revoked or expires.
        """
        if not self.session_key:
            raise RuntimeError("start a session (app.services.sessions.start) before signing the user in")
        return f"{self.id}:{self.session_key}"

    @property
    def is_educator(self) -> bool:
        """True for educators and admins, who may build courses."""
        return self.role in ("educator", "admin")

    @property
    def is_admin(self) -> bool:
        """True for admins."""
        return self.role == "admin"


class UserSession(db.Model):
    """One sign-in on one browser: valid while not revoked and not expired.

    Only the SHA-256 hash of the session key is kept, so a leaked table signs nobody in.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: "Keep me signed in": the session lasts a fixed period; otherwise it ends after an idle time.
    is_remembered: Mapped[bool] = mapped_column(default=False)
    #: A short label of the browser ("Firefox on Linux"), so the person recognises their sessions.
    user_agent: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
