"""The progress matrix's SQL: a page of students, the facts behind their cells, and the whole cohort's totals.

Each function is one statement whatever the cohort's size. The cohort's students are named by the
`cohorts.member_ids` subquery; a page's students by their (at most a page of) ids. Totals are counted
by the database (GROUP BY), so the cost in Python does not grow with the cohort. Each statement is built
once per course plan (and kept, a few dozen at most) with the cohort and the page as bound parameters:
building the SQL anew every request cost more than running it on a small cohort.
"""

from collections.abc import Iterator
from dataclasses import dataclass
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
from app.models import LessonProgress, QuizAttempt, QuizProgress, ReportGeneration, User
from app.services.cohorts import member_ids

#: Which students a page lists: everyone, those who have not completed the course, those who never signed in.
SHOW_CHOICES = ("", "incomplete", "never-signed-in")


@dataclass(frozen=True)
class Plan:
    """What the SQL needs of a course, worked out once a request: its module and activity ids, lesson counts and
    which items the completion rule counts."""

    #: (module id, its lessons in the catalog) pairs (0 lessons: no longer offered, never completed).
    lessons: tuple[tuple[str, int], ...]
    activities: tuple[str, ...]
    required_modules: tuple[str, ...]
    required_activities: tuple[str, ...]

    @property
    def modules(self) -> tuple[str, ...]:
        """The course's module ids."""
        return tuple(ref for ref, _ in self.lessons)

    @property
    def required(self) -> int:
        """How many items the completion rule counts."""
        return len(self.required_modules) + len(self.required_activities)


@dataclass(frozen=True)
class Counted:
    """The whole cohort, counted in SQL: students, those never signed in and those who completed the course, and per
    item the counts behind each state."""

    students: int = 0
    never_signed_in: int = 0
    complete: int = 0
    #: Module id -> (students who completed it, students with any lesson row).
    modules: dict[str, tuple[int, int]] | None = None
    #: Activity id -> (students who passed it, students with a submitted attempt).
    activities: dict[str, tuple[int, int]] | None = None
    #: Activity id -> students with only an open (unsubmitted) marked attempt.
    open_only: dict[str, int] | None = None


def _tag(text: str):
    # A constant in the SQL text, not a bound parameter: PostgreSQL must know each UNION column's type.
    return literal_column(f"'{text}'")


#: The cohort, bound when a statement runs: statements are built once and reused for every cohort.
_COHORT = bindparam("cohort_id", type_=Integer)


def _members():
    return member_ids(_COHORT)


def _in_cohort(column):
    return column.in_(_members())


def _lessons_per_module(who, plan: Plan):
    """SQL: one row per (module, student) with lessons completed and whether the module is completed."""
    lessons = case(dict(plan.lessons), value=LessonProgress.module_ref, else_=0)
    done = func.count(LessonProgress.completed_at)
    return (
        select(
            LessonProgress.user_id,
            LessonProgress.module_ref,
            done.label("done"),
            case((and_(lessons > 0, done >= lessons), 1), else_=0).label("is_done"),
        )
        .where(who(LessonProgress.user_id), LessonProgress.module_ref.in_(plan.modules))
        # In the order of ix_lesson_progress_module_user_done, which covers the query.
        .group_by(LessonProgress.module_ref, LessonProgress.user_id)
    )


def _complete_students(plan: Plan, per_module):
    """SQL: the ids of the cohort's students who have done every required item (call only when the course has
    required items)."""
    parts = []
    if plan.required_modules:
        parts.append(
            select(per_module.c.user_id).where(
                per_module.c.module_ref.in_(plan.required_modules), per_module.c.is_done == 1
            )
        )
    if plan.required_activities:
        parts.append(
            select(QuizProgress.user_id).where(
                _in_cohort(QuizProgress.user_id),
                QuizProgress.quiz_ref.in_(plan.required_activities),
                QuizProgress.is_passed.is_(True),
            )
        )
    done = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return select(done.c.user_id).group_by(done.c.user_id).having(func.count() == plan.required)


@lru_cache(maxsize=64)
def _page_statement(plan: Plan, show: str):
    conditions = [_in_cohort(User.id)]
    if show == "never-signed-in":
        conditions.append(User.last_sign_in_at.is_(None))
    elif show == "incomplete" and plan.required:
        per_module = _lessons_per_module(_in_cohort, plan).cte("per_module") if plan.modules else None
        conditions.append(User.id.not_in(_complete_students(plan, per_module)))
    # The cohort's counter comes with the page, read before the totals are (see kept_totals).
    generation = select(ReportGeneration.generation).where(ReportGeneration.cohort_id == _COHORT).scalar_subquery()
    return (
        select(
            User.id,
            User.display_name,
            User.email,
            User.last_sign_in_at,
            func.count().over().label("matched"),
            func.coalesce(generation, 0).label("generation"),
        )
        .where(*conditions)
        .order_by(User.display_name, User.id)
        .limit(bindparam("size", type_=Integer))
        .offset(bindparam("skip", type_=Integer))
    )


def page_of_students(
    cohort_id: int, plan: Plan, show: str, page: int, size: int
) -> tuple[list[tuple[int, str, str, object]], int, int | None]:
    """One page of the students `show` picks, by name: (id, name, email, last signed in) each, how many it picks in
    all, and the cohort's report counter (None on an empty page) (one statement)."""
    rows = db.session.execute(
        _page_statement(plan, show), {"cohort_id": cohort_id, "size": size, "skip": (page - 1) * size}
    ).all()
    if not rows:
        return [], 0, None
    return [tuple(row[:4]) for row in rows], rows[0].matched, rows[0].generation


def facts(who, plan: Plan):
    """SQL: every fact a cell is made of, for the students `who` picks, as rows (tag, user_id, ref, a, b, c):
    "l" lessons completed (a) in a module a student opened; "q" a submitted activity's summary (a: passed, b: best
    percent, c: attempts); "o" an open marked attempt (practice is the learner's own and never shows). None for a
    course without items."""
    parts = _fact_parts(who, plan)
    if not parts:
        return None
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _fact_parts(who, plan: Plan) -> list:
    parts = []
    if plan.modules:
        parts.append(
            select(
                _tag("l").label("tag"),
                LessonProgress.user_id,
                LessonProgress.module_ref.label("ref"),
                func.count(LessonProgress.completed_at).label("a"),
                cast(null(), Float).label("b"),
                literal_column("0").label("c"),
            )
            .where(who(LessonProgress.user_id), LessonProgress.module_ref.in_(plan.modules))
            .group_by(LessonProgress.module_ref, LessonProgress.user_id)
        )
    if plan.activities:
        parts.append(
            # Labelled like the lessons' part: a course of quizzes alone has no lessons' part to name the columns.
            select(
                _tag("q").label("tag"),
                QuizProgress.user_id,
                QuizProgress.quiz_ref.label("ref"),
                cast(QuizProgress.is_passed, Integer).label("a"),
                cast(QuizProgress.best_percent, Float).label("b"),
                QuizProgress.attempt_count.label("c"),
            ).where(who(QuizProgress.user_id), QuizProgress.quiz_ref.in_(plan.activities))
        )
        parts.append(
            select(
                _tag("o"),
                QuizAttempt.user_id,
                QuizAttempt.quiz_ref,
                literal_column("0"),
                cast(null(), Float),
                literal_column("0"),
            )
            .where(
                who(QuizAttempt.user_id),
                QuizAttempt.quiz_ref.in_(plan.activities),
                QuizAttempt.mode == "assessed",
                QuizAttempt.is_open(),
            )
            .distinct()
        )
    return parts


@lru_cache(maxsize=64)
def _page_facts_statement(plan: Plan):
    return facts(lambda column: column.in_(bindparam("ids", expanding=True)), plan)


def page_facts(user_ids: list[int], plan: Plan) -> list:
    """The facts behind a page's cells (one statement; none without students or items)."""
    query = _page_facts_statement(plan) if user_ids else None
    return db.session.execute(query, {"ids": user_ids}).all() if query is not None else []


@lru_cache(maxsize=64)
def _stream_statements(plan: Plan):
    order = (User.display_name, User.id)
    people = select(User.id, User.display_name, User.email, User.last_sign_in_at).where(_in_cohort(User.id))
    query = facts(_in_cohort, plan)
    if query is None:
        return people.order_by(*order), None
    found = query.subquery()
    return people.order_by(*order), select(found).join(User, User.id == found.c.user_id).order_by(*order)


def cohort_stream(cohort_id: int, plan: Plan, batch: int) -> tuple[Iterator, Iterator]:
    """Every current student by name and every fact about them in the same order, each read `batch` rows at a time
    (two statements read side by side, so memory stays flat however large the cohort)."""
    people, ordered = _stream_statements(plan)
    streamed = {"yield_per": batch}
    found = db.session.execute(people, {"cohort_id": cohort_id}, execution_options=streamed)
    if ordered is None:
        return iter(found), iter(())
    return iter(found), iter(db.session.execute(ordered, {"cohort_id": cohort_id}, execution_options=streamed))


@lru_cache(maxsize=64)
def _totals_statement(plan: Plan):
    parts = [
        select(
            _tag("s").label("tag"),
            literal_column("''").label("ref"),
            func.count().label("a"),
            func.coalesce(func.sum(case((User.last_sign_in_at.is_(None), 1), else_=0)), 0).label("b"),
        ).where(_in_cohort(User.id))
    ]
    per_module = _lessons_per_module(_in_cohort, plan).cte("per_module") if plan.modules else None
    if per_module is not None:
        parts.append(
            select(_tag("m"), per_module.c.module_ref, func.sum(per_module.c.is_done), func.count()).group_by(
                per_module.c.module_ref
            )
        )
    if plan.activities:
        parts.append(
            select(
                _tag("q"),
                QuizProgress.quiz_ref,
                func.sum(case((QuizProgress.is_passed.is_(True), 1), else_=0)),
                func.count(),
            )
            .where(_in_cohort(QuizProgress.user_id), QuizProgress.quiz_ref.in_(plan.activities))
            .group_by(QuizProgress.quiz_ref)
        )
        summarised = exists().where(
            QuizProgress.user_id == QuizAttempt.user_id, QuizProgress.quiz_ref == QuizAttempt.quiz_ref
        )
        parts.append(
            select(_tag("o"), QuizAttempt.quiz_ref, func.count(QuizAttempt.user_id.distinct()), literal_column("0"))
            .where(
                _in_cohort(QuizAttempt.user_id),
                QuizAttempt.quiz_ref.in_(plan.activities),
                QuizAttempt.mode == "assessed",
                QuizAttempt.is_open(),
                ~summarised,
            )
            .group_by(QuizAttempt.quiz_ref)
        )
    if plan.required:
        complete = _complete_students(plan, per_module).subquery()
        parts.append(select(_tag("c"), literal_column("''"), func.count(), literal_column("0")).select_from(complete))
    return union_all(*parts)


def totals(cohort_id: int, plan: Plan) -> Counted:
    """The whole cohort counted by the database, in one statement (GROUP BY): students, never signed in, completed
    the course, and per item the students in each state."""
    counted: dict[str, dict[str, tuple[int, int]]] = {"s": {}, "m": {}, "q": {}, "o": {}, "c": {}}
    for tag, ref, a, b in db.session.execute(_totals_statement(plan), {"cohort_id": cohort_id}):
        counted[tag][ref] = (int(a or 0), int(b or 0))
    students, never = counted["s"].get("", (0, 0))
    return Counted(
        students=students,
        never_signed_in=never,
        complete=counted["c"].get("", (0, 0))[0],
        modules=counted["m"],
        activities=counted["q"],
        open_only={ref: n for ref, (n, _) in counted["o"].items()},
    )
