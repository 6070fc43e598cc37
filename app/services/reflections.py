"""Private reflections: one short note per learner and module, quiz or conversation; only its author sees it."""

from dataclasses import dataclass

from sqlalchemy import Row, bindparam, delete, select

from app.content import Catalog
from app.extensions import db
from app.models import Reflection
from app.models.study import REFLECTION_MAX
from app.models.types import utcnow
from app.services import sql

#: What a reflection can be about, with how the page names each kind and the question it asks.
KINDS = {
    "module": ("Module", "What from this module will you use with your next patient, and how?"),
    "quiz": ("Quiz", "Which answer surprised you, and what will you do differently with your next patient?"),
    "conversation": (
        "Conversation",
        "What will you do differently with your next patient? Think of a reply you would now change.",
    ),
}

_save = sql.Upsert(
    Reflection,
    conflict=["user_id", "subject_ref"],
    update={"body": lambda t, e: e.body, "updated_at": lambda t, e: e.updated_at},
)


class Invalid(ValueError):
    """A reflection that cannot be saved; the message says what to do."""


@dataclass(frozen=True)
class Subject:
    """What a reflection is about, as the pages name it."""

    kind: str
    id: str
    title: str
    #: False for a subject no longer in the content, kept while the learner's reflection on it exists.
    is_offered: bool = True

    @property
    def ref(self) -> str:
        """The `subject_ref` stored with the reflection."""
        return f"{self.kind}/{self.id}"

    @property
    def kind_label(self) -> str:
        """Module, Quiz or Conversation."""
        return KINDS[self.kind][0]

    @property
    def question(self) -> str:
        """The question the edit page asks."""
        return KINDS[self.kind][1]


def subject(catalog: Catalog, kind: str, subject_id: str) -> Subject | None:
    """The module, quiz or conversation a reflection may be written on, if it is offered."""
    found = {"module": catalog.module, "quiz": catalog.quiz, "conversation": catalog.conversation}.get(kind)
    content = found(subject_id) if found else None
    return Subject(kind, subject_id, content.title) if content is not None else None


def retired(kind: str, subject_id: str) -> Subject | None:
    """A subject no longer offered, named by its id (None for a kind reflections are never written on)."""
    if kind not in KINDS:
        return None
    return Subject(kind, subject_id, f"“{subject_id}” (no longer offered)", is_offered=False)


def describe(catalog: Catalog, subject_ref: str) -> Subject:
    """The subject of a stored reflection: as the content names it, or by its id once retired."""
    kind, _, subject_id = subject_ref.partition("/")
    return (
        subject(catalog, kind, subject_id) or retired(kind, subject_id) or Subject(kind, subject_id, subject_ref, False)
    )


def clean(body: str) -> str:
    """The text as kept: line breaks as typed (a browser sends CR LF), no blank lines at either end."""
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def check(body: str) -> str:
    """The cleaned text, or Invalid with what to fix."""
    text = clean(body)
    if len(text) > REFLECTION_MAX:
        raise Invalid(
            f"Your reflection is {len(text):,} characters long; the most is {REFLECTION_MAX:,}. "
            "Shorten it and save again: your text is kept below."
        )
    return text


def get(user_id: int, subject_ref: str) -> Reflection | None:
    """The learner's reflection on this subject, if they wrote one (one query)."""
    return db.session.scalar(
        select(Reflection)
        .where(Reflection.user_id == user_id, Reflection.subject_ref == subject_ref)
        .execution_options(populate_existing=True)
    )


def save(user_id: int, subject_ref: str, body: str) -> Reflection:
    """Write or replace the learner's reflection on this subject (one statement, safe under races)."""
    text = check(body)
    if not text:
        raise Invalid("Write something to save, or delete the reflection.")
    now = utcnow()
    _save([{"user_id": user_id, "subject_ref": subject_ref, "body": text, "created_at": now, "updated_at": now}])
    return get(user_id, subject_ref)


def remove(user_id: int, subject_ref: str) -> bool:
    """Delete the learner's reflection on this subject; False if there was none."""
    deleted = db.session.execute(
        delete(Reflection)
        .where(Reflection.user_id == user_id, Reflection.subject_ref == subject_ref)
        .returning(Reflection.id)
        .execution_options(synchronize_session=False)
    ).first()
    return deleted is not None


#: Built once: the progress page reads a learner's reflections on every view, and needs only these columns.
_FOR_USER = (
    select(Reflection.subject_ref, Reflection.body, Reflection.updated_at)
    .where(Reflection.user_id == bindparam("user_id"))
    .order_by(Reflection.updated_at.desc(), Reflection.id.desc())
)


def for_user(user_id: int) -> list[Row]:
    """Every reflection of the learner (subject_ref, body, updated_at), the most recently written first (one query)."""
    return db.session.connection().execute(_FOR_USER, {"user_id": user_id}).all()  # Core: no ORM layer needed
