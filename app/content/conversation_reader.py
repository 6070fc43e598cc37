"""One conversation file read and checked: counters, nodes, replies, routes and endings, then every path explored."""

import re
from dataclasses import replace
from typing import Any

from app.content import conversation_paths, markdown
from app.content.checker import Checker
from app.content.conversations import OUTCOMES, Condition, Conversation, Counter, Ending, Node, Reply, Route
from app.content.items import GRADE_SCORES
from app.content.yamlfile import Mapping

_CONDITION = re.compile(r"^\s*([a-z][a-z0-9-]*)\s*(>=|<=|==|>|<)\s*(-?\d+)\s*$")
_errors = conversation_paths.errors

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
