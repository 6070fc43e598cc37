"""Shared by the observation-form authoring tests: a three-item form an educator might write, as its forms send it."""

import re

TITLE = "Observed: agreeing a home exercise plan"
MODULE = "communication-skills"
CONSULTATION = "A follow-up physiotherapy visit: the student agrees a home exercise plan with the patient."
SETTINGS = {
    "title": TITLE,
    "module": MODULE,
    "consultation": CONSULTATION,
    "minutes": "8",
    "pass_mark": "60",
    "about": "Written for the tests.",
}
#: Three behaviour items as the item form sends them: one plain, one critical, one anchored 1 to 5.
ITEMS = [
    {
        "text": "Asks what the patient already does at home before suggesting anything.",
        "competencies": "comm.active-listening",
        "scale": "done",
        "critical": "no",
        "source": "course-notes",
    },
    {
        "text": "Checks the patient agrees with the plan and can say it back.",
        "competencies": "bordin.tasks, pcc.sharing-power",
        "scale": "done",
        "critical": "yes",
    },
    {
        "text": "Explains why each exercise helps, in plain words.",
        "competencies": "practice.education",
        "scale": "anchored",
        "critical": "no",
        "anchors.1": "No explanation, or one that could frighten.",
        "anchors.2": "Explains in jargon the patient cannot follow.",
        "anchors.3": "A plain explanation, not checked.",
        "anchors.4": "A plain explanation, checked with the patient.",
        "anchors.5": "Built from the patient's own words and checked together.",
    },
]
REFERENCES = {"references.0.id": "course-notes", "references.0.text": "The course's own notes on exercise plans."}
PATIENT = {
    "patient.intro": "Please tell us how the visit went for you.",
    "patient.items.0.text": "They asked what I already do at home.",
    "patient.items.0.competencies": "comm.active-listening",
    "patient.items.1.text": "We agreed the plan together.",
    "patient.items.1.competencies": "bordin.tasks",
}


def start_form(client, title: str = TITLE) -> int:
    """Start an observation form through the "new" page; its id."""
    response = client.post(
        "/author/observations/new",
        data={"title": title, "module": MODULE, "consultation": CONSULTATION, "minutes": "8"},
    )
    assert response.status_code == 302, response.text
    return int(re.search(r"/author/(\d+)/observation", response.location)[1])


def write_form(client, title: str = TITLE, items: list[dict] | None = None, patient: bool = True) -> int:
    """A complete, valid observation form written through the editor's forms; its id."""
    form_id = start_form(client, title)
    assert client.post(f"/author/{form_id}/observation", data={**SETTINGS, "title": title}).status_code == 302
    assert client.post(f"/author/{form_id}/observation/references", data=REFERENCES).status_code == 302
    for position, item in enumerate(items or ITEMS, start=1):
        client.post(f"/author/{form_id}/observation/items", data={"scale": item["scale"]})
        assert client.post(f"/author/{form_id}/observation/items/{position}", data=item).status_code == 302
    if patient:
        assert client.post(f"/author/{form_id}/observation/patient", data=PATIENT).status_code == 302
    return form_id
