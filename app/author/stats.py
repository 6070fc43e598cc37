"""Item statistics beside the item in the editor: the report's item analysis, per cohort the educator teaches."""

from dataclasses import dataclass

from sqlalchemy import select

from app.content import Catalog
from app.extensions import db
from app.models import AuthoredQuiz, QuizAttempt, User
from app.services.cohorts import cohorts_for, member_ids
from app.services.reports.analysis import ItemStats, item_analysis


@dataclass(frozen=True)
class CohortItemStats:
    """One cohort's figures for one item of the published quiz (answers to its newest version only)."""

    cohort_name: str
    cohort_id: int
    stats: ItemStats
    version_number: int | None


def item_statistics(user: User, quiz: AuthoredQuiz, item_id: str, catalog: Catalog) -> list[CohortItemStats]:
    """Facility, discrimination and the commonest wrong answer of the item, in each of the user's cohorts that took it."""
    published = catalog.quiz(quiz.ref)
    if published is None or published.item(item_id) is None:
        return []
    latest = quiz.latest
    found = []
    for cohort in cohorts_for(user):
        took = db.session.scalar(
            select(QuizAttempt.id)
            .where(
                QuizAttempt.quiz_ref == quiz.ref,
                QuizAttempt.submitted_at.is_not(None),
                QuizAttempt.user_id.in_(member_ids(cohort.id)),
            )
            .limit(1)
        )
        if took is None:
            continue
        analysis = item_analysis(catalog, cohort.id, published)
        stats = next((s for s in analysis.items if s.item.id == item_id), None)
        if stats is not None and (stats.responses or stats.changed):
            found.append(CohortItemStats(cohort.name, cohort.id, stats, latest.number if latest else None))
    return found
