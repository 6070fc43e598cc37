"""answers saved as you go: a draft of each item's answer and confidence in an open quiz attempt

Revision ID: c12a0d0a0001
Revises: c10b0c0ae002
Create Date: 2026-12-14 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c12a0d0a0001"
down_revision = "c10b0c0ae002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "draft_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("item_ref", sa.String(length=100), nullable=False),
        sa.Column("item_version", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("is_complete", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("confidence BETWEEN 1 AND 3", name=op.f("ck_draft_answer_confidence_level")),
        sa.CheckConstraint("answer IS NOT NULL OR confidence IS NOT NULL", name=op.f("ck_draft_answer_holds_something")),
        sa.CheckConstraint("answer IS NOT NULL OR NOT is_complete", name=op.f("ck_draft_answer_complete_has_answer")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempt.id"],
            name=op.f("fk_draft_answer_attempt_id_quiz_attempt"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_answer")),
        sa.UniqueConstraint("attempt_id", "item_ref", name="uq_draft_answer_attempt_item"),
    )


def downgrade():
    # Drafts are working copies of unsubmitted forms: nothing graded or counted is lost.
    op.drop_table("draft_answer")
