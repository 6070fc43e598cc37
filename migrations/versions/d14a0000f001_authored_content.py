"""authored content: quizzes written in the browser, their published versions, co-editors, the content revision

Revision ID: d14a0000f001
Revises: d16b0000e001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d14a0000f001"
down_revision = "d16b0000e001"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, referred: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade():
    op.create_table(
        "authored_quiz",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("next_item", sa.Integer(), nullable=False),
        sa.Column("is_site_wide", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("authored_quiz", "owner_id", "user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authored_quiz")),
        sa.UniqueConstraint("ref", name=op.f("uq_authored_quiz_ref")),
    )
    op.create_index(op.f("ix_authored_quiz_owner_id"), "authored_quiz", ["owner_id"])
    op.create_table(
        "authored_co_editor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        _fk("authored_co_editor", "quiz_id", "authored_quiz"),
        _fk("authored_co_editor", "user_id", "user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authored_co_editor")),
        sa.UniqueConstraint("quiz_id", "user_id", name="uq_authored_co_editor_quiz_user"),
    )
    op.create_index(op.f("ix_authored_co_editor_user_id"), "authored_co_editor", ["user_id"])
    op.create_table(
        "authored_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_version", sa.String(length=64), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_authored_version_number_positive")),
        _fk("authored_version", "quiz_id", "authored_quiz"),
        _fk("authored_version", "published_by_id", "user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authored_version")),
        sa.UniqueConstraint("quiz_id", "number", name="uq_authored_version_quiz_number"),
    )
    op.create_table(
        "content_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_content_revision_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_revision")),
    )


def downgrade():
    op.drop_table("content_revision")
    op.drop_table("authored_version")
    op.drop_index(op.f("ix_authored_co_editor_user_id"), table_name="authored_co_editor")
    op.drop_table("authored_co_editor")
    op.drop_index(op.f("ix_authored_quiz_owner_id"), table_name="authored_quiz")
    op.drop_table("authored_quiz")
