"""Which published authored quizzes and conversations a learner was given: through their cohorts' courses, or site-wide.

Downstream of the catalog (competency practice, the mastery "items available" counts), authored
content counts for a learner exactly like file content, but only the authored content they were
given: a private quiz never reaches students outside its courses. Search stays shipped + site-wide.
"""

from sqlalchemy import bindparam, select

from app.content import Catalog
from app.content.authored_ids import is_authored
from app.extensions import db
from app.models import Assignment, AuthoredQuiz, CohortMember, Course, CourseItem, QuizAttempt

# Built once with a bound parameter, so its compiled form is cached (the progress page runs it).
_GIVEN = (
    select(CourseItem.item_ref)
    .join(Course, Course.id == CourseItem.course_id)
    .join(Assignment, Assignment.course_id == CourseItem.course_id)
    .join(CohortMember, CohortMember.cohort_id == Assignment.cohort_id)
    .where(
        CohortMember.user_id == bindparam("user_id"),
        CohortMember.removed_at.is_(None),
        Course.is_published.is_(True),
        CourseItem.kind.in_(("quiz", "conversation")),
    )
    .union(select(AuthoredQuiz.ref).where(AuthoredQuiz.is_site_wide.is_(True)))
)


def published_refs(catalog: Catalog) -> frozenset[str]:
    """Ids of the authored quizzes and conversations published (not withdrawn) in this catalog: no query."""
    every = (*catalog.quizzes, *catalog.conversations)
    return frozenset(q.id for q in every if is_authored(q.id) and q.id not in catalog.withdrawn)


def given_to(user_id: int, catalog: Catalog) -> frozenset[str]:
    """Ids of the published authored content the learner was given (one query; none when nothing is published)."""
    published = published_refs(catalog)
    if not published:
        return frozenset()
    return published.intersection(db.session.scalars(_GIVEN, {"user_id": user_id}))


def refuses_new_attempt(user_id: int, catalog: Catalog, ref: str, mode: str, can_resume: bool = True) -> bool:
    """Whether starting this quiz or conversation is refused: it was withdrawn and the learner has no open attempt
    in this mode to go back to, or may not (`can_resume` False: starting again). No query unless withdrawn."""
    if ref not in catalog.withdrawn:
        return False
    if not can_resume:
        return True
    found = db.session.scalar(
        select(QuizAttempt.id).where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_ref == ref,
            QuizAttempt.mode == mode,
            QuizAttempt.submitted_at.is_(None),
            QuizAttempt.abandoned_at.is_(None),
        )
    )
    return found is None
