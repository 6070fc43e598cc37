"""Shared by the conversation-editor tests: a six-node conversation an educator might write, as its forms send it."""

import re

MODULE = "bordin-components"
TITLE = "Agreeing a walking goal"
SETTINGS = {
    "title": TITLE,
    "module": MODULE,
    "pass_mark": "60",
    "patient": "Mr Evans, 70, retired postman; breathless on hills since his heart attack",
    "setting": "Cardiac rehabilitation clinic, second visit",
    "start": "opening",
    "intro": "Agree a walking goal with Mr Evans that he owns.",
}
COUNTERS = {"counters.0.id": "trust", "counters.0.label": "Trust", "counters.0.start": "1", "counters.0.max": "3"}
ENDINGS = {
    "endings.0.id": "agreed",
    "endings.0.title": "A goal he owns",
    "endings.0.outcome": "good",
    "endings.0.debrief": "He leaves with a walking goal he chose, and knows what to do if his chest tightens.",
    "endings.1.id": "drifted",
    "endings.1.title": "No shared goal",
    "endings.1.outcome": "poor",
    "endings.1.debrief": "He leaves with advice he did not ask for and no goal of his own.",
}
_FEEDBACK_BEST = "Serves agreement on goals: it asks what matters to him before any plan, so the goal can be his."
_FEEDBACK_POOR = "Misses agreement on goals: it sets the plan for him, so he has no part in choosing the goal."
#: node id -> (patient line, [(reply text, grade, effect on trust, next)]), best reply first or second.
NODES = {
    "opening": (
        "The nurse said I should walk more. I used to walk the dog up the hill every morning.",
        [
            ("Tell me about those walks with the dog; what did they mean to you?", "best", "1", "worries"),
            ("Walking is good for the heart, so we will start you on ten minutes a day.", "unhelpful", "-1", "worries"),
        ],
    ),
    "worries": (
        "Since the heart attack I get tight in the chest on the hill, and it frightens me.",
        [
            ("That sounds frightening. Could we talk about what happens on the hill?", "best", "", "work"),
            ("Everyone feels that at first; you just have to push through the fear.", "unhelpful", "-1", "family"),
        ],
    ),
    "work": (
        "I stop at the bench halfway. My wife thinks I should not go at all.",
        [
            ("Your wife is right; it is safer to stay on the flat for now, I think.", "unhelpful", "", "plan"),
            ("Stopping at the bench sounds wise. What would you like to manage next?", "best", "", "plan"),
        ],
    ),
    "family": (
        "My daughter wants me to join a gym, but I have never liked gyms at all.",
        [
            ("What kind of exercise have you enjoyed, if it is not the gym for you?", "best", "", "plan"),
            ("A gym has staff to watch you, so it would be the safest place to go.", "unhelpful", "", "wrap-up"),
        ],
    ),
    "plan": (
        "I would like to get to the top of the hill with the dog again, by the summer.",
        [
            ("The top of the hill by summer, then. What would a first step look like?", "best", "", "IF"),
            ("Let us aim lower than the hill, maybe the park, to be on the safe side.", "unhelpful", "", "drifted"),
        ],
    ),
    "wrap-up": (
        "So what do I do if my chest gets tight again while I am out walking?",
        [
            ("Stop and rest; if it lasts, use your spray, and we can plan that together.", "best", "", "agreed"),
            ("Come back and see us, and we will look at it again at your next visit.", "unhelpful", "", "drifted"),
        ],
    ),
}


def node_form(node_id: str) -> dict:
    """The node form as an educator fills it for this node of the six."""
    patient, replies = NODES[node_id]
    form = {"patient": patient}
    for n, (text, grade, effect, target) in enumerate(replies):
        base = f"replies.{n}"
        form |= {
            f"{base}.text": text,
            f"{base}.grade": grade,
            f"{base}.feedback": _FEEDBACK_BEST if grade == "best" else _FEEDBACK_POOR,
            f"{base}.competencies": "bordin.goals, pcc.patient-as-person",
            f"{base}.effects.trust": effect,
        }
        if target == "IF":  # the one reply whose path depends on trust
            form |= {f"{base}.next.0.if": "trust >= 2", f"{base}.next.0.to": "wrap-up", f"{base}.next.1.to": "drifted"}
        else:
            form[f"{base}.next.0.to"] = target
    return form


def conversation_id_from(location: str) -> int:
    """The conversation's number from an address under /author/<n>/."""
    return int(re.search(r"/author/(\d+)", location)[1])


def write_conversation(client, title: str = TITLE) -> int:
    """Write the six-node conversation through the forms, from empty; its number."""
    started = client.post("/author/conversations/new", data={"title": title, "module": MODULE})
    assert started.status_code == 302, started.text
    number = conversation_id_from(started.location)
    assert client.post(f"/author/{number}/counters", data=COUNTERS).status_code == 302
    assert client.post(f"/author/{number}/endings", data=ENDINGS).status_code == 302
    for node_id in NODES:
        if node_id != "opening":
            assert client.post(f"/author/{number}/nodes", data={"id": node_id}).status_code == 302
    for node_id in NODES:
        assert client.post(f"/author/{number}/nodes/{node_id}", data=node_form(node_id)).status_code == 302
    assert client.post(f"/author/{number}/conversation", data=SETTINGS | {"title": title}).status_code == 302
    return number


def mapping(conversation_id: str) -> dict:
    """The six-node conversation as its file's mapping (read from the forms by the editor's own code)."""
    from app.author import conversation_fields as cf

    return {
        "id": conversation_id,
        "type": "conversation",
        **{k: v for k, v in SETTINGS.items() if k != "pass_mark"},
        "pass_mark": int(SETTINGS["pass_mark"]),
        "counters": cf.counters_from_form(COUNTERS),
        "nodes": [{"id": n, **cf.node_from_form(node_form(n), ["trust"], {})} for n in NODES],
        "endings": cf.endings_from_form(ENDINGS),
    }
