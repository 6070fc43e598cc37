"""Shared by the authoring tests: three scenario items an educator might write, as the item form sends them."""

import re

#: Three moments, each with four replies of similar length; the best reply sits at a different place in each.
SCENARIOS = [
    {
        "vignette.patient": "Mrs Okafor, 62, retired teacher; type 2 diabetes for ten years",
        "vignette.setting": "Annual review in a general practice diabetes clinic",
        "vignette.says": "I know I should walk more, but my knees hurt and I feel silly at the gym.",
        "prompt": "What do you say next?",
        "best": 2,
        "replies": [
            (
                "Walking is the best thing for your sugars, so try to build up to thirty minutes a day.",
                "unhelpful",
                "Misses the bond: it repeats advice she already knows and skips past the pain and embarrassment she named.",
            ),
            (
                "You really must exercise or your diabetes will get worse, there is no way around that.",
                "harmful",
                "Breaks the bond: a warning in place of listening makes her less likely to say what gets in the way.",
            ),
            (
                "Sore knees and feeling out of place both sound hard. What kind of moving might suit you?",
                "best",
                "Serves agreement on tasks: it names what she said and asks what activity would suit her, so the plan is hers.",
            ),
            (
                "Lots of people feel that way at first; would a class with people like you help at all?",
                "acceptable",
                "Kind, and it offers help, but it chooses the task for her before asking what she would want to do.",
            ),
        ],
    },
    {
        "vignette.patient": "Mr Haddad, 48, taxi driver; low back pain for three months",
        "vignette.setting": "First physiotherapy appointment in a community clinic",
        "vignette.says": "My last physio just gave me a sheet of exercises. I stopped after a week.",
        "prompt": "What do you say?",
        "best": 0,
        "replies": [
            (
                "What made you stop after that week? I would like to plan something that fits your days.",
                "best",
                "Serves agreement on tasks: it asks what got in the way before any plan, so the next one can fit his life.",
            ),
            (
                "Exercises only work if you keep doing them, so this time we will need you to stick with it.",
                "unhelpful",
                "Misses agreement on tasks: it blames him for stopping and says nothing about why the plan did not fit.",
            ),
            (
                "That physio should have explained things better; I will make sure you do it properly now.",
                "harmful",
                "Breaks the bond: criticising a colleague and taking control leaves him no say in what happens next.",
            ),
            (
                "Sheets of exercises are easy to forget. I can show you them now so you remember them.",
                "acceptable",
                "Helpful, but it assumes forgetting was the problem instead of asking him what made him stop.",
            ),
        ],
    },
    {
        "vignette.patient": "Ms Lindqvist, 35, nurse; anxiety after a car accident",
        "vignette.setting": "Second session with a practice counsellor",
        "vignette.says": "I don't see how talking about it helps. I just want to sleep again.",
        "prompt": "How do you respond?",
        "best": 1,
        "replies": [
            (
                "Talking does help most people in the end, so it is worth giving it a few more weeks.",
                "unhelpful",
                "Misses agreement on goals: it defends the method instead of hearing the goal she has just named.",
            ),
            (
                "Sleeping again sounds like it matters most. Shall we make that the first thing we work on?",
                "best",
                "Serves agreement on goals: it takes her goal as the starting point and asks her to agree the focus.",
            ),
            (
                "If you do not want to talk then there is not much that I can do for you in these sessions.",
                "harmful",
                "Breaks the bond: it puts the blame on her and threatens to end help when she voiced a real need.",
            ),
            (
                "Lots of people sleep badly after an accident. Shall we look at some sleep tips together?",
                "acceptable",
                "Responds to sleep, but jumps to tips without checking that sleep is the goal she wants to agree on.",
            ),
        ],
    },
]
COMPETENCIES = {
    "best": "bordin.bond, bordin.tasks",
    "acceptable": "bordin.tasks",
    "unhelpful": "bordin.tasks",
    "harmful": "bordin.bond",
}


def scenario_form(n: int) -> dict[str, str]:
    """The item form's fields for scenario `n` (0 to 2)."""
    case = SCENARIOS[n]
    data = {key: case[key] for key in ("vignette.patient", "vignette.setting", "vignette.says", "prompt")}
    for index, (text, grade, feedback) in enumerate(case["replies"]):
        data[f"options.{index}.text"] = text
        data[f"options.{index}.grade"] = grade
        data[f"options.{index}.feedback"] = feedback
        data[f"options.{index}.competencies"] = COMPETENCIES[grade]
    return data


def quiz_id_from(location: str) -> int:
    """The authored quiz's number from an editor address."""
    return int(re.search(r"/author/(\d+)", location)[1])


def write_quiz(client, title: str = "Goals in primary care", items: int = 3) -> int:
    """Start a quiz through the forms and write `items` scenario items into it; its number."""
    response = client.post("/author/new", data={"title": title, "module": "bordin-components"})
    assert response.status_code == 302, response.text
    quiz_id = quiz_id_from(response.location)
    for n in range(items):
        added = client.post(f"/author/{quiz_id}/items", data={"type": "scenario"})
        assert added.status_code == 302
        saved = client.post(added.location, data=scenario_form(n))
        assert saved.status_code == 302
    return quiz_id
