"""Learning records: every event the tracker writes becomes a valid xAPI 1.0.3 statement; downloads and export."""

import ast
import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from app.cli import cli
from app.models import LearningEvent, QuizAttempt
from app.records import Site, UnknownEvent, build, statement_id
from app.records.xapi import VERBS, iso_duration, score
from app.services import cohorts, conversations, courses, practice, progress, quizzes, records
from tests.helpers import answers_by_grade, given_answers, rows
from tests.test_observe import observed_at_a_station

ROOT = Path(__file__).resolve().parent.parent
SITE = Site(url="https://alliance.example.org", activity_base="https://alliance.example.org/xapi/activities/")
NAME = "Zebedee Quux"


def take_everything(user_id: int, catalog) -> None:
    """One learner does every kind of thing the tracker records (flushes; the caller commits)."""
    module = catalog.modules[0]
    progress.view_lesson(user_id, module, module.lessons[0])
    progress.complete_lesson(user_id, module, module.lessons[0])
    quiz = catalog.quizzes[0]
    passed = quizzes.start_attempt(user_id, quiz)
    quizzes.submit_attempt(user_id, passed, quiz, given_answers(quiz, answers_by_grade(quiz, "best")))
    # Certainty-based marking, every answer wrong and "very sure": the lowest score there is.
    certain = replace(catalog.quizzes[1], marking="certainty")
    failed = quizzes.start_attempt(user_id, certain)
    wrong = given_answers(certain, answers_by_grade(certain, "harmful"))
    quizzes.submit_attempt(user_id, failed, certain, wrong, {item.id: 3 for item in certain.items})
    talk = catalog.conversations[0]
    attempt = quizzes.start_attempt(user_id, talk)
    for step, reply_id in enumerate(talk.best_path, start=1):
        conversations.reply(user_id, attempt, talk, step, reply_id)
    # Practice: a whole quiz, then a set drawn from two quizzes for one competency.
    drill = practice.start_quiz(user_id, quiz)
    for step in practice.steps(drill, catalog):
        practice.answer(user_id, drill, step, step.item.handler.right_answer(step.item), 1, catalog)
    competency = quiz.items[0].competencies[0]
    keys = [practice.item_key(quiz.id, quiz.items[0].id), practice.item_key(certain.id, certain.items[0].id)]
    drawn = practice.start_set(user_id, f"practice/competency/{competency}", keys, catalog)
    for step in practice.steps(drawn, catalog):
        practice.answer(user_id, drawn, step, step.item.handler.wrong_answer(step.item), 2, catalog)


@pytest.fixture
def learner(auth, db, catalog):
    """A student with a full history, committed."""
    user = auth.create("student", email="zebedee@example.org", name=NAME)
    take_everything(user.id, catalog)
    observed_at_a_station(db, catalog, user)  # rated at an observed station: the "observed" verb (app/observe)
    db.session.commit()
    return user


def teach_everything(db, catalog, educator, cohort) -> None:
    """Assign the cohort a course with every module, quiz and conversation: all marked work is then its to see."""
    course = courses.create(educator, "Everything", "")
    for module in catalog.modules:
        courses.add_item(catalog, course, f"module:{module.id}")
    for quiz in catalog.quizzes:
        courses.add_item(catalog, course, f"quiz:{quiz.id}")
    for conversation in catalog.conversations:
        courses.add_item(catalog, course, f"conversation:{conversation.id}")
    courses.set_published(course, True)
    cohorts.assign(cohort, course, educator, None, None)


def marked_events(db, user_id: int) -> int:
    """How many of the learner's events a cohort's educators may see when it was assigned everything:
    all but those of practice (practice stays the learner's own) and of another cohort's observed stations."""
    return sum(
        1
        for event, attempt in events_and_attempts(db, user_id)
        if (attempt is None or attempt.mode == "assessed") and not event.object_ref.startswith("observation/")
    )


def all_statements(db, catalog, user_id=None):
    """The learner's (or everyone's) statements, with the events and attempts they came from."""
    return list(records.statements(catalog, SITE, user_id=user_id))


def events_and_attempts(db, user_id):
    """(event, attempt) pairs of one learner, oldest first."""
    from sqlalchemy import select

    query = (
        select(LearningEvent, QuizAttempt)
        .outerjoin(QuizAttempt, QuizAttempt.id == LearningEvent.attempt_id)
        .where(LearningEvent.user_id == user_id)
        .order_by(LearningEvent.created_at, LearningEvent.id)
    )
    return list(db.session.execute(query))


def verbs_in_the_code() -> dict[str, str]:
    """Every verb any `events.row(...)` or `events.record(...)` call in app/ can write, with where it is written."""
    found: dict[str, str] = {}
    for path in (ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("row", "record")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "events"
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                assert len(node.args) >= 2, f"{where}: the verb must be the second positional argument"
                literals = [n.value for n in ast.walk(node.args[1]) if isinstance(n, ast.Constant)]
                strings = [v for v in literals if isinstance(v, str)]
                assert strings, f"{where}: the verb is not written as a literal; list it here by hand"
                found.update(dict.fromkeys(strings, where))
    return found


def validate(statement: dict) -> None:
    """ralph's xAPI statement model accepts it (it raises otherwise)."""
    BaseXapiStatement(**statement)


# --- every statement kind


def test_every_verb_the_code_writes_becomes_a_valid_statement(db, catalog, learner):
    in_code = verbs_in_the_code()
    assert set(in_code) <= set(VERBS), f"verbs without a statement: {set(in_code) - set(VERBS)}"
    statements = all_statements(db, catalog, learner.id)
    for statement in statements:
        validate(statement)
    made = {s["verb"]["id"].rsplit("/", 1)[1] for s in statements}
    assert made == set(in_code), "the history must exercise every verb the code writes"
    kinds = {
        (s["verb"]["display"]["en-US"], s["object"]["id"].split("/activities/")[1].split("/")[0]) for s in statements
    }
    assert kinds >= {
        ("experienced", "module"),
        ("completed", "module"),
        ("attempted", "quiz"),
        ("answered", "quiz"),
        ("passed", "quiz"),
        ("failed", "quiz"),
        ("attempted", "conversation"),
        ("answered", "conversation"),
        ("passed", "conversation"),
        ("completed", "quiz"),
        ("attempted", "practice"),
        ("completed", "practice"),
    }
    assert len(statements) == rows(db, LearningEvent, user_id=learner.id)


def test_a_statement_fails_loudly_for_a_verb_or_object_it_cannot_express(catalog):
    def event(verb, ref):
        return SimpleNamespace(
            id=1, user_id=1, verb=verb, object_ref=ref, content_version="v", result=None, attempt_id=None,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip

    module, lesson = catalog.modules[0], catalog.modules[0].lessons[0]
    validate(build(SITE, catalog, event("experienced", f"module/{module.id}/lesson/{lesson.id}")))
    with pytest.raises(UnknownEvent, match="liked"):
        build(SITE, catalog, event("liked", f"module/{module.id}/lesson/{lesson.id}"))
    with pytest.raises(UnknownEvent, match="module/x"):
        build(SITE, catalog, event("experienced", "module/x"))
    with pytest.raises(UnknownEvent, match="cannot name"):
        build(SITE, catalog, event("answered", f"module/{module.id}/lesson/{lesson.id}"))


def test_results_with_or_without_the_optional_keys_make_valid_statements(catalog):
    quiz = catalog.quizzes[0]
    item = quiz.items[0]
    base = dict(
        id=7, user_id=3, content_version="v1", attempt_id=None, created_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    )
    plain = SimpleNamespace(**base, verb="answered", object_ref=f"quiz/{quiz.id}/item/{item.id}",
                            result={"response": item.handler.right_answer(item), "score": 2, "max": 2, "success": True})  # fmt: skip
    full = SimpleNamespace(**base, verb="answered", object_ref=f"quiz/{quiz.id}/item/{item.id}",
                           result={"response": [], "score": 0, "max": 2, "success": False, "grade": "harmful",
                                   "confidence": 3, "cbm": -12.0, "something_new": {"a": 1}})  # fmt: skip
    gone = SimpleNamespace(**base, verb="passed", object_ref="quiz/no-longer-there",
                           result={"score": 1, "max": 4, "success": True})  # fmt: skip
    for event in (plain, full, gone):
        validate(build(SITE, catalog, event))
    made = build(SITE, catalog, full)
    assert "response" not in made["result"]  # an empty answer is left out, never sent as ""
    ext = made["result"]["extensions"]
    assert ext[SITE.extension("confidence")] == 3 and ext[SITE.extension("cbm")] == -12.0
    assert ext[SITE.extension("something-new")] == {"a": 1}
    assert build(SITE, catalog, gone)["object"]["definition"]["name"] == {"en": "no-longer-there"}


# --- what a consumer relies on


def test_ids_are_stable_and_the_registration_is_one_per_attempt(db, catalog, learner):
    first = all_statements(db, catalog, learner.id)
    again = all_statements(db, catalog, learner.id)
    assert first == again
    pairs = events_and_attempts(db, learner.id)
    assert [s["id"] for s in first] == [statement_id(SITE, e.id) for e, _ in pairs]
    assert [s["id"] for s in first] == [str(uuid.uuid5(SITE.namespace, f"event/{e.id}")) for e, _ in pairs]
    assert len({s["id"] for s in first}) == len(first)
    by_attempt: dict[int | None, set] = {}
    for statement, (event, _) in zip(first, pairs, strict=True):
        by_attempt.setdefault(event.attempt_id, set()).add(statement["context"].get("registration"))
    assert by_attempt.pop(None) == {None}  # lesson events belong to no attempt
    assert all(len(registrations) == 1 for registrations in by_attempt.values())
    assert len({r for regs in by_attempt.values() for r in regs}) == len(by_attempt)
    elsewhere = Site.from_config({"SITE_URL": "https://other.example.net/"})
    assert build(elsewhere, catalog, *pairs[0])["id"] != first[0]["id"]
    assert elsewhere.activity_base == "https://other.example.net/xapi/activities/"


def test_parents_groupings_and_competencies_place_each_statement(db, catalog, learner):
    statements = all_statements(db, catalog, learner.id)
    module, quiz = catalog.modules[0], catalog.quizzes[0]

    def ids(statement, key):
        return [a["id"] for a in statement["context"]["contextActivities"].get(key, [])]

    lesson = statements[0]
    assert lesson["object"]["id"] == SITE.activity_id(f"module/{module.id}/lesson/{module.lessons[0].id}")
    assert ids(lesson, "parent") == [SITE.activity_id(f"module/{module.id}")]
    assert ids(lesson, "grouping") == [SITE.activity_id("course")]
    assert ids(lesson, "other") == [SITE.activity_id(f"competency/{c}") for c in module.lessons[0].competencies]

    answered = [s for s in statements if s["verb"]["display"]["en-US"] == "answered" and "/quiz/" in s["object"]["id"]]
    first = answered[0]
    assert ids(first, "parent") == [SITE.activity_id(f"quiz/{quiz.id}")]
    assert ids(first, "grouping") == [SITE.activity_id(f"module/{quiz.module_id}"), SITE.activity_id("course")]
    assert first["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert first["context"]["extensions"][SITE.extension("mode")] == "assessed"
    practised = [s for s in answered if s["context"]["extensions"][SITE.extension("mode")] == "practice"]
    from_set = [s for s in practised if any("/practice/" in g for g in ids(s, "grouping"))]
    assert len(from_set) == 2  # the competency set's two items name the set they were drawn into
    competency = quiz.items[0].competencies[0]
    assert ids(from_set[0], "grouping")[0] == SITE.activity_id(f"practice/competency/{competency}")

    node = next(s for s in statements if "/conversation/" in s["object"]["id"] and "/node/" in s["object"]["id"])
    assert ids(node, "parent") == [SITE.activity_id(f"conversation/{catalog.conversations[0].id}")]
    verdict = next(s for s in statements if s["verb"]["display"]["en-US"] == "passed" and "/quiz/" in s["object"]["id"])
    assert ids(verdict, "parent") == [SITE.activity_id(f"module/{quiz.module_id}")]
    practice_set = next(s for s in statements if s["object"]["id"].endswith(f"practice/competency/{competency}"))
    assert ids(practice_set, "other") == [SITE.activity_id(f"competency/{competency}")]
    assert practice_set["context"]["extensions"][SITE.extension("competencies")] == [competency]


def test_scores_hold_together_and_certainty_marking_goes_below_zero(db, catalog, learner):
    statements = all_statements(db, catalog, learner.id)
    scored = [s for s in statements if "score" in s.get("result", {})]
    assert len(scored) > 10
    for statement in scored:
        s = statement["result"]["score"]
        assert s["min"] <= s["raw"] <= s["max"] and -1 <= s["scaled"] <= 1, statement["object"]["id"]
    passed = next(s for s in statements if s["verb"]["display"]["en-US"] == "passed")
    assert passed["result"]["score"] == {
        "scaled": 1,
        "raw": catalog.quizzes[0].max_score,
        "min": 0,
        "max": catalog.quizzes[0].max_score,
    }
    assert passed["result"]["success"] is True and passed["result"]["completion"] is True
    failed = next(s for s in statements if s["verb"]["display"]["en-US"] == "failed")
    weight = catalog.quizzes[1].max_score
    assert failed["result"]["score"] == {"scaled": -1, "raw": -6 * weight, "min": -6 * weight, "max": 3 * weight}
    assert failed["result"]["success"] is False
    assert failed["context"]["extensions"][SITE.extension("marking")] == "certainty"
    cbm = [s for s in statements if SITE.extension("cbm") in s.get("result", {}).get("extensions", {})]
    assert cbm and all(s["result"]["extensions"][SITE.extension("confidence")] == 3 for s in cbm)
    assert score(3, 0, 2) == {"scaled": 1, "raw": 3, "min": 0, "max": 3}  # inconsistent input is widened, never clamped
    assert score(-1, 0, 2)["min"] == -1


def test_timestamps_are_utc_and_durations_iso_8601(db, catalog, learner):
    statements = all_statements(db, catalog, learner.id)
    pairs = events_and_attempts(db, learner.id)
    for statement, (event, _) in zip(statements, pairs, strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", statement["timestamp"])
        assert datetime.fromisoformat(statement["timestamp"]) == event.created_at.replace(
            microsecond=event.created_at.microsecond // 1000 * 1000
        )
        assert statement["version"] == "1.0.3"
    durations = [s["result"]["duration"] for s in statements if "duration" in s.get("result", {})]
    assert durations and all(re.fullmatch(r"PT(\d+H)?(\d+M)?(\d+S)?", d) and d != "PT" for d in durations)
    assert [iso_duration(0), iso_duration(59), iso_duration(3725)] == ["PT0S", "PT59S", "PT1H2M5S"]


def test_no_email_or_name_ever_appears_in_a_statement(db, catalog, learner):
    text = json.dumps(all_statements(db, catalog, learner.id), ensure_ascii=False)
    assert learner.email not in text and "zebedee" not in text.lower() and NAME not in text
    actors = {json.dumps(s["actor"]) for s in json.loads(text)}
    assert actors == {
        json.dumps({"objectType": "Agent", "account": {"homePage": SITE.url, "name": SITE.actor_name(learner.id)}})
    }


# --- reading in bulk


def test_a_learners_or_a_cohorts_statements_take_one_query_however_many(db, auth, catalog, count_queries, learner):
    other = auth.create("student", email="other@example.org", name="Other")
    progress.view_lesson(other.id, catalog.modules[0], catalog.modules[0].lessons[0])
    db.session.commit()
    with count_queries() as few:
        assert len(list(records.statements(catalog, SITE, user_id=other.id))) == 1
    with count_queries() as many:
        assert len(list(records.statements(catalog, SITE, user_id=learner.id))) > 40
    assert few.count == many.count == 1
    educator = auth.create("educator")
    cohort = cohorts.create(educator, "Ward 9")
    cohorts.add_members(cohort, [learner.id, other.id], "roster")
    teach_everything(db, catalog, educator, cohort)
    db.session.commit()
    with count_queries() as counted:
        everyone = list(records.statements(catalog, SITE, cohort_id=cohort.id))
    assert counted.count == 2  # the cohort's assigned content, then the statements
    assert {s["actor"]["account"]["name"] for s in everyone} == {SITE.actor_name(learner.id), SITE.actor_name(other.id)}


def test_a_removed_student_leaves_the_cohorts_records(db, auth, catalog, client, learner):
    other = auth.create("student", email="other@example.org", name="Other")
    progress.view_lesson(other.id, catalog.modules[0], catalog.modules[0].lessons[0])
    educator = auth.create("educator")
    cohort = cohorts.create(educator, "Ward 9")
    cohorts.add_members(cohort, [learner.id, other.id], "roster")
    teach_everything(db, catalog, educator, cohort)
    db.session.commit()
    auth.sign_in(educator.email)
    page = client.get(f"/teach/cohorts/{cohort.id}")
    assert f'href="/teach/cohorts/{cohort.id}/records.json"' in page.text
    response = client.post(f"/teach/cohorts/{cohort.id}/members/{other.id}/remove")
    assert response.status_code == 302
    names = {s["actor"]["account"]["name"] for s in client.get(f"/teach/cohorts/{cohort.id}/records.json").json}
    assert names == {SITE_FROM_APP(client).actor_name(learner.id)}


def SITE_FROM_APP(client) -> Site:  # noqa: N802
    """The site as the app under test is configured."""
    return Site.from_config(client.application.config)


# --- downloads


def test_a_learner_downloads_their_own_statements_only(db, auth, client, catalog, learner):
    stranger = auth.create("student", email="stranger@example.org", name="Stranger")
    progress.view_lesson(stranger.id, catalog.modules[0], catalog.modules[0].lessons[0])
    db.session.commit()
    auth.sign_in(learner.email)
    response = client.get("/learn/records.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert response.headers["Content-Disposition"] == f'attachment; filename="alliance-learning-records-{today}.json"'
    assert response.headers["Cache-Control"] == "private, no-store"
    site = SITE_FROM_APP(client)
    statements = response.json
    assert len(statements) == rows(db, LearningEvent, user_id=learner.id)
    assert {s["actor"]["account"]["name"] for s in statements} == {site.actor_name(learner.id)}
    assert [s["timestamp"] for s in statements] == sorted(s["timestamp"] for s in statements)
    for statement in statements:
        validate(statement)
    assert learner.email not in response.text


def test_an_educator_downloads_only_their_own_cohorts_records(db, auth, client, catalog, learner):
    owner = auth.create("educator", email="owner@example.org", name="Owner")
    outsider = auth.create("educator", email="outsider@example.org", name="Outsider")
    cohort = cohorts.create(owner, "Ward 3 & friends")
    cohorts.add_members(cohort, [learner.id], "roster")
    teach_everything(db, catalog, owner, cohort)
    db.session.commit()
    auth.sign_in(outsider.email)
    assert client.get(f"/teach/cohorts/{cohort.id}/records.json").status_code == 404
    assert client.get("/teach/cohorts/99999999999/records.json").status_code == 404
    auth.sign_out()
    auth.sign_in(owner.email)
    response = client.get(f"/teach/cohorts/{cohort.id}/records.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="ward-3-friends-learning-records-{today}.json"'
    )
    # Everything but practice: the learner's practice stays their own.
    assert len(response.json) == marked_events(db, learner.id) < rows(db, LearningEvent, user_id=learner.id)
    assert learner.email not in response.text and NAME not in response.text


# --- alliance records export, in-process (both databases)


def test_export_writes_all_one_learners_or_one_cohorts_statements(app, db, auth, catalog, learner):
    other = auth.create("student", email="other@example.org", name="Other")
    progress.view_lesson(other.id, catalog.modules[0], catalog.modules[0].lessons[0])
    educator = auth.create("educator")
    cohort = cohorts.create(educator, "Ward 9")
    cohorts.add_members(cohort, [other.id], "roster")
    teach_everything(db, catalog, educator, cohort)
    db.session.commit()
    runner = app.test_cli_runner()
    site = Site.from_config(app.config)

    def export(*args):
        result = runner.invoke(cli, args=["records", "export", *args])
        assert result.exit_code == 0, result.output
        return {s["actor"]["account"]["name"] for s in json.loads(result.stdout)}, len(json.loads(result.stdout))

    total = rows(db, LearningEvent)
    assert export() == ({site.actor_name(learner.id), site.actor_name(other.id)}, total)
    assert export("--learner", "  ZEBEDEE@example.org ")[0] == {site.actor_name(learner.id)}
    assert export("--cohort", str(cohort.id)) == ({site.actor_name(other.id)}, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--learner", "nobody@example.org"], "there is no account with the email 'nobody@example.org'"),
        (["--cohort", "12x"], "a cohort id is a whole number, not '12x'"),
        (["--cohort", "424242"], "there is no cohort with the id 424242"),
        (["--cohort", "99999999999999"], "there is no cohort with the id 99999999999999"),
        (["--learner", "a@example.org", "--cohort", "1"], "Give --learner or --cohort, not both."),
    ],
)
def test_export_refuses_bad_arguments_clearly(app, db, args, message):
    result = app.test_cli_runner().invoke(cli, args=["records", "export", *args])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


def test_send_and_worker_say_forwarding_is_off_when_no_lrs_is_configured(app, db):
    runner = app.test_cli_runner()
    for command in (["send"], ["worker", "--interval", "1"], ["backfill"]):
        result = runner.invoke(cli, args=["records", *command])
        assert result.exit_code == 2 and "Forwarding is off: set ALLIANCE_LRS_ENDPOINT" in result.stderr


@pytest.mark.parametrize("value", ["lots", "0", "-5"])
def test_a_bad_forwarding_setting_stops_the_app_with_a_clear_message(monkeypatch, tmp_path, value):
    from app import create_app
    from app.config import ConfigError

    monkeypatch.setenv("ALLIANCE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ALLIANCE_LRS_BATCH_SIZE", value)
    with pytest.raises(ConfigError, match=f"ALLIANCE_LRS_BATCH_SIZE must be a whole number above zero, not '{value}'"):
        create_app({"SECRET_KEY": "x"})


def test_site_and_forwarding_settings_come_from_the_environment(monkeypatch, tmp_path):
    from app.config import from_environment

    monkeypatch.setenv("ALLIANCE_SITE_URL", "https://learn.example.ac.uk/")
    monkeypatch.setenv("ALLIANCE_LRS_ENDPOINT", " https://lrs.example.ac.uk/xAPI/ ")
    monkeypatch.setenv("ALLIANCE_LRS_BATCH_SIZE", "25")
    settings = from_environment(tmp_path, {"SECRET_KEY": "x"})
    assert settings["SITE_URL"] == "https://learn.example.ac.uk"
    assert settings["XAPI_ACTIVITY_BASE"] == "https://learn.example.ac.uk/xapi/activities/"
    assert settings["LRS_ENDPOINT"] == "https://lrs.example.ac.uk/xAPI" and settings["LRS_BATCH_SIZE"] == 25


def test_ids_are_never_reused_after_the_newest_account_is_deleted(db, auth, catalog, learner):
    # SQLite hands out a deleted row's id again unless its table is AUTOINCREMENT: a new learner
    # would then take over the deleted one's actor name, statement ids and registrations.
    from app.services import account_data

    gone = all_statements(db, catalog, learner.id)
    account_data.delete(learner)
    db.session.commit()
    newcomer = auth.create("student", email="newcomer@example.org", name="Newcomer")
    take_everything(newcomer.id, catalog)
    db.session.commit()
    assert newcomer.id != learner.id
    fresh = all_statements(db, catalog, newcomer.id)
    assert not {s["id"] for s in gone} & {s["id"] for s in fresh}
    assert {s["actor"]["account"]["name"] for s in gone}.isdisjoint(s["actor"]["account"]["name"] for s in fresh)
    registrations = lambda found: {s["context"].get("registration") for s in found} - {None}  # noqa: E731
    assert not registrations(gone) & registrations(fresh)
