"""Branching conversations written in the browser: the draft's settings, counters, endings and nodes.

A conversation is an authored quiz row whose draft is a conversation file's mapping (`type:
conversation`), so drafts, publishing, versions, sharing and the catalog are the quiz editor's
(app/services/authoring.py). Services flush, never commit.
"""

import copy
import re

from app.content.checker import SLUG
from app.content.yamlfile import Mapping
from app.models import AuthoredQuiz, User
from app.services.authoring import AuthoringError, _save, create

#: The most nodes a conversation may have: the map and the checker stay quick and readable well past it.
MAX_NODES = 80
#: Most counters and the fewest endings a conversation file takes (app/content/conversation_reader.py).
MAX_COUNTERS = 4
FIRST_NODE = "opening"


def create_conversation(owner: User, title: str, module_id: str) -> AuthoredQuiz:
    """A new draft conversation owned by `owner`: one empty opening node, no counters or endings yet."""
    conversation = create(owner, title, module_id)
    draft = {
        "id": conversation.ref,
        "type": "conversation",
        "title": conversation.draft["title"],
        "module": module_id,
        "pass_mark": 70,
        "start": FIRST_NODE,
        "nodes": [{"id": FIRST_NODE}],
        "endings": [],
    }
    _save(conversation, draft)
    return conversation


def _draft(conversation: AuthoredQuiz) -> dict:
    if not conversation.is_conversation:
        raise AuthoringError("This is a quiz, not a conversation.")
    return copy.deepcopy(conversation.draft)


def node_ids(draft: dict) -> list[str]:
    """The ids of the draft's nodes, in order (entries without a text id left out)."""
    return [n["id"] for n in draft.get("nodes") or [] if isinstance(n, dict) and isinstance(n.get("id"), str)]


def ending_ids(draft: dict) -> list[str]:
    """The ids of the draft's endings, in order."""
    return [e["id"] for e in draft.get("endings") or [] if isinstance(e, dict) and isinstance(e.get("id"), str)]


def targets(reply: dict) -> list[str]:
    """Every node or ending a reply's `next` names (one id, or each route's `to`)."""
    target = reply.get("next")
    if isinstance(target, str):
        return [target]
    if isinstance(target, list):
        return [r["to"] for r in target if isinstance(r, dict | Mapping) and isinstance(r.get("to"), str)]
    return []


def replies_of(node: dict) -> list[dict]:
    """A node's replies that are mappings."""
    return [r for r in node.get("replies") or [] if isinstance(r, dict)]


def routes_into(draft: dict, target: str) -> list[tuple[str, str]]:
    """(node id, reply id) of every reply that leads to `target`."""
    found = []
    for node in draft.get("nodes") or []:
        if not isinstance(node, dict):
            continue
        for reply in replies_of(node):
            if target in targets(reply):
                found.append((str(node.get("id")), str(reply.get("id"))))
    return found


def node_index(draft: dict, node_id: str) -> int | None:
    """The position (from 0) of the node with this id, if the draft has it."""
    return next(
        (n for n, node in enumerate(draft.get("nodes") or []) if isinstance(node, dict) and node.get("id") == node_id),
        None,
    )


def _new_id(draft: dict, node_id: str, what: str = "node") -> str:
    node_id = node_id.strip().lower()
    if not node_id or not SLUG.match(node_id) or len(node_id) > 60:
        raise AuthoringError(
            f"Give the {what} an id of lower-case letters, digits and hyphens (such as 'asks-about-work'), at most 60."
        )
    if node_id in node_ids(draft) or node_id in ending_ids(draft):
        raise AuthoringError(f"The conversation already has a node or ending called '{node_id}'.")
    return node_id


def update_settings(conversation: AuthoredQuiz, settings: dict) -> None:
    """Set title, module, pass mark, intro, patient, setting and start (empty ones removed, so the checker names them)."""
    draft = _draft(conversation)
    for key in ("title", "module", "pass_mark", "intro", "patient", "setting", "start"):
        value = settings.get(key)
        if value in (None, ""):
            draft.pop(key, None)
        else:
            draft[key] = value
    _save(conversation, draft)


def update_counters(conversation: AuthoredQuiz, counters: list[dict]) -> None:
    """Replace the counters (at most four); an effect or condition naming a removed one is left for the checker."""
    draft = _draft(conversation)
    if counters:
        draft["counters"] = counters[:MAX_COUNTERS]
    else:
        draft.pop("counters", None)
    _save(conversation, draft)


def update_endings(conversation: AuthoredQuiz, endings: list[dict]) -> None:
    """Replace the endings."""
    draft = _draft(conversation)
    draft["endings"] = endings
    _save(conversation, draft)


def add_node(conversation: AuthoredQuiz, node_id: str) -> str:
    """Add an empty node with this id at the end; return its id."""
    draft = _draft(conversation)
    nodes = list(draft.get("nodes") or [])
    if len(nodes) >= MAX_NODES:
        raise AuthoringError(f"A conversation can have at most {MAX_NODES} nodes; split it into two conversations.")
    node_id = _new_id(draft, node_id)
    nodes.append({"id": node_id})
    draft["nodes"] = nodes
    if not draft.get("start"):
        draft["start"] = node_id
    _save(conversation, draft)
    return node_id


def update_node(conversation: AuthoredQuiz, node_id: str, node: dict) -> None:
    """Replace the node's narration, patient line and replies with the form's (its id is kept)."""
    draft = _draft(conversation)
    index = node_index(draft, node_id)
    if index is None:
        raise AuthoringError("That node is not in this conversation any more.")
    draft["nodes"][index] = {"id": node_id, **{k: v for k, v in node.items() if k != "id"}}
    _save(conversation, draft)


def _renamed(reply: dict, old: str, new: str) -> dict:
    target = reply.get("next")
    if target == old:
        return {**reply, "next": new}
    if isinstance(target, list):
        routes = [{**r, "to": new} if isinstance(r, dict) and r.get("to") == old else r for r in target]
        return {**reply, "next": routes}
    return reply


def rename_node(conversation: AuthoredQuiz, old: str, new: str) -> str:
    """Give a node a new id, and every reply leading to it (and the start) the new id too; return it."""
    draft = _draft(conversation)
    index = node_index(draft, old)
    if index is None:
        raise AuthoringError("That node is not in this conversation any more.")
    if new.strip().lower() == old:
        return old
    new = _new_id(draft, new)
    nodes = []
    for node in draft["nodes"]:
        if isinstance(node, dict):
            node = {**node, "replies": [_renamed(r, old, new) for r in replies_of(node)]} if "replies" in node else node
        nodes.append(node)
    nodes[index] = {**nodes[index], "id": new}
    draft["nodes"] = nodes
    if draft.get("start") == old:
        draft["start"] = new
    _save(conversation, draft)
    return new


def what_breaks(draft: dict, node_id: str) -> list[str]:
    """What deleting this node would break, in words (empty: nothing leads to it)."""
    found = [f"node '{n}', reply '{r}' leads to it" for n, r in routes_into(draft, node_id) if n != node_id]
    if draft.get("start") == node_id:
        found.insert(0, "the conversation starts at it")
    return found


def delete_node(conversation: AuthoredQuiz, node_id: str) -> None:
    """Remove a node nothing leads to (refused, saying what would break, otherwise)."""
    draft = _draft(conversation)
    index = node_index(draft, node_id)
    if index is None:
        raise AuthoringError("That node is not in this conversation any more.")
    broken = what_breaks(draft, node_id)
    if broken:
        raise AuthoringError(
            f"'{node_id}' cannot be deleted while " + "; ".join(broken) + ". Point those elsewhere first."
        )
    del draft["nodes"][index]
    _save(conversation, draft)


def replace_draft(conversation: AuthoredQuiz, data: dict) -> None:
    """Make an imported conversation file the draft (its id replaced by this conversation's)."""
    _save(conversation, {**copy.deepcopy(data), "type": "conversation"})


_NUMBER = re.compile(r"^-?\d+$")


def number_or_text(raw: str) -> int | str:
    """A whole number typed into a form, or the text as typed (the checker then says what is wrong, at the field)."""
    raw = raw.strip()
    return int(raw) if _NUMBER.match(raw) and len(raw) < 6 else raw
