"""The outbox of statements waiting to be forwarded to an external Learning Record Store."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.indexes import partial_index
from app.models.types import UTCDateTime, utcnow

# Rows a sender may still have to send: the partial index covers only these, so it stays small.
PENDING = "sent_at IS NULL AND rejected_at IS NULL"


class StatementOutbox(db.Model):
    """One learning event's statement to forward: written with the event, sent later by `alliance records send`.

    A sender claims rows by setting a lease (a token and an expiry), so two senders never hold the
    same row; a failure keeps the row with its error and a later `next_attempt_at`. Deleting the
    event (an account deleted) deletes its row.
    """

    __tablename__ = "statement_outbox"
    __table_args__ = (partial_index("ix_statement_outbox_due", "next_attempt_at", where=PENDING),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("learning_event.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Not sent before this time: now for a new row, later after each failure (exponential back-off).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Failed sends so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: The sender holding the row, until `lease_until`; afterwards the row is free again.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the LRS refused the statement itself (a 4xx that no retry can fix); kept for a person to look at.
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
