"""consent before sharing: class lists invite existing accounts, shared cohorts wait for the colleague

Revision ID: c10b0c0ae002
Revises: c10a5e55e001
Create Date: 2026-12-07 13:30:00

"""

import idna
import sqlalchemy as sa
from alembic import op

revision = "c10b0c0ae002"
down_revision = "c10a5e55e001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cohort_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'accepted', 'declined')", name=op.f("ck_cohort_invitation_state")),
        sa.CheckConstraint(
            "(state = 'pending') = (answered_at IS NULL)",
            name=op.f("ck_cohort_invitation_answered_when_not_pending"),
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_cohort_invitation_cohort_id_cohort"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_cohort_invitation_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["user.id"], name=op.f("fk_cohort_invitation_invited_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_invitation")),
        sa.UniqueConstraint("cohort_id", "user_id", name="uq_cohort_invitation_once"),
    )
    op.create_index("ix_cohort_invitation_user", "cohort_invitation", ["user_id", "state"], unique=False)
    with op.batch_alter_table("cohort_educator") as batch:
        batch.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("invited_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_cohort_educator_invited_by_id_user"), "user", ["invited_by_id"], ["id"], ondelete="SET NULL"
        )
    # Co-educators added before this upgrade keep the access they have: their sharing counts as accepted.
    educator = sa.table("cohort_educator", sa.column("added_at", sa.DateTime), sa.column("accepted_at", sa.DateTime))
    op.execute(educator.update().values(accepted_at=educator.c.added_at))
    with op.batch_alter_table("cohort_educator") as batch:
        batch.create_check_constraint(op.f("ck_cohort_educator_owner_accepted"), "NOT is_owner OR accepted_at IS NOT NULL")
    with op.batch_alter_table("cohort_member") as batch:
        batch.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
    _domains_in_one_form()


def _domains_in_one_form() -> None:
    """Addresses are now looked up with the domain in Unicode: store punycode ("xn--") domains that way too,
    unless that would give two accounts one address (then the row is left for an administrator)."""
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("email", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(user.c.id, user.c.email).where(user.c.email.like("%xn--%"))).all()
    for user_id, email in rows:
        local, _, domain = email.rpartition("@")
        try:
            canonical = f"{local}@{idna.decode(domain)}"
        except (idna.IDNAError, UnicodeError):
            continue
        taken = connection.execute(sa.select(user.c.id).where(user.c.email == canonical)).first()
        if canonical != email and taken is None:
            connection.execute(user.update().where(user.c.id == user_id).values(email=canonical))


def downgrade():
    with op.batch_alter_table("cohort_member") as batch:
        batch.drop_column("left_at")
    # Invitations not yet accepted would become access nobody agreed to: they are dropped.
    educator = sa.table("cohort_educator", sa.column("accepted_at", sa.DateTime))
    op.execute(educator.delete().where(educator.c.accepted_at.is_(None)))
    with op.batch_alter_table("cohort_educator") as batch:
        batch.drop_constraint(op.f("ck_cohort_educator_owner_accepted"), type_="check")
        batch.drop_constraint(op.f("fk_cohort_educator_invited_by_id_user"), type_="foreignkey")
        batch.drop_column("invited_by_id")
        batch.drop_column("accepted_at")
    op.drop_index("ix_cohort_invitation_user", table_name="cohort_invitation")
    op.drop_table("cohort_invitation")
