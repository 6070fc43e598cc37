"""One learner's record for a cohort's educators: attempts at the assigned work, answers and lessons."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.content import Catalog
from app.content.conversations import Conversation
from app.extensions import db
from app.models import (
    ItemResponse,
    LessonProgress,
    QuizAttempt,
    User,
)
from app.models.types import MAX_ID
from app.services.reports.people import current_member
from app.services.reports.scope import assigned_work
from app.services.reports.text import (
    activity,
    activity_kind,
    activity_title,
    answer_text,
    duration_text,
    grade_label,
    item_label,
)

# --- 2. one learner's record


@dataclass(frozen=True)
class ResponseView:
    """One answer of an attempt, readable."""

    position: int
    label: str
    answer: str
    grade: str | None
    grade_label: str
    score: float
    max_score: float
    is_correct: bool
    competencies: list[str]
    is_changed: bool


@dataclass(frozen=True)
class AttemptView:
    """One attempt at a quiz or conversation, with its answers."""

    attempt: QuizAttempt
    title: str
    kind: str
    responses: list[ResponseView]
    ending: str | None

    @property
    def status(self) -> str:
        """Submitted (passed or not; practice is finished), in progress, or set aside."""
        if self.attempt.submitted_at is not None:
            if self.attempt.is_practice:
                return "Practice, finished"
            return "Passed" if self.attempt.is_passed else "Not passed"
        if self.attempt.abandoned_at is not None:
            return "Set aside"
        return "Practice, in progress" if self.attempt.is_practice else "In progress"

    @property
    def duration(self) -> str:
        """From start to submission (or to being set aside)."""
        return duration_text(self.attempt.started_at, self.attempt.submitted_at or self.attempt.abandoned_at)


@dataclass(frozen=True)
class LessonView:
    """One lesson the learner opened."""

    module_title: str
    lesson_title: str
    row: LessonProgress

    @property
    def span(self) -> str:
        """From the first view to the last (Alliance does not time reading itself)."""
        return duration_text(self.row.first_viewed_at, self.row.last_viewed_at)


ATTEMPTS_PAGE_SIZE = 20


@dataclass(frozen=True)
class LearnerReport:
    """What a cohort's educators may see of one learner: a page of attempts with answers, and lessons."""

    user: User
    attempts: list[AttemptView]
    lessons: list[LessonView]
    attempts_total: int = 0
    submitted_total: int = 0
    page: int = 1
    activities: list[tuple[str, str]] = field(default_factory=list)  # (ref, title) of assigned activities
    activity_ref: str | None = None

    @property
    def pages(self) -> int:
        """How many pages of attempts there are (at least one)."""
        return max(1, -(-self.attempts_total // ATTEMPTS_PAGE_SIZE))

    @property
    def first(self) -> int:
        """The number of the first attempt on this page."""
        return (self.page - 1) * ATTEMPTS_PAGE_SIZE + 1


def learner(
    catalog: Catalog, cohort_id: int, user_id: int, page: int = 1, activity_ref: str | None = None
) -> LearnerReport | None:
    """A current member's record of the cohort's assigned work, a page of attempts at a time (six queries);
    None for anyone who is not a current member, or for a page past the last."""
    user = current_member(cohort_id, user_id)
    if user is None or not 0 < page <= MAX_ID // ATTEMPTS_PAGE_SIZE:
        return None
    work = assigned_work(cohort_id)
    if activity_ref is not None and not work.covers_activity(activity_ref):
        return None
    seen = [QuizAttempt.user_id == user.id, work.attempts()]
    if activity_ref is not None:
        seen.append(QuizAttempt.quiz_ref == activity_ref)
    total, submitted = db.session.execute(
        select(func.count(), func.count(QuizAttempt.submitted_at)).select_from(QuizAttempt).where(*seen)
    ).one()
    if page > 1 and (page - 1) * ATTEMPTS_PAGE_SIZE >= total:
        return None
    attempts = db.session.scalars(
        select(QuizAttempt)
        .where(*seen)
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
        .limit(ATTEMPTS_PAGE_SIZE)
        .offset((page - 1) * ATTEMPTS_PAGE_SIZE)
    ).all()
    by_attempt: dict[int, list[ResponseView]] = {}
    if attempts:
        for r in db.session.scalars(
            select(ItemResponse)
            .where(ItemResponse.attempt_id.in_([a.id for a in attempts]))
            .order_by(ItemResponse.attempt_id, ItemResponse.position)
        ):
            by_attempt.setdefault(r.attempt_id, []).append(_response_view(catalog, r, r.quiz_ref))
    views = []
    for attempt in attempts:
        found = activity(catalog, attempt.quiz_ref)
        ending = None
        if isinstance(found, Conversation) and attempt.ending_ref:
            reached = found.ending(attempt.ending_ref)
            ending = reached.title if reached else attempt.ending_ref
        views.append(
            AttemptView(
                attempt,
                activity_title(catalog, attempt.quiz_ref),
                activity_kind(catalog, attempt.quiz_ref),
                by_attempt.get(attempt.id, []),
                ending,
            )
        )
    lessons = db.session.scalars(
        select(LessonProgress).where(LessonProgress.user_id == user.id, work.lessons())
    ).all()
    return LearnerReport(
        user,
        views,
        _lessons_in_catalog_order(catalog, lessons),
        attempts_total=total,
        submitted_total=submitted,
        page=page,
        activities=sorted(((ref, activity_title(catalog, ref)) for ref in work.activity_ids), key=lambda a: a[1]),
        activity_ref=activity_ref,
    )


def _response_view(catalog: Catalog, r: ItemResponse, quiz_ref: str) -> ResponseView:
    found = activity(catalog, quiz_ref)
    if isinstance(found, Conversation):
        current_version = found.version
    else:
        item = found.item(r.item_ref) if found else None
        current_version = item.version if item else None
    return ResponseView(
        position=r.position,
        label=item_label(catalog, quiz_ref, r.item_ref, r.position),
        answer=answer_text(catalog, quiz_ref, r.item_ref, r.answer),
        grade=r.grade,
        grade_label=grade_label(r.grade),
        score=r.score,
        max_score=r.max_score,
        is_correct=r.is_correct,
        competencies=list(r.competency_refs or []),
        is_changed=current_version != r.item_version,
    )


def _lessons_in_catalog_order(catalog: Catalog, rows: Sequence[LessonProgress]) -> list[LessonView]:
    order = {(m.id, lesson.id): (m.order, lesson.position) for m in catalog.modules for lesson in m.lessons}
    views = []
    for row in sorted(rows, key=lambda r: (order.get((r.module_ref, r.lesson_ref), (10**6, 0)), r.lesson_ref)):
        module = catalog.module(row.module_ref)
        lesson = module.lesson(row.lesson_ref) if module else None
        views.append(
            LessonView(
                module.title if module else row.module_ref,
                lesson.title if lesson else f"{row.lesson_ref} (no longer offered)",
                row,
            )
        )
    return views


