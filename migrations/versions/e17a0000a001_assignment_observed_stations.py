"""an assignment's own observed-stations requirement for its certificate; what stations a certificate names

`assignment.observed_stations`: the passed observed stations the certificate of an assigned course also
needs, 0 to 20; empty (every assignment made before) follows the site's default,
ALLIANCE_CERTIFICATE_OBSERVED_STATIONS, as before. `certificate.station_competency_refs`: the competencies
staff saw the learner do at the stations they passed, kept when it is issued, apart from the course's
(empty for certificates issued before).

Revision ID: e17a0000a001
Revises: d14a0000f001
Create Date: 2026-12-07 20:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e17a0000a001"
down_revision = "d14a0000f001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.add_column(sa.Column("observed_stations", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_assignment_observed_stations_in_range"),
            "observed_stations IS NULL OR observed_stations BETWEEN 0 AND 20",
        )
    with op.batch_alter_table("certificate") as batch_op:
        batch_op.add_column(sa.Column("station_competency_refs", sa.JSON(), server_default="[]", nullable=False))


def downgrade():
    # SQLite rebuilds the table to drop a column: keep its ids never reused (a row id is a place in a status list).
    with op.batch_alter_table("certificate", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("station_competency_refs")
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.drop_constraint(op.f("ck_assignment_observed_stations_in_range"), type_="check")
        batch_op.drop_column("observed_stations")
