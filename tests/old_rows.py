"""Rows written in an early revision's columns, for tests that upgrade a database holding them."""

from sqlalchemy import text

#: One learner with an attempt, an answer and an event, as revision 5d1c2a7e9f30's tables hold them.
_ROWS = (
    'INSERT INTO "user" (id, email, display_name, password_hash, role, is_active, created_at) '
    "VALUES (1, 'a@example.org', 'A', 'x', 'student', 1, '2026-11-01 10:00:00')",
    "INSERT INTO quiz_attempt (id, user_id, quiz_ref, module_ref, content_version, pass_mark, "
    "max_score, started_at) VALUES (1, 1, 'q', 'm', 'v', 70, 2, '2026-11-01 10:00:00')",
    "INSERT INTO item_response (attempt_id, user_id, item_ref, item_type, item_version, position, "
    "answer, score, max_score, is_correct, competency_refs, answered_at) "
    "VALUES (1, 1, 'i', 'scenario', 'v', 1, '\"a\"', 2, 2, 1, '[]', '2026-11-01 10:00:00')",
    "INSERT INTO learning_event (user_id, verb, object_ref, content_version, attempt_id, created_at) "
    "VALUES (1, 'attempted', 'quiz/q', 'v', 1, '2026-11-01 10:00:00')",
)


def insert_learner_with_an_answer(conn) -> None:
    """Write one learner, their attempt, one answer and one event on `conn` (one row in each of four tables)."""
    for statement in _ROWS:
        conn.execute(text(statement))
