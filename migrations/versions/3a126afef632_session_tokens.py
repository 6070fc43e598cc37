"""session tokens: deactivating an account ends its sessions for good

Revision ID: 3a126afef632
Revises: e8dc41731a1b
Create Date: 2026-11-22 17:00:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "3a126afef632"
down_revision = "e8dc41731a1b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("session_token", sa.String(length=32), nullable=True))
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    connection = op.get_bind()
    # Every existing account gets its own token; sessions made before this upgrade sign in again.
    for (user_id,) in connection.execute(sa.select(user.c.id)).all():
        connection.execute(user.update().where(user.c.id == user_id).values(session_token=secrets.token_hex(16)))
    with op.batch_alter_table("user") as batch:
        batch.alter_column("session_token", existing_type=sa.String(length=32), nullable=False)


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_token")
