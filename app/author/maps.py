"""The conversation's map, drawn on the server by Graphviz as SVG, and its text outline beside it.

Both are read from the draft as it stands (broken or not), so an author sees a path break where it
breaks: a node with no replies or a reply leading nowhere is a dead end, a node no route reaches
from the start (or, the checker says, no state of the counters reaches) is unreachable, and when
the draft passes the checker the best path is drawn thick and labelled. Marks are words and shapes,
never colour alone. Author text reaches the SVG only as Graphviz-escaped label text, and the SVG is
then cut down to plain elements (no scripts, styles, comments or external references).
"""

import re
import textwrap
from collections import deque
from dataclasses import dataclass, field

import graphviz
from lxml import etree

from app.content.conversations import Conversation
from app.services.authored_conversations import ending_ids, node_ids, replies_of, targets

#: Characters per label line, and lines of the patient's words shown on a node.
WRAP = 26
LINES = 3
#: Characters XML 1.0 cannot hold (control characters, U+FFFE, U+FFFF, lone surrogates), and DEL.
_CONTROL = re.compile("[^\x09\x0a\x0d\x20-\x7e\x80-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UNREACHABLE = re.compile(r"^node '([^']+)' is unreachable")


@dataclass
class Route:
    """Where one reply of the outline leads."""

    to: str
    condition: str
    exists: bool


@dataclass
class OutlineReply:
    """One reply in the outline: its words, grade, routes, and whether the best path takes it."""

    id: str
    text: str
    grade: str
    routes: list[Route]
    is_best: bool = False


@dataclass
class OutlineNode:
    """A node of the outline, with what is wrong with it in words."""

    id: str
    patient: str
    replies: list[OutlineReply] = field(default_factory=list)
    is_start: bool = False
    is_dead_end: bool = False
    is_unreachable: bool = False
    on_best_path: bool = False

    @property
    def marks(self) -> list[str]:
        """The node's marks, in words (as the map labels it)."""
        found = []
        if self.is_start:
            found.append("start")
        if self.is_dead_end:
            found.append("dead end")
        if self.is_unreachable:
            found.append("unreachable")
        if self.on_best_path:
            found.append("on the best path")
        return found


@dataclass
class Outline:
    """Everything the map draws, as text: nodes, endings, and the best path's reply ids."""

    nodes: list[OutlineNode]
    endings: list[tuple[str, str, str, bool]]  # (id, title, outcome, reached by the best path)
    best: list[tuple[str, str]]  # (node id, reply id) in order
    missing: list[str]


def _clean(text: object) -> str:
    """Text as one line: no control characters, runs of space as one."""
    return " ".join(_CONTROL.sub(" ", str(text or "")).split())


def _best_steps(conversation: Conversation | None) -> list[tuple[str, str]]:
    if conversation is None:
        return []
    steps, _state = conversation.play(list(conversation.best_path))
    return [(step.node.id, step.reply.id) for step in steps]


def outline(draft: dict, conversation: Conversation | None, problems: list) -> Outline:
    """The draft read as a graph: every node with its marks, replies and routes."""
    nodes_here, endings_here = node_ids(draft), ending_ids(draft)
    known = set(nodes_here) | set(endings_here)
    best = _best_steps(conversation)
    best_pairs = set(best)
    checker_unreachable = {m[1] for p in problems if not p.is_warning and (m := _UNREACHABLE.match(p.message))}
    found: list[OutlineNode] = []
    edges: dict[str, list[str]] = {}
    missing: list[str] = []
    for raw in draft.get("nodes") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        node = OutlineNode(raw["id"], _clean(raw.get("patient")), is_start=raw["id"] == draft.get("start"))
        replies = replies_of(raw)
        node.is_dead_end = not replies
        for reply in replies:
            routes = []
            target = reply.get("next")
            if isinstance(target, list):
                for route in target:
                    if isinstance(route, dict) and isinstance(route.get("to"), str):
                        routes.append(Route(route["to"], _clean(route.get("if")), route["to"] in known))
            elif isinstance(target, str):
                routes.append(Route(target, "", target in known))
            if not routes or any(not r.exists for r in routes):
                node.is_dead_end = True
            missing += [r.to for r in routes if not r.exists and r.to not in missing]
            reply_id = _clean(reply.get("id"))
            node.replies.append(
                OutlineReply(reply_id, _clean(reply.get("text")), _clean(reply.get("grade")), routes,
                             (node.id, reply_id) in best_pairs)
            )  # fmt: skip
        edges[node.id] = [t for r in replies for t in targets(r)]
        node.on_best_path = any(n == node.id for n, _ in best)
        found.append(node)
    reached = _reached(draft.get("start"), edges)
    for node in found:
        node.is_unreachable = node.id not in reached or node.id in checker_unreachable
    best_end = conversation.play(list(conversation.best_path))[1].at if conversation is not None and best else None
    endings = [
        (_clean(e.get("id")), _clean(e.get("title")), _clean(e.get("outcome")), e.get("id") == best_end)
        for e in draft.get("endings") or []
        if isinstance(e, dict) and isinstance(e.get("id"), str)
    ]
    return Outline(found, endings, best, missing)


def _reached(start: object, edges: dict[str, list[str]]) -> set[str]:
    """Every node some route leads to from the start, conditions aside."""
    if not isinstance(start, str) or start not in edges:
        return set()
    seen, queue = {start}, deque([start])
    while queue:
        for target in edges.get(queue.popleft(), []):
            if target in edges and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _label(*lines: str) -> graphviz.quoting.NoHtml:
    """A Graphviz label of these lines: backslashes escaped, never read as an HTML-like label."""
    lines = (_CONTROL.sub(" ", line).replace("\\", "\\\\") for line in lines if line)
    return graphviz.nohtml("\\n".join(line for line in lines if line.strip()))


def _wrapped(text: str) -> list[str]:
    lines = textwrap.wrap(text, WRAP, max_lines=LINES, placeholder=" …")
    return lines or ["(no patient line yet)"]


def draw(found: Outline, node_url, endings_url: str) -> str:
    """The map as an SVG element (a string of markup safe to put inline): each node a link to its form."""
    graph = graphviz.Digraph(
        "conversation",
        graph_attr={"rankdir": "TB", "nodesep": "0.25", "ranksep": "0.45", "fontname": "DejaVu Sans", "bgcolor": "transparent"},
        node_attr={"fontname": "DejaVu Sans", "fontsize": "11", "shape": "box", "style": "rounded", "margin": "0.12,0.06"},
        edge_attr={"fontname": "DejaVu Sans", "fontsize": "10", "color": "#555555", "arrowsize": "0.7"},
    )  # fmt: skip
    names = {node.id: f"n{n}" for n, node in enumerate(found.nodes)}
    names |= {ending[0]: f"e{n}" for n, ending in enumerate(found.endings)}
    names |= {target: f"m{n}" for n, target in enumerate(found.missing)}
    for node in found.nodes:
        marks = [m.upper() for m in node.marks]
        attrs = {"URL": node_url(node.id), "penwidth": "1"}
        if node.is_dead_end:
            attrs |= {"shape": "octagon", "style": "bold", "color": "#b00020"}
        if node.is_unreachable:
            attrs |= {"style": "dashed", "color": "#6b4e00"}
        if node.on_best_path:
            attrs |= {"penwidth": "3", "color": "#00507a"}
        graph.node(names[node.id], _label(" · ".join(marks), node.id, *_wrapped(node.patient)), **attrs)
    for ending_id, title, outcome, is_best in found.endings:
        attrs = {"URL": endings_url, "shape": "ellipse", "style": "solid"}
        if is_best:
            attrs |= {"penwidth": "3", "color": "#00507a"}
        graph.node(names[ending_id], _label(f"ENDING ({outcome or '?'})", ending_id, *_wrapped(title)[:2]), **attrs)
    for target in found.missing:
        graph.node(names[target], _label("MISSING", target), shape="octagon", style="bold", color="#b00020")
    for node in found.nodes:
        for reply in node.replies:
            for route in reply.routes:
                if route.to not in names:
                    continue
                label = (
                    reply.id
                    + (" BEST" if reply.is_best else "")
                    + (f" if {route.condition}" if route.condition else "")
                )
                attrs = {"penwidth": "3", "color": "#00507a"} if reply.is_best else {}
                graph.edge(names[node.id], names[route.to], label=_label(label), **attrs)
    return clean_svg(graph.pipe(format="svg", encoding="utf-8"))


_ELEMENTS = {"svg", "g", "a", "path", "polygon", "polyline", "ellipse", "text"}
_DROP = (
    re.compile(r"<\?xml.*?\?>", re.S),
    re.compile(r"<!DOCTYPE.*?>", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"<title>.*?</title>", re.S),
    re.compile(r'\s(?:xmlns:xlink|xlink:title|target)="[^"]*"'),
)


def clean_svg(svg: str) -> str:
    """Graphviz's SVG as plain inline markup: no prolog, comments or titles; `href` instead of `xlink:href`."""
    for pattern in _DROP:
        svg = pattern.sub("", svg)
    svg = svg.replace("xlink:href=", "href=").strip()
    # The SVG is drawn from escaped text only; still, let through only the plain drawing elements Graphviz makes.
    try:
        drawn = etree.fromstring(svg.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"the conversation map is not well-formed SVG: {exc}") from None
    for element in drawn.iter():
        tag = etree.QName(element).localname if isinstance(element.tag, str) else ""
        if tag not in _ELEMENTS or any(a.lower().startswith("on") for a in element.attrib):
            raise ValueError(f"the conversation map held an element it must not ({tag or 'not an element'})")
        if not element.get("href", "/").startswith(("/", "#")):
            raise ValueError("the conversation map held a link outside this site")
    return svg


def viewbox_width(svg: str) -> float:
    """The width of the SVG's viewBox (for checking the map stays readable)."""
    match = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) [\d.]+"', svg)
    return float(match[1]) if match else 0.0
