"""Authored quizzes: who may see and edit them, the draft's edits, publishing, sharing. Services flush, never commit."""

import copy
import dataclasses
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.content import Catalog
from app.content import authored as checking
from app.content.authored_ids import make_id
from app.extensions import db
from app.models import AuthoredCoEditor, AuthoredQuiz, AuthoredVersion, ContentRevision, User
from app.models.types import utcnow

#: The item types an author can add, with the names the editor shows.
ITEM_TYPES = {
    "scenario": "Scenario: what would you say or do?",
    "multiple_response": "Multiple response: choose all that apply",
    "ordering": "Ordering: put the steps in order",
    "matching": "Matching: match each prompt with its answer",
}
MAX_ITEMS = 60


class AuthoringError(ValueError):
    """An edit that cannot be made; the message says why, for the author."""


def is_editor(user: User, quiz: AuthoredQuiz) -> bool:
    """Owners and co-editors edit a quiz; nobody else does (admins included: they make it site-wide)."""
    if quiz.owner_id == user.id:
        return True
    return any(c.user_id == user.id for c in quiz.co_editors)


def editable(user: User, quiz_id: int) -> AuthoredQuiz | None:
    """The authored quiz with this id if the user may edit it (None otherwise: a 404 for the view)."""
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    return quiz if quiz is not None and is_editor(user, quiz) else None


def mine(user: User) -> tuple[list[AuthoredQuiz], list[AuthoredQuiz]]:
    """The quizzes the user owns, and those shared with them, newest change first."""
    owned = db.session.scalars(
        select(AuthoredQuiz).where(AuthoredQuiz.owner_id == user.id).order_by(AuthoredQuiz.updated_at.desc())
    ).all()
    shared = db.session.scalars(
        select(AuthoredQuiz)
        .join(AuthoredCoEditor, AuthoredCoEditor.quiz_id == AuthoredQuiz.id)
        .where(AuthoredCoEditor.user_id == user.id)
        .order_by(AuthoredQuiz.updated_at.desc())
    ).all()
    return list(owned), list(shared)


def every_quiz() -> list[AuthoredQuiz]:
    """Every authored quiz (the admin's list, where a published one is made site-wide)."""
    return list(db.session.scalars(select(AuthoredQuiz).order_by(AuthoredQuiz.id)).all())


def offered_to(user: User) -> frozenset[str]:
    """Ids of the authored quizzes the user's course builder offers: own, shared with them, or site-wide."""
    rows = db.session.scalars(
        select(AuthoredQuiz.ref)
        .outerjoin(
            AuthoredCoEditor, (AuthoredCoEditor.quiz_id == AuthoredQuiz.id) & (AuthoredCoEditor.user_id == user.id)
        )
        .where(or_(AuthoredQuiz.owner_id == user.id, AuthoredCoEditor.id.is_not(None), AuthoredQuiz.is_site_wide))
        .where(AuthoredQuiz.withdrawn_at.is_(None))  # a withdrawn quiz leaves every course builder
    ).all()
    return frozenset(rows)


def hidden_from(user: User, catalog: Catalog) -> frozenset[str]:
    """Ids of the published authored quizzes in the catalog that the user's course builder does not offer."""
    from app.content.authored_ids import is_authored

    offered = offered_to(user)
    every = [*catalog.quizzes, *catalog.conversations]
    return frozenset(q.id for q in every if is_authored(q.id) and q.id not in offered)


def offered_catalog(user: User, catalog: Catalog) -> Catalog:
    """The catalog as the user's course builder offers it: without the authored quizzes not offered to them."""
    hidden = hidden_from(user, catalog)
    if not hidden:
        return catalog
    return dataclasses.replace(
        catalog,
        quizzes=tuple(q for q in catalog.quizzes if q.id not in hidden),
        conversations=tuple(c for c in catalog.conversations if c.id not in hidden),
    )


def create(owner: User, title: str, module_id: str) -> AuthoredQuiz:
    """A new draft quiz owned by `owner`, with no items yet."""
    title = " ".join(title.split())
    if not title:
        raise AuthoringError("Give the quiz a title.")
    if len(title) > 200:
        raise AuthoringError("Keep the title to 200 characters or fewer.")
    quiz = AuthoredQuiz(ref=f"pending-{owner.id}-{utcnow().timestamp()}", owner_id=owner.id, draft={})
    db.session.add(quiz)
    db.session.flush()
    quiz.ref = make_id(quiz.id, title)
    quiz.draft = {"id": quiz.ref, "title": title, "module": module_id, "pass_mark": 70, "items": []}
    db.session.flush()
    return quiz


def _save(quiz: AuthoredQuiz, draft: dict) -> None:
    """Keep a new draft (a fresh object, so the JSON column sees the change)."""
    draft["id"] = quiz.ref  # the id never changes: attempts, courses and reports name it
    quiz.draft = draft
    quiz.updated_at = utcnow()
    db.session.flush()


def update_settings(quiz: AuthoredQuiz, settings: dict) -> None:
    """Set title, module, pass mark, marking and intro (empty ones removed, so the checker names them)."""
    draft = copy.deepcopy(quiz.draft)
    for key in ("title", "module", "pass_mark", "marking", "intro"):
        value = settings.get(key)
        if value in (None, ""):
            draft.pop(key, None)
        else:
            draft[key] = value
    _save(quiz, draft)


def _items(quiz: AuthoredQuiz) -> list[dict]:
    return copy.deepcopy(quiz.draft.get("items") or [])


def _fresh_id(quiz: AuthoredQuiz, items: list) -> str:
    """A new item id (`i<n>`) no item of the draft has, nor any deleted one had."""
    taken = {item.get("id") for item in items if isinstance(item, dict)}
    while f"i{quiz.next_item}" in taken:
        quiz.next_item += 1
    quiz.next_item += 1
    return f"i{quiz.next_item - 1}"


def _position(items: list, position: int) -> int:
    if not 1 <= position <= len(items):
        raise AuthoringError("That item is not in this quiz any more; the list below is up to date.")
    return position - 1


def add_item(quiz: AuthoredQuiz, item_type: str) -> int:
    """Add an empty item of this type at the end; return its position (from 1)."""
    if quiz.is_conversation:
        raise AuthoringError("A conversation has nodes, not items: add a node on its page.")
    if item_type not in ITEM_TYPES:
        raise AuthoringError("Choose one of the item types listed.")
    items = _items(quiz)
    if len(items) >= MAX_ITEMS:
        raise AuthoringError(f"A quiz can have at most {MAX_ITEMS} items; split it into two quizzes.")
    items.append({"id": _fresh_id(quiz, items), "type": item_type})
    _save(quiz, {**copy.deepcopy(quiz.draft), "items": items})
    return len(items)


def update_item(quiz: AuthoredQuiz, position: int, item: dict) -> None:
    """Replace the item at `position` with the one the form gave (its id and type are kept)."""
    items = _items(quiz)
    index = _position(items, position)
    kept = {k: items[index][k] for k in ("id", "type") if k in items[index]}  # an observation item has no type
    item = {**kept, **{k: v for k, v in item.items() if k not in ("id", "type")}}
    items[index] = item
    _save(quiz, {**copy.deepcopy(quiz.draft), "items": items})


def move_item(quiz: AuthoredQuiz, position: int, offset: int) -> int:
    """Move an item up (-1) or down (+1); return its new position."""
    items = _items(quiz)
    index = _position(items, position)
    target = index + offset
    if not 0 <= target < len(items):
        return position
    items[index], items[target] = items[target], items[index]
    _save(quiz, {**copy.deepcopy(quiz.draft), "items": items})
    return target + 1


def duplicate_item(quiz: AuthoredQuiz, position: int) -> int:
    """Copy an item (with a new id) just after it; return the copy's position."""
    items = _items(quiz)
    index = _position(items, position)
    if len(items) >= MAX_ITEMS:
        raise AuthoringError(f"A quiz can have at most {MAX_ITEMS} items; split it into two quizzes.")
    twin = {**copy.deepcopy(items[index]), "id": _fresh_id(quiz, items)}
    items.insert(index + 1, twin)
    _save(quiz, {**copy.deepcopy(quiz.draft), "items": items})
    return index + 2


def delete_item(quiz: AuthoredQuiz, position: int) -> None:
    """Remove an item from the draft (published versions keep it)."""
    items = _items(quiz)
    del items[_position(items, position)]
    _save(quiz, {**copy.deepcopy(quiz.draft), "items": items})


def replace_draft(quiz: AuthoredQuiz, data: dict) -> None:
    """Make an imported quiz the draft (its own id replaced by this quiz's; its items keep theirs, as a file's do)."""
    items = copy.deepcopy(data.get("items")) if isinstance(data.get("items"), list) else []
    _save(quiz, {**{k: copy.deepcopy(v) for k, v in data.items() if k != "items"}, "items": items})


def check(quiz: AuthoredQuiz, catalog: Catalog) -> checking.Checked:
    """The draft as `alliance content check` sees it: problems, each at its field."""
    return checking.check(quiz.draft, catalog, quiz.ref)


def publish(quiz: AuthoredQuiz, by: User, catalog: Catalog) -> AuthoredVersion:
    """Publish the draft as the next immutable version and bump the content revision.

    Refused while the draft has errors, or when it is the same as the newest version.
    """
    checked = check(quiz, catalog)
    if checked.quiz is None:
        count = len(checked.errors)
        raise AuthoringError(
            f"The draft has {count} problem{'s' if count != 1 else ''} to fix before it can be published."
        )
    latest = quiz.latest
    if latest is not None and latest.content == quiz.draft and quiz.withdrawn_at is not None:
        # Published again as it was: the same version comes back, no new one.
        quiz.withdrawn_at = None
        bump_revision()
        db.session.flush()
        return latest
    quiz.withdrawn_at = None
    if latest is not None and latest.content == quiz.draft:
        raise AuthoringError(f"Nothing has changed since version {latest.number}, so there is nothing to publish.")
    number = (latest.number if latest else 0) + 1
    version = AuthoredVersion(
        quiz_id=quiz.id,
        number=number,
        content=copy.deepcopy(quiz.draft),
        content_version=checked.quiz.version,
        published_by_id=by.id,
    )
    db.session.add(version)
    bump_revision()
    db.session.flush()
    db.session.refresh(quiz, ["versions"])
    return version


def may_withdraw(user: User, quiz: AuthoredQuiz) -> bool:
    """Its owner or an admin may withdraw a published quiz (co-editors edit; withdrawing is the owner's call)."""
    return user.is_admin or quiz.owner_id == user.id


def withdraw(quiz: AuthoredQuiz) -> None:
    """Stop offering a published quiz: no new attempts, gone from course builders; attempts and history kept.

    Publishing it again (app/author/publishing.py) brings it back.
    """
    if quiz.latest is None:
        raise AuthoringError("Only a published quiz can be withdrawn; this one has no version yet.")
    if quiz.withdrawn_at is not None:
        raise AuthoringError("This quiz is already withdrawn. Publish it again to offer it to learners.")
    quiz.withdrawn_at = utcnow()
    bump_revision()
    db.session.flush()


def bump_revision() -> None:
    """Count one more change to published content, so every process rebuilds its catalog (app/content/live.py)."""
    moved = db.session.execute(
        update(ContentRevision)
        .where(ContentRevision.id == 1)
        .values(revision=ContentRevision.revision + 1, changed_at=utcnow())
    ).rowcount
    if moved:
        return
    try:
        with db.session.begin_nested():
            db.session.add(ContentRevision(id=1, revision=1))
    except IntegrityError:  # another publish created the row first
        db.session.execute(
            update(ContentRevision).where(ContentRevision.id == 1).values(revision=ContentRevision.revision + 1)
        )


def share(quiz: AuthoredQuiz, email: str) -> User:
    """Let another educator edit the quiz; refused for unknown addresses, students, the owner, or twice."""
    address = email.strip().lower()
    person = db.session.scalar(select(User).where(func.lower(User.email) == address)) if address else None
    if person is None or not person.is_active:
        raise AuthoringError("No account has that email address. Ask them to sign up first, then share again.")
    if not person.is_educator:
        raise AuthoringError(f"{person.display_name} is not an educator: only educators can edit quizzes.")
    if person.id == quiz.owner_id or any(c.user_id == person.id for c in quiz.co_editors):
        raise AuthoringError(f"{person.display_name} can already edit this quiz.")
    db.session.add(AuthoredCoEditor(quiz_id=quiz.id, user_id=person.id))
    db.session.flush()
    db.session.refresh(quiz, ["co_editors"])
    return person


def unshare(quiz: AuthoredQuiz, user_id: int) -> None:
    """Stop a co-editor editing the quiz (nothing happens if they no longer could)."""
    for entry in list(quiz.co_editors):
        if entry.user_id == user_id:
            db.session.delete(entry)
    db.session.flush()
    db.session.refresh(quiz, ["co_editors"])


def set_site_wide(quiz: AuthoredQuiz, is_site_wide: bool) -> None:
    """Offer a published quiz in every educator's course builder, or only to its owner and co-editors again."""
    if is_site_wide and quiz.latest is None:
        raise AuthoringError("Only a published quiz can be offered site-wide; this one has no version yet.")
    quiz.is_site_wide = is_site_wide
    db.session.flush()


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff between two versions: ' ' kept, '+' added, '-' removed, '@' where a change starts."""

    mark: str
    text: str


def diff(before: dict | None, after: dict) -> list[DiffLine]:
    """What changed between two versions' YAML, line by line (everything added for the first version)."""
    import difflib

    old = checking.to_yaml(before).splitlines() if before else []
    new = checking.to_yaml(after).splitlines()
    lines = []
    for line in difflib.unified_diff(old, new, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        mark = "@" if line.startswith("@@") else line[:1]
        lines.append(DiffLine(mark, "…" if mark == "@" else line[1:]))
    return lines


def version_by_content(quiz: AuthoredQuiz, content_version: str) -> AuthoredVersion | None:
    """The published version an attempt was taken on, from the content version it recorded."""
    return next((v for v in quiz.versions if v.content_version == content_version), None)
