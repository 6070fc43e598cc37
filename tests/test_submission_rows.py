"""A quiz submission writes exactly the rows it always did, whatever runs the statements.

The write path runs prebuilt driver SQL (app/services/prebuilt.py) instead of SQLAlchemy's own
execution. These tests submit through the real form, then compare every row written (responses,
learning events, quiz, competency and answer summaries, review cards, and the LRS outbox) field by
field against values worked out here from the quiz's content and fsrs, and the stored values,
byte for byte, against the same rows written the ordinary way through the ORM. Both backends.
"""

from datetime import timedelta

import pytest
from fsrs import Card, Rating, Scheduler
from sqlalchemy import select, text

from app.extensions import db as _db
from app.models import (
    AnswerSummary,
    CompetencyProgress,
    ItemResponse,
    LearningEvent,
    QuizAttempt,
    QuizProgress,
    ReviewCard,
    StatementOutbox,
)
from app.models.summary import EVERY_ANSWER

#: fsrs without its random spread, so the cards' schedules can be worked out here too.
STEADY = Scheduler(enable_fuzzing=False)


@pytest.fixture
def app_settings(app_settings):
    """Review intervals without fuzzing, so the expected cards are exact."""
    return {**app_settings, "REVIEW_FUZZING": False}


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


def mixed_form(quiz, shift: int = 0) -> dict[str, str]:
    """Form data answering every item, every third wrong (harmfully where an option is), with confidences 1, 2, 3 in turn."""
    form: dict[str, str] = {}
    for n, item in enumerate(quiz.items):
        is_right = (n + shift) % 3 != 0
        handler = item.handler
        if item.type == "scenario":
            grades = ["best"] if is_right else ["harmful", "unhelpful"]
            answer = next(o.id for g in grades for o in item.options if o.grade == g)
        else:
            answer = handler.right_answer(item) if is_right else handler.wrong_answer(item)
        form.update(handler.form_data(item, answer))
        form[f"confidence-{item.id}"] = str((n + shift) % 3 + 1)
    return form


def expected_grades(quiz, form):
    """Each item's grade for the form's answer, from the content's own graders, with the confidence given."""
    graded = []
    for item in quiz.items:
        answer = item.handler.answer_from_form(item, form)
        graded.append((item, item.handler.grade(item, answer), int(form[f"confidence-{item.id}"])))
    return graded


def submit(client, db, quiz, form, marking: str | None = None) -> QuizAttempt:
    """Open an attempt (under `marking` if given), submit the form, and return the attempt as stored."""
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    attempt_id = int(url.rstrip("/").split("/")[-1])
    if marking:
        db.session.execute(QuizAttempt.__table__.update().where(QuizAttempt.id == attempt_id).values(marking=marking))
        db.session.commit()
    response = client.post(url, data=form)
    assert response.status_code == 302 and response.location.endswith("/results"), response.status_code
    db.session.expire_all()
    return db.session.get(QuizAttempt, attempt_id)


def table_rows(db, model, order, **where) -> list[dict]:
    """Rows of a model's table as plain dicts (Core: no ORM identity map), in order."""
    table = model.__table__
    query = select(table).order_by(*[table.c[name] for name in order])
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    return [dict(row._mapping) for row in db.session.execute(query)]


def cbm(fraction: float, confidence: int) -> float:
    """Gardner-Medwin's marks, written out here: right 1, 2, 3 (in proportion to partial credit); wrong 0, -2, -6."""
    return (
        {1: 1.0, 2: 2.0, 3: 3.0}[confidence] * min(fraction, 1.0)
        if fraction > 1e-9
        else {1: 0.0, 2: -2.0, 3: -6.0}[confidence]
    )


@pytest.mark.parametrize("marking", ["standard", "certainty"])
def test_a_submission_writes_exactly_the_expected_rows(client, db, student, quiz, catalog, marking):
    form = mixed_form(quiz)
    attempt = submit(client, db, quiz, form, marking)
    now = attempt.submitted_at
    graded = expected_grades(quiz, form)

    responses = table_rows(db, ItemResponse, ["position"], attempt_id=attempt.id)
    assert [{k: v for k, v in r.items() if k != "id"} for r in responses] == [
        {
            "attempt_id": attempt.id,
            "user_id": student.id,
            "quiz_ref": quiz.id,
            "item_ref": item.id,
            "item_type": item.type,
            "item_version": item.version,
            "position": position,
            "answer": g.answer,
            "grade": g.grade,
            "score": g.score,
            "max_score": g.max_score,
            "is_correct": g.is_correct,
            "competency_refs": list(g.competency_refs),
            "confidence": sure,
            "answered_at": now,
        }
        for position, (item, g, sure) in enumerate(graded, start=1)
    ]

    weight = sum(g.max_score for _, g, _ in graded)
    if marking == "certainty":
        score = sum(cbm(g.score / g.max_score, sure) * g.max_score for _, g, sure in graded)
        low, high = -6.0 * weight, 3.0 * weight
    else:
        score, low, high = sum(g.score for _, g, _ in graded), 0.0, weight
    percent = 100.0 * score / weight
    passed = percent >= attempt.pass_mark
    assert (attempt.score, attempt.max_score, attempt.is_passed) == (pytest.approx(score), weight, passed)

    answered = []
    for item, g, sure in graded:
        result = {"response": g.answer, "score": g.score, "max": g.max_score, "success": g.is_correct}
        result |= {"grade": g.grade, "confidence": sure}
        if marking == "certainty":
            result["cbm"] = pytest.approx(cbm(g.score / g.max_score, sure) * g.max_score)
        answered.append(("answered", f"quiz/{quiz.id}/item/{item.id}", result))
    events = table_rows(db, LearningEvent, ["id"], attempt_id=attempt.id)
    started, *written = events
    assert started["verb"] == "attempted"
    assert [(e["verb"], e["object_ref"], e["result"]) for e in written[:-1]] == answered
    verdict = written[-1]
    assert verdict["verb"] == ("passed" if passed else "failed") and verdict["object_ref"] == f"quiz/{quiz.id}"
    assert verdict["result"] == {
        "score": pytest.approx(score),
        "min": low,
        "max": high,
        "scaled": pytest.approx(round(score / high, 4) if score >= 0 else round(score / -low, 4)),
        "marking": marking,
        "duration_seconds": round((now - attempt.started_at).total_seconds()),
        "percent": round(percent, 2),
        "success": passed,
        "pass_mark": attempt.pass_mark,
    }
    for event in written:
        assert (event["user_id"], event["content_version"], event["created_at"]) == (student.id, quiz.version, now)

    (progress,) = table_rows(db, QuizProgress, ["id"], user_id=student.id)
    assert {k: progress[k] for k in ("quiz_ref", "module_ref", "attempt_count", "is_passed")} == {
        "quiz_ref": quiz.id,
        "module_ref": quiz.module_id,
        "attempt_count": 1,
        "is_passed": passed,
    }
    assert progress["best_percent"] == progress["last_percent"] == pytest.approx(percent)
    assert progress["last_submitted_at"] == now and progress["first_passed_at"] == (now if passed else None)

    tagged: dict[str, list] = {}  # the answer summaries count a tag listed twice once
    counted: dict[str, list] = {}  # the competency summaries count every listing
    for _item, g, sure in graded:
        for ref in dict.fromkeys(g.competency_refs):
            tagged.setdefault(ref, []).append((g, sure))
        for ref in g.competency_refs:
            counted.setdefault(ref, []).append((g, sure))
    competencies = table_rows(db, CompetencyProgress, ["competency_ref"], user_id=student.id)
    assert [{k: v for k, v in c.items() if k not in ("id",)} for c in competencies] == [
        {
            "user_id": student.id,
            "competency_ref": ref,
            "answered_count": len(answers),
            "correct_count": sum(g.is_correct for g, _ in answers),
            "harmful_count": sum(g.grade == "harmful" for g, _ in answers),
            "score": pytest.approx(sum(g.score for g, _ in answers)),
            "max_score": pytest.approx(sum(g.max_score for g, _ in answers)),
            "last_answered_at": now,
        }
        for ref, answers in sorted(counted.items())
    ]

    summaries = {s["competency_ref"]: s for s in table_rows(db, AnswerSummary, ["competency_ref"], user_id=student.id)}
    everything = [(g, sure) for _, g, sure in graded]
    assert set(summaries) == {EVERY_ANSWER, *tagged}
    for ref, answers in [(EVERY_ANSWER, everything), *tagged.items()]:
        row = summaries[ref]
        harmful_at = now if any(g.grade == "harmful" for g, _ in answers) else None
        last_settling = [g for g, _ in answers if g.is_correct or g.grade == "harmful"]
        blocked = harmful_at if last_settling and last_settling[-1].grade == "harmful" else None
        expected = {
            "answered_count": len(answers),
            "correct_count": sum(g.is_correct for g, _ in answers),
            "harmful_count": sum(g.grade == "harmful" for g, _ in answers),
            "recent": "".join("1" if g.is_correct else "0" for g, _ in answers)[-20:],
            "blocked_since": blocked,
            "last_answered_at": now,
            **{f"level{n}_count": sum(sure == n for _, sure in answers) for n in (1, 2, 3)},
            **{f"level{n}_correct": sum(sure == n and g.is_correct for g, sure in answers) for n in (1, 2, 3)},
        }
        assert {k: row[k] for k in expected} == expected, ref

    cards = {c["item_ref"]: c for c in table_rows(db, ReviewCard, ["item_ref"], user_id=student.id)}
    queued = {item.id: g for item, g, sure in graded if not g.is_correct or sure == 1}
    assert set(cards) == set(queued)
    for item, g, _sure in graded:
        if item.id not in queued:
            continue
        grade = Rating.Hard if g.is_correct else Rating.Again
        fresh, _ = STEADY.review_card(Card(card_id=int(now.timestamp() * 1000), due=now), grade, now)
        card = cards[item.id]
        assert card["card"] == {**fresh.to_dict(), "first_rating": int(grade), "last_rating": int(grade)}
        assert (card["quiz_ref"], card["due_at"], card["review_count"]) == (quiz.id, fresh.due, 1)
        assert card["created_at"] == card["last_reviewed_at"] == now

    # Without forwarding configured, nothing is queued for an LRS.
    assert table_rows(db, StatementOutbox, ["id"]) == []


def test_a_second_submission_reviews_the_cards_and_adds_to_every_summary(client, db, student, quiz):
    first = submit(client, db, quiz, mixed_form(quiz))
    before = {c["item_ref"]: c for c in table_rows(db, ReviewCard, ["item_ref"], user_id=student.id)}
    summaries_before = {s["competency_ref"]: s for s in table_rows(db, AnswerSummary, ["id"], user_id=student.id)}
    form = mixed_form(quiz, shift=1)
    second = submit(client, db, quiz, form)
    now = second.submitted_at
    graded = expected_grades(quiz, form)

    cards = {c["item_ref"]: c for c in table_rows(db, ReviewCard, ["item_ref"], user_id=student.id)}
    for item, g, sure in graded:
        grade = Rating.Again if not g.is_correct else {1: Rating.Hard, 3: Rating.Easy}.get(sure, Rating.Good)
        held = before.get(item.id)
        card = cards.get(item.id)
        if held is None:
            # Not queued before: only a wrong or unsure answer puts it in now.
            assert (card is not None) == (grade in (Rating.Again, Rating.Hard)), item.id
            continue
        stored = {k: v for k, v in held["card"].items() if k not in ("first_rating", "last_rating", "review_token")}
        reviewed, _ = STEADY.review_card(Card.from_dict(stored), grade, now)
        assert {k: v for k, v in card["card"].items() if k != "review_token"} == {
            **reviewed.to_dict(),
            "first_rating": held["card"]["first_rating"],
            "last_rating": int(grade),
        }
        assert len(card["card"]["review_token"]) == 16
        assert (card["due_at"], card["review_count"], card["last_reviewed_at"]) == (reviewed.due, 2, now)
        assert card["created_at"] == first.submitted_at

    (progress,) = table_rows(db, QuizProgress, ["id"], user_id=student.id)
    assert progress["attempt_count"] == 2 and progress["last_submitted_at"] == now
    totals = table_rows(db, AnswerSummary, ["id"], user_id=student.id, competency_ref=EVERY_ANSWER)[0]
    before_totals = summaries_before[EVERY_ANSWER]
    assert totals["answered_count"] == before_totals["answered_count"] + len(quiz.items)
    assert totals["correct_count"] == before_totals["correct_count"] + sum(g.is_correct for _, g, _ in graded)
    assert (
        totals["recent"]
        == (before_totals["recent"] + "".join("1" if g.is_correct else "0" for _, g, _ in graded))[-20:]
    )


def test_with_forwarding_every_event_gets_one_outbox_row_in_order(app, client, db, student, quiz):
    app.config["LRS_ENDPOINT"] = "http://127.0.0.1:9/xAPI"
    attempt = submit(client, db, quiz, mixed_form(quiz))
    events = table_rows(db, LearningEvent, ["id"], attempt_id=attempt.id)
    queued = table_rows(db, StatementOutbox, ["id"])
    assert [q["event_id"] for q in queued] == [e["id"] for e in events]
    for row in queued[1:]:  # the first is the attempt's start, queued when it began
        assert (row["created_at"], row["next_attempt_at"], row["attempts"]) == (attempt.submitted_at,) * 2 + (0,)
        assert row["lease_token"] is row["sent_at"] is row["rejected_at"] is row["last_error"] is None


RAW = {
    ItemResponse: [
        "answer",
        "grade",
        "score",
        "max_score",
        "is_correct",
        "competency_refs",
        "confidence",
        "answered_at",
    ],
    LearningEvent: ["verb", "object_ref", "content_version", "result", "created_at"],
}


@pytest.mark.parametrize("model", list(RAW), ids=lambda m: m.__tablename__)
def test_stored_values_are_byte_for_byte_those_the_orm_writes(client, db, student, quiz, model):
    attempt = submit(client, db, quiz, mixed_form(quiz))
    table = model.__tablename__
    written = table_rows(db, model, ["id"], attempt_id=attempt.id)
    # The same rows again through the ORM, on a second attempt of the same learner.
    other = QuizAttempt(**{c: getattr(attempt, c) for c in ("user_id", "quiz_ref", "module_ref", "content_version")})
    other.pass_mark, other.max_score, other.started_at = attempt.pass_mark, attempt.max_score, attempt.started_at
    other.abandoned_at = attempt.submitted_at + timedelta(seconds=1)
    db.session.add(other)
    db.session.flush()
    for row in written:
        db.session.add(model(**{**{k: v for k, v in row.items() if k != "id"}, "attempt_id": other.id}))
    db.session.commit()
    # As text, so the stored bytes are compared (PostgreSQL's driver would otherwise parse JSON and timestamps).
    columns = ", ".join(f"CAST({name} AS TEXT)" for name in RAW[model])

    def raw(attempt_id: int) -> list[tuple]:
        # The driver's own values, as stored: no SQLAlchemy type reads them back.
        found = _db.session.connection().exec_driver_sql(
            f"SELECT {columns} FROM {table} WHERE attempt_id = {int(attempt_id)} ORDER BY id"
        )
        return [tuple(r) for r in found]

    assert raw(attempt.id) == raw(other.id) and len(raw(attempt.id)) == len(written)
    assert _db.session.execute(text(f"SELECT count(*) FROM {table} WHERE attempt_id = :a"), {"a": other.id}).scalar()


def test_a_prebuilt_insert_refuses_to_leave_a_column_to_its_python_default(db):
    from sqlalchemy import insert

    from app.services.prebuilt import Prebuilt

    keys = [c.name for c in ItemResponse.__table__.c if c.name not in ("id", "answered_at")]
    with pytest.raises(ValueError, match="answered_at"):
        Prebuilt(lambda _dialect: insert(ItemResponse.__table__), keys).plan()


def test_an_upsert_leaving_a_default_to_sqlalchemy_still_writes_it(db, auth):
    from app.services import sql

    learner = auth.create("student")
    upsert = sql.Upsert(QuizProgress, conflict=["user_id", "quiz_ref"], update={"is_passed": lambda t, e: e.is_passed})
    # No attempt count, percents or pass given: the model's defaults fill them, as SQLAlchemy always did.
    upsert([{"user_id": learner.id, "quiz_ref": "q", "module_ref": "m"}])
    db.session.commit()
    (row,) = table_rows(db, QuizProgress, ["id"], user_id=learner.id)
    defaults = {c.name: c.default.arg for c in QuizProgress.__table__.c if c.default is not None}
    assert {name: row[name] for name in defaults} == defaults and defaults
