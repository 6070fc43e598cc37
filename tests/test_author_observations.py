"""Observation forms written in the browser: start one, edit every field, the checker at each field, publish,
stations on it (offered to whom), ratings kept on the version they were made on."""

import html
import re

import pytest
from sqlalchemy import select

from app.content.authored_ids import is_authored
from app.models import AuthoredQuiz, Observation
from app.observe.services import ratings, stations, versions
from app.services import authoring, cohorts
from tests.authoring_observation_helpers import CONSULTATION, ITEMS, MODULE, SETTINGS, TITLE, start_form, write_form


@pytest.fixture
def educator(auth):
    """A signed-in educator."""
    return auth.create("educator", "writer@example.org", "Writer Wu")


def signed_in(auth, user):
    auth.sign_in(user.email)
    return user


def draft_of(db, form_id: int) -> dict:
    form = db.session.get(AuthoredQuiz, form_id)
    db.session.refresh(form)
    return form.draft


def error_at(page: str, field: str) -> str:
    """The checker's message shown at a field of the page (its `f-<field>-error` paragraph), or ''."""
    found = re.search(rf'<p class="error" id="f-{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found[1])).strip() if found else ""


def test_an_educator_starts_a_form_from_the_index_and_the_new_page_names_each_missing_field(client, auth, educator):
    signed_in(auth, educator)
    index = client.get("/author/").text
    assert 'href="/author/observations/new"' in index and "New observation form" in index
    empty = client.post("/author/observations/new", data={"title": " ", "module": "nope", "minutes": "0"})
    assert empty.status_code == 422
    for message in ("Give the observation form a title.", "Choose the module", "Say what consultation", "1 to 120"):
        assert message in empty.text
    form_id = start_form(client)
    page = client.get(f"/author/{form_id}/observation")
    assert page.status_code == 200 and f"<h1>{html.escape(TITLE)}</h1>" in page.text
    assert CONSULTATION in page.text
    # A new form has no items or sources yet: the checker says so, and publishing is refused.
    assert "missing &#39;references&#39;" in page.text or "missing 'references'" in html.unescape(page.text)
    refused = client.post(f"/author/{form_id}/publish", follow_redirects=True)
    assert "problem" in refused.text and "to fix before it can be published" in refused.text
    # It is listed on the index as an observation form, and the old quiz addresses lead to its own pages.
    assert "observation form</span>" in client.get("/author/").text
    assert client.get(f"/author/{form_id}").location == f"/author/{form_id}/observation"
    assert client.get(f"/author/{form_id}/preview").location == f"/author/{form_id}/observation/preview"


def test_every_field_is_saved_where_a_form_file_keeps_it(client, auth, db, educator, catalog):
    signed_in(auth, educator)
    form_id = write_form(client)
    draft = draft_of(db, form_id)
    assert draft["type"] == "observation" and draft["module"] == MODULE and draft["minutes"] == 8
    assert (
        draft["pass_mark"] == 60
        and draft["about"] == "Written for the tests."
        and draft["consultation"] == CONSULTATION
    )
    first, critical, anchored = draft["items"]
    assert first == {
        "id": "i1",
        "text": ITEMS[0]["text"],
        "competencies": ["comm.active-listening"],
        "source": "course-notes",
    }
    assert critical["critical"] is True and critical["competencies"] == ["bordin.tasks", "pcc.sharing-power"]
    assert anchored["scale"] == "anchored" and anchored["anchors"]["3"] == "A plain explanation, not checked."
    assert draft["references"] == [{"id": "course-notes", "text": "The course's own notes on exercise plans."}]
    assert draft["patient"]["items"][1] == {
        "id": "p2",
        "text": "We agreed the plan together.",
        "competencies": ["bordin.tasks"],
    }
    form = authoring.check(db.session.get(AuthoredQuiz, form_id), catalog).quiz
    assert form is not None and [i.scale.kind for i in form.items] == ["done", "done", "anchored"]
    assert [i.id for i in form.critical_items] == ["i2"] and form.max_score == 2 + 2 + 4
    page = client.get(f"/author/{form_id}/observation").text
    assert "The checker finds no problems." in page and "Item 2: Checks the patient agrees" in page


def test_items_are_moved_copied_and_deleted_with_the_quiz_editors_buttons(client, auth, db, educator):
    signed_in(auth, educator)
    form_id = write_form(client)
    client.post(f"/author/{form_id}/items/3/move", data={"direction": "up"})
    assert [i["id"] for i in draft_of(db, form_id)["items"]] == ["i1", "i3", "i2"]
    client.post(f"/author/{form_id}/items/1/duplicate")
    items = draft_of(db, form_id)["items"]
    assert [i["id"] for i in items] == ["i1", "i4", "i3", "i2"] and items[1]["text"] == items[0]["text"]
    asking = client.get(f"/author/{form_id}/items/2/delete").text
    assert "<h1>Delete item 2?</h1>" in asking and "“Asks what the patient already does" in asking
    client.post(f"/author/{form_id}/items/2/delete")
    assert [i["id"] for i in draft_of(db, form_id)["items"]] == ["i1", "i3", "i2"]
    # The quiz's item address leads to the behaviour item's own form.
    assert client.get(f"/author/{form_id}/items/1").location == f"/author/{form_id}/observation/items/1"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"competencies": "comm.nope"}, "competencies", "unknown competency id 'comm.nope'"),
        ({"text": ""}, "text", "item 1 is missing 'text'"),
        ({"scale": "anchored", "anchors.3": ""}, "anchors", "anchor 3 needs its wording"),
        ({"scale": "sometimes"}, "scale", "'scale' must be 'done' or 'anchored'"),
        ({"scale": "done", "anchors.1": "Never"}, "anchors", "'anchors' are only for scale: anchored"),
        ({"source": "nowhere"}, "source", "the source 'nowhere' is not in the form's references"),
    ],
)
def test_each_kind_of_bad_item_gets_the_checkers_message_at_its_field(
    client, auth, db, educator, change, field, message
):
    signed_in(auth, educator)
    form_id = write_form(client, patient=False)
    good = ITEMS[2] if change.get("scale") == "anchored" else ITEMS[0]
    position = 3 if good is ITEMS[2] else 1
    saved = client.post(f"/author/{form_id}/observation/items/{position}", data={**good, **change})
    assert saved.status_code == 302  # the draft saves with errors...
    page = client.get(saved.location).text
    assert message in error_at(page, field), page
    assert "has-error" in page
    form = client.get(f"/author/{form_id}/observation").text
    assert f"Item {position}: " in html.unescape(form) and message in html.unescape(form)  # ...listed at the top
    refused = client.post(f"/author/{form_id}/publish", follow_redirects=True)
    assert "to fix before it can be published" in refused.text  # ...and cannot be published
    assert db.session.get(AuthoredQuiz, form_id).latest is None


def test_settings_patient_and_source_problems_show_at_their_fields(client, auth, educator):
    signed_in(auth, educator)
    form_id = write_form(client)
    client.post(
        f"/author/{form_id}/observation",
        data={"title": TITLE, "module": MODULE, "consultation": "", "minutes": "500", "pass_mark": "x"},
    )
    client.post(
        f"/author/{form_id}/observation/patient",
        data={
            "patient.intro": "Hello.",
            "patient.items.0.text": "x" * 130,
            "patient.items.0.competencies": "comm.nope",
        },
    )
    page = client.get(f"/author/{form_id}/observation").text
    assert "missing 'consultation'" in error_at(page, "consultation")
    assert "120" in error_at(page, "minutes") and "pass_mark" in error_at(page, "pass-mark")
    assert "a patient reads 120 at most" in error_at(page, "patient-items-0-text")
    assert "unknown competency id 'comm.nope'" in error_at(page, "patient-items-0-competencies")
    assert "at least 2" in error_at(page, "patient-items") or "2" in error_at(page, "patient-items")


def test_the_preview_scores_an_examiners_marks_and_records_nothing(client, auth, db, educator):
    signed_in(auth, educator)
    form_id = write_form(client)
    page = client.get(f"/author/{form_id}/observation/preview")
    assert page.status_code == 200 and "Critical" in page.text and "Built from the patient" in page.text
    marks = {"mark-i1": "2", "mark-i2": "0", "mark-i3": "5", "global": "2"}
    scored = client.post(f"/author/{form_id}/observation/preview", data=marks).text
    assert "<strong>6 of 8</strong>" in scored and "failed whatever the total" in scored and "Clear pass" in scored
    bad = client.post(f"/author/{form_id}/observation/preview", data={"mark-i3": "9"})
    assert bad.status_code == 422 and "not on its scale" in bad.text
    assert db.session.scalar(select(Observation.id)) is None
    patient = client.get(f"/author/{form_id}/observation/preview/patient").text
    assert "They asked what I already do at home." in patient and "Please tell us how the visit went" in patient
    client.post(f"/author/{form_id}/observation/items/1", data={**ITEMS[0], "competencies": ""})
    assert client.get(f"/author/{form_id}/observation/preview").status_code == 409


def _cohort_of(db, teacher, *students):
    cohort = cohorts.create(teacher, f"Cohort of {teacher.display_name}")
    cohorts.add_members(cohort, [s.id for s in students], "roster")
    db.session.commit()
    return cohort


def _offered(client, cohort) -> list[str]:
    page = client.get(f"/observe/cohorts/{cohort.id}/stations").text
    select_ = re.search(r'<select[^>]*name="form_ref".*?</select>', page, re.S)[0]
    return re.findall(r'<option value="([^"]*)"', select_)


def test_published_forms_reach_the_owners_station_page_and_a_rating_keeps_its_version(client, auth, db, educator, app):
    ann = auth.create("student", "ann@example.org", "Ann Abbott")
    signed_in(auth, educator)
    form_id = write_form(client)
    published = client.post(f"/author/{form_id}/publish")
    assert published.status_code == 302
    ref = db.session.get(AuthoredQuiz, form_id).ref
    cohort = _cohort_of(db, educator, ann)
    assert ref in _offered(client, cohort) and "first-consultation-observed" in _offered(client, cohort)
    made = client.post(f"/observe/cohorts/{cohort.id}/stations", data={"form_ref": ref, "title": "Station A"})
    assert made.status_code == 302, made.text
    station_id = int(made.location.rsplit("/", 1)[1])
    rate = f"/observe/stations/{station_id}/students/{ann.id}/rate"
    page = client.get(rate).text
    assert "Asks what the patient already does" in page and "Built from the patient" in page
    marks = {"mark-i1": "2", "mark-i2": "2", "mark-i3": "4", "global": "3", "action": "submit"}
    assert client.post(rate, data=marks).status_code == 302
    first = db.session.scalar(select(Observation))
    assert first.total == 2 + 2 + 3 and first.is_passed is True
    v1 = db.session.get(AuthoredQuiz, form_id).latest.content_version
    assert first.form_version == v1

    # Version 2 rewords item 1, makes item 3 a plain done item and adds a fourth: a new station gets it...
    client.post(f"/author/{form_id}/observation/items/1", data={**ITEMS[0], "text": "Asks about home exercise."})
    client.post(f"/author/{form_id}/observation/items/3", data={**ITEMS[0], "text": "Explains why."})
    client.post(f"/author/{form_id}/observation/items", data={"scale": "done"})
    client.post(f"/author/{form_id}/observation/items/4", data={**ITEMS[0], "text": "Closes with a summary."})
    assert client.post(f"/author/{form_id}/publish").status_code == 302
    from app.content import live

    live.changed(app)
    made = client.post(f"/observe/cohorts/{cohort.id}/stations", data={"form_ref": ref, "title": "Station B"})
    assert (
        "Closes with a summary."
        in client.get(f"/observe/stations/{made.location.rsplit('/', 1)[1]}/students/{ann.id}/rate").text
    )
    # ...while the station rated on version 1 keeps version 1's items, scale and scoring.
    page = client.get(rate).text
    assert "Asks what the patient already does" in page and "Closes with a summary." not in page
    station = stations.for_staff(educator, station_id)[0]
    with app.test_request_context():
        from app.content import catalog

        kept = versions.station_form(catalog(), station)
        assert kept.version == v1 and kept.max_score == 8 and kept.items[2].scale.kind == "anchored"
        assert catalog().observation(ref).max_score == 8 and len(catalog().observation(ref).items) == 4
    summary = client.get(f"/observe/stations/{station_id}/students/{ann.id}").text
    assert "Asks what the patient already does" in summary and "Closes with a summary." not in summary
    report = client.get(f"/observe/stations/{station_id}/report")
    assert report.status_code == 200
    db.session.refresh(first)
    assert first.total == 7 and first.is_passed is True and first.form_version == v1
    assert ratings.all_for_station(station_id) == [first]


def test_another_educators_private_form_is_never_offered_and_a_site_wide_one_is(client, auth, db, educator, app):
    signed_in(auth, educator)
    form_id = write_form(client)
    client.post(f"/author/{form_id}/publish")
    ref = db.session.get(AuthoredQuiz, form_id).ref
    auth.sign_out()
    other = signed_in(auth, auth.create("educator", "other@example.org", "Other Oh"))
    cohort = _cohort_of(db, other)
    assert ref not in _offered(client, cohort)
    sneaked = client.post(f"/observe/cohorts/{cohort.id}/stations", data={"form_ref": ref, "title": "Mine now"})
    assert sneaked.status_code == 422 and "choose one of those listed" in sneaked.text
    auth.sign_out()
    admin = signed_in(auth, auth.create("admin", "admin@example.org", "Admin Ade"))
    assert admin and client.post(f"/author/site-wide/{form_id}", data={"offer": "yes"}).status_code == 302
    auth.sign_out()
    signed_in(auth, other)
    assert ref in _offered(client, cohort)
    made = client.post(f"/observe/cohorts/{cohort.id}/stations", data={"form_ref": ref, "title": "Shared station"})
    assert made.status_code == 302


def test_a_withdrawn_form_leaves_new_stations_but_existing_ones_keep_working(client, auth, db, educator, app):
    signed_in(auth, educator)
    form_id = write_form(client)
    client.post(f"/author/{form_id}/publish")
    ref = db.session.get(AuthoredQuiz, form_id).ref
    cohort = _cohort_of(db, educator, auth.create("student", "bo@example.org", "Bo Bell"))
    made = client.post(f"/observe/cohorts/{cohort.id}/stations", data={"form_ref": ref, "title": "Before"})
    station_id = int(made.location.rsplit("/", 1)[1])
    assert client.post(f"/author/{form_id}/withdraw").status_code == 302
    from app.content import live

    live.changed(app)
    assert ref not in _offered(client, cohort) and is_authored(ref)
    refused = client.post(f"/observe/cohorts/{cohort.id}/stations", data={"form_ref": ref, "title": "After"})
    assert refused.status_code == 422
    assert client.get(f"/observe/stations/{station_id}").status_code == 200


def test_a_ratings_statement_names_the_form_as_it_was_when_rated(client, auth, db, educator, app, count_queries):
    ann = auth.create("student", "ann@example.org", "Ann Abbott")
    ben = auth.create("student", "ben@example.org", "Ben Baker")
    signed_in(auth, educator)
    form_id = write_form(client)
    assert client.post(f"/author/{form_id}/publish").status_code == 302
    ref = db.session.get(AuthoredQuiz, form_id).ref
    cohort = _cohort_of(db, educator, ann, ben)
    made = client.post(f"/observe/cohorts/{cohort.id}/stations", data={"form_ref": ref, "title": "Station A"})
    station_id = int(made.location.rsplit("/", 1)[1])
    marks = {"mark-i1": "2", "mark-i2": "2", "mark-i3": "4", "global": "3", "action": "submit"}
    for student in (ann, ben):
        rate = f"/observe/stations/{station_id}/students/{student.id}/rate"
        assert client.post(rate, data=marks).status_code == 302
    assert client.post(f"/observe/stations/{station_id}/release").status_code == 302
    # Version 2 has a new title and another module.
    renamed = {**SETTINGS, "title": "Observed: a renamed form", "module": "patient-centred-care"}
    assert client.post(f"/author/{form_id}/observation", data=renamed).status_code == 302
    assert client.post(f"/author/{form_id}/publish").status_code == 302
    from app.content import live
    from app.records import Site
    from app.services import records

    live.changed(app)
    with app.test_request_context():
        from app.content import catalog

        assert catalog().observation(ref).title == "Observed: a renamed form"
        site = Site("https://alliance.example.org", "https://alliance.example.org/xapi/activities/")
        with count_queries() as counter:
            everyone = list(records.statements(catalog(), site))
    observed = [s for s in everyone if s["verb"]["display"]["en-US"] == "observed"]
    assert len(observed) == 2, "each released rating has a statement"
    # The version both were rated on is looked up once for the whole stream, not once a statement.
    assert len([s for s in counter.statements if "authored_version" in s]) == 1
    for statement in observed:
        assert statement["object"]["definition"]["name"]["en"] == TITLE
        assert statement["context"]["contextActivities"]["parent"][0]["id"].endswith(f"module/{MODULE}")
