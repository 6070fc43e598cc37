"""How many replies are left in a conversation from any point: the "m" of "step n of about m".

A conversation branches, so its length is not fixed. The estimate from a point is the number of
replies to an ending if the learner gave the best reply from there on (the path the author wrote
as the main line); if the best replies from there would go round in a loop, it is the fewest
replies that reach any ending. The table is worked out once per conversation version, on first
use, from the content alone.
"""

from __future__ import annotations

from collections import deque
from threading import Lock
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.content.conversations import Conversation, State

#: Tables kept per (conversation id, version); a handful of conversations, so a small cap suffices.
_CACHE_SIZE = 64
_tables: dict[tuple[str, str], dict[State, int]] = {}
_lock = Lock()


def remaining(conversation: Conversation, state: State) -> int:
    """Replies still to give from `state` (0 at an ending), on the path the estimate follows."""
    key = (conversation.id, conversation.version)
    table = _tables.get(key)
    if table is None:
        table = _table(conversation)
        with _lock:
            if len(_tables) >= _CACHE_SIZE:
                _tables.clear()
            _tables[key] = table
    if state in table:
        return table[state]
    # A state the content cannot reach from its start (an old path on changed content): walk it now.
    return _walk_best(conversation, state, {}, lambda _s: 0)


def about(conversation: Conversation, replies_given: int, state: State) -> int:
    """The whole conversation's length as it looks now: replies given plus those still to give."""
    return replies_given + max(remaining(conversation, state), 1 if not conversation.is_ending(state) else 0)


def _table(conversation: Conversation) -> dict[State, int]:
    """Every reachable state's estimate: along the best replies, or the shortest way out of a loop."""
    edges = _edges(conversation)
    shortest = _shortest_to_an_ending(conversation, edges)
    table: dict[State, int] = {}
    for state in edges:
        _walk_best(conversation, state, table, lambda s: shortest.get(s, 0))
    return table


def _edges(conversation: Conversation) -> dict[State, list[State]]:
    """Each reachable state and the states its replies lead to."""
    start = conversation.initial()
    edges: dict[State, list[State]] = {}
    queue = [start]
    while queue:
        state = queue.pop()
        if state in edges:
            continue
        node = conversation.node(state.at)
        edges[state] = [conversation.advance(state, reply) for reply in node.replies] if node else []
        queue.extend(after for after in edges[state] if after not in edges)
    return edges


def _shortest_to_an_ending(conversation: Conversation, edges: dict[State, list[State]]) -> dict[State, int]:
    """The fewest replies from each state to any ending: a breadth-first search back from the endings."""
    back: dict[State, list[State]] = {state: [] for state in edges}
    for state, afters in edges.items():
        for after in afters:
            back.setdefault(after, []).append(state)
    distance = {state: 0 for state in edges if conversation.is_ending(state)}
    queue = deque(distance)
    while queue:
        state = queue.popleft()
        for before in back.get(state, ()):
            if before not in distance:
                distance[before] = distance[state] + 1
                queue.append(before)
    return distance


def _walk_best(conversation: Conversation, state: State, table: dict[State, int], in_a_loop) -> int:
    """Follow the best replies from `state`, filling `table` for every state on the way."""
    chain: list[State] = []
    on_chain: set[State] = set()
    current = state
    while current not in table:
        if conversation.is_ending(current) or conversation.node(current.at) is None:
            table[current] = 0
            break
        if current in on_chain:
            # The best replies go round: from here on, count the shortest way out instead.
            table[current] = in_a_loop(current)
            break
        chain.append(current)
        on_chain.add(current)
        current = conversation.advance(current, conversation.node(current.at).best)
    following = table[current]
    for earlier in reversed(chain):
        if earlier not in table:
            following += 1
            table[earlier] = following
        else:
            following = table[earlier]
    return table[state]
