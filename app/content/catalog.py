"""The immutable content catalog: modules, lessons, quizzes and competencies, loaded once."""

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from app.content.authored_ids import is_authored
from app.content.charts import Chart
from app.content.conversations import Conversation
from app.content.items import Item

if TYPE_CHECKING:
    from app.content.observations import ObservationForm


@dataclass(frozen=True)
class Competency:
    """One competency of the framework."""

    id: str
    name: str
    description: str

    @property
    def group(self) -> str:
        """The framework area, the id's first part (ta, bordin, sdm, comm, ...)."""
        return self.id.split(".", 1)[0]


@dataclass(frozen=True)
class Section:
    """A `##` section of a lesson, with the competencies it teaches."""

    title_html: str
    anchor: str
    competencies: tuple[str, ...]
    html: str


@dataclass(frozen=True)
class Reference:
    """A study or source a module cites."""

    id: str
    number: int
    text: str


@dataclass(frozen=True)
class Lesson:
    """One lesson page of a module."""

    id: str
    module_id: str
    position: int
    title: str
    minutes: int
    intro_html: str
    sections: tuple[Section, ...]
    cited: tuple[str, ...]
    key_points: tuple[str, ...]
    terms: tuple[str, ...]
    version: str

    @property
    def competencies(self) -> tuple[str, ...]:
        """Every competency the lesson's sections teach, in order of first appearance."""
        return tuple(dict.fromkeys(c for s in self.sections for c in s.competencies))


@dataclass(frozen=True)
class GlossaryTerm:
    """A term a module introduces, with its definition."""

    id: str
    term: str
    definition_html: str
    module_id: str


@dataclass(frozen=True)
class Figure:
    """A number a module quotes from a study, listed so a reviewer can check it against the source."""

    value: str
    measures: str
    study: str
    module_id: str


@dataclass(frozen=True)
class Module:
    """A lesson module."""

    id: str
    title: str
    summary: str
    minutes: int
    order: int
    objectives: tuple[str, ...]
    lessons: tuple[Lesson, ...]
    references: tuple[Reference, ...]
    glossary: tuple[GlossaryTerm, ...]
    figures: tuple[Figure, ...]
    charts: tuple[Chart, ...]
    version: str

    def lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson with this id, if the module has one."""
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def neighbours(self, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
        """The lessons before and after this one, None at either end."""
        index = lesson.position - 1
        previous = self.lessons[index - 1] if index > 0 else None
        following = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return previous, following

    def reference(self, ref_id: str) -> Reference | None:
        """The reference with this id, if any."""
        return next((r for r in self.references if r.id == ref_id), None)


@dataclass(frozen=True)
class Quiz:
    """A quiz paired with a module."""

    kind: ClassVar[str] = "quiz"

    id: str
    title: str
    module_id: str
    pass_mark: int
    intro_html: str
    items: tuple[Item, ...]
    version: str
    #: "standard" (the items' points) or "certainty" (certainty-based marking).
    marking: str = "standard"

    @property
    def is_certainty_marked(self) -> bool:
        """Whether attempts are scored by certainty-based marking."""
        return self.marking == "certainty"

    @property
    def max_score(self) -> float:
        """The highest score the quiz can give."""
        return sum(item.max_score for item in self.items)

    def item(self, item_id: str) -> Item | None:
        """The item with this id, if any."""
        return next((i for i in self.items if i.id == item_id), None)


@dataclass(frozen=True)
class Catalog:
    """Everything learners can take, read-only once built."""

    competencies: tuple[Competency, ...]
    modules: tuple[Module, ...]
    quizzes: tuple[Quiz, ...]
    conversations: tuple[Conversation, ...] = ()
    #: Observation forms (app/content/observations.py): consultations rated by educators, peers, patients, self.
    observations: tuple["ObservationForm", ...] = ()
    #: Ids of authored quizzes and conversations withdrawn by their owner or an admin: kept for the attempts
    #: already taken, never offered for new ones (app/content/live.py).
    withdrawn: frozenset[str] = frozenset()
    _modules: MappingProxyType = field(init=False, repr=False)
    _quizzes: MappingProxyType = field(init=False, repr=False)
    _competencies: MappingProxyType = field(init=False, repr=False)
    _teaching: MappingProxyType = field(init=False, repr=False)
    _conversations: MappingProxyType = field(init=False, repr=False)
    _terms: MappingProxyType = field(init=False, repr=False)
    _term_uses: MappingProxyType = field(init=False, repr=False)
    _observations: MappingProxyType = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_modules", MappingProxyType({m.id: m for m in self.modules}))
        object.__setattr__(self, "_quizzes", MappingProxyType({q.id: q for q in self.quizzes}))
        object.__setattr__(self, "_conversations", MappingProxyType({c.id: c for c in self.conversations}))
        object.__setattr__(self, "_observations", MappingProxyType({o.id: o for o in self.observations}))
        object.__setattr__(self, "_competencies", MappingProxyType({c.id: c for c in self.competencies}))
        teaching: dict[str, list[Lesson]] = {}
        for module in self.modules:
            for lesson in module.lessons:
                for competency_id in lesson.competencies:
                    teaching.setdefault(competency_id, []).append(lesson)
        # Indexed once here, since the catalog never changes after start.
        object.__setattr__(self, "_teaching", MappingProxyType({k: tuple(v) for k, v in teaching.items()}))
        terms = sorted((t for m in self.modules for t in m.glossary), key=lambda t: t.term.casefold())
        object.__setattr__(self, "_terms", MappingProxyType({t.id: t for t in terms}))
        uses: dict[str, list[Lesson]] = {}
        for module in self.modules:
            for lesson in module.lessons:
                for term_id in lesson.terms:
                    uses.setdefault(term_id, []).append(lesson)
        object.__setattr__(self, "_term_uses", MappingProxyType({k: tuple(v) for k, v in uses.items()}))

    def module(self, module_id: str) -> Module | None:
        """The module with this id, if any."""
        return self._modules.get(module_id)

    def quiz(self, quiz_id: str) -> Quiz | None:
        """The quiz with this id, if any."""
        return self._quizzes.get(quiz_id)

    def competency(self, competency_id: str) -> Competency | None:
        """The competency with this id, if any."""
        return self._competencies.get(competency_id)

    @property
    def shipped_quizzes(self) -> tuple[Quiz, ...]:
        """The quizzes and conversations of the content folders: what every learner may find, practise and be measured on.

        Quizzes educators wrote in the browser are reached through the courses they are in, so a
        private quiz never shows in another class's search, practice or mastery figures.
        """
        return tuple(q for q in self.quizzes if not is_authored(q.id))

    def quizzes_for(self, module_id: str) -> tuple[Quiz, ...]:
        """The shipped quizzes paired with a module, in catalog order (authored ones are reached through courses)."""
        return tuple(q for q in self.quizzes if q.module_id == module_id and not is_authored(q.id))

    def first_quiz_for(self, module_id: str) -> Quiz | None:
        """The quiz a learner is sent to after a module's lessons, if it has one."""
        return next(iter(self.quizzes_for(module_id)), None)

    def lessons_teaching(self, competency_id: str) -> tuple[Lesson, ...]:
        """Every lesson with a section tagged with the competency."""
        return self._teaching.get(competency_id, ())

    @property
    def glossary(self) -> tuple[GlossaryTerm, ...]:
        """Every module's glossary terms, in alphabetical order."""
        return tuple(self._terms.values())

    def term(self, term_id: str) -> GlossaryTerm | None:
        """The glossary term with this id, if any."""
        return self._terms.get(term_id)

    def lessons_using(self, term_id: str) -> tuple[Lesson, ...]:
        """Every lesson that links the glossary term."""
        return self._term_uses.get(term_id, ())

    def conversation(self, conversation_id: str) -> Conversation | None:
        """The branching conversation with this id, if any."""
        return self._conversations.get(conversation_id)

    def conversations_for(self, module_id: str) -> tuple[Conversation, ...]:
        """The shipped conversations paired with a module, in catalog order (authored ones are reached through courses)."""
        return tuple(c for c in self.conversations if c.module_id == module_id and not is_authored(c.id))

    def observation(self, form_id: str) -> "ObservationForm | None":
        """The observation form with this id, if any."""
        return self._observations.get(form_id)
