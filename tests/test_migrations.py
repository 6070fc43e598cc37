"""The schema built by the migrations is exactly what the models describe, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_invariants_are_database_constraints(db):
    inspector = inspect(db.engine)
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("item_response")}
    assert ("attempt_id", "position") in unique
    one_open = [i for i in inspector.get_indexes("quiz_attempt") if i["name"] == "uq_quiz_attempt_one_open"]
    assert one_open and one_open[0]["unique"]
    assert {tuple(c["column_names"]) for c in inspector.get_unique_constraints("user")} == {("email",)}
