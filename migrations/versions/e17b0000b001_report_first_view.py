"""report totals after a change: the report counter's triggers also write which student each change was about

Migration d16b0000e001 made triggers that add one to a cohort's counter (`report_generation`) whenever anything
the progress report counts changes for one of its members; a process keeps the cohort's totals under the
counter, but after any change it counted the whole cohort again. The same triggers now also write, in the
same transaction, the student the change was about and the cohort's counter after it (`report_change`, one
row per cohort and student, its counter the latest), so a process recounts only the students whose row
carries a counter above the one its totals were kept under and adjusts the totals by the difference.

The triggers themselves (names, tables, events) are those of d16b0000e001: on SQLite each is made again
with both statements, on PostgreSQL the two trigger functions are replaced. Nothing is backfilled: a
process counts a cohort in full the first time it shows it, then follows the changes from there.

Revision ID: e17b0000b001
Revises: e17a0000a001
Create Date: 2026-12-07 20:00:01

"""

import sqlalchemy as sa
from alembic import op

revision = "e17b0000b001"
down_revision = "e17a0000a001"
branch_labels = None
depends_on = None

#: As in d16b0000e001: table -> (how its rows name a member: the user id column, or "cohort" for memberships; the
#: columns an UPDATE must set to change the counts).
WATCHED = {
    "lesson_progress": ("user_id", ("user_id", "module_ref", "completed_at")),
    "quiz_progress": ("user_id", ("user_id", "quiz_ref", "is_passed")),
    "quiz_attempt": ("user_id", ("user_id", "quiz_ref", "mode", "submitted_at", "abandoned_at")),
    "cohort_member": ("cohort", ("cohort_id", "user_id", "removed_at")),
    "user": ("id", ("last_sign_in_at",)),
}

_BUMP = "ON CONFLICT (cohort_id) DO UPDATE SET generation = generation + 1"
_NOTE = "ON CONFLICT (cohort_id, user_id) DO UPDATE SET generation = excluded.generation"


def _names():
    for table in WATCHED:
        for when in ("insert", "update", "delete"):
            if not (table == "user" and when == "insert"):  # a new account is in no cohort yet
                yield table, when, f"report_generation_{table}_{when}"


def _sqlite_body(table: str, when: str, with_changes: bool) -> str:
    key, _ = WATCHED[table]
    row = "OLD" if when == "delete" else "NEW"
    if key == "cohort":
        # (cohort, student) pairs the change is about: the membership's, and its old one when it moved.
        moved = " UNION SELECT OLD.cohort_id, OLD.user_id" if when == "update" else ""
        pairs = f"SELECT {row}.cohort_id AS cohort_id, {row}.user_id AS user_id{moved}"
    else:
        users = f"{row}.{key}" + (f", OLD.{key}" if when == "update" else "")
        pairs = f"SELECT DISTINCT cohort_id, user_id FROM cohort_member WHERE user_id IN ({users})"
    # "WHERE true": SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT.
    body = (
        "INSERT INTO report_generation (cohort_id, generation) "
        f"SELECT DISTINCT cohort_id, 1 FROM ({pairs}) WHERE true {_BUMP};"
    )
    if with_changes:
        # After the counter moved: each pair noted with its cohort's new counter.
        body += (
            " INSERT INTO report_change (cohort_id, user_id, generation) SELECT p.cohort_id, p.user_id, g.generation "
            f"FROM ({pairs}) AS p JOIN report_generation AS g ON g.cohort_id = p.cohort_id WHERE true {_NOTE};"
        )
    return body


def _sqlite_triggers(with_changes: bool):
    for table, when, name in _names():
        key, columns = WATCHED[table]
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        # An account is deleted before its memberships go (cascade): count its cohorts while they are there.
        moment = "BEFORE" if table == "user" and when == "delete" else "AFTER"
        event = f"UPDATE OF {', '.join(columns)}" if when == "update" else when.upper()
        body = _sqlite_body(table, when, with_changes)
        op.execute(f'CREATE TRIGGER {name} {moment} {event} ON "{table}" FOR EACH ROW BEGIN {body} END')


def _pg_functions(with_changes: bool) -> dict[str, str]:
    note_users = (
        """
          -- Which students: each noted with the cohort's counter after this change.
          INSERT INTO report_change (cohort_id, user_id, generation)
            SELECT DISTINCT m.cohort_id, m.user_id, g.generation
            FROM cohort_member AS m JOIN report_generation AS g ON g.cohort_id = m.cohort_id
            WHERE m.user_id = ANY(who) ORDER BY 1, 2
            ON CONFLICT (cohort_id, user_id) DO UPDATE SET generation = EXCLUDED.generation;"""
        if with_changes
        else ""
    )
    note_members = (
        """
          INSERT INTO report_change (cohort_id, user_id, generation)
            SELECT DISTINCT p.c, p.u, g.generation
            FROM unnest(which, whom) AS p(c, u) JOIN report_generation AS g ON g.cohort_id = p.c
            ORDER BY 1, 2
            ON CONFLICT (cohort_id, user_id) DO UPDATE SET generation = EXCLUDED.generation;"""
        if with_changes
        else ""
    )
    return {
        # A member's row changed: every cohort they belong (or belonged) to.
        "report_generation_by_user": f"""
        DECLARE who integer[];
        BEGIN
          IF TG_OP = 'INSERT' THEN who := ARRAY[(to_jsonb(NEW) ->> TG_ARGV[0])::integer];
          ELSIF TG_OP = 'DELETE' THEN who := ARRAY[(to_jsonb(OLD) ->> TG_ARGV[0])::integer];
          ELSE who := ARRAY[(to_jsonb(NEW) ->> TG_ARGV[0])::integer, (to_jsonb(OLD) ->> TG_ARGV[0])::integer];
          END IF;
          -- In cohort order, so that two transactions counting the same cohorts take their rows' locks in one order.
          INSERT INTO report_generation (cohort_id, generation)
            SELECT DISTINCT cohort_id, 1 FROM cohort_member WHERE user_id = ANY(who) ORDER BY cohort_id
            ON CONFLICT (cohort_id) DO UPDATE SET generation = report_generation.generation + 1;{note_users}
          -- The account's deletion runs this BEFORE it (see d16b0000e001): NULL would cancel the deletion.
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END""",
        # A membership changed: its cohort (both, if it moved).
        "report_generation_by_cohort": f"""
        DECLARE which integer[]; whom integer[];
        BEGIN
          IF TG_OP = 'INSERT' THEN which := ARRAY[NEW.cohort_id]; whom := ARRAY[NEW.user_id];
          ELSIF TG_OP = 'DELETE' THEN which := ARRAY[OLD.cohort_id]; whom := ARRAY[OLD.user_id];
          ELSE which := ARRAY[NEW.cohort_id, OLD.cohort_id]; whom := ARRAY[NEW.user_id, OLD.user_id];
          END IF;
          INSERT INTO report_generation (cohort_id, generation)
            SELECT DISTINCT c, 1 FROM unnest(which) AS c ORDER BY c
            ON CONFLICT (cohort_id) DO UPDATE SET generation = report_generation.generation + 1;{note_members}
          RETURN NULL;
        END""",
    }


def _pg_replace(with_changes: bool):
    for function, body in _pg_functions(with_changes).items():
        op.execute(f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body${body}$body$")


def upgrade():
    op.create_table(
        "report_change",
        sa.Column("cohort_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("generation >= 0", name=op.f("ck_report_change_generation")),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_report_change")),
    )
    op.create_index("ix_report_change_cohort_generation", "report_change", ["cohort_id", "generation"])
    if op.get_bind().dialect.name == "postgresql":
        _pg_replace(with_changes=True)
    else:
        _sqlite_triggers(with_changes=True)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _pg_replace(with_changes=False)
    else:
        _sqlite_triggers(with_changes=False)
    op.drop_index("ix_report_change_cohort_generation", table_name="report_change")
    op.drop_table("report_change")
