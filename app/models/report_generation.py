"""A counter per cohort that changes whenever anything a progress report's totals count changes.

Database triggers (made by migrations/versions/d16b0000e001_report_totals.py, on SQLite and PostgreSQL)
add one to a cohort's counter, in the same transaction, whenever one of its members' lesson progress,
quiz summaries or marked attempts, its memberships, or a member's first sign-in change. The progress
report keeps each cohort's totals per process under the counter it read before counting them, so a
repeated view reads one row instead of counting the whole cohort again (app.services.reports.matrix).
Triggers rather than code in the services: every write path (ORM, bulk Core statements, cascades,
the command line) is covered without each having to remember. The same triggers write which student each
change was about (report_change, migration e17b0000b001), so after a change a process recounts only the
students who changed since its totals were counted instead of the whole cohort.
"""

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ReportGeneration(db.Model):
    """How many times a cohort's counted progress has changed (rows appear with the first change)."""

    __tablename__ = "report_generation"
    # No foreign key to the cohort: a cohort's deletion cascades to its memberships, whose triggers still
    # count here; keeping the row also means a cohort id can never see its counter start again.
    __table_args__ = (CheckConstraint("generation >= 0", name="generation"),)

    cohort_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportChange(db.Model):
    """Which of a cohort's students a change the report counts was about, and the cohort's counter after it (one row
    per cohort and student, its counter the latest; written by the same triggers, migration e17b0000b001)."""

    __tablename__ = "report_change"
    # No foreign keys, as above: the rows outlive the account's or the cohort's deletion they record. A deleted
    # account leaves only its id here (ids are never reused): every process needs the note to drop the student
    # from the totals it keeps, and no process can say when all have read it.
    __table_args__ = (
        CheckConstraint("generation >= 0", name="generation"),
        Index("ix_report_change_cohort_generation", "cohort_id", "generation"),
    )

    cohort_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)
