"""Item statistics beside the item in the editor: the report's item analysis, per cohort the educator teaches;
and for a conversation node, how often each reply was chosen on each version."""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from app.content import Catalog
from app.extensions import db
from app.models import AuthoredQuiz, CohortMember, ItemResponse, QuizAttempt, User
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


@dataclass(frozen=True)
class ReplyCounts:
    """How often one reply of a conversation node was chosen, per published version (by version number)."""

    reply_id: str
    text: str
    chosen: dict[int, int]


@dataclass(frozen=True)
class NodeStats:
    """Each reply's choices at one node, with the versions they were made on and each version's total."""

    versions: list[int]
    totals: dict[int, int]
    replies: list[ReplyCounts]

    def share(self, row: ReplyCounts, version: int) -> int | None:
        """The reply's share of the node's answers on that version, 0-100 (None with no answers)."""
        total = self.totals.get(version, 0)
        return round(100 * row.chosen.get(version, 0) / total) if total else None


def reply_statistics(user: User, quiz: AuthoredQuiz, node_id: str, node: dict) -> NodeStats | None:
    """How often each reply at the node was chosen, per version, in the assessed attempts of the user's cohorts'
    learners (one query for the answers); None when none of them answered it yet.

    Replies are matched by id, so a reply's counts follow it through versions; replies no longer in the draft are
    listed by id after the draft's own.
    """
    cohorts = cohorts_for(user)
    if not cohorts:
        return None
    learners = select(CohortMember.user_id).where(
        CohortMember.cohort_id.in_([c.id for c in cohorts]), CohortMember.removed_at.is_(None)
    )
    rows = db.session.execute(
        select(ItemResponse.item_version, ItemResponse.answer)
        .join(QuizAttempt, QuizAttempt.id == ItemResponse.attempt_id)
        .where(
            ItemResponse.quiz_ref == quiz.ref,
            ItemResponse.item_ref == node_id,
            ItemResponse.item_type == "reply",
            QuizAttempt.mode == "assessed",
            ItemResponse.user_id.in_(learners),
        )
    ).all()
    number_of = {v.content_version: v.number for v in quiz.versions}
    counts: Counter[tuple[int, str]] = Counter()
    for content_version, answer in rows:
        if content_version in number_of and isinstance(answer, str):  # a draft played in preview is never recorded
            counts[(number_of[content_version], answer)] += 1
    if not counts:
        return None
    versions = sorted({number for number, _ in counts})
    totals = {v: sum(n for (number, _), n in counts.items() if number == v) for v in versions}
    drafted = [(r.get("id"), str(r.get("text") or "")) for r in node.get("replies") or [] if isinstance(r, dict)]
    known = [reply_id for reply_id, _ in drafted]
    gone = sorted({reply_id for _, reply_id in counts} - set(known))
    replies = [
        ReplyCounts(str(reply_id), text, {v: counts[(v, reply_id)] for v in versions if counts[(v, reply_id)]})
        for reply_id, text in [*drafted, *((g, "(no longer in the draft)") for g in gone)]
        if isinstance(reply_id, str)
    ]
    return NodeStats(versions, totals, replies)
