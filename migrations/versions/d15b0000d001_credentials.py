"""credentials (placeholder: filled in by the credentials work)

Revision ID: d15b0000d001
Revises: d15a0000c001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "d15b0000d001"
down_revision = "d15a0000c001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
