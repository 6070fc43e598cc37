"""The SQL behind the totals a process keeps (app.services.reports.kept_totals): every current student of a cohort as
one row of what their share of the totals is made of, and the facts of the students a change was noted about since
a counter. Built once per course plan, like the rest of the matrix's statements (app.services.reports.matrix_queries,
whose pieces these share).
"""

from functools import lru_cache

from sqlalchemy import (
    Float,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    null,
    select,
    union_all,
)

from app.extensions import db
from app.models import CohortMember, QuizAttempt, QuizProgress, ReportChange, User
from app.services.reports.matrix_queries import _COHORT, Plan, _fact_parts, _in_cohort, _lessons_per_module, _tag


def _with_people(who, plan: Plan, people):
    # One flat UNION ALL: SQLite reads no parenthesised compound SELECT.
    parts = _fact_parts(who, plan)
    return union_all(*parts, people) if parts else people


@lru_cache(maxsize=64)
def _cohort_shares_statement(plan: Plan):
    people = select(User.id, case((User.last_sign_in_at.is_(None), 1), else_=0).label("never")).where(
        _in_cohort(User.id)
    )
    found = people.subquery("people")
    joined = found
    columns = [found.c.id, found.c.never]
    # One column per item, one row per student: a tenth of the rows `facts` gives for a whole cohort.
    if plan.modules:
        # Counted per (module, student) in the order of the covering index, then turned into a column per module.
        per_module = _lessons_per_module(_in_cohort, plan).subquery("per_module")
        lessons = (
            select(
                per_module.c.user_id,
                *[
                    func.max(case((per_module.c.module_ref == module, per_module.c.done))).label(f"m{n}")
                    for n, module in enumerate(plan.modules)
                ],
            )
            .group_by(per_module.c.user_id)
            .subquery("lessons")
        )
        joined = joined.outerjoin(lessons, lessons.c.user_id == found.c.id)
        columns += [lessons.c[f"m{n}"] for n in range(len(plan.modules))]
    if plan.activities:
        ref, passed = QuizProgress.quiz_ref, case((QuizProgress.is_passed.is_(True), 2), else_=1)
        summaries = (
            select(
                QuizProgress.user_id,
                *[func.max(case((ref == quiz, passed))).label(f"q{n}") for n, quiz in enumerate(plan.activities)],
            )
            .where(_in_cohort(QuizProgress.user_id), ref.in_(plan.activities))
            .group_by(QuizProgress.user_id)
            .subquery("summaries")
        )
        ref = QuizAttempt.quiz_ref
        attempts = (
            select(
                QuizAttempt.user_id,
                *[func.max(case((ref == quiz, 1), else_=0)).label(f"a{n}") for n, quiz in enumerate(plan.activities)],
            )
            .where(
                _in_cohort(QuizAttempt.user_id),
                ref.in_(plan.activities),
                QuizAttempt.mode == "assessed",
                QuizAttempt.is_open(),
            )
            .group_by(QuizAttempt.user_id)
            .subquery("attempts")
        )
        joined = joined.outerjoin(summaries, summaries.c.user_id == found.c.id).outerjoin(
            attempts, attempts.c.user_id == found.c.id
        )
        for n in range(len(plan.activities)):
            columns += [summaries.c[f"q{n}"], attempts.c[f"a{n}"]]
    return select(*columns).select_from(joined)


def cohort_shares(cohort_id: int, plan: Plan) -> list:
    """Every current student of the cohort as one row (one statement): id, never signed in (1 or 0), then per module
    lessons completed (NULL: none opened), then per activity 2 passed, 1 submitted (NULL: neither) and whether a
    marked attempt is open (NULL or 0: none)."""
    return db.session.execute(_cohort_shares_statement(plan), {"cohort_id": cohort_id}).all()


@lru_cache(maxsize=64)
def _changed_facts_statement(plan: Plan):
    since = bindparam("since", type_=Integer)
    noted = and_(ReportChange.cohort_id == _COHORT, ReportChange.generation > since)
    changed = select(ReportChange.user_id).where(noted)
    current = exists().where(
        CohortMember.cohort_id == _COHORT,
        CohortMember.user_id == ReportChange.user_id,
        CohortMember.removed_at.is_(None),
    )
    # From the notes, not the accounts: a deleted account's student is still named, as no longer a member.
    people = (
        select(
            _tag("p"),
            ReportChange.user_id,
            literal_column("''"),
            case((User.last_sign_in_at.is_(None), 1), else_=0),
            cast(null(), Float),
            case((current, 1), else_=0),
        )
        .select_from(ReportChange)
        .outerjoin(User, User.id == ReportChange.user_id)
        .where(noted)
    )
    return _with_people(lambda column: column.in_(changed), plan, people)


def changed_facts(cohort_id: int, plan: Plan, since: int) -> list:
    """The students a change noted after the cohort's counter read `since` was about (see ReportChange), as
    ("p", ...) rows saying whether each is still a current member, and every fact about them (one statement)."""
    return db.session.execute(_changed_facts_statement(plan), {"cohort_id": cohort_id, "since": since}).all()
