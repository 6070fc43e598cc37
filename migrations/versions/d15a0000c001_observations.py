"""observations (placeholder: filled in by the observations work)

Revision ID: d15a0000c001
Revises: d13a0000b001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "d15a0000c001"
down_revision = "d13a0000b001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
