"""Branching conversations: a patient's lines, the learner's replies, counters that steer the path.

Everything here is pure: the engine plays a conversation forward from a list of replies, reads a
conversation file, and assembles the debrief of one learner's path. The checks that explore every
path live in `app.content.conversation_paths`.
"""

import operator
import re
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from app.content import conversation_paths, markdown
from app.content.checker import Checker
from app.content.items import GRADE_SCORES, Grade
from app.content.yamlfile import Mapping

OUTCOMES = {"good": "A good ending", "mixed": "A mixed ending", "poor": "A poor ending"}
_OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}
_CONDITION = re.compile(r"^\s*([a-z][a-z0-9-]*)\s*(>=|<=|==|>|<)\s*(-?\d+)\s*$")
MAX_STATES = conversation_paths.MAX_STATES
_errors = conversation_paths.errors


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


# --- reading a conversation file

_KEYS = {
    "id",
    "type",
    "title",
    "module",
    "pass_mark",
    "intro",
    "patient",
    "setting",
    "counters",
    "start",
    "nodes",
    "endings",
}


def parse(data: Mapping, check: Checker, version: str) -> Conversation | None:
    """Validate a conversation file's mapping, then explore it; None after noting problems."""
    before = _errors(check)
    check.unknown_keys(data, _KEYS, "the conversation")
    conversation_id = check.slug(data, "id", "the conversation")
    title = check.text(data, "title", "the conversation")
    module_id = check.slug(data, "module", "the conversation")
    pass_mark = check.integer(data, "pass_mark", "the conversation", 1, 100)
    intro = check.text(data, "intro", "the conversation", required=False) or ""
    check.in_words(intro, data.line_of("intro"), "the conversation: the intro")
    patient = check.text(data, "patient", "the conversation")
    setting = check.text(data, "setting", "the conversation")
    counters = _counters(data, check)
    start = check.slug(data, "start", "the conversation")
    endings = _endings(data, check)
    nodes = [
        node
        for number, raw in check.mappings(data, "nodes", "the conversation")
        if (node := _node(raw, number, check, counters))
    ]
    # Ids as the file declares them, so one broken node is not also reported as missing wherever it is named.
    declared = _declared(data, "nodes")
    ids: dict[str, int] = {}
    for thing_id, line in declared + _declared(data, "endings"):
        if thing_id in ids:
            check.problem(line, f"two nodes or endings have the id '{thing_id}'")
        ids[thing_id] = line
    if start and declared and start not in {node_id for node_id, _ in declared}:
        check.problem(data.line_of("start"), f"the conversation starts at '{start}', which is not a node")
    for node in nodes:
        for reply in node.replies:
            for route in reply.routes:
                if route.to not in ids:
                    check.problem(
                        route.line,
                        f"node '{node.id}', reply '{reply.id}' leads to '{route.to}', which is no node or ending: a dead end",
                    )
    if _errors(check) > before:
        return None
    conversation = Conversation(
        id=conversation_id,
        title=title,
        module_id=module_id,
        pass_mark=pass_mark,
        intro_html=markdown.render(intro),
        patient=" ".join(patient.split()),
        setting=" ".join(setting.split()),
        counters=tuple(counters.values()),
        start=start,
        nodes=tuple(nodes),
        endings=tuple(endings),
        version=version,
    )
    explored = conversation_paths.explore(conversation, check, data)
    if explored is None or _errors(check) > before:
        return None
    max_score, best_path = explored
    return replace(conversation, max_score=max_score, best_path=tuple(best_path))


def _declared(data: Mapping, key: str) -> list[tuple[str, int]]:
    """The (id, line) of every entry of a list that names an id, valid or not."""
    entries = data.get(key) if isinstance(data.get(key), list) else []
    return [(e["id"], e.line_of("id")) for e in entries if isinstance(e, Mapping) and isinstance(e.get("id"), str)]


def _counters(data: Mapping, check: Checker) -> dict[str, Counter]:
    counters: dict[str, Counter] = {}
    for number, raw in check.mappings(data, "counters", "the conversation", low=1, high=4):
        what = f"counter {number}"
        check.unknown_keys(raw, {"id", "label", "start", "min", "max"}, what)
        counter_id, label = check.slug(raw, "id", what), check.text(raw, "label", what)
        bounds = {}
        for key, default in (("start", 0), ("min", 0), ("max", 5)):
            value = raw.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or not -100 <= value <= 100:
                check.problem(
                    raw.line_of(key), f"{what}: '{key}' must be a whole number from -100 to 100, not {value!r}"
                )
                value = default
            bounds[key] = value
        if not bounds["min"] <= bounds["start"] <= bounds["max"] or bounds["min"] == bounds["max"]:
            check.problem(
                raw.line,
                f"{what}: needs min < max and start between them (min {bounds['min']}, start {bounds['start']}, max {bounds['max']})",
            )
        if counter_id in counters:
            check.problem(raw.line_of("id"), f"two counters have the id '{counter_id}'")
        elif counter_id and label:
            counters[counter_id] = Counter(counter_id, label, bounds["start"], bounds["min"], bounds["max"])
    return counters


def _endings(data: Mapping, check: Checker) -> list[Ending]:
    endings = []
    for number, raw in check.mappings(data, "endings", "the conversation", low=2):
        what = f"ending {number}"
        check.unknown_keys(raw, {"id", "title", "outcome", "debrief", "reachable_without_harm"}, what)
        ending_id, title = check.slug(raw, "id", what), check.text(raw, "title", what)
        debrief = check.text(raw, "debrief", what)
        check.in_words(debrief, raw.line_of("debrief"), f"{what}: the debrief")
        harmless = raw.get("reachable_without_harm")
        if harmless is not None and not isinstance(harmless, bool):
            check.problem(
                raw.line_of("reachable_without_harm"),
                f"{what}: 'reachable_without_harm' must be true or false, not {harmless!r}",
            )
            harmless = None
        outcome = raw.get("outcome")
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            check.problem(
                raw.line_of("outcome"), f"{what}: 'outcome' must be one of good, mixed, poor (not {outcome!r})"
            )
        elif ending_id and title and debrief:
            endings.append(Ending(ending_id, title, outcome, markdown.render(debrief), raw.line, harmless))
    return endings


def _node(raw: Mapping, number: int, check: Checker, counters: dict[str, Counter]) -> Node | None:
    before = _errors(check)
    node_id = check.slug(raw, "id", f"node {number}")
    what = f"node '{node_id or number}'"
    check.unknown_keys(raw, {"id", "narration", "patient", "replies"}, what)
    narration = check.text(raw, "narration", what, required=False) or ""
    patient = check.text(raw, "patient", what)
    if "replies" not in raw or raw.get("replies") in (None, []):
        check.problem(raw.line, f"{what} has no replies: a dead end (end the conversation with an ending instead)")
        return None
    replies = [
        r
        for n, entry in check.mappings(raw, "replies", what, low=2, high=4)
        if (r := _reply(entry, n, what, check, counters))
    ]
    if len({r.id for r in replies}) != len(replies):
        check.problem(raw.line_of("replies"), f"{what}: two replies have the same id")
    # Counted from the file, so a reply with some other problem is not also miscounted here.
    graded = [entry.get("grade") for entry in raw.get("replies") or [] if isinstance(entry, Mapping)]
    if graded and graded.count("best") != 1:
        check.problem(
            raw.line_of("replies"), f"{what} needs exactly one reply graded 'best', not {graded.count('best')}"
        )
    if _errors(check) > before:
        return None
    return Node(node_id, " ".join(narration.split()), " ".join(patient.split()), tuple(replies), raw.line)


def _reply(raw: Mapping, number: int, node_what: str, check: Checker, counters: dict[str, Counter]) -> Reply | None:
    before = _errors(check)
    what = f"{node_what}, reply {number}"
    check.unknown_keys(raw, {"id", "text", "grade", "competencies", "feedback", "debrief", "effects", "next"}, what)
    reply_id, text = check.slug(raw, "id", what), check.text(raw, "text", what)
    note = check.text(raw, "debrief", what, required=False) or ""
    check.in_words(note, raw.line_of("debrief"), f"{what}: the debrief note")
    feedback = raw.get("feedback")
    if not isinstance(feedback, str) or not feedback.strip():
        check.problem(raw.line, f"{what} has no feedback: say which competency it serves or breaks, and why")
    grade = raw.get("grade")
    if not isinstance(grade, str) or grade not in GRADE_SCORES:
        check.problem(
            raw.line_of("grade"), f"{what}: 'grade' must be one of best, acceptable, unhelpful, harmful (not {grade!r})"
        )
    competencies = check.competencies(raw, "competencies", what)
    check.in_words(feedback if isinstance(feedback, str) else None, raw.line_of("feedback"), f"{what}: the feedback")
    effects = []
    raw_effects = raw.get("effects", {})
    if not isinstance(raw_effects, dict):
        check.problem(
            raw.line_of("effects"), f"{what}: 'effects' must map counters to whole numbers, like {{trust: 1}}"
        )
        raw_effects = {}
    for counter_id, delta in raw_effects.items():
        if counter_id not in counters:
            check.problem(
                raw.line_of("effects"),
                f"{what}: 'effects' names the counter '{counter_id}', which the conversation does not have",
            )
        elif isinstance(delta, bool) or not isinstance(delta, int):
            check.problem(
                raw.line_of("effects"), f"{what}: the effect on '{counter_id}' must be a whole number, not {delta!r}"
            )
        else:
            effects.append((counter_id, delta))
    routes = _routes(raw, what, check, counters)
    if _errors(check) > before:
        return None
    return Reply(
        id=reply_id,
        text_html=markdown.render_inline(text),
        grade=grade,
        score=GRADE_SCORES[grade],
        competencies=competencies,
        feedback_html=markdown.render(feedback),
        effects=tuple(effects),
        routes=routes,
        line=raw.line,
        debrief_html=markdown.render_inline(note),
    )


def _routes(raw: Mapping, what: str, check: Checker, counters: dict[str, Counter]) -> tuple[Route, ...]:
    target = raw.get("next")
    line = raw.line_of("next")
    if target is None:
        check.problem(raw.line, f"{what} has no 'next': say which node or ending it leads to")
        return ()
    if isinstance(target, str):
        return (Route((), target.strip(), line),)
    if not isinstance(target, list) or not target:
        check.problem(line, f"{what}: 'next' must be a node or ending id, or a list of routes")
        return ()
    routes = []
    for index, entry in enumerate(target, start=1):
        route_what = f"{what}, route {index}"
        route = check.mapping(entry, route_what, line)
        if route is None:
            continue
        check.unknown_keys(route, {"if", "to"}, route_what)
        to = check.slug(route, "to", route_what)
        is_last = index == len(target)
        conditions: tuple[Condition, ...] = ()
        if "if" in route:
            if is_last:
                check.problem(
                    route.line_of("if"), f"{route_what}: the last route must have no 'if', so every path goes somewhere"
                )
            conditions = _conditions(route.get("if"), route.line_of("if"), route_what, check, counters)
        elif not is_last:
            check.problem(
                route.line,
                f"{route_what} has no 'if', so the routes after it are never taken; only the last route goes without a condition",
            )
        if to:
            routes.append(Route(conditions, to, route.line))
    return tuple(routes)


def _conditions(raw: Any, line: int, what: str, check: Checker, counters: dict[str, Counter]) -> tuple[Condition, ...]:
    if not isinstance(raw, str) or not raw.strip():
        check.problem(line, f"{what}: 'if' must be a condition like 'trust >= 2'")
        return ()
    conditions = []
    for part in re.split(r"\s+and\s+", raw.strip()):
        match = _CONDITION.match(part)
        if not match:
            check.problem(
                line,
                f"{what}: cannot read the condition '{part}'; write a counter, one of >= <= > < ==, and a whole number",
            )
            continue
        counter_id, op, value = match.group(1), match.group(2), int(match.group(3))
        if counter_id not in counters:
            check.problem(
                line, f"{what}: the condition names the counter '{counter_id}', which the conversation does not have"
            )
            continue
        conditions.append(Condition(counter_id, op, value))
    return tuple(conditions)
