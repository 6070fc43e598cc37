"""practice attempts, confidence and certainty-based marking, reflections, the review queue

Revision ID: 9c4e2b7d1a50
Revises: 3a126afef632
Create Date: 2026-11-22 18:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "9c4e2b7d1a50"
down_revision = "3a126afef632"
branch_labels = None
depends_on = None

OPEN_ATTEMPT = "submitted_at IS NULL AND abandoned_at IS NULL"


def _one_open_index(columns):
    op.create_index(
        "uq_quiz_attempt_one_open",
        "quiz_attempt",
        columns,
        unique=True,
        sqlite_where=sa.text(OPEN_ATTEMPT),
        postgresql_where=sa.text(OPEN_ATTEMPT),
    )


def upgrade():
    op.drop_index("uq_quiz_attempt_one_open", table_name="quiz_attempt")
    with op.batch_alter_table("quiz_attempt") as batch:
        batch.add_column(sa.Column("mode", sa.String(length=16), server_default="assessed", nullable=False))
        batch.add_column(sa.Column("marking", sa.String(length=16), server_default="standard", nullable=False))
        batch.add_column(sa.Column("item_refs", sa.JSON(), nullable=True))
        batch.alter_column("pass_mark", existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint("mode", "mode IN ('assessed', 'practice')")
        batch.create_check_constraint("marking", "marking IN ('standard', 'certainty')")
        batch.create_check_constraint("assessed_has_pass_mark", "mode = 'practice' OR pass_mark IS NOT NULL")
    _one_open_index(["user_id", "quiz_ref", "mode"])

    with op.batch_alter_table("item_response") as batch:
        batch.add_column(sa.Column("quiz_ref", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("confidence", sa.Integer(), nullable=True))
        batch.create_check_constraint("confidence_level", "confidence BETWEEN 1 AND 3")
    # Until now every response belonged to its attempt's quiz or conversation.
    op.execute(
        "UPDATE item_response SET quiz_ref = "
        "(SELECT quiz_attempt.quiz_ref FROM quiz_attempt WHERE quiz_attempt.id = item_response.attempt_id)"
    )
    with op.batch_alter_table("item_response") as batch:
        batch.alter_column("quiz_ref", existing_type=sa.String(length=100), nullable=False)

    op.create_table(
        "reflection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_reflection_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection")),
        sa.UniqueConstraint("user_id", "subject_ref", name="uq_reflection_learner_subject"),
    )
    op.create_index(op.f("ix_reflection_user_id"), "reflection", ["user_id"])

    op.create_table(
        "review_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quiz_ref", sa.String(length=100), nullable=False),
        sa.Column("item_ref", sa.String(length=100), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_review_card_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_card")),
        sa.UniqueConstraint("user_id", "quiz_ref", "item_ref", name="uq_review_card_learner_item"),
    )
    op.create_index("ix_review_card_user_due", "review_card", ["user_id", "due_at"])


def downgrade():
    op.drop_index("ix_review_card_user_due", table_name="review_card")
    op.drop_table("review_card")
    op.drop_index(op.f("ix_reflection_user_id"), table_name="reflection")
    op.drop_table("reflection")
    with op.batch_alter_table("item_response") as batch:
        batch.drop_constraint("confidence_level", type_="check")
        batch.drop_column("confidence")
        batch.drop_column("quiz_ref")
    op.drop_index("uq_quiz_attempt_one_open", table_name="quiz_attempt")
    # Practice attempts have no place in the older schema.
    op.execute("DELETE FROM quiz_attempt WHERE mode = 'practice'")
    with op.batch_alter_table("quiz_attempt") as batch:
        batch.drop_constraint("assessed_has_pass_mark", type_="check")
        batch.drop_constraint("marking", type_="check")
        batch.drop_constraint("mode", type_="check")
        batch.drop_column("item_refs")
        batch.drop_column("marking")
        batch.drop_column("mode")
        batch.alter_column("pass_mark", existing_type=sa.Integer(), nullable=False)
    _one_open_index(["user_id", "quiz_ref"])
