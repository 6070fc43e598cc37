"""lti platforms and launches (placeholder: filled in by the LTI work)

Revision ID: d13a0000b001
Revises: d16a0000a001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "d13a0000b001"
down_revision = "d16a0000a001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
