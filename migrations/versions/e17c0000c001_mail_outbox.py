"""the mail outbox: messages waiting to be sent (leased like the other outboxes), deleted once sent

Revision ID: e17c0000c001
Revises: e17b0000b001
Create Date: 2026-12-07 20:00:02

"""

import sqlalchemy as sa
from alembic import op

revision = "e17c0000c001"
down_revision = "e17b0000b001"
branch_labels = None
depends_on = None

WAITING = "refused_at IS NULL"


def upgrade():
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outgoing_mail_attempts_counted")),
        sa.CheckConstraint("recipient LIKE '%_@_%'", name=op.f("ck_outgoing_mail_recipient_address")),
        sa.CheckConstraint("purpose <> ''", name=op.f("ck_outgoing_mail_purpose_named")),
        sa.CheckConstraint("(lease_token IS NULL) = (lease_until IS NULL)", name=op.f("ck_outgoing_mail_lease_whole")),
        sa.CheckConstraint(
            "refused_at IS NULL OR (lease_token IS NULL AND body = '')", name=op.f("ck_outgoing_mail_refused_settled")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_outgoing_mail_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outgoing_mail_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text(WAITING),
            postgresql_where=sa.text(WAITING),
        )
        batch_op.create_index(batch_op.f("ix_outgoing_mail_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_user_id"))
        batch_op.drop_index("ix_outgoing_mail_due", sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING))
    op.drop_table("outgoing_mail")
