"""Beside a conversation node's replies in the editor: how often each reply was chosen, per published version,
in the assessed attempts of the educator's cohorts (others' learners and practice runs left out)."""

import re

from app.content import catalog as request_catalog
from app.services import authored_conversations as talks
from app.services import cohorts, conversations, quizzes
from tests.authoring_conversation_helpers import TITLE, mapping


def _now(client):
    with client.application.test_request_context():
        return request_catalog()


def _answer(db, client, user, ref: str, reply_index: int, mode: str = "assessed") -> str:
    """The learner's first reply at the opening node; the reply's id."""
    talk = _now(client).conversation(ref)
    attempt = quizzes.start_attempt(user.id, talk, mode=mode)
    chosen = talk.node("opening").replies[reply_index].id
    conversations.reply(user.id, attempt, talk, 1, chosen)
    db.session.commit()
    return chosen


def _table(page: str) -> str:
    return page.split('id="reply-stats-heading"')[1].split("</section>")[0]


def test_each_replys_choices_are_counted_per_version_from_the_authors_cohorts_only(client, auth, db):
    owner = auth.as_role("educator")
    talk = talks.create_conversation(owner, TITLE, "bordin-components")
    talks.replace_draft(talk, mapping(talk.ref))
    db.session.commit()
    assert client.post(f"/author/{talk.id}/publish").status_code == 302
    node_page = f"/author/{talk.id}/nodes/opening"
    assert "No learner in your cohorts has replied at this node" in client.get(node_page).text
    cohort = cohorts.create(owner, "Year 2")
    learners = [auth.create("student", email=f"s{n}@example.org") for n in range(3)]
    stranger = auth.create("student", email="elsewhere@example.org")
    cohorts.add_members(cohort, [s.id for s in learners], "roster")
    db.session.commit()
    first = _answer(db, client, learners[0], talk.ref, 0)
    _answer(db, client, learners[1], talk.ref, 0)
    _answer(db, client, learners[1], talk.ref, 1, mode="practice")  # practice is not counted
    _answer(db, client, stranger, talk.ref, 1)  # not a learner of the author's cohorts
    changed = mapping(talk.ref) | {"intro": "Agree a walking goal that Mr Evans owns."}
    talks.replace_draft(talk, changed)
    db.session.commit()
    assert client.post(f"/author/{talk.id}/publish").status_code == 302
    second = _answer(db, client, learners[2], talk.ref, 1)
    table = _table(client.get(node_page).text)
    assert "Version 1 (2 answers)" in table and "Version 2 (1 answer)" in table
    cells = {
        m[1]: re.findall(r"<td>([^<]*)</td>", m[2])
        for m in re.finditer(r'<th scope="row">([^:]+):[^<]*</th>(.*?)</tr>', table, re.S)
    }
    assert cells[first] == ["2 (100%)", "0 (0%)"]
    assert cells[second] == ["0 (0%)", "1 (100%)"]
