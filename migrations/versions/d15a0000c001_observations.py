"""observations: stations, ratings by educator, examiner, self, peer and patient, examiners, patients' links

Revision ID: d15a0000c001
Revises: d13a0000b001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d15a0000c001"
down_revision = "d13a0000b001"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, referred: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade():
    op.create_table(
        "cohort_examiner",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        _fk("cohort_examiner", "cohort_id", "cohort"),
        _fk("cohort_examiner", "user_id", "user"),
        _fk("cohort_examiner", "added_by_id", "user", "SET NULL"),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_cohort_examiner")),
    )
    op.create_index(op.f("ix_cohort_examiner_user_id"), "cohort_examiner", ["user_id"])
    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("form_ref", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("is_peer_allowed", sa.Boolean(), nullable=False),
        sa.Column("pass_total", sa.Float(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        _fk("station", "cohort_id", "cohort"),
        _fk("station", "created_by_id", "user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
    )
    op.create_index(op.f("ix_station_cohort_id"), "station", ["cohort_id"])
    op.create_table(
        "patient_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _fk("patient_link", "station_id", "station"),
        _fk("patient_link", "student_id", "user"),
        _fk("patient_link", "created_by_id", "user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_link_token_hash")),
    )
    op.create_index(op.f("ix_patient_link_station_id"), "patient_link", ["station_id"])
    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=True),
        sa.Column("rater_role", sa.String(length=16), nullable=False),
        sa.Column("patient_link_id", sa.Integer(), nullable=True),
        sa.Column("form_version", sa.String(length=64), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("global_rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("is_passed", sa.Boolean(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        _fk("observation", "station_id", "station"),
        _fk("observation", "student_id", "user"),
        _fk("observation", "rater_id", "user", "SET NULL"),
        _fk("observation", "patient_link_id", "patient_link"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
        sa.UniqueConstraint("station_id", "student_id", "rater_id", name="uq_observation_once"),
        sa.UniqueConstraint("patient_link_id", name=op.f("uq_observation_patient_link_id")),
        sa.CheckConstraint(
            "rater_role IN ('educator', 'examiner', 'self', 'peer', 'patient')", name=op.f("ck_observation_rater_role")
        ),
        sa.CheckConstraint(
            "rater_role <> 'patient' OR rater_id IS NULL", name=op.f("ck_observation_patient_has_no_account")
        ),
        sa.CheckConstraint(
            "rater_role NOT IN ('self', 'peer') OR rater_id IS NOT NULL",
            name=op.f("ck_observation_student_raters_named"),
        ),
        sa.CheckConstraint(
            "(rater_role = 'patient') = (patient_link_id IS NOT NULL)", name=op.f("ck_observation_patient_has_link")
        ),
        sa.CheckConstraint(
            "rater_role <> 'self' OR rater_id = student_id", name=op.f("ck_observation_self_is_student")
        ),
        sa.CheckConstraint(
            "rater_role IN ('self', 'patient') OR rater_id <> student_id", name=op.f("ck_observation_others_are_others")
        ),
        sa.CheckConstraint(
            "global_rating IS NULL OR global_rating BETWEEN 0 AND 4", name=op.f("ck_observation_global_rating_range")
        ),
    )
    op.create_index("ix_observation_student", "observation", ["student_id"])


def downgrade():
    op.drop_index("ix_observation_student", table_name="observation")
    op.drop_table("observation")
    op.drop_index(op.f("ix_patient_link_station_id"), table_name="patient_link")
    op.drop_table("patient_link")
    op.drop_index(op.f("ix_station_cohort_id"), table_name="station")
    op.drop_table("station")
    op.drop_index(op.f("ix_cohort_examiner_user_id"), table_name="cohort_examiner")
    op.drop_table("cohort_examiner")
