"""Consent between people: a class list invites an existing account instead of opening its history; a
cohort's reports show only its assigned work; sharing a cohort waits for the colleague; only the educator
who made an account may reissue its link; learners see their cohorts and can leave one."""

import io
import re

import pytest
from sqlalchemy import select

from app.models import CohortEducator, CohortInvitation, CohortMember
from app.services import cohorts, courses, password_links, practice, quizzes, reports
from tests.conftest import PASSWORD
from tests.helpers import given_answers
from tests.test_access import form_answers


def upload(client, cohort_id: int, text: str):
    """Import a class list through the form."""
    data = {"file": (io.BytesIO(text.encode()), "class.csv")}
    return client.post(f"/teach/cohorts/{cohort_id}/roster", data=data, content_type="multipart/form-data")


def submit(db, user, quiz, right: bool = True):
    """A submitted, marked attempt at the quiz."""
    attempt = quizzes.start_attempt(user.id, quiz)
    count = len(quiz.items) if right else 0
    quizzes.submit_attempt(user.id, attempt, quiz, given_answers(quiz, form_answers(quiz, count)))
    db.session.commit()
    return attempt


def practise(db, user, quiz, catalog):
    """A practice attempt at the quiz with its first item answered."""
    attempt = practice.start_quiz(user.id, quiz)
    step = practice.next_step(attempt, catalog)
    item = quiz.items[0]
    practice.answer(user.id, attempt, step, item.handler.wrong_answer(item), 3, catalog)
    db.session.commit()
    return attempt


def switch(client, auth, email: str):
    """Sign out whoever is signed in, then sign in as `email`."""
    auth.sign_out()
    assert auth.sign_in(email).status_code == 302


@pytest.fixture
def setting(client, db, auth, catalog):
    """Ada has worked on two quizzes and practised; Tess teaches a cohort assigned a course with the first quiz only."""
    ada = auth.create("student", email="ada@example.org", name="Ada Lovelace")
    assigned, other = catalog.quizzes[0], catalog.quizzes[1]
    submit(db, ada, assigned)
    submit(db, ada, other, right=False)
    practise(db, ada, assigned, catalog)
    tess = auth.create("educator", email="tess@example.org", name="Tess Teacher")
    cohort = cohorts.create(tess, "Ward 7")
    course = courses.create(tess, "Placement", "")
    courses.add_item(catalog, course, f"module:{catalog.modules[0].id}")
    courses.add_item(catalog, course, f"quiz:{assigned.id}")
    courses.set_published(course, True)
    cohorts.assign(cohort, course, tess, None, None)
    db.session.commit()
    assert auth.sign_in(tess.email).status_code == 302
    return {"ada": ada, "tess": tess, "cohort": cohort, "course": course, "assigned": assigned, "other": other}


def record(client, s):
    return client.get(f"/teach/cohorts/{s['cohort'].id}/learners/{s['ada'].id}")


def test_a_class_list_invites_an_existing_account_and_opens_nothing_until_it_is_accepted(client, db, auth, setting):
    s = setting
    page = upload(client, s["cohort"].id, "email,name\nada@example.org,Ada\n")
    assert page.status_code == 200
    assert re.search(r"<dt>Existing accounts invited</dt><dd>1</dd>", page.text)
    assert "Invited now" in page.text
    # Before she answers, the educator sees her name and "Invited", and nothing of her work.
    assert record(client, s).status_code == 404
    cohort_page = client.get(f"/teach/cohorts/{s['cohort'].id}")
    assert "Invited, not yet members" in cohort_page.text and "Ada Lovelace" in cohort_page.text
    assert "0 students" in cohort_page.text
    sheet = client.get(f"/teach/cohorts/{s['cohort'].id}/attempts.csv").data.decode("utf-8-sig")
    assert "ada@example.org" not in sheet
    assert client.get(f"/teach/cohorts/{s['cohort'].id}/records.json").json == []
    # Ada sees the invitation on her home page and accepts it.
    switch(client, auth, "ada@example.org")
    home = client.get("/learn/")
    assert "Invitations" in home.text and "Ward 7" in home.text and "Tess Teacher" in home.text
    invitation = db.session.scalar(select(CohortInvitation))
    answered = client.post(f"/learn/invitations/{invitation.id}", data={"action": "accept"})
    assert answered.status_code == 302
    assert "Ward 7" in client.get("/learn/cohorts").text
    switch(client, auth, "tess@example.org")
    assert record(client, s).status_code == 200


def test_a_declined_invitation_leaves_the_educator_seeing_nothing_and_is_not_repeated(client, db, auth, setting):
    s = setting
    upload(client, s["cohort"].id, "email,name\nada@example.org,Ada\n")
    switch(client, auth, "ada@example.org")
    invitation = db.session.scalar(select(CohortInvitation))
    client.post(f"/learn/invitations/{invitation.id}", data={"action": "decline"})
    assert "Invitations" not in client.get("/learn/").text
    # Answering twice changes nothing.
    again = client.post(f"/learn/invitations/{invitation.id}", data={"action": "accept"}, follow_redirects=True)
    assert "already answered" in again.text
    switch(client, auth, "tess@example.org")
    assert record(client, s).status_code == 404
    assert "Declined" in client.get(f"/teach/cohorts/{s['cohort'].id}").text
    page = upload(client, s["cohort"].id, "email,name\nada@example.org,Ada\n")
    assert re.search(r"<dt>Declined an earlier invitation</dt><dd>1</dd>", page.text)
    db.session.expire_all()
    assert db.session.scalar(select(CohortInvitation.state)) == "declined"


def test_nobody_answers_another_learners_invitation(client, db, auth, setting):
    s = setting
    upload(client, s["cohort"].id, "email,name\nada@example.org,Ada\n")
    auth.create("student", email="eve@example.org", name="Eve")
    switch(client, auth, "eve@example.org")
    invitation = db.session.scalar(select(CohortInvitation))
    assert client.post(f"/learn/invitations/{invitation.id}", data={"action": "accept"}).status_code == 404
    assert client.post(f"/learn/invitations/{invitation.id}", data={"action": "maybe"}).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(CohortInvitation.state)) == "pending"
    assert not db.session.scalar(select(CohortMember).where(CohortMember.cohort_id == s["cohort"].id))


def join_by_code(client, auth, s, email: str):
    switch(client, auth, email)
    assert client.post("/learn/join", data={"code": s["cohort"].join_code}).status_code == 302
    switch(client, auth, "tess@example.org")


def test_a_cohorts_reports_show_only_its_assigned_marked_work(client, db, auth, setting, catalog):
    s = setting
    join_by_code(client, auth, s, "ada@example.org")
    page = record(client, s)
    assert page.status_code == 200
    assert s["assigned"].title in page.text
    # Neither the unassigned quiz nor her practice reaches the educator.
    assert s["other"].title not in page.text and "Practice: " not in page.text and "Practice, " not in page.text
    assert "1 attempt (1 submitted)" in page.text
    sheet = client.get(f"/teach/cohorts/{s['cohort'].id}/attempts.csv").data.decode("utf-8-sig")
    assert s["assigned"].title in sheet and s["other"].title not in sheet and "Practice" not in sheet
    statements = client.get(f"/teach/cohorts/{s['cohort'].id}/records.json").json
    objects = {st["object"]["id"] for st in statements}
    assert statements and all(s["other"].id not in o for o in objects)
    modes = {v for st in statements for k, v in st.get("context", {}).get("extensions", {}).items() if k.endswith("/mode")}
    assert modes == {"assessed"}
    # An analysis of the quiz the cohort was not assigned does not exist for it.
    assert client.get(f"/teach/cohorts/{s['cohort'].id}/quizzes/{s['other'].id}/analysis").status_code == 404
    assert client.get(f"/teach/cohorts/{s['cohort'].id}/quizzes/{s['assigned'].id}/analysis").status_code == 200


def test_the_heatmap_counts_only_the_assigned_marked_answers(client, db, auth, setting, catalog):
    s = setting
    join_by_code(client, auth, s, "ada@example.org")
    assert client.get(f"/teach/cohorts/{s['cohort'].id}/competencies").status_code == 200
    report = reports.heatmap(catalog, s["cohort"].id)
    (student, cells), = report.rows
    expected: dict[str, int] = {}
    for item in s["assigned"].items:
        for ref in item.competencies:
            expected[ref] = expected.get(ref, 0) + 1
    # Her wrong answers at the other quiz and in practice would show as answered but not right.
    for column, cell in zip(report.columns, cells, strict=True):
        (ref,) = column.refs
        assert (cell.answered, cell.correct) == (expected.get(ref, 0), expected.get(ref, 0)), ref
    assert [(t.answered, t.correct) for t in report.totals] == [(c.answered, c.correct) for c in cells]


def test_the_learner_record_is_paged_and_filtered(client, db, auth, setting, catalog):
    s = setting
    join_by_code(client, auth, s, "ada@example.org")
    for _ in range(21):
        submit(db, s["ada"], s["assigned"], right=False)
    first = record(client, s)
    assert "22 attempts (22 submitted); showing 1 to 20." in first.text and "Page 1 of 2" in first.text
    second = client.get(f"/teach/cohorts/{s['cohort'].id}/learners/{s['ada'].id}?page=2")
    assert "showing 21 to 22." in second.text
    assert client.get(f"/teach/cohorts/{s['cohort'].id}/learners/{s['ada'].id}?page=3").status_code == 404
    filtered = client.get(
        f"/teach/cohorts/{s['cohort'].id}/learners/{s['ada'].id}", query_string={"activity": s["other"].id}
    )
    assert filtered.status_code == 404  # not assigned: nothing to filter to


def test_sharing_a_cohort_is_an_invitation_the_colleague_accepts(client, db, auth, setting):
    s = setting
    auth.create("educator", email="carl@example.org", name="Carl Colleague")
    shared = client.post(f"/teach/cohorts/{s['cohort'].id}/share", data={"email": "carl@example.org"})
    assert shared.status_code == 302
    assert "invited, has not accepted yet" in client.get(f"/teach/cohorts/{s['cohort'].id}").text
    switch(client, auth, "carl@example.org")
    assert client.get(f"/teach/cohorts/{s['cohort'].id}").status_code == 404
    dashboard = client.get("/teach/")
    assert "Invitations to teach" in dashboard.text and "Ward 7" in dashboard.text and "Tess Teacher" in dashboard.text
    assert client.post(f"/teach/invitations/{s['cohort'].id}", data={"action": "accept"}).status_code == 302
    assert client.get(f"/teach/cohorts/{s['cohort'].id}").status_code == 200
    # A second answer finds no invitation.
    assert client.post(f"/teach/invitations/{s['cohort'].id}", data={"action": "decline"}).status_code == 404


def test_a_declined_share_grants_nothing(client, db, auth, setting):
    s = setting
    auth.create("educator", email="carl@example.org", name="Carl Colleague")
    client.post(f"/teach/cohorts/{s['cohort'].id}/share", data={"email": "carl@example.org"})
    switch(client, auth, "carl@example.org")
    assert client.post(f"/teach/invitations/{s['cohort'].id}", data={"action": "decline"}).status_code == 302
    assert client.get(f"/teach/cohorts/{s['cohort'].id}").status_code == 404
    assert "Invitations to teach" not in client.get("/teach/").text
    assert db.session.scalar(select(CohortEducator).where(CohortEducator.user_id != s["tess"].id)) is None


def test_a_second_educator_cannot_take_over_a_pending_imported_account(client, db, auth, setting):
    """The finding: Mallory imports Tess's new student, shares her own cohort with Tess and reissues the link."""
    s = setting
    upload(client, s["cohort"].id, "email,name\nnew@example.org,New Student\n")
    newcomer = db.session.scalar(select(CohortMember).where(CohortMember.cohort_id == s["cohort"].id))
    mallory = auth.create("educator", email="mallory@example.org", name="Mallory")
    own = cohorts.create(mallory, "Mallory's class")
    db.session.commit()
    switch(client, auth, "mallory@example.org")
    page = upload(client, own.id, "email,name\nnew@example.org,New Student\n")
    assert re.search(r"<dt>Existing accounts invited</dt><dd>1</dd>", page.text)
    client.post(f"/teach/cohorts/{own.id}/share", data={"email": "tess@example.org"})
    link = f"/teach/cohorts/{own.id}/roster/students/{newcomer.user_id}/password-link"
    assert client.post(link).status_code == 404
    # Even once Tess has accepted Mallory's cohort (and the newcomer accepted the invitation), only Tess may reissue.
    db.session.execute(CohortEducator.__table__.update().values(accepted_at=CohortEducator.added_at))
    cohorts.add_member(own, newcomer.user_id, "roster")
    db.session.commit()
    assert client.post(link).status_code == 404
    switch(client, auth, "tess@example.org")
    mine = client.post(f"/teach/cohorts/{s['cohort'].id}/roster/students/{newcomer.user_id}/password-link")
    assert mine.status_code == 200 and "/auth/set-password/" in mine.text


def test_an_admin_may_reissue_any_link(client, db, auth, setting):
    s = setting
    upload(client, s["cohort"].id, "email,name\nnew@example.org,New Student\n")
    newcomer = db.session.scalar(select(CohortMember).where(CohortMember.cohort_id == s["cohort"].id))
    auth.create("admin", email="root@example.org", name="Root")
    switch(client, auth, "root@example.org")
    page = client.post(f"/teach/cohorts/{s['cohort'].id}/roster/students/{newcomer.user_id}/password-link")
    assert page.status_code == 200 and "/auth/set-password/" in page.text


def test_an_educators_own_unused_import_joins_another_of_their_cohorts_directly(client, db, auth, setting):
    s = setting
    upload(client, s["cohort"].id, "email,name\nnew@example.org,New Student\n")
    second = cohorts.create(s["tess"], "Ward 8")
    db.session.commit()
    page = upload(client, second.id, "email,name\nnew@example.org,New Student\n")
    assert re.search(r"<dt>Accounts you imported before, added again</dt><dd>1</dd>", page.text)
    assert "New Student" in client.get(f"/teach/cohorts/{second.id}").text
    assert db.session.scalar(select(CohortInvitation)) is None


def test_a_learner_leaves_a_cohort_and_may_join_again_with_the_code(client, db, auth, setting):
    s = setting
    join_by_code(client, auth, s, "ada@example.org")
    switch(client, auth, "ada@example.org")
    cohort_id = s["cohort"].id
    mine = client.get("/learn/cohorts")
    assert "Ward 7" in mine.text and "Tess Teacher" in mine.text and "never see your practice" in mine.text
    ask = client.get(f"/learn/cohorts/{cohort_id}/leave")
    assert ask.status_code == 200 and "<h1>Leave Ward 7?</h1>" in ask.text
    assert client.post(f"/learn/cohorts/{cohort_id}/leave").status_code == 302
    assert "You are not in any cohort." in client.get("/learn/cohorts").text
    assert client.post(f"/learn/cohorts/{cohort_id}/leave").status_code == 404
    switch(client, auth, "tess@example.org")
    assert record(client, s).status_code == 404
    # Leaving is not a removal: she may come back with the code.
    join_by_code(client, auth, s, "ada@example.org")
    assert record(client, s).status_code == 200


def test_a_student_removed_by_the_educator_cannot_rejoin_with_the_code(client, db, auth, setting):
    s = setting
    join_by_code(client, auth, s, "ada@example.org")
    client.post(f"/teach/cohorts/{s['cohort'].id}/members/{s['ada'].id}/remove")
    switch(client, auth, "ada@example.org")
    refused = client.post("/learn/join", data={"code": s["cohort"].join_code})
    assert refused.status_code == 422 and "You were removed from this cohort" in refused.text


def test_the_cohort_page_lists_students_a_page_at_a_time(client, db, auth, setting):
    s = setting
    people = [
        {"email": f"s{n:04d}@example.org", "display_name": f"Student {n:04d}", "password_hash": "!unset:x"}
        for n in range(250)
    ]
    from app.models import User

    db.session.execute(User.__table__.insert(), [{**p, "role": "student", "is_active": True} for p in people])
    ids = list(db.session.scalars(select(User.id).where(User.email.like("s0%"))))
    cohorts.add_members(s["cohort"], ids, "roster")
    db.session.commit()
    first = client.get(f"/teach/cohorts/{s['cohort'].id}")
    assert "250 students" in first.text and "Students 1 to 100 of 250, by name." in first.text
    assert len(re.findall(r'/remove">Remove<span class="visually-hidden">', first.text)) == 100
    third = client.get(f"/teach/cohorts/{s['cohort'].id}?page=3")
    assert "Students 201 to 250 of 250" in third.text and "Student 0249" in third.text
    assert client.get(f"/teach/cohorts/{s['cohort'].id}?page=4").status_code == 404


def test_password_links_still_work_after_consent_changes(client, db, auth, setting):
    """A student created by a class list sets a password and sees the cohort: creation is not an invitation."""
    s = setting
    upload(client, s["cohort"].id, "email,name\nnew@example.org,New Student\n")
    newcomer = db.session.scalar(select(CohortMember).where(CohortMember.cohort_id == s["cohort"].id))
    token = password_links.make(newcomer.user_id, s["tess"].id)
    db.session.commit()
    auth.sign_out()
    done = client.post(f"/auth/set-password/{token}", data={"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    assert "Ward 7" in client.get("/learn/cohorts").text


@pytest.fixture
def mail_configured(app_settings):
    """A mail server is configured (nothing is sent in these tests)."""
    app_settings["MAIL_SERVER"] = "127.0.0.1"
    return app_settings


def test_where_mail_is_configured_only_a_confirmed_address_accepts_an_invitation(
    mail_configured, client, db, auth, setting
):
    """Someone who signed up with a student's address before the class list came cannot take their place."""
    s = setting
    upload(client, s["cohort"].id, "email,name\nada@example.org,Ada\n")
    switch(client, auth, "ada@example.org")
    invitation = db.session.scalar(select(CohortInvitation))
    refused = client.post(f"/learn/invitations/{invitation.id}", data={"action": "accept"}, follow_redirects=True)
    assert "Confirm your email address first" in refused.text
    db.session.expire_all()
    assert db.session.scalar(select(CohortInvitation.state)) == "pending"
    assert db.session.scalar(select(CohortMember)) is None
    # Once the address is confirmed (the link in the message), the same answer works.
    s["ada"].email_verified_at = s["ada"].created_at
    db.session.merge(s["ada"])
    db.session.commit()
    assert client.post(f"/learn/invitations/{invitation.id}", data={"action": "accept"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(CohortInvitation.state)) == "accepted"
