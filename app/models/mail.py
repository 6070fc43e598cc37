"""The mail outbox: a message waiting to go to one address, leased to one sender at a time (app.services.mail_outbox).

A message lives here only until it is sent: a sent message is deleted at once, because its body may
hold a one-time link. One the recipient's server refused for good keeps its address, purpose and
error for a person to look at, but not its body.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.indexes import partial_index
from app.models.types import UTCDateTime, utcnow

#: What a sender may still try: not refused for good (expired and leased rows are sorted out by the query).
WAITING = "refused_at IS NULL"


class OutgoingMail(db.Model):
    """One plain-text message for one account's address, waiting to be sent (or refused by its server)."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        partial_index("ix_outgoing_mail_due", "next_attempt_at", where=WAITING),
        CheckConstraint("attempts >= 0", name="attempts_counted"),
        CheckConstraint("recipient LIKE '%_@_%'", name="recipient_address"),
        CheckConstraint("purpose <> ''", name="purpose_named"),
        # A lease is a token and its end together, or neither.
        CheckConstraint("(lease_token IS NULL) = (lease_until IS NULL)", name="lease_whole"),
        # A refused message is nobody's to send: it holds no lease and no body any more.
        CheckConstraint("refused_at IS NULL OR (lease_token IS NULL AND body = '')", name="refused_settled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The account the message is for: deleting the account deletes its waiting mail (docs/data-rights.md).
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: A short name for logs and `alliance mail list`, such as "password-reset"; never the body.
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the link inside stops working: a message not sent by then is dropped unsent.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Set when the recipient's server refused the address for good (SMTP 5xx): never tried again.
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
