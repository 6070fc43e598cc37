"""Every path through a conversation: the checks that play them all, and the best score any reaches.

The checker explores every state the replies can produce (node and counter values) to find dead
ends, unreachable parts, loops with no way out and conditions that never hold; it works out the best
score any path can reach; and it looks at the paths that take no harmful reply: an ending may say
whether such a path should reach it, and a path that passes on points yet ends at a poor ending is
reported as a warning, since the learner fails on the ending alone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.content.checker import Checker
from app.content.problems import Problem
from app.content.yamlfile import Mapping

if TYPE_CHECKING:
    from app.content.conversations import Conversation, State

#: Exploring more states than this means the counters' ranges are too wide to check.
MAX_STATES = 200_000
#: How many example paths a warning lists before it says how many more there are.
EXAMPLES = 5

#: Each state's way out: (reply id, the state it leads to, the reply's score).
Edges = dict["State", list[tuple[str, "State", float]]]


def errors(check: Checker) -> int:
    """How many problems so far are errors (warnings do not stop a conversation from being built)."""
    return sum(1 for p in check.problems if not p.is_warning)


def explore(conversation: Conversation, check: Checker, data: Mapping) -> tuple[float, list[str]] | None:
    """Check the state graph; return the best score and a path reaching it, or None after noting problems."""
    before = errors(check)
    initial = conversation.initial()
    edges: Edges = {}
    reached_nodes: set[str] = set()
    route_taken: set[tuple[str, str, int]] = set()
    condition_true: set[tuple[str, str, int, int]] = set()
    queue, seen = [initial], {initial}
    while queue:
        state = queue.pop()
        reached_nodes.add(state.at)
        node = conversation.node(state.at)
        if node is None:  # an ending
            edges[state] = []
            continue
        out = []
        for reply in node.replies:
            after = conversation.advance(state, reply)
            values = conversation.values(after)
            for index, route in enumerate(reply.routes):
                for c_index, condition in enumerate(route.conditions):
                    if condition.holds(values):
                        condition_true.add((node.id, reply.id, index, c_index))
            taken = next(i for i, r in enumerate(reply.routes) if all(c.holds(values) for c in r.conditions))
            route_taken.add((node.id, reply.id, taken))
            out.append((reply.id, after, reply.score))
            if after not in seen:
                seen.add(after)
                queue.append(after)
                if len(seen) > MAX_STATES:
                    check.problem(
                        data.line_of("counters"),
                        f"the conversation has more than {MAX_STATES:,} states to check; narrow the counters' min and max",
                    )
                    return None
        edges[state] = out

    for node in conversation.nodes:
        if node.id not in reached_nodes:
            check.problem(
                node.line, f"node '{node.id}' is unreachable: no path from '{conversation.start}' leads to it"
            )
            continue
        for reply in node.replies:
            for index, route in enumerate(reply.routes):
                for c_index, condition in enumerate(route.conditions):
                    if (node.id, reply.id, index, c_index) not in condition_true:
                        check.problem(
                            route.line,
                            f"node '{node.id}', reply '{reply.id}': the condition '{condition}' can never hold on any path that reaches it",
                        )
                if (node.id, reply.id, index) not in route_taken and all(
                    (node.id, reply.id, index, c) in condition_true for c in range(len(route.conditions))
                ):
                    check.problem(
                        route.line,
                        f"node '{node.id}', reply '{reply.id}': the route to '{route.to}' is never taken on any path "
                        "(its conditions never hold together, or an earlier route always wins)",
                    )
    for ending in conversation.endings:
        if ending.id not in reached_nodes:
            check.problem(ending.line, f"the ending '{ending.id}' is unreachable: no path leads to it")

    components, component_of = _strongly_connected(edges)
    # Can each state still reach an ending? Components come out of Tarjan's algorithm in reverse
    # topological order, so every component's successors are settled before it.
    farmed: set[tuple[str, str]] = set()
    best: dict[int, float | None] = {}
    for index, component in enumerate(components):
        value: float | None = 0.0 if any(conversation.is_ending(s) for s in component) else None
        for state in component:
            for reply_id, after, score in edges[state]:
                target = component_of[after]
                if target == index:
                    if score > 0 and (state.at, reply_id) not in farmed:
                        farmed.add((state.at, reply_id))
                        node = conversation.node(state.at)
                        check.problem(
                            node.reply(reply_id).line,
                            f"node '{state.at}', reply '{reply_id}' is part of a loop that earns points; "
                            "a learner could go round it for ever (grade it 0 or break the loop)",
                        )
                    continue
                if best[target] is not None and (value is None or score + best[target] > value):
                    value = score + best[target]
        best[index] = value
    stuck = sorted(
        {s.at for s in edges if best[component_of[s]] is None},
        key=lambda node_id: conversation.node(node_id).line,
    )
    for node_id in stuck:
        check.problem(
            conversation.node(node_id).line,
            f"node '{node_id}' is in a loop with no way out: on some paths no reply from here ever reaches an ending",
        )
    if errors(check) > before:
        return None
    max_score = best[component_of[initial]]
    _check_harm_free_paths(conversation, check, edges, max_score)
    if errors(check) > before:
        return None
    return max_score, _best_path(conversation, initial, edges, best, component_of)


def _best_path(conversation, initial, edges, best, component_of) -> list[str]:
    """Reply ids along one path from the start that earns the best score."""
    path: list[str] = []
    state = initial
    while not conversation.is_ending(state):
        here = component_of[state]
        exits = [
            (reply_id, after)
            for reply_id, after, score in edges[state]
            if component_of[after] != here
            and best[component_of[after]] is not None
            and score + best[component_of[after]] == best[here]
        ]
        if exits:
            reply_id, state = exits[0]
            path.append(reply_id)
            continue
        # The best exit leaves from another state of this loop: walk there (loops earn nothing).
        route = _walk_to_exit(state, here, edges, best, component_of)
        for reply_id, after in route:
            path.append(reply_id)
            state = after
    return path


def _walk_to_exit(start, component, edges, best, component_of) -> list[tuple[str, Any]]:
    """The shortest walk inside a loop from `start` to a state with a best exit, then that exit."""
    previous: dict[Any, tuple[Any, str]] = {}
    queue, seen = deque([start]), {start}
    while queue:
        state = queue.popleft()
        for reply_id, after, score in edges[state]:
            target = component_of[after]
            if target != component and best[target] is not None and score + best[target] == best[component]:
                return [*_path_to(start, previous, state), (reply_id, after)]
            if target == component and after not in seen:
                seen.add(after)
                previous[after] = (state, reply_id)
                queue.append(after)
    return []


def _path_to(start, previous, state) -> list[tuple[str, Any]]:
    steps = []
    while state != start:
        before, reply_id = previous[state]
        steps.append((reply_id, state))
        state = before
    return list(reversed(steps))


def _strongly_connected(edges: Edges) -> tuple[list[list[State]], dict[State, int]]:
    """Tarjan's algorithm, iterative; components in reverse topological order."""
    index_of: dict[State, int] = {}
    low: dict[State, int] = {}
    on_stack: set[State] = set()
    stack: list[State] = []
    components: list[list[State]] = []
    component_of: dict[State, int] = {}
    counter = 0
    for root in edges:
        if root in index_of:
            continue
        work = [(root, 0)]
        while work:
            state, child = work.pop()
            if child == 0:
                index_of[state] = low[state] = counter
                counter += 1
                stack.append(state)
                on_stack.add(state)
            successors = edges[state]
            if child < len(successors):
                work.append((state, child + 1))
                after = successors[child][1]
                if after not in index_of:
                    work.append((after, 0))
                elif after in on_stack:
                    low[state] = min(low[state], index_of[after])
                continue
            if low[state] == index_of[state]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component_of[member] = len(components)
                    component.append(member)
                    if member == state:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[state])
    return components, component_of


# --- the paths that take no harmful reply


@dataclass(frozen=True)
class _Ways:
    """The paths that reach a state with one score: how many (None: endless, round a loop) and a few examples."""

    count: int | None
    examples: tuple[tuple[tuple[str, str], ...], ...]

    def __add__(self, other: _Ways) -> _Ways:
        count = None if self.count is None or other.count is None else self.count + other.count
        return _Ways(count, (self.examples + other.examples)[:EXAMPLES])

    def then(self, steps: tuple[tuple[str, str], ...], endless: bool = False) -> _Ways:
        """The same paths followed by `steps` (node id, reply id)."""
        return _Ways(None if endless else self.count, tuple(e + steps for e in self.examples))


def _check_harm_free_paths(conversation: Conversation, check: Checker, edges: Edges, max_score: float) -> None:
    """Endings against their `reachable_without_harm`, and passing paths with no harmful reply that end poorly."""
    harm_free = {
        state: [(r, after, score) for r, after, score in out if conversation.node(state.at).reply(r).grade != "harmful"]
        for state, out in edges.items()
    }
    scores = _scores_by_ending(conversation, harm_free)
    for ending in conversation.endings:
        reached = scores.get(ending.id, {})
        if ending.reachable_without_harm is True and not reached:
            check.problem(
                ending.line,
                f"the ending '{ending.id}' is meant to be reachable without a harmful reply "
                "(reachable_without_harm: true), but every path to it takes one; "
                "change a route, or write reachable_without_harm: false",
            )
        elif ending.reachable_without_harm is False and reached:
            example = next(iter(reached.values())).examples[0]
            check.problem(
                ending.line,
                f"the ending '{ending.id}' is meant to follow a harmful reply (reachable_without_harm: false), "
                f"but a path with none reaches it: {_describe(example)}; "
                "route that path elsewhere, or write reachable_without_harm: true",
            )
    if max_score <= 0:
        return
    for ending in conversation.endings:
        passing = sorted(
            ((score, ways) for score, ways in scores.get(ending.id, {}).items()
             if 100 * score >= conversation.pass_mark * max_score),
            key=lambda pair: -pair[0],
        )
        if ending.outcome != "poor" or not passing:
            continue
        counts = [ways.count for _, ways in passing]
        total = None if None in counts else sum(counts)
        listed = [
            f"{_describe(example)} ({100 * score / max_score:.0f}%)"
            for score, ways in passing
            for example in ways.examples
        ][:EXAMPLES]
        if total is None:
            how_many, more = "some paths (one goes round a loop)", ""
        else:
            how_many = "1 path" if total == 1 else f"{total} paths"
            more = f"; and {total - len(listed)} more" if total > len(listed) else ""
        check.problems.append(
            Problem(
                check.file,
                ending.line,
                f"the poor ending '{ending.id}' is reached with no harmful reply by {how_many} scoring at least "
                f"the pass mark ({conversation.pass_mark}%): {'; '.join(listed)}{more}. A learner on such a path "
                "fails on the ending alone: send it to a mixed ending, or make sure its debrief says why",
                is_warning=True,
            )
        )


def _scores_by_ending(conversation: Conversation, harm_free: Edges) -> dict[str, dict[float, _Ways]]:
    """For each ending, the scores of the harm-free paths reaching it, each with how many paths and examples.

    Counted over the loops' condensation in topological order: within a loop (which earns nothing, or
    the checker has already refused it) every state reaches every other at no cost, so a loop's states
    share the paths that enter it, and the number of ways becomes endless.
    """
    initial = conversation.initial()
    reachable, queue = {initial}, [initial]
    while queue:
        for _, after, _ in harm_free[queue.pop()]:
            if after not in reachable:
                reachable.add(after)
                queue.append(after)
    graph = {state: harm_free[state] for state in reachable}
    components, component_of = _strongly_connected(graph)
    arriving: dict[State, dict[float, _Ways]] = {initial: {0.0: _Ways(1, ((),))}}
    by_ending: dict[str, dict[float, _Ways]] = {}
    for index in reversed(range(len(components))):  # Tarjan gives reverse topological order
        members = components[index]
        is_loop = len(members) > 1 or any(after == members[0] for _, after, _ in graph[members[0]])
        here: dict[State, dict[float, _Ways]] = {}
        for member in members:
            if not is_loop:
                here[member] = arriving.get(member, {})
                continue
            gathered: dict[float, _Ways] = {}
            for entry in members:
                walk = _walk_inside(entry, member, graph, component_of)
                for score, ways in arriving.get(entry, {}).items():
                    moved = ways.then(walk, endless=True)
                    gathered[score] = gathered[score] + moved if score in gathered else moved
            here[member] = gathered
        for member, found in here.items():
            if conversation.is_ending(member):
                target = by_ending.setdefault(member.at, {})
                for score, ways in found.items():
                    target[score] = target[score] + ways if score in target else ways
            for reply_id, after, score in graph[member]:
                if component_of[after] == index:
                    continue
                into = arriving.setdefault(after, {})
                for before, ways in found.items():
                    moved = ways.then(((member.at, reply_id),))
                    total = before + score
                    into[total] = into[total] + moved if total in into else moved
    return by_ending


def _walk_inside(start: State, goal: State, graph: Edges, component_of: dict[State, int]) -> tuple[tuple[str, str], ...]:
    """The shortest walk from `start` to `goal` inside their loop, as (node id, reply id) steps."""
    previous: dict[State, tuple[State, str]] = {}
    queue, seen = deque([start]), {start}
    while queue:
        state = queue.popleft()
        if state == goal:
            break
        for reply_id, after, _ in graph[state]:
            if component_of[after] == component_of[start] and after not in seen:
                seen.add(after)
                previous[after] = (state, reply_id)
                queue.append(after)
    steps = []
    state = goal
    while state != start:
        before, reply_id = previous[state]
        steps.append((before.at, reply_id))
        state = before
    return tuple(reversed(steps))


def _describe(path: tuple[tuple[str, str], ...]) -> str:
    """A path as an author reads it: each node with the reply chosen there."""
    return " → ".join(f"{node_id}/{reply_id}" for node_id, reply_id in path)
