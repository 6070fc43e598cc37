"""A counter per cohort that changes whenever anything a progress report's totals count changes.

Database triggers (made by migrations/versions/d16b0000e001_report_totals.py, on SQLite and PostgreSQL)
add one to a cohort's counter, in the same transaction, whenever one of its members' lesson progress,
quiz summaries or marked attempts, its memberships, or a member's first sign-in change. The progress
report keeps each cohort's totals per process under the counter it read before counting them, so a
repeated view reads one row instead of counting the whole cohort again (app.services.reports.matrix).
Triggers rather than code in the services: every write path (ORM, bulk Core statements, cascades,
the command line) is covered without each having to remember.
"""

from sqlalchemy import BigInteger, CheckConstraint, Integer
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
