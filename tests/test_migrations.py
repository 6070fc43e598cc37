"""The schema built by the migrations is exactly what the models describe, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.old_rows import insert_learner_with_an_answer


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


def test_upgrading_and_downgrading_sqlite_keeps_every_learners_rows(tmp_path):
    """SQLite rebuilds a table to change it; the rebuild must never cascade into the rows that refer to it."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from tests.conftest import _settings

    app = create_app(_settings(f"sqlite:///{tmp_path / 'history.sqlite'}", tmp_path))
    tables = ("user", "quiz_attempt", "item_response", "learning_event")

    def counts() -> dict[str, int]:
        with db.engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}

    with app.app_context():
        upgrade(revision="5d1c2a7e9f30")
        with db.engine.begin() as conn:
            insert_learner_with_an_answer(conn)
        before = counts()
        assert before == dict.fromkeys(tables, 1)
        upgrade()
        assert counts() == before
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM user_session")).scalar() == 0
        downgrade(revision="b1d5e7a9c3f2")  # before server-side sessions: each account has a token again
        with db.engine.connect() as conn:
            assert len(conn.execute(text('SELECT session_token FROM "user"')).scalar()) == 32
        downgrade(revision="bc59e9b11183")
        assert counts() == before
        upgrade()
        assert counts() == before
        db.engine.dispose()


def test_the_consent_migration_stores_punycode_domains_in_unicode_unless_two_accounts_would_clash(tmp_path):
    """Addresses are now looked up with the domain in Unicode, so stored ones move to that form once."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from tests.conftest import _settings

    app = create_app(_settings(f"sqlite:///{tmp_path / 'domains.sqlite'}", tmp_path))
    with app.app_context():
        upgrade(revision="c10a5e55e001")
        with db.engine.begin() as conn:
            for user_id, email in [
                (1, "ann@xn--bcher-kva.example"),
                (2, "bo@xn--bcher-kva.example"),
                (3, "bo@bücher.example"),  # already there in Unicode: user 2 keeps its spelling
            ]:
                conn.execute(
                    text(
                        'INSERT INTO "user" (id, email, display_name, password_hash, role, is_active, created_at) '
                        "VALUES (:id, :email, 'X', 'x', 'student', 1, '2026-11-01 10:00:00')"
                    ),
                    {"id": user_id, "email": email},
                )
        upgrade()
        with db.engine.connect() as conn:
            emails = dict(conn.execute(text('SELECT id, email FROM "user" ORDER BY id')).all())
        db.engine.dispose()
    assert emails == {1: "ann@bücher.example", 2: "bo@xn--bcher-kva.example", 3: "bo@bücher.example"}
