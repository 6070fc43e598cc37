"""statement outbox: learning records waiting to be forwarded to an external LRS

Revision ID: 4f7a1c2e8b90
Revises: 9c4e2b7d1a50
Create Date: 2026-11-22 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "4f7a1c2e8b90"
down_revision = "9c4e2b7d1a50"
branch_labels = None
depends_on = None

PENDING = "sent_at IS NULL AND rejected_at IS NULL"


def upgrade():
    op.create_table(
        "statement_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["learning_event.id"],
            name=op.f("fk_statement_outbox_event_id_learning_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_statement_outbox_event_id")),
    )
    op.create_index(
        "ix_statement_outbox_due",
        "statement_outbox",
        ["next_attempt_at"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def downgrade():
    op.drop_index("ix_statement_outbox_due", table_name="statement_outbox")
    op.drop_table("statement_outbox")
