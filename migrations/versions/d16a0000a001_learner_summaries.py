"""learner summaries (placeholder: filled in by the learner-pages speed work)

Revision ID: d16a0000a001
Revises: c12f0ac0c002
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "d16a0000a001"
down_revision = "c12f0ac0c002"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
