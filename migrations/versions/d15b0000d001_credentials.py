"""credentials: certificates for completed courses, verifiable and revocable

One row per learner and course (a course completed twice keeps its one certificate), holding what
the certificate says as on the day it was issued, its random public id for the verification page,
and, once revoked, when, by whom and why. Row ids are never reused (SQLite AUTOINCREMENT): a row's
id is its place in the published revocation list.

Revision ID: d15b0000d001
Revises: d15a0000c001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d15b0000d001"
down_revision = "d15a0000c001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("learner_name", sa.String(length=100), nullable=False),
        sa.Column("course_title", sa.String(length=200), nullable=False),
        sa.Column("course_description", sa.Text(), nullable=False),
        sa.Column("competency_refs", sa.JSON(), nullable=False),
        sa.Column("issuer_name", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revocation_reason IS NULL)", name=op.f("ck_certificate_revoked_with_reason")
        ),
        sa.CheckConstraint(
            "revocation_reason IS NULL OR length(revocation_reason) > 0", name=op.f("ck_certificate_reason_not_empty")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_certificate_user_id_user"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_certificate_course_id_course"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_certificate_cohort_id_cohort"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user.id"], name=op.f("fk_certificate_revoked_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("public_id", name=op.f("uq_certificate_public_id")),
        sa.UniqueConstraint("user_id", "course_id", name="uq_certificate_once"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_certificate_cohort", "certificate", ["cohort_id"], unique=False)
    op.create_index(op.f("ix_certificate_user_id"), "certificate", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_certificate_user_id"), table_name="certificate")
    op.drop_index("ix_certificate_cohort", table_name="certificate")
    op.drop_table("certificate")
