"""The conversation editor as an educator uses it: the checker at each field, nodes added, renamed and deleted,
the map and its outline, playing the draft, publishing and versions, courses, files out and back in, and text
that cannot run script anywhere."""

import copy
import html as html_lib
import io
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from markupsafe import escape

from app.author import maps
from app.content import content_dirs
from app.content.loader import load_content
from app.models import AuthoredQuiz, AuthoredVersion
from app.services import authored_conversations as talks
from app.services import courses
from tests.authoring_conversation_helpers import NODES, TITLE, mapping, node_form, write_conversation
from tests.helpers import rows


@pytest.fixture
def educator(auth):
    """A signed-in educator."""
    return auth.as_role("educator")


def conversation_with(db, owner, change=None) -> AuthoredQuiz:
    """The six-node conversation as a draft of `owner`'s, after `change(mapping)` if given."""
    found = talks.create_conversation(owner, TITLE, "bordin-components")
    data = mapping(found.ref)
    if change:
        change(data)
    talks.replace_draft(found, data)
    db.session.commit()
    return found


def field_error(html: str, anchor: str) -> str:
    """The error shown at a field or group, checked to be tied to it by aria-describedby."""
    found = re.search(
        rf'<p class="error" id="{anchor}-error"><span class="visually-hidden">Error:</span> ([^<]+)', html
    )
    assert found, f"no error at {anchor}"
    tag = re.search(rf'<(\w+) [^>]*id="{anchor}"[^>]*>', html)
    assert re.search(rf'aria-describedby="[^"]*{anchor}-error"', tag[0]), tag[0]
    assert tag[1] in ("fieldset", "form", "div") or 'aria-invalid="true"' in tag[0]
    return html_lib.unescape(found[1])


def test_the_six_node_conversation_written_through_the_forms_passes_the_checker(client, db, educator):
    number = write_conversation(client)
    page = client.get(f"/author/{number}/conversation").text
    assert "Warnings (publishing is still possible)" in page  # the item-quality cue about questions, a warning
    assert "only one option asks a question in 5 nodes" in html_lib.unescape(page)
    assert '<button type="submit" class="button">Publish</button>' in page
    draft = db.session.get(AuthoredQuiz, number).draft
    assert [n["id"] for n in draft["nodes"]] == list(NODES)
    assert draft["nodes"][4]["replies"][0]["next"] == [{"if": "trust >= 2", "to": "wrap-up"}, {"to": "drifted"}]
    assert draft["nodes"][0]["replies"][1]["effects"] == {"trust": -1}


def _unreachable(data):
    data["nodes"].append({**copy.deepcopy(data["nodes"][0]), "id": "lonely"})


def _dead_end(data):
    data["nodes"].append({"id": "lonely", "patient": "Is that all?"})
    data["nodes"][3]["replies"][1]["next"] = "lonely"


def _loop(data):
    data["nodes"][2]["replies"][0]["next"] = "worries"
    data["nodes"][2]["replies"][1]["next"] = "worries"
    data["nodes"][1]["replies"][1]["next"] = "work"


def _never(data):
    data["nodes"][4]["replies"][0]["next"][0]["if"] = "trust >= 9"


def _competency(data):
    data["nodes"][0]["replies"][0]["competencies"] = ["bordin.goals", "made.up"]


def _bounds(data):
    data["counters"][0]["min"] = 5


def _debrief(data):
    del data["endings"][1]["debrief"]


@pytest.mark.parametrize(
    ("change", "where", "anchor", "message"),
    [
        (_dead_end, "nodes/lonely", "f-node", "has no replies: a dead end"),
        (_unreachable, "nodes/lonely", "f-node", "node 'lonely' is unreachable"),
        (_loop, "nodes/work", "f-node", "is in a loop with no way out"),
        (_never, "nodes/plan", "f-replies-0-next-0", "the condition 'trust >= 9' can never hold"),
        (_competency, "nodes/opening", "f-replies-0-competencies", "unknown competency id 'made.up'"),
        (_bounds, "conversation", "f-counters-0", "needs min < max"),
        (_debrief, "conversation", "f-endings-1-debrief", "is missing 'debrief'"),
    ],
)
def test_each_kind_of_problem_is_shown_at_its_field_and_in_the_summary_and_blocks_publishing(
    client, db, educator, change, where, anchor, message
):
    found = conversation_with(db, educator, change)
    page = client.get(f"/author/{found.id}/{where}").text
    assert message in field_error(page, anchor)
    summary = client.get(f"/author/{found.id}/conversation").text
    assert "to fix before publishing" in summary
    link = re.search(rf'<a href="([^"]+)">[^<]*{re.escape(str(escape(message)))}', summary)
    assert link and link[1].endswith(f"#{anchor}"), summary.split("error-summary")[1][:800]
    assert '<button type="submit" class="button" disabled>Publish</button>' in summary
    refused = client.post(f"/author/{found.id}/publish", follow_redirects=True)
    assert "to fix before it can be published" in refused.text
    assert rows(db, AuthoredVersion) == 0


def test_a_node_is_renamed_everywhere_and_is_not_deleted_while_a_reply_leads_to_it(client, db, educator):
    found = conversation_with(db, educator)
    refused = client.post(f"/author/{found.id}/nodes/plan/delete")
    assert refused.status_code == 409
    text = html_lib.unescape(refused.text)
    assert "node 'work', reply 'a' leads to it" in text and "node 'family', reply 'a' leads to it" in text
    assert client.post(f"/author/{found.id}/nodes/plan/rename", data={"new_id": "the-plan"}).status_code == 302
    db.session.expire_all()
    draft = db.session.get(AuthoredQuiz, found.id).draft
    assert draft["nodes"][2]["replies"][0]["next"] == "the-plan"
    assert (
        draft["nodes"][4]["id"] == "the-plan"
        and "to fix before" not in client.get(f"/author/{found.id}/conversation").text
    )
    clash = client.post(f"/author/{found.id}/nodes/the-plan/rename", data={"new_id": "agreed"}, follow_redirects=True)
    assert "already has a node or ending called 'agreed'" in html_lib.unescape(clash.text)
    assert client.post(f"/author/{found.id}/nodes", data={"id": "spare"}).status_code == 302
    assert client.post(f"/author/{found.id}/nodes/spare/delete").status_code == 302
    db.session.expire_all()
    assert "spare" not in talks.node_ids(db.session.get(AuthoredQuiz, found.id).draft)
    assert client.post(f"/author/{found.id}/nodes", data={"id": "Not An Id!"}, follow_redirects=True).status_code == 200
    assert client.get(f"/author/{found.id}/nodes/nowhere").status_code == 404


def _svg_node(svg: str, href: str) -> str:
    """The SVG group of the node linking to `href`."""
    return svg.split(f'<a href="{href}">')[1].split("</a>")[0]


def test_the_map_marks_dead_ends_unreachable_nodes_and_the_best_path_in_shape_and_words(client, db, educator):
    good = conversation_with(db, educator)
    page = client.get(f"/author/{good.id}/map").text
    svg = page.split('<div class="map-scroll"')[1].split("</div>")[0]
    opening = _svg_node(svg, f"/author/{good.id}/nodes/opening")
    assert ">START · ON THE BEST PATH<" in opening and 'stroke-width="3"' in opening
    assert svg.count(" BEST</text>") == 5  # one best reply a node along the path to the good ending
    assert "Best path: node opening reply a → node worries reply a → node work reply b" in page
    broken = conversation_with(
        db, educator, lambda d: (_dead_end(d), d["nodes"].append({**d["nodes"][5], "id": "cut-off"}))
    )
    page = client.get(f"/author/{broken.id}/map").text
    svg = page.split('<div class="map-scroll"')[1].split("</div>")[0]
    lonely = _svg_node(svg, f"/author/{broken.id}/nodes/lonely")
    assert ">DEAD END<" in lonely and "<polygon" in lonely  # an octagon, not a rounded box
    cut_off = _svg_node(svg, f"/author/{broken.id}/nodes/cut-off")
    assert ">UNREACHABLE<" in cut_off and "stroke-dasharray" in cut_off
    assert " BEST<" not in svg  # a draft with errors has no best path to show
    outline = page.split('id="outline-heading"')[1]
    assert 'Node lonely</a> <span class="meta">(dead end)</span>' in outline
    assert 'Node cut-off</a> <span class="meta">(unreachable)</span>' in outline
    assert "No replies: a dead end." in outline


def _forty_nodes(data):
    """Forty nodes: a spine of twenty with a side node off each, rejoining the spine."""
    best, other = data["nodes"][0]["replies"]
    nodes = []
    for n in range(20):
        spine, side, after = f"step-{n}", f"aside-{n}", (f"step-{n + 1}" if n < 19 else "wrap-up")
        nodes.append(
            {
                "id": spine,
                "patient": f"Line {n}: " + "a fairly long thing the patient says " * 3,
                "replies": [{**best, "next": after}, {**other, "effects": {}, "next": side}],
            }
        )
        nodes.append(
            {
                "id": side,
                "patient": f"Aside {n}: and something else they say",
                "replies": [{**best, "effects": {}, "next": after}, {**other, "effects": {}, "next": after}],
            }
        )
    data["nodes"] = nodes + [data["nodes"][5]]
    data["start"] = "step-0"


def test_a_forty_node_map_stays_readable(client, db, educator):
    found = conversation_with(db, educator, _forty_nodes)
    page = client.get(f"/author/{found.id}/map").text
    svg = page.split('<div class="map-scroll"')[1].split("</div>")[0]
    assert svg.count('<a href="/author/') == 43  # 41 nodes and two endings
    assert maps.viewbox_width(svg) < 1400  # a couple of screens wide at most; it grows downwards
    texts = [html_lib.unescape(t) for t in re.findall(r">([^<>]+)</text>", svg)]
    assert all(f"step-{n}" in texts and f"Line {n}: a fairly long" in texts for n in range(20))  # labels kept whole
    assert all(f"aside-{n}" in texts and f"Aside {n}: and something" in texts for n in range(20))


def test_the_draft_plays_from_the_start_along_the_best_path_and_from_any_node_with_counters_set(client, db, educator):
    found = conversation_with(db, educator)
    first = client.get(f"/author/{found.id}/play").text
    assert "Nothing is recorded" in first and NODES["opening"][0].replace("'", "&#39;") in first
    step = client.get(f"/author/{found.id}/play", query_string={"path": "", "reply": "a"}).text
    assert html_lib.escape(NODES["worries"][0]) in step and "Serves agreement on goals" in step
    best = client.get(f"/author/{found.id}/play", query_string={"best": "1"}).text
    assert '<h2 id="path-heading">The best path</h2>' in best and "A goal he owns" in best
    assert best.count('<div class="feedback">') == 5
    # From 'plan' with trust at 1, the best reply's route needs trust >= 2, so it drifts to the poor ending.
    low = client.get(f"/author/{found.id}/play", query_string={"from": "plan", "c-trust": "1", "reply": "a"}).text
    assert "No shared goal" in low and "A poor ending" in low
    high = client.get(f"/author/{found.id}/play", query_string={"from": "plan", "c-trust": "3", "reply": "a"}).text
    assert html_lib.escape(NODES["wrap-up"][0]) in high
    wrong = client.get(f"/author/{found.id}/play", query_string={"from": "plan", "c-trust": "7"})
    assert wrong.status_code == 422 and "Trust must be a whole number from 0 to 3." in wrong.text
    broken = conversation_with(db, educator, _never)
    assert client.get(f"/author/{broken.id}/play").status_code == 409
    assert client.get(f"/author/{found.id}/preview").location == f"/author/{found.id}/play"


def test_publishing_makes_versions_that_reach_the_course_builder_and_learners(client, auth, db):
    owner = auth.as_role("educator")
    found = conversation_with(db, owner)
    ref = found.ref
    assert client.post(f"/author/{found.id}/publish").location == f"/author/{found.id}/history"
    client.post(f"/author/{found.id}/nodes/opening", data=node_form("opening") | {"patient": "A second version."})
    assert client.post(f"/author/{found.id}/publish").status_code == 302
    db.session.expire_all()
    versions = db.session.get(AuthoredQuiz, found.id).versions
    assert [v.number for v in versions] == [1, 2] and versions[0].content_version != versions[1].content_version
    assert "A second version." in client.get(f"/author/{found.id}/history").text
    course = courses.create(owner, "Placement", "")
    db.session.commit()
    builder = client.get(f"/teach/courses/{course.id}").text
    assert f'value="conversation:{ref}"' in builder
    added = client.post(
        f"/teach/courses/{course.id}/items", data={"choice": [f"conversation:{ref}"], "is_required": "y"}
    )
    assert added.status_code == 302
    assert f"/learn/conversations/{ref}" not in client.get("/learn/modules/bordin-components").text  # courses only
    auth.sign_out()
    auth.as_role("student")
    front = client.get(f"/learn/conversations/{ref}")
    assert front.status_code == 200 and TITLE in front.text
    attempt = client.get(client.post(f"/learn/conversations/{ref}/attempts").location).text
    assert "A second version." in attempt


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>[link](javascript:alert(1))'


def _payload(data):
    data["title"] = f"Title {XSS}"
    data["nodes"][0]["patient"] = f"Hello {XSS}"
    data["nodes"][0]["replies"][0]["text"] = f"Reply {XSS}"
    data["endings"][0]["title"] = f"Ending {XSS}"


def test_script_typed_into_the_conversation_stays_text_in_editor_map_outline_and_play(client, db, educator):
    found = conversation_with(db, educator, _payload)
    pages = [
        client.get(f"/author/{found.id}{suffix}").text
        for suffix in ("/conversation", "/nodes/opening", "/map", "/play", "/play?best=1")
    ]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and 'href="javascript:' not in html
    svg = pages[2].split('<div class="map-scroll"')[1].split("</div>")[0]
    svg = svg[svg.index("<svg") :]
    drawn = etree.fromstring(svg.encode())
    assert {etree.QName(e).localname for e in drawn.iter()} <= {"svg", "g", "a", "path", "polygon", "ellipse", "text"}
    assert not [a for e in drawn.iter() for a in e.attrib if a.lower().startswith("on")]
    assert all(e.get("href").startswith("/author/") for e in drawn.iter("{*}a"))
    assert "&lt;script&gt;" in svg  # the author's words are there, as text


def test_export_passes_the_content_check_and_imports_back_the_same_conversation(client, db, educator, tmp_path):
    found = conversation_with(db, educator)
    exported = client.get(f"/author/{found.id}/export.yaml")
    assert exported.mimetype == "application/yaml"
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / f"{found.ref}.yaml").write_text(exported.text, encoding="utf-8")
    checked = load_content(content_dirs([folder]), explicit=frozenset([folder]))  # as `alliance content check` runs
    assert checked.errors == [], checked.errors
    assert checked.catalog.conversation(found.ref).best_path == ("a", "a", "b", "a", "a")
    again = talks.create_conversation(educator, "Empty", "bordin-components")
    db.session.commit()
    upload = {"kind": "yaml", "file": (io.BytesIO(exported.data), "conversation.yaml")}
    assert client.post(f"/author/{again.id}/import", data=upload).location == f"/author/{again.id}/conversation"
    db.session.expire_all()
    imported = db.session.get(AuthoredQuiz, again.id).draft
    assert {k: v for k, v in imported.items() if k != "id"} == {k: v for k, v in found.draft.items() if k != "id"}
    assert yaml.safe_load(exported.text)["type"] == "conversation"
    quiz_file = {"kind": "yaml", "file": (io.BytesIO(b"title: A quiz\nitems: []\n"), "quiz.yaml")}
    refused = client.post(f"/author/{again.id}/import", data=quiz_file)
    assert refused.status_code == 422 and "not a conversation" in refused.text


#: What a person can type: anything but NUL, which the app refuses with a 400 before any view (app/errors.py), and
#: lone surrogates, which no browser can send (UTF-8 cannot carry them).
_TYPED = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.dictionaries(
        st.sampled_from(
            sorted(node_form("plan"))
            + ["replies.2.text", "replies.0.next.2.if", "replies.1.effects.trust", "narration"]
        ),
        st.text(_TYPED, max_size=200),
        max_size=10,
    ),
    counters=st.dictionaries(
        st.sampled_from(["counters.0.id", "counters.0.min", "counters.1.max", "counters.1.id"]),
        st.text(_TYPED, max_size=20),
        max_size=4,
    ),
)
def test_whatever_is_typed_into_node_and_counter_forms_is_saved_and_checked_never_a_server_error(
    client, db, educator, values, counters
):
    found = conversation_with(db, educator)
    assert client.post(f"/author/{found.id}/counters", data=counters).status_code == 302
    assert client.post(f"/author/{found.id}/nodes/plan", data=node_form("plan") | values).status_code == 302
    for suffix in ("/conversation", "/nodes/plan", "/map", "/play", "/play?from=plan&c-trust=x", "/export.yaml"):
        assert client.get(f"/author/{found.id}{suffix}").status_code in (200, 409, 422), suffix


def test_characters_xml_cannot_hold_are_left_out_of_the_map_not_a_server_error(client, db, educator):
    def control(data):
        data["nodes"][0]["patient"] = "Hello\x1b there\ufffe"
        data["nodes"][5]["replies"][1]["next"] = "nowhere\x1b"

    found = conversation_with(db, educator, control)
    page = client.get(f"/author/{found.id}/map")
    assert page.status_code == 200 and '<div class="map-scroll"' in page.text
    assert ">MISSING<" in page.text and ">nowhere <" in page.text and "Hello there" in page.text
