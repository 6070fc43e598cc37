"""lti platforms and launches: registered platforms, their deployments, accounts by (issuer, sub), contexts as
cohorts, resource links with their line items, the grade outbox, and short-lived protocol state

Revision ID: d13a0000b001
Revises: d16a0000a001
Create Date: 2026-12-07 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d13a0000b001"
down_revision = "d16a0000a001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lti_platform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_token_url", sa.String(length=1000), nullable=False),
        sa.Column("keyset_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_audience", sa.String(length=1000), nullable=True),
        sa.Column("frame_origins", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_platform")),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_platform_registration"),
    )
    op.create_table(
        "lti_state",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lti_state")),
    )
    with op.batch_alter_table("lti_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lti_state_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "lti_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_launch_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_lti_account_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_account")),
        sa.UniqueConstraint("issuer", "sub", name="uq_lti_account_identity"),
    )
    with op.batch_alter_table("lti_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lti_account_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lti_deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_lti_deployment_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_deployment")),
        sa.UniqueConstraint("platform_id", "deployment_id", name="uq_lti_deployment_once"),
    )
    op.create_table(
        "lti_context",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("memberships_url", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_roster_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_lti_context_cohort_id_cohort"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_lti_context_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_context")),
        sa.UniqueConstraint("cohort_id", name=op.f("uq_lti_context_cohort_id")),
        sa.UniqueConstraint("platform_id", "deployment_id", "context_id", name="uq_lti_context_once"),
    )
    op.create_table(
        "lti_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("resource_link_id", sa.String(length=255), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_ref", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("lineitem_url", sa.String(length=1000), nullable=True),
        sa.Column("ags_scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('module', 'quiz', 'conversation', 'course')", name=op.f("ck_lti_link_kind")),
        sa.ForeignKeyConstraint(
            ["context_id"], ["lti_context.id"], name=op.f("fk_lti_link_context_id_lti_context"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["lti_platform.id"], name=op.f("fk_lti_link_platform_id_lti_platform"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_link")),
        sa.UniqueConstraint("platform_id", "deployment_id", "resource_link_id", name="uq_lti_link_once"),
    )
    with op.batch_alter_table("lti_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lti_link_context_id"), ["context_id"], unique=False)
        batch_op.create_index("ix_lti_link_item", ["kind", "item_ref"], unique=False)

    op.create_table(
        "lti_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("attempt_key", sa.Integer(), nullable=False),
        sa.Column("score_given", sa.Double(), nullable=False),
        sa.Column("score_maximum", sa.Double(), nullable=False),
        sa.Column("activity_progress", sa.String(length=20), nullable=False),
        sa.Column("grading_progress", sa.String(length=20), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("score_maximum > 0 AND score_given >= 0", name=op.f("ck_lti_score_score_range")),
        sa.ForeignKeyConstraint(
            ["link_id"], ["lti_link.id"], name=op.f("fk_lti_score_link_id_lti_link"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_lti_score_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_score")),
        sa.UniqueConstraint("link_id", "user_id", "attempt_key", name="uq_lti_score_once"),
    )
    with op.batch_alter_table("lti_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lti_score_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL AND rejected_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL AND rejected_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_lti_score_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("lti_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_score_user_id"))
        batch_op.drop_index(
            "ix_lti_score_due",
            sqlite_where=sa.text("sent_at IS NULL AND rejected_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL AND rejected_at IS NULL"),
        )

    op.drop_table("lti_score")
    with op.batch_alter_table("lti_link", schema=None) as batch_op:
        batch_op.drop_index("ix_lti_link_item")
        batch_op.drop_index(batch_op.f("ix_lti_link_context_id"))

    op.drop_table("lti_link")
    op.drop_table("lti_context")
    op.drop_table("lti_deployment")
    with op.batch_alter_table("lti_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_account_user_id"))

    op.drop_table("lti_account")
    with op.batch_alter_table("lti_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_state_expires_at"))

    op.drop_table("lti_state")
    op.drop_table("lti_platform")
