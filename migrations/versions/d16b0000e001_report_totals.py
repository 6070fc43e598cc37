"""report totals (placeholder: filled in by the cohort-report speed work)

Revision ID: d16b0000e001
Revises: d15b0000d001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "d16b0000e001"
down_revision = "d15b0000d001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
