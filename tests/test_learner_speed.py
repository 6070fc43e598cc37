"""Learner pages stay cheap: few statements each, and the progress page's cost does not grow with answers.

The progress page reads the learner's answer summaries (app/services/summaries.py), written in the
same transaction as every graded answer; these tests check the summaries always equal what a scan
of every answer computes, through random sequences of quiz submissions, practice answers and
conversation replies, and that the upgrade that adds them fills them from existing answers.
"""

import itertools
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import templating
from app.content import certainty
from app.content.markdown import GLOSSARY_HREF
from app.models import AnswerSummary, ItemResponse, QuizAttempt
from app.services import accounts, conversations, hooks, mastery, practice, quizzes, summaries
from tests.conftest import BACKENDS, PASSWORD, _private_postgres_database, _settings, csrf_token
from tests.helpers import answers_by_grade, given_answers

RULES = (mastery.Rule(), mastery.Rule(window=1, required=1), mastery.Rule(window=20, required=12))


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


def _statements(count_queries, client, method: str, url: str, **kwargs) -> list[str]:
    with count_queries() as counted:
        response = client.open(url, method=method, **kwargs)
        assert response.status_code in (200, 302), response.status_code
    return [s for s in counted.statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]


# --- statements per page


def test_a_lesson_view_is_three_statements_and_the_page_shows_its_state(client, student, catalog, count_queries):
    module = catalog.modules[0]
    lesson = module.lessons[1]
    url = f"/learn/modules/{module.id}/lessons/{lesson.id}"
    client.get(url)
    ran = _statements(count_queries, client, "GET", url)
    # The account with its session, the view counted (the row as written comes back), the event.
    assert len(ran) == 3, "\n".join(s[:70] for s in ran)
    assert "RETURNING" in ran[1].upper()
    assert "“Next” marks this lesson complete." in client.get(url).text
    client.post(f"{url}/complete")
    page = client.get(url).text
    assert "You completed this lesson." in page and "Completed " in page


def test_the_home_page_reads_both_summaries_in_one_statement(client, student, catalog, count_queries, quiz):
    module = catalog.modules[0]
    client.get(f"/learn/modules/{module.id}/lessons/{module.lessons[0].id}")
    ran = _statements(count_queries, client, "GET", "/learn/")
    # The account, lesson and quiz summaries together, assigned courses, reviews due, invitations.
    assert len(ran) == 5, "\n".join(s[:70] for s in ran)
    # The account and its session in one statement; a session seen a moment ago is not written again.
    assert "JOIN user_session" in ran[0] and not any("user_session" in s for s in ran[1:])
    page = client.get("/learn/").text
    assert "Continue where you left off" in page


def test_the_progress_page_runs_five_statements_whatever_the_answers(client, db, student, catalog, count_queries):
    empty = _statements(count_queries, client, "GET", "/learn/progress")
    seed_answers(db, student.id, catalog, 30)
    thirty = _statements(count_queries, client, "GET", "/learn/progress")
    seed_answers(db, student.id, catalog, 270)
    three_hundred = _statements(count_queries, client, "GET", "/learn/progress")
    # The account, lesson and quiz summaries, the answer summaries, the observations, the reflections.
    assert len(empty) == len(thirty) == len(three_hundred) == 5, "\n".join(s[:70] for s in three_hundred)
    assert not any("item_response" in s for s in three_hundred)


def test_a_quiz_submission_runs_ten_statements_of_its_own(client, student, quiz, count_queries, monkeypatch):
    monkeypatch.setattr(hooks, "_listeners", {})  # other areas' listeners are counted in their own tests
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    ran = _statements(count_queries, client, "POST", url, data=answers_by_grade(quiz, "best"))
    assert len(ran) == 10, "\n".join(s[:70] for s in ran)
    assert sum("answer_summary" in s for s in ran) == 1


def test_a_submission_runs_one_select_per_listener_when_neither_has_anything_to_do(
    client, student, quiz, count_queries
):
    # No platform link and no assigned course: the grade passback and the certificates each look once, and write nothing.
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    ran = _statements(count_queries, client, "POST", url, data=answers_by_grade(quiz, "best"))
    assert len(ran) == 12, "\n".join(s[:70] for s in ran)
    listeners = ran[-2:]
    assert all(s.lstrip().upper().startswith("SELECT") for s in listeners), listeners
    assert not any("lti_score" in s or "certificate (" in s for s in ran)


class TestTheCsrfToken:
    """Every signed-in page carries the sign-out form and its CSRF token, signed once per session, not per page."""

    @pytest.fixture
    def app_settings(self, app_settings):
        """CSRF protection on, as in production."""
        return {**app_settings, "WTF_CSRF_ENABLED": True}

    def test_a_learner_gets_one_signed_token_that_keeps_working(self, client, auth, monkeypatch):
        user = auth.create("student")
        token = csrf_token(client.get("/auth/sign-in").text)
        signed_in = client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302
        signed = []
        sign = templating.generate_csrf
        monkeypatch.setattr(templating, "generate_csrf", lambda: signed.append(1) or sign())
        tokens = {csrf_token(client.get(url).text) for url in ("/learn/", "/learn/progress", "/learn/review")}
        assert len(tokens) == 1 and len(signed) == 1
        # The kept token is as good as a fresh one; a post without it is still refused.
        assert client.post("/auth/sign-out").status_code == 400
        assert client.get("/learn/").status_code == 200
        assert client.post("/auth/sign-out", data={"csrf_token": tokens.pop()}).status_code == 302
        assert client.get("/learn/").status_code == 302


def test_a_lesson_read_under_another_script_root_links_there(client, student, catalog):
    # The lesson's text is rendered once and kept: the copy kept for one script root never serves another.
    module = catalog.modules[0]
    lesson = next(
        lesson
        for lesson in module.lessons
        if GLOSSARY_HREF in lesson.intro_html + "".join(section.html for section in lesson.sections)
    )
    url = f"/learn/modules/{module.id}/lessons/{lesson.id}"
    plain = client.get(url).text
    assert 'href="/learn/glossary' in plain
    mounted = client.get(url, environ_overrides={"SCRIPT_NAME": "/alliance"}).text
    assert 'href="/alliance/learn/glossary' in mounted and 'href="/learn/glossary' not in mounted
    assert f'action="/alliance{url}/complete"' in mounted


# --- the progress page's cost does not grow with the learner's answers


def seed_answers(db, user_id: int, catalog, count: int) -> None:
    """`count` more answers in one practice attempt, on the same five competencies, plus their summaries."""
    refs = [c.id for c in catalog.competencies[:5]]
    attempt = QuizAttempt(
        user_id=user_id,
        quiz_ref="practice/seeded",
        module_ref="",
        content_version="v",
        max_score=0,
        mode="practice",
        submitted_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    db.session.add(attempt)
    db.session.flush()
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
        days=db.session.scalar(sa.select(sa.func.count(ItemResponse.id)))
    )
    rows = [
        {
            "attempt_id": attempt.id,
            "user_id": user_id,
            "quiz_ref": "q",
            "item_ref": f"i{n}",
            "item_type": "scenario",
            "item_version": "v",
            "position": n + 1,
            "answer": "a",
            "grade": "harmful" if n % 17 == 5 else "best" if n % 3 else "unhelpful",
            "score": 2.0 if n % 3 else 0.0,
            "max_score": 2.0,
            "is_correct": bool(n % 3),
            "competency_refs": [refs[n % 5], refs[(n + 2) % 5]],
            "confidence": 1 + n % 3,
            "answered_at": start + timedelta(seconds=n),
        }
        for n in range(count)
    ]
    db.session.execute(sa.insert(ItemResponse.__table__), rows)
    summaries.rebuild(user_id)
    db.session.commit()


def _cpu_ms(client, url: str, repeat: int = 15) -> float:
    """The least CPU time of `repeat` requests, in ms (the least is the figure noise cannot inflate)."""
    spent = []
    for _ in range(repeat):
        started = time.process_time()
        assert client.get(url).status_code == 200
        spent.append(time.process_time() - started)
    return 1000 * min(spent)


def test_the_progress_page_costs_the_same_after_30_answers_or_3000(client, db, student, catalog):
    seed_answers(db, student.id, catalog, 30)
    client.get("/learn/progress")
    few = _cpu_ms(client, "/learn/progress")
    seed_answers(db, student.id, catalog, 2970)
    many = _cpu_ms(client, "/learn/progress")
    # Reading 3,000 answers (as the page did) costs several times the whole page; the summaries cost nothing more.
    assert many < few * 1.5 + 1.0, (few, many)


# --- the summaries always equal what a scan of every answer computes

_learners = itertools.count(1)

# One step of a learner's history: a quiz submitted (a grade for most items, some others best),
# a practice item answered, or a conversation played for some replies.
STEP = st.one_of(
    st.tuples(
        st.just("quiz"),
        st.sampled_from(["best", "harmful", "unhelpful"]),
        st.lists(st.booleans(), min_size=1, max_size=30),
        st.lists(st.sampled_from([None, 1, 2, 3]), min_size=1, max_size=30),
    ),
    st.tuples(st.just("practice"), st.booleans(), st.sampled_from([1, 2, 3])),
    st.tuples(st.just("conversation"), st.lists(st.integers(0, 5), min_size=1, max_size=8)),
)


def _take_quiz(user_id, quiz, grade, mask, sure) -> None:
    chosen, best = answers_by_grade(quiz, grade), answers_by_grade(quiz, "best")
    picked, confidence = {}, {}
    for n, item in enumerate(quiz.items):
        source = best if mask[n % len(mask)] else chosen
        picked[item.id] = given_answers(quiz, source)[item.id]
        if sure[n % len(sure)] is not None:
            confidence[item.id] = sure[n % len(sure)]
    attempt = quizzes.start_attempt(user_id, quiz)
    quizzes.submit_attempt(user_id, attempt, quiz, picked, confidence)


def _practise(user_id, quiz, right, sure, catalog) -> None:
    attempt = practice.start_quiz(user_id, quiz)
    step = practice.next_step(attempt, catalog)
    if step is None:
        return
    item = step.item
    value = item.handler.right_answer(item) if right else item.handler.wrong_answer(item)
    practice.answer(user_id, attempt, step, value, sure, catalog)


def _converse(user_id, conversation, choices) -> None:
    attempt = quizzes.start_attempt(user_id, conversation)
    for choice in choices:
        where = conversations.position(conversation, attempt)
        node = conversation.node(where.state.at)
        if node is None or conversation.is_ending(where.state):
            return
        reply = node.replies[choice % len(node.replies)]
        conversations.reply(user_id, attempt, conversation, where.next_step, reply.id, 1 + choice % 3)


def summary_rows(db, user_id: int) -> dict[str, dict]:
    """The learner's summary rows as stored, by competency."""
    table = AnswerSummary.__table__
    rows = db.session.execute(sa.select(table).where(table.c.user_id == user_id)).mappings()
    return {row["competency_ref"]: {k: v for k, v in row.items() if k != "id"} for row in rows}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_summaries_kept_on_write_equal_a_scan_of_every_answer(db, catalog, steps):
    user = accounts.create_user(f"learner{next(_learners)}@example.org", "Learner", "correct horse battery", "student")
    db.session.flush()
    quiz, conversation = catalog.quizzes[0], catalog.conversations[0]
    for step in steps:
        if step[0] == "quiz":
            _take_quiz(user.id, quiz, *step[1:])
        elif step[0] == "practice":
            _practise(user.id, quiz, *step[1:], catalog)
        else:
            _converse(user.id, conversation, step[1])
        db.session.flush()
    answers = mastery.answers(user.id)
    for rule in RULES:
        read = summaries.read(user.id, rule)
        assert read.standings == mastery.standings(answers, rule)
        assert read.calibration == mastery.calibration(answers)
    kept = summary_rows(db, user.id)
    summaries.rebuild(user.id)
    assert summary_rows(db, user.id) == kept
    db.session.rollback()


def test_the_page_shows_what_the_summaries_hold(client, db, student, catalog, quiz):
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    client.post(url, data=answers_by_grade(quiz, "harmful", confidence=3))
    page = client.get("/learn/progress").text
    harmful = [o for item in quiz.items if item.type == "scenario" for o in item.options if o.grade == "harmful"]
    assert harmful, "the quiz has harmful options"
    assert "Blocked by a harmful reply since" in page
    very_sure = page.split(">Very sure</th>")[1].split("</tr>")[0]
    assert f"<td>{len(quiz.items)}</td>" in very_sure


# --- the upgrade fills the summaries from the answers already recorded


@pytest.fixture(params=BACKENDS)
def fresh_database(request, tmp_path) -> str:
    """An empty database of its own (no migrations run yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'before.sqlite'}"
    return _private_postgres_database(request)


def test_the_upgrade_fills_the_summaries_so_progress_shows_the_same_figures(fresh_database, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db

    app = create_app(_settings(fresh_database, tmp_path))
    with app.app_context():
        upgrade(revision="c12f0ac0c002")  # the revision before the summaries
        histories = _old_history(db.engine)
        upgrade(revision="d16a0000a001")
        for user_id in histories:
            answers = mastery.answers(user_id)
            assert len(answers) == len(histories[user_id])
            for rule in RULES:
                read = summaries.read(user_id, rule)
                assert read.standings == mastery.standings(answers, rule)
                assert read.calibration == mastery.calibration(answers)
        backfilled = {uid: summary_rows(db, uid) for uid in histories}
        for user_id in histories:  # the same rows the app would have kept
            summaries.rebuild(user_id)
            assert summary_rows(db, user_id) == backfilled[user_id]
        db.session.rollback()
        downgrade(revision="c12f0ac0c002")
        assert "answer_summary" not in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()


def _old_history(engine) -> dict[int, list]:
    """Two learners' answers written as the app did before the upgrade: tags, harmful replies, ties in time."""
    meta = sa.MetaData()
    user = sa.Table("user", meta, autoload_with=engine)
    attempt = sa.Table("quiz_attempt", meta, autoload_with=engine)
    response = sa.Table("item_response", meta, autoload_with=engine)
    shuffle = random.Random(16)
    refs = ["comm.empathy", "bordin.goals", "bordin.tasks", "ta.definition"]
    histories: dict[int, list] = {}
    at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for user_id in (1, 2):
            conn.execute(
                user.insert(),
                {
                    "id": user_id,
                    "email": f"old{user_id}@example.org",
                    "display_name": "Old",
                    "password_hash": "x",
                    "role": "student",
                    "is_active": True,
                    "created_at": at,
                },
            )
            conn.execute(
                attempt.insert(),
                {
                    "id": user_id,
                    "user_id": user_id,
                    "quiz_ref": "q",
                    "module_ref": "m",
                    "content_version": "v",
                    "max_score": 0,
                    "mode": "practice",
                    "marking": "standard",
                    "started_at": at,
                },
            )
            rows = []
            for position in range(1, 90 * user_id):
                correct = shuffle.random() < 0.6
                rows.append(
                    {
                        "attempt_id": user_id,
                        "user_id": user_id,
                        "quiz_ref": "q",
                        "item_ref": f"i{position}",
                        "item_type": "scenario",
                        "item_version": "v",
                        "position": position,
                        "answer": "a",
                        "grade": "best" if correct else shuffle.choice(["harmful", "unhelpful", None]),
                        "score": 1.0 if correct else 0.0,
                        "max_score": 1.0,
                        "is_correct": correct,
                        "competency_refs": shuffle.sample(refs, shuffle.randint(0, 2)),
                        "confidence": shuffle.choice([None, 1, 2, 3]),
                        # Out of order and with ties: the summaries follow time, then id, as the rule does.
                        "answered_at": at + timedelta(minutes=shuffle.randint(0, 40)),
                    }
                )
            conn.execute(response.insert(), rows)
            histories[user_id] = rows
    return histories


def test_the_calibration_levels_are_the_certainty_levels():
    assert certainty.LEVELS == summaries.LEVELS


def test_the_learners_download_holds_their_answer_summaries(client, db, student, quiz):
    from app.services import account_download

    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    client.post(url, data=answers_by_grade(quiz, "best", confidence=3))
    section = account_download.export(student.id)["answer_summaries"]
    totals = next(row for row in section if row["competency_ref"] == "*")
    assert totals["answered_count"] == totals["correct_count"] == totals["level3_count"] == len(quiz.items)
    tagged = {ref for item in quiz.items for ref in item.competencies}
    assert {row["competency_ref"] for row in section} == tagged | {"*"}
