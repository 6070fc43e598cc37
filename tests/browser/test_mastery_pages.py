"""Mastery, practice sets and reflections in a real browser: axe finds nothing, and the pages work by label."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ItemResponse, QuizAttempt, User
from app.models.study import REFLECTION_MAX
from app.services import summaries
from tests.browser.checks import assert_accessible, assert_reflows


def _give_history(live_server, email: str) -> None:
    """Answers on empathy (mastered), the bond (blocked by a harmful reply) and goals (learning), with confidence."""
    with live_server.app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        attempt = QuizAttempt(
            user_id=user_id, quiz_ref="practice/test", module_ref="", content_version="v", max_score=0, mode="practice"
        )
        db.session.add(attempt)
        db.session.flush()
        start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
        marks = [("comm.empathy", True, "best", 3)] * 3 + [
            ("bordin.bond", True, "best", 2),
            ("bordin.bond", False, "harmful", 3),
            ("bordin.goals", False, "unhelpful", 1),
        ]
        for position, (ref, right, grade, confidence) in enumerate(marks, start=1):
            db.session.add(
                ItemResponse(
                    attempt_id=attempt.id,
                    user_id=user_id,
                    quiz_ref="q",
                    item_ref=f"i{position}",
                    item_type="scenario",
                    item_version="v",
                    position=position,
                    answer="a",
                    grade=grade,
                    score=2 if right else 0,
                    max_score=2,
                    is_correct=right,
                    competency_refs=[ref],
                    confidence=confidence,
                    answered_at=start + timedelta(minutes=position),
                )
            )
        db.session.flush()
        summaries.rebuild(user_id)  # answers written directly: their summaries too, as the app keeps them
        db.session.commit()


@pytest.mark.browser
def test_progress_practise_and_reflection_pages_are_accessible_and_work(page, learner, live_server, student, axe_path):
    catalog = live_server.catalog
    _give_history(live_server, student.email)
    learner.sign_in(student)

    # The progress page: the chart is an image named by its title, the table has the same numbers.
    page.goto("/learn/progress")
    chart = page.get_by_role("img", name="Right answers in your last 5 per competency")
    expect(chart).to_be_visible()
    table = page.get_by_role("table", name="Mastery, answers and lessons completed per competency")
    bond = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="The bond", exact=True))
    expect(bond.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^Blocked by a harmful reply since 1 Mar 2025"))
    empathy = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Empathy", exact=True))
    expect(empathy.get_by_role("cell").first).to_have_text("3 of 3")
    expect(page.get_by_role("table", name=re.compile("Your answers at each level of confidence"))).to_be_visible()
    assert_accessible(page, axe_path)
    assert_reflows(page, axe_path)
    page.set_viewport_size({"width": 1280, "height": 800})

    # "Practise this" leads to the competency's page, whose button starts a practice set.
    page.get_by_role("link", name=re.compile(r"^Practise this\W+The bond$")).click()
    expect(page.get_by_role("heading", level=1, name="Practise: The bond")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Blocked by a harmful reply.")
    assert_accessible(page, axe_path)
    page.get_by_role("button", name="Start practising").click()
    expect(page).to_have_url(re.compile(r"/learn/practice/attempts/\d+"))

    # A reflection on the module: the prompt on its page, the limit, an error that keeps the text, then saved.
    module = catalog.modules[0]
    page.goto(f"/learn/modules/{module.id}")
    page.get_by_role("link", name="Write a reflection").click()
    expect(page.get_by_role("heading", level=1, name=f"Reflection: {module.title}")).to_be_visible()
    box = page.get_by_label("What from this module will you use with your next patient, and how?")
    assert_accessible(page, axe_path)
    too_long = "x" * (REFLECTION_MAX + 1)
    box.fill(too_long)
    page.get_by_role("button", name="Save the reflection").click()
    expect(page.get_by_role("alert")).to_contain_text(f"the most is {REFLECTION_MAX:,}")
    expect(box).to_have_value(too_long)
    expect(box).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, axe_path)
    box.fill("Ask about goals before the first exercise.\nCheck what the patient expects.")
    page.get_by_role("button", name="Save the reflection").click()
    expect(page.get_by_role("status")).to_contain_text("Your reflection was saved.")
    page.goto("/learn/progress")
    reflections = page.get_by_role("region", name="Your reflections")
    expect(reflections).to_contain_text(f"Module: {module.title}")
    expect(reflections).to_contain_text("Ask about goals before the first exercise.")
    page.get_by_role("link", name=re.compile(rf"^Edit\s+your reflection on {re.escape(module.title)}$")).click()
    page.get_by_role("button", name="Delete the reflection").click()
    expect(page.get_by_role("status")).to_contain_text("Your reflection was deleted.")
    expect(page.get_by_label("What from this module will you use with your next patient, and how?")).to_have_value("")
