"""conversations record their path: the ending reached, one response per step

Revision ID: 5d1c2a7e9f30
Revises: bc59e9b11183
Create Date: 2026-11-22 10:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5d1c2a7e9f30"
down_revision = "bc59e9b11183"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("quiz_attempt") as batch:
        batch.add_column(sa.Column("ending_ref", sa.String(length=100), nullable=True))
    # A branching conversation may pass the same node twice; each step is still recorded once.
    with op.batch_alter_table("item_response") as batch:
        batch.drop_constraint("uq_item_response_attempt_item", type_="unique")
        batch.create_unique_constraint("uq_item_response_attempt_position", ["attempt_id", "position"])


def downgrade():
    with op.batch_alter_table("item_response") as batch:
        batch.drop_constraint("uq_item_response_attempt_position", type_="unique")
        batch.create_unique_constraint("uq_item_response_attempt_item", ["attempt_id", "item_ref"])
    with op.batch_alter_table("quiz_attempt") as batch:
        batch.drop_column("ending_ref")
