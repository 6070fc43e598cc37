"""Per-learner summaries of every graded answer, kept up to date as answers are recorded.

The progress page reads these few rows instead of every answer the learner ever gave, so it costs
the same after 30 answers or 3,000. They count every graded answer (assessed and practice, quiz
items and conversation replies), as the mastery rule does; `competency_progress` (the educators'
summary) counts assessed answers only. Written by `app.services.summaries.record` in the same
statement for every competency and the learner's totals, in the same transaction as the answers;
`migrations/versions/d16a0000a001_learner_summaries.py` backfills them.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

#: How many of the latest outcomes are kept: the longest mastery window the settings allow.
RECENT_LENGTH = 20
#: The `competency_ref` of a learner's totals over every answer (tagged with any competency or none).
EVERY_ANSWER = "*"
#: The confidence levels counted (1 not sure, 2 fairly sure, 3 very sure).
LEVELS = (1, 2, 3)


class AnswerSummary(db.Model):
    """One learner's graded answers counting for one competency (or, under EVERY_ANSWER, all of them).

    Counts, the latest outcomes, when the harmful answer that blocks mastery was given, and per
    confidence level how many answers were given and how many were right (calibration).
    """

    __tablename__ = "answer_summary"
    __table_args__ = (
        UniqueConstraint("user_id", "competency_ref", name="uq_answer_summary_learner_competency"),
        CheckConstraint(
            "correct_count BETWEEN 0 AND answered_count AND harmful_count BETWEEN 0 AND answered_count",
            name="counts",
        ),
        CheckConstraint(f"length(recent) <= {RECENT_LENGTH} AND length(recent) <= answered_count", name="recent"),
        CheckConstraint(
            " AND ".join(f"level{n}_correct BETWEEN 0 AND level{n}_count" for n in LEVELS)
            + " AND "
            + " + ".join(f"level{n}_count" for n in LEVELS)
            + " <= answered_count",
            name="levels",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    competency_ref: Mapped[str] = mapped_column(String(100))
    answered_count: Mapped[int] = mapped_column(default=0)
    correct_count: Mapped[int] = mapped_column(default=0)
    harmful_count: Mapped[int] = mapped_column(default=0)
    #: The latest outcomes, oldest first: "1" right, "0" not (at most RECENT_LENGTH of them).
    recent: Mapped[str] = mapped_column(String(RECENT_LENGTH), default="")
    #: When the harmful answer that blocks mastery was given: the latest harmful one with no right answer since.
    blocked_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Answers given "not sure", "fairly sure" and "very sure", and how many of each were right.
    level1_count: Mapped[int] = mapped_column(default=0)
    level1_correct: Mapped[int] = mapped_column(default=0)
    level2_count: Mapped[int] = mapped_column(default=0)
    level2_correct: Mapped[int] = mapped_column(default=0)
    level3_count: Mapped[int] = mapped_column(default=0)
    level3_correct: Mapped[int] = mapped_column(default=0)
