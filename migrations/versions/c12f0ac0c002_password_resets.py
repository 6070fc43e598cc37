"""password resets: links say what they are for and whose role they were made for; email changes wait

A password link now records its kind ("set" for an account's first password, "reset" when an admin
or educator issued it, "forgot" when the person asked for one by email) and the account's role when
it was made: it works only while the account keeps that role. Links made before this upgrade were
all class-list links for students. The account gains an address it asked to change to, with the
hash and expiry of the link mailed to that address.

Revision ID: c12f0ac0c002
Revises: c12a0d0a0001
Create Date: 2026-12-14 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c12f0ac0c002"
down_revision = "c12a0d0a0001"
branch_labels = None
depends_on = None

# SQLite rebuilds "user" to change it: it must keep AUTOINCREMENT, so ids are never reused.
_USER_TABLE = {"table_kwargs": {"sqlite_autoincrement": True}}


def upgrade():
    with op.batch_alter_table("password_link") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=True))
    link = sa.table("password_link", sa.column("kind", sa.String), sa.column("role", sa.String))
    # Every earlier link was made from a class list, for a student's first password.
    op.execute(link.update().values(kind="set", role="student"))
    with op.batch_alter_table("password_link") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=16), nullable=False)
        batch.alter_column("role", existing_type=sa.String(length=16), nullable=False)
        batch.create_check_constraint(op.f("ck_password_link_kind"), "kind IN ('set', 'reset', 'forgot')")
        batch.create_check_constraint(op.f("ck_password_link_role"), "role IN ('student', 'educator', 'admin')")

    with op.batch_alter_table("user", **_USER_TABLE) as batch:
        batch.add_column(sa.Column("pending_email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("pending_email_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("pending_email_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_user_pending_email_token_hash"), ["pending_email_token_hash"], unique=False)


def downgrade():
    with op.batch_alter_table("user", **_USER_TABLE) as batch:
        batch.drop_index(batch.f("ix_user_pending_email_token_hash"))
        batch.drop_column("pending_email_expires_at")
        batch.drop_column("pending_email_token_hash")
        batch.drop_column("pending_email")
    # Links that are not for a student's first password had no place before: they stop working.
    link = sa.table("password_link", sa.column("kind", sa.String), sa.column("role", sa.String))
    op.execute(link.delete().where(sa.or_(link.c.kind != "set", link.c.role != "student")))
    with op.batch_alter_table("password_link") as batch:
        batch.drop_constraint(op.f("ck_password_link_role"), type_="check")
        batch.drop_constraint(op.f("ck_password_link_kind"), type_="check")
        batch.drop_column("role")
        batch.drop_column("kind")
