"""learner summaries: per learner and competency, kept as answers are recorded

The progress page read every answer a learner ever gave to work out mastery and calibration.
`answer_summary` now holds what it needs, one row per learner and competency plus one of the
learner's totals over every answer (competency_ref "*"): answers, right, harmful, the latest 20
outcomes, when the harmful answer that blocks mastery was given, and per confidence level the
answers and right answers. The app writes it in the same statement for all of them, in the same
transaction as the answers. The upgrade fills it from the answers already recorded, oldest first,
as the mastery rule reads them, so an upgraded database shows the same progress as before; the
downgrade drops it (nothing else refers to it).

Revision ID: d16a0000a001
Revises: c12f0ac0c002
Create Date: 2026-12-07 17:00:00

"""

import json

import sqlalchemy as sa
from alembic import op

revision = "d16a0000a001"
down_revision = "c12f0ac0c002"
branch_labels = None
depends_on = None

#: The latest outcomes kept per competency: the longest mastery window the settings allow.
RECENT_LENGTH = 20
EVERY_ANSWER = "*"
LEVELS = (1, 2, 3)
_ADDED = (
    "answered_count",
    "correct_count",
    "harmful_count",
    *(f"level{n}_{k}" for n in LEVELS for k in ("count", "correct")),
)
#: Rows inserted per statement while backfilling.
_CHUNK = 1000


def upgrade():
    op.create_table(
        "answer_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("competency_ref", sa.String(length=100), nullable=False),
        sa.Column("answered_count", sa.Integer(), nullable=False),
        sa.Column("correct_count", sa.Integer(), nullable=False),
        sa.Column("harmful_count", sa.Integer(), nullable=False),
        sa.Column("recent", sa.String(length=RECENT_LENGTH), nullable=False),
        sa.Column("blocked_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_answered_at", sa.DateTime(timezone=True), nullable=True),
        *(sa.Column(f"level{n}_{k}", sa.Integer(), nullable=False) for n in LEVELS for k in ("count", "correct")),
        sa.CheckConstraint(
            "correct_count BETWEEN 0 AND answered_count AND harmful_count BETWEEN 0 AND answered_count",
            name=op.f("ck_answer_summary_counts"),
        ),
        sa.CheckConstraint(
            f"length(recent) <= {RECENT_LENGTH} AND length(recent) <= answered_count",
            name=op.f("ck_answer_summary_recent"),
        ),
        sa.CheckConstraint(
            " AND ".join(f"level{n}_correct BETWEEN 0 AND level{n}_count" for n in LEVELS)
            + " AND "
            + " + ".join(f"level{n}_count" for n in LEVELS)
            + " <= answered_count",
            name=op.f("ck_answer_summary_levels"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_answer_summary_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_summary")),
        sa.UniqueConstraint("user_id", "competency_ref", name="uq_answer_summary_learner_competency"),
    )
    _backfill(op.get_bind())


def downgrade():
    op.drop_table("answer_summary")


# --- the backfill: every recorded answer, learner by learner, oldest first (answered_at, then id)

_response = sa.table(
    "item_response",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("competency_refs", sa.JSON),
    sa.column("is_correct", sa.Boolean),
    sa.column("grade", sa.String),
    sa.column("confidence", sa.Integer),
    sa.column("answered_at", sa.DateTime(timezone=True)),
)
_summary = sa.table(
    "answer_summary",
    *(sa.column(name, sa.Integer) for name in ("user_id", *_ADDED)),
    sa.column("competency_ref", sa.String),
    sa.column("recent", sa.String),
    sa.column("blocked_since", sa.DateTime(timezone=True)),
    sa.column("last_answered_at", sa.DateTime(timezone=True)),
)


def _learner_rows(user_id: int, answers) -> list[dict]:
    """One learner's summary rows from their answers (refs, right?, grade, confidence, when), oldest first.

    The same fold the app applies as answers are recorded (app/services/summaries.py), written out
    here so that the migration keeps working whatever the app's code becomes.
    """
    rows: dict[str, dict] = {}
    for refs, correct, grade, confidence, at in answers:
        for ref in (EVERY_ANSWER, *dict.fromkeys(refs)):
            row = rows.get(ref)
            if row is None:
                row = rows[ref] = {
                    "user_id": user_id,
                    "competency_ref": ref,
                    "recent": "",
                    "blocked_since": None,
                    **dict.fromkeys(_ADDED, 0),
                }
            row["answered_count"] += 1
            row["correct_count"] += int(correct)
            row["recent"] = (row["recent"] + ("1" if correct else "0"))[-RECENT_LENGTH:]
            row["last_answered_at"] = at
            if grade == "harmful":
                row["harmful_count"] += 1
                row["blocked_since"] = at
            elif correct:
                row["blocked_since"] = None
            if confidence in LEVELS:
                row[f"level{confidence}_count"] += 1
                row[f"level{confidence}_correct"] += int(correct)
    return [rows[ref] for ref in sorted(rows)]


def _backfill(bind) -> None:
    """Fill the table from the answers already recorded, a learner at a time, inserting in chunks."""
    query = (
        sa.select(
            _response.c.user_id,
            # As stored (JSON text): answers share a few dozen tag lists, each decoded once.
            sa.cast(_response.c.competency_refs, sa.Text),
            _response.c.is_correct,
            _response.c.grade,
            _response.c.confidence,
            _response.c.answered_at,
        )
        .order_by(_response.c.user_id, _response.c.answered_at, _response.c.id)
        .execution_options(stream_results=True, yield_per=_CHUNK)
    )
    decoded: dict[str | None, tuple[str, ...]] = {None: ()}
    pending: list[dict] = []
    learner, answers = None, []

    def finish() -> None:
        if learner is not None:
            pending.extend(_learner_rows(learner, answers))
        if len(pending) >= _CHUNK:
            bind.execute(_summary.insert(), pending)
            pending.clear()

    for user_id, refs, correct, grade, confidence, at in bind.execute(query):
        if user_id != learner:
            finish()
            learner, answers = user_id, []
        if refs not in decoded:
            decoded[refs] = tuple(json.loads(refs) or ())
        answers.append((decoded[refs], bool(correct), grade, confidence, at))
    finish()
    if pending:
        bind.execute(_summary.insert(), pending)
