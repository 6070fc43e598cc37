"""Play the draft conversation as a learner (nothing is recorded): from the start, along the best path,
or from any node with the counters set to chosen values.

The whole path travels in the address (the start node, the counters' values and the replies chosen),
so playing needs no session state and no form token, and the back button works.
"""

import re

from flask import render_template, request

from app.author import bp
from app.author.conversations import conversation_or_404
from app.content import catalog
from app.content.conversations import Conversation, State, Step
from app.services import authoring

_WHOLE = re.compile(r"^[-+]?\d{1,4}$")


def _start(conversation: Conversation, args) -> tuple[State, dict[str, str]]:
    """The state to play from: the node and counter values asked for (each checked), else the conversation's own."""
    errors: dict[str, str] = {}
    at = args.get("from") or conversation.start
    if conversation.node(at) is None:
        errors["from"] = "Choose one of the conversation's nodes."
        at = conversation.start
    values = []
    for counter in conversation.counters:
        raw = args.get(f"c-{counter.id}")
        if raw in (None, ""):
            values.append(counter.start)
            continue
        value = int(raw.strip()) if _WHOLE.match(raw.strip()) else None
        if value is None or not counter.low <= value <= counter.high:
            errors[f"c-{counter.id}"] = f"{counter.label} must be a whole number from {counter.low} to {counter.high}."
            value = counter.start
        values.append(value)
    return State(at, tuple(values)), errors


def play(conversation: Conversation, start: State, reply_ids: list[str]) -> tuple[list[Step], State]:
    """Play replies from a state; a reply that does not fit where the path stands ends the path there."""
    state, steps = start, []
    for reply_id in reply_ids:
        node = conversation.node(state.at)
        reply = node.reply(reply_id) if node else None
        if reply is None:
            break
        after = conversation.advance(state, reply)
        steps.append(Step(node, reply, state, after))
        state = after
    return steps, state


@bp.get("/<int:quiz_id>/play")
def conversation_play(quiz_id: int):
    """The draft played as a learner plays it; `best=1` plays the best path, `from` and `c-<counter>` set the start."""
    found = conversation_or_404(quiz_id)
    checked = authoring.check(found, catalog())
    talk = checked.quiz
    if talk is None:
        return render_template("author/conversation_play.html", quiz=found, talk=None, checked=checked), 409
    start, errors = _start(talk, request.args)
    is_best = request.args.get("best") == "1"
    if is_best:
        start = talk.initial()
        path = list(talk.best_path)
    else:
        path = [p for p in request.args.get("path", "").split(",") if p][:200]
        if request.args.get("reply"):
            path.append(request.args["reply"])
    steps, state = play(talk, start, path)
    is_custom = start != talk.initial()
    return render_template(
        "author/conversation_play.html",
        quiz=found,
        talk=talk,
        checked=checked,
        start=start,
        steps=steps,
        state=state,
        node=talk.node(state.at),
        ending=talk.ending(state.at),
        path=",".join(step.reply.id for step in steps),
        errors=errors,
        is_best=is_best,
        is_custom=is_custom,
        score=sum(step.reply.score for step in steps),
        start_values=dict(zip((c.id for c in talk.counters), start.values, strict=True)),
        values=talk.values(state),
    ), (422 if errors else 200)
