"""Branching conversations: a patient's lines, the learner's replies, counters that steer the path.

Everything here is pure: the engine plays a conversation forward from a list of replies, and
assembles the debrief of one learner's path. Reading a conversation file is
`app.content.conversation_reader`; the checks that explore every path live in
`app.content.conversation_paths`.
"""

import operator
from dataclasses import dataclass, field
from typing import ClassVar

from app.content.items import Grade

OUTCOMES = {"good": "A good ending", "mixed": "A mixed ending", "poor": "A poor ending"}
_OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True)
class Counter:
    """Something the replies move, such as trust; kept within its bounds."""

    id: str
    label: str
    start: int
    low: int
    high: int


@dataclass(frozen=True)
class Condition:
    """A counter compared with a whole number."""

    counter: str
    op: str
    value: int

    def holds(self, values: dict[str, int]) -> bool:
        """Whether the condition is true for these counter values."""
        return _OPERATORS[self.op](values[self.counter], self.value)

    def __str__(self) -> str:
        return f"{self.counter} {self.op} {self.value}"


@dataclass(frozen=True)
class Route:
    """Where a reply leads when all its conditions hold (no conditions: always)."""

    conditions: tuple[Condition, ...]
    to: str
    line: int


@dataclass(frozen=True)
class Reply:
    """Something the learner can say, with its grade, feedback, effects and where it leads."""

    id: str
    text_html: str
    grade: str
    score: float
    competencies: tuple[str, ...]
    feedback_html: str
    effects: tuple[tuple[str, int], ...]
    routes: tuple[Route, ...]
    line: int
    #: What choosing this reply did, said to the learner in the debrief of their path (may be empty).
    debrief_html: str = ""


@dataclass(frozen=True)
class Node:
    """A point in the conversation: what the patient says, and the replies on offer."""

    id: str
    narration: str
    patient: str
    replies: tuple[Reply, ...]
    line: int

    def reply(self, reply_id: str) -> Reply | None:
        """The reply with this id, if any."""
        return next((r for r in self.replies if r.id == reply_id), None)

    @property
    def best(self) -> Reply:
        """The reply graded best."""
        return next(r for r in self.replies if r.grade == "best")

    @property
    def max_score(self) -> float:
        """The most a reply here can earn."""
        return max(r.score for r in self.replies)


@dataclass(frozen=True)
class Ending:
    """Where a conversation can end, with its debrief."""

    id: str
    title: str
    outcome: str
    debrief_html: str
    line: int = 0
    #: Whether a path with no harmful reply is meant to reach it (None: not declared, not checked).
    reachable_without_harm: bool | None = None


@dataclass(frozen=True)
class State:
    """Where a conversation stands: the node (or ending) reached and the counters' values."""

    at: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Step:
    """One reply played: where it was said, what was said, and what followed."""

    node: Node
    reply: Reply
    before: State
    after: State


@dataclass(frozen=True)
class Conversation:
    """A branching conversation paired with a module."""

    kind: ClassVar[str] = "conversation"
    #: Conversations are scored by their path; certainty-based marking is for quiz items.
    marking: ClassVar[str] = "standard"

    id: str
    title: str
    module_id: str
    pass_mark: int
    intro_html: str
    patient: str
    setting: str
    counters: tuple[Counter, ...]
    start: str
    nodes: tuple[Node, ...]
    endings: tuple[Ending, ...]
    version: str
    #: The highest score any path can reach, and one path that reaches it (reply ids in order).
    max_score: float = 0.0
    best_path: tuple[str, ...] = ()
    _nodes: dict[str, Node] = field(default_factory=dict, repr=False, compare=False)
    _endings: dict[str, Ending] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._nodes.update({n.id: n for n in self.nodes})
        self._endings.update({e.id: e for e in self.endings})

    def node(self, node_id: str) -> Node | None:
        """The node with this id, if any."""
        return self._nodes.get(node_id)

    def ending(self, ending_id: str) -> Ending | None:
        """The ending with this id, if any."""
        return self._endings.get(ending_id)

    def initial(self) -> State:
        """The state before the first reply."""
        return State(self.start, tuple(c.start for c in self.counters))

    def values(self, state: State) -> dict[str, int]:
        """The counters' values in a state, by counter id."""
        return dict(zip((c.id for c in self.counters), state.values, strict=True))

    def advance(self, state: State, reply: Reply) -> State:
        """The state after a reply: effects applied within bounds, then the first route that holds."""
        values = self.values(state)
        for counter_id, delta in reply.effects:
            values[counter_id] += delta
        bounded = tuple(min(c.high, max(c.low, values[c.id])) for c in self.counters)
        after = dict(zip((c.id for c in self.counters), bounded, strict=True))
        route = next(r for r in reply.routes if all(cond.holds(after) for cond in r.conditions))
        return State(route.to, bounded)

    def play(self, reply_ids: list[str]) -> tuple[list[Step], State]:
        """Play replies from the start; raises ValueError at the first reply that does not fit."""
        state = self.initial()
        steps: list[Step] = []
        for reply_id in reply_ids:
            node = self.node(state.at)
            reply = node.reply(reply_id) if node else None
            if reply is None:
                raise ValueError(f"'{reply_id}' is not a reply at '{state.at}'")
            after = self.advance(state, reply)
            steps.append(Step(node, reply, state, after))
            state = after
        return steps, state

    def is_ending(self, state: State) -> bool:
        """Whether the state is one of the endings."""
        return state.at in self._endings

    def path_debrief(self, steps: list[Step]) -> "PathDebrief":
        """What the learner did on the path these steps played (see `path_debrief`)."""
        return path_debrief(self, steps)


def passes(percent: float, pass_mark: int, ending: Ending, replies: list[Reply]) -> bool:
    """The pass rule: the pass mark reached, no poor ending, and no harmful reply on the way."""
    # Points alone do not pass a consultation that ends badly or harmed the patient on the way.
    return percent >= pass_mark and ending.outcome != "poor" and all(r.grade != "harmful" for r in replies)


def grade_reply(node: Node, reply: Reply) -> Grade:
    """Grade one reply like a scenario item: it counts for the best reply's competencies and its own."""
    return Grade(
        answer=reply.id,
        score=reply.score,
        max_score=node.max_score,
        is_correct=reply.grade == "best",
        grade=reply.grade,
        competency_refs=tuple(dict.fromkeys(node.best.competencies + reply.competencies)),
    )


# --- the debrief of one path


@dataclass(frozen=True)
class Moment:
    """A reply on the learner's path worth naming in their debrief, and what it moved."""

    number: int
    reply: Reply
    #: (counter label, change) for each counter the reply moved, within the counter's bounds.
    changes: tuple[tuple[str, int], ...]

    @property
    def note_html(self) -> str:
        """The reply's debrief note, or, where the author wrote none, the words the learner chose."""
        return self.reply.debrief_html or f"You said: “{self.reply.text_html}”"


@dataclass(frozen=True)
class PathDebrief:
    """What this learner did on their path: the replies that built the consultation or set it back."""

    helped: tuple[Moment, ...]
    partly: tuple[Moment, ...]
    set_back: tuple[Moment, ...]
    #: (counter, value at the start, value at the end) for every counter.
    counters: tuple[tuple[Counter, int, int], ...]


def path_debrief(conversation: Conversation, steps: list[Step]) -> PathDebrief:
    """The notable replies of a path: every best, unhelpful and harmful one, and any other that moved a counter.

    Built from the replies the learner chose, so the debrief never blames them for a reply they did not give.
    """
    helped, partly, set_back = [], [], []
    for number, step in enumerate(steps, start=1):
        changes = tuple(
            (counter.label, after - before)
            for counter, before, after in zip(conversation.counters, step.before.values, step.after.values, strict=True)
            if after != before
        )
        moment = Moment(number, step.reply, changes)
        if step.reply.grade == "best":
            helped.append(moment)
        elif step.reply.grade in ("unhelpful", "harmful"):
            set_back.append(moment)
        elif changes:
            partly.append(moment)
    start = conversation.initial().values
    end = steps[-1].after.values if steps else start
    return PathDebrief(
        tuple(helped),
        tuple(partly),
        tuple(set_back),
        tuple(zip(conversation.counters, start, end, strict=True)),
    )
