"""ids are never reused: people, learning events and attempts keep their ids after a deletion

Learning records derive statement ids, account names and registrations from these ids. SQLite
hands the highest id out again once its row is deleted (say, with an account) unless the table
is declared AUTOINCREMENT; PostgreSQL's sequences never go back. So on SQLite the three tables
are rebuilt with AUTOINCREMENT, their sequence starting after the highest id ever used.

Revision ID: b1d5e7a9c3f2
Revises: 4f7a1c2e8b90
Create Date: 2026-11-22 19:30:00

"""

from alembic import op

revision = "b1d5e7a9c3f2"
down_revision = "4f7a1c2e8b90"
branch_labels = None
depends_on = None

TABLES = ("user", "quiz_attempt", "learning_event")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
