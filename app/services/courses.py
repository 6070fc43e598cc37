"""Courses: an educator's ordered choice of catalog content, and where a learner stands in one."""

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from app.content import Catalog
from app.extensions import db
from app.models import Assignment, Course, CourseItem, LessonProgress, QuizProgress, User
from app.models.types import utcnow

if TYPE_CHECKING:
    from app.services.cohorts import Assigned

#: What a learner has done with one course item, from least to most.
STATES = ("not-started", "in-progress", "completed", "passed")
STATE_LABELS = {
    "not-started": "Not started",
    "in-progress": "In progress",
    "completed": "Completed",
    "passed": "Passed",
}
KIND_LABELS = {"module": "Module", "quiz": "Quiz", "conversation": "Conversation"}


class CourseError(ValueError):
    """A change to a course that cannot be made, with a message for the educator."""


def content_for(catalog: Catalog, kind: str, item_ref: str):
    """The module, quiz or conversation a course item names, or None if it is no longer offered."""
    if kind == "module":
        return catalog.module(item_ref)
    if kind == "quiz":
        return catalog.quiz(item_ref)
    if kind == "conversation":
        return catalog.conversation(item_ref)
    return None


@dataclass(frozen=True)
class CatalogueEntry:
    """One piece of catalogue content offered by the builder: its form value ('kind:id') and whether it is added."""

    value: str
    kind: str
    content: object
    in_course: bool


@dataclass(frozen=True)
class CatalogueGroup:
    """The content of one module (the module, its quizzes and conversations), or the content of no module."""

    title: str
    entries: list[CatalogueEntry]


def catalogue_groups(catalog: Catalog, course: Course, authored: frozenset[str] = frozenset()) -> list[CatalogueGroup]:
    """Everything a course can include, grouped by module in the catalogue's order, marking what it already has.

    `authored`: the ids of the quizzes written in the browser this educator may use (app/author), shown by their module.
    """
    in_course = {f"{i.kind}:{i.item_ref}" for i in course.items}

    def entry(kind: str, content) -> CatalogueEntry:
        value = f"{kind}:{content.id}"
        return CatalogueEntry(value, kind, content, value in in_course)

    groups = [
        CatalogueGroup(
            module.title,
            [entry("module", module)]
            + [entry("quiz", q) for q in catalog.quizzes_for(module.id)]
            + [entry("quiz", q) for q in catalog.quizzes if q.id in authored and q.module_id == module.id]
            + [entry("conversation", c) for c in catalog.conversations_for(module.id)]
            + [entry("conversation", c) for c in catalog.conversations if c.id in authored and c.module_id == module.id],
        )
        for module in catalog.modules
    ]
    # Content paired with no module of the catalogue still belongs in the list, at its end.
    modules = {m.id for m in catalog.modules}
    loose = [entry("quiz", q) for q in catalog.quizzes if q.module_id not in modules]
    loose += [entry("conversation", c) for c in catalog.conversations if c.module_id not in modules]
    if loose:
        groups.append(CatalogueGroup("Not part of a module", loose))
    return groups


def can_edit(user: User, course: Course) -> bool:
    """Owners edit their courses; admins edit any."""
    return user.is_admin or course.owner_id == user.id


def visible_courses(user: User) -> list[Course]:
    """The educator's own courses, then colleagues' published ones (admins see all)."""
    query = (
        select(Course).options(selectinload(Course.items)).order_by(Course.owner_id != user.id, Course.title, Course.id)
    )
    if not user.is_admin:
        query = query.where(or_(Course.owner_id == user.id, Course.is_published.is_(True)))
    return list(db.session.scalars(query))


def get_visible(user: User, course_id: int) -> Course | None:
    """A course the educator may see (their own, a published one, or any for an admin)."""
    course = db.session.get(Course, course_id) if 0 < course_id < 2**31 else None
    if course is None or not (can_edit(user, course) or course.is_published):
        return None
    return course


def create(owner: User, title: str, description: str) -> Course:
    """A new draft course with no items."""
    course = Course(owner_id=owner.id, title=title.strip(), description=description.strip())
    db.session.add(course)
    db.session.flush()
    return course


def update_details(course: Course, title: str, description: str) -> None:
    """Change a course's title and description."""
    course.title, course.description, course.updated_at = title.strip(), description.strip(), utcnow()
    db.session.flush()


def add_item(catalog: Catalog, course: Course, choice: str, is_required: bool = True) -> CourseItem:
    """Append content (named 'kind:id') to the course."""
    return add_items(catalog, course, [choice], is_required).added[0]


@dataclass(frozen=True)
class Added:
    """What adding several pieces of content did: the items appended, and the titles already in the course."""

    added: list[CourseItem]
    titles: list[str]
    already: list[str]


def add_items(catalog: Catalog, course: Course, chosen: list[str], is_required: bool = True) -> Added:
    """Append each piece of content (named 'kind:id') in the order given, skipping what the course already has.

    Nothing is added (CourseError) when a choice is not in the catalogue, or when every choice is already in the course.
    """
    wanted = list(dict.fromkeys(c for c in chosen if c))  # once each, in the order ticked
    if not wanted:
        raise CourseError("Tick at least one module, quiz or conversation to add.")
    found = []
    for choice in wanted:
        kind, _, item_ref = choice.partition(":")
        content = content_for(catalog, kind, item_ref)
        if content is None:
            raise CourseError(
                "Some of what you chose is not in the catalogue (any more), so nothing was added. Choose from the list."
            )
        found.append((kind, item_ref, content))
    present = {(i.kind, i.item_ref) for i in course.items}
    fresh = [(kind, ref, content) for kind, ref, content in found if (kind, ref) not in present]
    already = [content.title for kind, ref, content in found if (kind, ref) in present]
    if not fresh:
        if len(already) == 1:
            raise CourseError(f"“{already[0]}” is already in this course.")
        raise CourseError("Everything you chose is already in this course.")
    added = []
    for kind, item_ref, _content in fresh:
        item = CourseItem(kind=kind, item_ref=item_ref, is_required=is_required, position=len(course.items) + 1)
        course.items.append(item)
        added.append(item)
    course.updated_at = utcnow()
    db.session.flush()
    return Added(added, [content.title for _kind, _ref, content in fresh], already)


def find_item(course: Course, item_id: int) -> CourseItem | None:
    """The course's item with this id, or None."""
    return next((i for i in course.items if i.id == item_id), None)


def _item(course: Course, item_id: int) -> CourseItem:
    item = find_item(course, item_id)
    if item is None:
        raise CourseError("That item is no longer in this course.")
    return item


def _renumber(course: Course, ordered: list[CourseItem]) -> None:
    """Give items the positions 1..n in this order, without tripping the unique (course, position)."""
    # Parked at negative positions first: SQLite checks uniqueness row by row during an UPDATE.
    db.session.execute(
        update(CourseItem).where(CourseItem.course_id == course.id).values(position=-CourseItem.position)
    )
    for number, item in enumerate(ordered, start=1):
        db.session.execute(update(CourseItem).where(CourseItem.id == item.id).values(position=number))
    db.session.expire(course, ["items"])
    course.updated_at = utcnow()
    db.session.flush()


def move_item(course: Course, item_id: int, offset: int) -> None:
    """Move an item up (-1) or down (+1); at either end nothing moves."""
    items = list(course.items)
    item = _item(course, item_id)
    index = items.index(item)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    _renumber(course, items)


def remove_item(course: Course, item_id: int) -> None:
    """Take an item out of the course; the others close up."""
    item = _item(course, item_id)
    remaining = [i for i in course.items if i.id != item.id]
    db.session.delete(item)
    db.session.flush()
    _renumber(course, remaining)


def assignment_count(course: Course) -> int:
    """How many cohorts the course is assigned to."""
    return db.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.course_id == course.id))


def set_required(course: Course, item_id: int, is_required: bool) -> None:
    """Mark an item required for completion, or optional."""
    _item(course, item_id).is_required = is_required
    course.updated_at = utcnow()
    db.session.flush()


def set_published(course: Course, is_published: bool) -> None:
    """Publish a course (assignable, visible to colleagues) or return it to draft."""
    if is_published and not course.items:
        raise CourseError("Add at least one item before publishing the course.")
    course.is_published = is_published
    course.updated_at = utcnow()
    db.session.flush()


def copy(owner: User, course: Course) -> Course:
    """A draft copy of a course, owned by `owner`, with the same items in the same order."""
    duplicate = Course(owner_id=owner.id, title=f"Copy of {course.title}"[:200], description=course.description)
    duplicate.items = [
        CourseItem(kind=i.kind, item_ref=i.item_ref, is_required=i.is_required, position=i.position)
        for i in course.items
    ]
    db.session.add(duplicate)
    db.session.flush()
    return duplicate


# --- where a learner stands


@dataclass(frozen=True)
class ItemStatus:
    """One course item for one learner: its content, state and best score."""

    item: CourseItem
    content: object | None
    state: str
    percent: float | None

    @property
    def is_done(self) -> bool:
        """Completed (a module) or passed (a quiz or conversation)."""
        if self.item.kind == "module":
            return self.state == "completed"
        return self.state == "passed"


def item_state(
    catalog: Catalog,
    item: CourseItem,
    lessons_done: dict[str, int],
    opened: set[str],
    quiz_rows: dict[str, QuizProgress],
) -> ItemStatus:
    """A learner's state on one item, from their summary rows (lessons completed per module, quiz summaries)."""
    content = content_for(catalog, item.kind, item.item_ref)
    if item.kind == "module":
        total = len(content.lessons) if content else 0
        done = lessons_done.get(item.item_ref, 0)
        if total and done >= total:
            return ItemStatus(item, content, "completed", None)
        state = "in-progress" if done or item.item_ref in opened else "not-started"
        return ItemStatus(item, content, state, None)
    row = quiz_rows.get(item.item_ref)
    if row is None:
        return ItemStatus(item, content, "not-started", None)
    return ItemStatus(item, content, "passed" if row.is_passed else "in-progress", row.best_percent)


@dataclass(frozen=True)
class CourseStatus:
    """Where a learner stands in a course: every item, and what is left of the required ones."""

    course: Course
    items: list[ItemStatus]

    @property
    def required(self) -> list[ItemStatus]:
        """The items the completion rule counts."""
        return [s for s in self.items if s.item.is_required]

    @property
    def left(self) -> list[ItemStatus]:
        """Required items not yet done."""
        return [s for s in self.required if not s.is_done]

    @property
    def percent(self) -> int:
        """Required items done, 0 to 100."""
        required = self.required
        return round(100 * (len(required) - len(self.left)) / len(required)) if required else 0

    @property
    def is_complete(self) -> bool:
        """Completion rule: every required item completed (modules) or passed (quizzes, conversations)."""
        return bool(self.required) and not self.left


def summaries(user_ids: list[int], items: list[CourseItem]) -> tuple[dict, dict, dict]:
    """Lessons completed per (learner, module), modules opened, and quiz summaries for these items, in two queries."""
    modules = list({i.item_ref for i in items if i.kind == "module"})
    activities = list({i.item_ref for i in items if i.kind != "module"})
    lessons_done: dict[int, dict[str, int]] = {uid: {} for uid in user_ids}
    opened: dict[int, set[str]] = {uid: set() for uid in user_ids}
    quiz_rows: dict[int, dict[str, QuizProgress]] = {uid: {} for uid in user_ids}
    if modules and user_ids:
        for user_id, module_ref, completed_at in db.session.execute(
            select(LessonProgress.user_id, LessonProgress.module_ref, LessonProgress.completed_at).where(
                LessonProgress.user_id.in_(user_ids), LessonProgress.module_ref.in_(modules)
            )
        ):
            opened[user_id].add(module_ref)
            if completed_at is not None:
                lessons_done[user_id][module_ref] = lessons_done[user_id].get(module_ref, 0) + 1
    if activities and user_ids:
        for row in db.session.scalars(
            select(QuizProgress).where(QuizProgress.user_id.in_(user_ids), QuizProgress.quiz_ref.in_(activities))
        ):
            quiz_rows[row.user_id][row.quiz_ref] = row
    return lessons_done, opened, quiz_rows


def statuses(user_id: int, wanted: list[Course], catalog: Catalog) -> dict[int, CourseStatus]:
    """Where one learner stands in each course (by course id), from one read of each summary table for them all."""
    lessons_done, opened, quiz_rows = summaries([user_id], [i for course in wanted for i in course.items])
    return {
        course.id: CourseStatus(
            course,
            [item_state(catalog, i, lessons_done[user_id], opened[user_id], quiz_rows[user_id]) for i in course.items],
        )
        for course in wanted
    }


def status(user_id: int, course: Course, catalog: Catalog) -> CourseStatus:
    """Where one learner stands in a course."""
    return statuses(user_id, [course], catalog)[course.id]


@dataclass(frozen=True)
class AssignedCourse:
    """A course assigned to the learner, where they stand in it, and its dates as they apply today."""

    assigned: "Assigned"
    status: CourseStatus
    is_overdue: bool
    has_started: bool


def assigned_to(user_id: int, catalog: Catalog, today: date) -> list[AssignedCourse]:
    """The learner's assigned courses, soonest due first, each with progress and whether it is overdue."""
    from app.services.cohorts import learner_assignments

    assigned = learner_assignments(user_id)
    found = statuses(user_id, list({a.course.id: a.course for a in assigned}.values()), catalog)
    return [
        AssignedCourse(a, found[a.course.id], a.is_overdue(today, found[a.course.id].is_complete), a.has_started(today))
        for a in assigned
    ]
