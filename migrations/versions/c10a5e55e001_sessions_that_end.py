"""sessions that end: server-side sessions replace the account's session token; email verification

Each sign-in gets a `user_session` row (only the hash of its key is kept), which signing out
revokes. The account's `session_token` goes: sessions made before this upgrade sign in again.
The account gains `email_verified_at` and the hash and expiry of its latest verification link.

Revision ID: c10a5e55e001
Revises: b1d5e7a9c3f2
Create Date: 2026-11-23 10:00:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "c10a5e55e001"
down_revision = "b1d5e7a9c3f2"
branch_labels = None
depends_on = None

# SQLite rebuilds "user" to change it: it must keep AUTOINCREMENT, so ids are never reused.
_USER_TABLE = {"table_kwargs": {"sqlite_autoincrement": True}}


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("is_remembered", sa.Boolean(), nullable=False),
        sa.Column("user_agent", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_session_key_hash")),
    )
    with op.batch_alter_table("user_session") as batch:
        batch.create_index(batch.f("ix_user_session_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user", **_USER_TABLE) as batch:
        batch.drop_column("session_token")
        batch.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("email_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("email_token_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_user_email_token_hash"), ["email_token_hash"], unique=False)


def downgrade():
    with op.batch_alter_table("user", **_USER_TABLE) as batch:
        batch.drop_index(batch.f("ix_user_email_token_hash"))
        batch.drop_column("email_token_expires_at")
        batch.drop_column("email_token_hash")
        batch.drop_column("email_verified_at")
        batch.add_column(sa.Column("session_token", sa.String(length=32), nullable=True))
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    connection = op.get_bind()
    # Each account gets its own token again; every session signs in anew.
    for (user_id,) in connection.execute(sa.select(user.c.id)).all():
        connection.execute(user.update().where(user.c.id == user_id).values(session_token=secrets.token_hex(16)))
    with op.batch_alter_table("user", **_USER_TABLE) as batch:
        batch.alter_column("session_token", existing_type=sa.String(length=32), nullable=False)

    with op.batch_alter_table("user_session") as batch:
        batch.drop_index(batch.f("ix_user_session_user_id"))
    op.drop_table("user_session")
