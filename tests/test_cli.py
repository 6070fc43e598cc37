"""The `alliance` console script, run as a user runs it: content check, database, accounts, refusing broken content."""

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher

ALLIANCE = Path(sys.executable).with_name("alliance")
TIMEOUT = 60
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "long enough password"

# A module with five mistakes, each on a known line, and a quiz with one more.
BROKEN_MODULE = """\
id: mod-a
title: Agreeing goals
summary: A short module.
minutes: lots
colour: blue
objectives:
  - Agree a goal.
lessons:
  - id: first
    title: First
    file: 01-first.md
    minutes: 10
    key_points: [Agree it., Write it down.]
  - id: second
    title: Second
    file: 02-missing.md
    minutes: 10
    key_points: [Agree it., Write it down.]
"""
BROKEN_LESSON = """\
## Goals
<!-- competencies: bordin.goals, bordin.nope -->

As shown before [@nope].

## Untagged

Prose.
"""
BROKEN_QUIZ = """\
id: mod-a-quiz
title: Quiz
module: mod-a
pass_mark: 0
items: []
"""
EXPECTED_PROBLEMS = [
    "bad/modules/mod-a/01-first.md:2: section 'Goals': unknown competency id 'bordin.nope'",
    "bad/modules/mod-a/01-first.md:4: cites [@nope], which is not in the module's references",
    "bad/modules/mod-a/01-first.md:6: section 'Untagged' has no competencies tag",
    "bad/modules/mod-a/module.yaml:4: the module: 'minutes' must be a whole number from 1 to 10000, not 'lots'",
    "bad/modules/mod-a/module.yaml:5: the module has an unknown key 'colour'",
    "bad/modules/mod-a/module.yaml:16: lesson 2 names the file '02-missing.md', which does not exist",
    "bad/quizzes/mod-a-quiz.yaml:4: the quiz: 'pass_mark' must be a whole number from 1 to 100, not 0",
    "bad/quizzes/mod-a-quiz.yaml:5: the quiz: 'items' has 0 entries; it needs at least 1",
]


def write_broken_tree(root: Path) -> Path:
    """Write a content folder with the mistakes of EXPECTED_PROBLEMS; return it."""
    module_dir = root / "modules" / "mod-a"
    module_dir.mkdir(parents=True)
    (module_dir / "module.yaml").write_text(BROKEN_MODULE, encoding="utf-8")
    (module_dir / "01-first.md").write_text(BROKEN_LESSON, encoding="utf-8")
    (root / "quizzes").mkdir()
    (root / "quizzes" / "mod-a-quiz.yaml").write_text(BROKEN_QUIZ, encoding="utf-8")
    return root


def environment(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh install whose instance folder and SQLite database live in `tmp`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "ALLIANCE_")) and k not in ("DATABASE_URL", "SECRET_KEY")
    }
    env["ALLIANCE_INSTANCE_PATH"] = str(tmp / "instance")
    env["DATABASE_URL"] = f"sqlite:///{tmp / 'alliance.sqlite'}"
    env.update(extra)
    return env


def alliance(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed `alliance` script and capture what it prints."""
    return subprocess.run(
        [str(ALLIANCE), *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=TIMEOUT
    )


def users_create(email: str, name: str, *options: str, env: dict[str, str], cwd: Path, stdin: str | None = None):
    """Run `alliance users create --email EMAIL --name NAME [OPTIONS]`."""
    return alliance("users", "create", "--email", email, "--name", name, *options, env=env, cwd=cwd, stdin=stdin)


def assert_reported(lines: list[str]) -> None:
    """The report lines are exactly EXPECTED_PROBLEMS, in order, each possibly followed by advice."""
    assert len(lines) == len(EXPECTED_PROBLEMS), "\n".join(lines)
    for line, expected in zip(lines, EXPECTED_PROBLEMS, strict=True):
        assert line == expected or line.startswith(expected + " ") or line.startswith(expected + ";"), line


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    """A user must never see a Python traceback."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


# --- alliance content check ---------------------------------------------------------------


def test_content_check_passes_on_the_shipped_content(tmp_path):
    result = alliance("content", "check", env=environment(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Content is valid." in result.stdout
    assert_no_traceback(result)


def test_content_check_prints_every_problem_with_file_line_and_a_count(tmp_path):
    write_broken_tree(tmp_path / "bad")
    result = alliance("content", "check", "bad", env=environment(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert_reported(lines[:-1])
    assert lines[-1] == f"{len(EXPECTED_PROBLEMS)} problems found in the content."
    assert "valid" not in result.stdout


def test_content_figures_lists_every_quoted_figure_for_reviewers(tmp_path):
    from app.content import content_dirs
    from app.content.loader import build_catalog

    shipped = build_catalog(content_dirs())
    expected = [(m.id, f.value, f.study) for m in shipped.modules for f in m.figures]
    as_csv = alliance("content", "figures", env=environment(tmp_path), cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["module"], r["value"], r["study"]) for r in table] == expected
    assert all(r["measures"] and r["reference"] for r in table)
    as_json = alliance("content", "figures", "--format", "json", env=environment(tmp_path), cwd=tmp_path)
    assert [(r["module"], r["value"], r["study"]) for r in json.loads(as_json.stdout)] == expected
    broken = alliance("content", "figures", "nowhere", env=environment(tmp_path), cwd=tmp_path)
    assert broken.returncode == 1 and "nowhere: no such folder" in broken.stderr
    assert_no_traceback(broken)


def test_content_check_reports_a_missing_folder(tmp_path):
    result = alliance("content", "check", "nowhere", env=environment(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert "nowhere: no such folder" in result.stderr
    assert "1 problem found in the content." in result.stderr


def test_content_check_reports_a_folder_without_content(tmp_path):
    (tmp_path / "empty").mkdir()
    result = alliance("content", "check", "empty", env=environment(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "empty: no content here" in result.stderr


def test_content_check_without_folders_reads_alliance_content_dirs(tmp_path):
    write_broken_tree(tmp_path / "bad")
    env = environment(tmp_path, ALLIANCE_CONTENT_DIRS=str(tmp_path / "bad"))
    result = alliance("content", "check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert_reported(result.stderr.splitlines()[:-1])


def test_content_check_survives_a_lesson_with_only_a_level_one_heading(tmp_path):
    # A lesson written as "# Title" plus prose has a numbered problem and a whole-file problem.
    root = tmp_path / "bad"
    write_broken_tree(root)
    (root / "modules" / "mod-a" / "01-first.md").write_text("# Goals\n\nJust prose, no section.\n", encoding="utf-8")
    result = alliance("content", "check", "bad", env=environment(tmp_path), cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert "bad/modules/mod-a/01-first.md:1: a lesson must not have a level-1 heading" in result.stderr
    assert "bad/modules/mod-a/01-first.md: the lesson has no sections" in result.stderr


# --- refusing to start on broken content --------------------------------------------------


@pytest.mark.parametrize("command", [["routes"], ["run", "--port", "0"], ["db", "upgrade"]])
def test_app_commands_refuse_broken_content_without_a_traceback(tmp_path, command):
    write_broken_tree(tmp_path / "bad")
    env = environment(tmp_path, ALLIANCE_CONTENT_DIRS=str(tmp_path / "bad"))
    result = alliance(*command, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert "Alliance cannot start: the content has problems." in result.stderr
    lines = result.stderr.strip().splitlines()
    assert_reported(lines[1:-1])
    assert lines[-1] == f"{len(EXPECTED_PROBLEMS)} problems found in the content."
    assert not (tmp_path / "alliance.sqlite").exists()  # nothing was set up on the way


def test_help_with_broken_content_shows_no_traceback(tmp_path):
    write_broken_tree(tmp_path / "bad")
    env = environment(tmp_path, ALLIANCE_CONTENT_DIRS=str(tmp_path / "bad"))
    result = alliance("--help", env=env, cwd=tmp_path)
    assert_no_traceback(result)


# --- database and accounts ----------------------------------------------------------------


def _tables(folder: Path) -> set[str]:
    """The tables of the SQLite database in `folder`."""
    with sqlite3.connect(folder / "alliance.sqlite") as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _accounts(folder: Path, email: str) -> list[tuple[str, str, str, str]]:
    """(email, name, role, password hash) of the accounts with this email."""
    with sqlite3.connect(folder / "alliance.sqlite") as conn:
        return conn.execute(
            'SELECT email, display_name, role, password_hash FROM "user" WHERE email = ?', (email,)
        ).fetchall()


@pytest.fixture(scope="module")
def install(tmp_path_factory):
    """A fresh install after `alliance db upgrade`: (folder, env, the upgrade's result)."""
    folder = tmp_path_factory.mktemp("install")
    env = environment(folder)
    result = alliance("db", "upgrade", env=env, cwd=folder)
    return folder, env, result


@pytest.fixture
def password_file(tmp_path) -> Path:
    """A file holding a valid password on its first line."""
    path = tmp_path / "password.txt"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def test_db_upgrade_creates_the_tables(install):
    folder, _env, result = install
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert {"user", "lesson_progress", "quiz_attempt", "item_response", "alembic_version"} <= _tables(folder)


def test_users_create_makes_an_account_once(install, password_file):
    folder, env, _ = install
    args = ["users", "create", "--email", "Educator@Example.org", "--name", "Dr Ede", "--role", "educator"]
    args += ["--password-file", str(password_file)]
    created = alliance(*args, env=env, cwd=folder)
    assert created.returncode == 0, created.stderr
    assert "Created educator educator@example.org." in created.stdout
    [(email, name, role, password_hash)] = _accounts(folder, "educator@example.org")
    assert (email, name, role) == ("educator@example.org", "Dr Ede", "educator")
    assert PASSWORD not in password_hash
    assert PasswordHasher().verify(password_hash, PASSWORD)

    again = alliance(*args, env=env, cwd=folder)
    assert again.returncode != 0
    assert_no_traceback(again)
    assert "An account with this email already exists" in again.stderr
    assert len(_accounts(folder, "educator@example.org")) == 1


def test_users_create_refuses_an_unknown_role(install, password_file):
    folder, env, _ = install
    result = users_create(
        "wiz@example.org",
        "Wiz",
        "--role",
        "wizard",
        "--password-file",
        str(password_file),
        env=env,
        cwd=folder,
    )
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "Invalid value for '--role': 'wizard' is not one of 'student', 'educator', 'admin'" in result.stderr
    assert _accounts(folder, "wiz@example.org") == []


def test_users_create_refuses_a_short_password(install, tmp_path):
    folder, env, _ = install
    short = tmp_path / "short.txt"
    short.write_text("123456789\n", encoding="utf-8")
    result = users_create(
        "short@example.org",
        "Short",
        "--password-file",
        str(short),
        env=env,
        cwd=folder,
    )
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "The password must have at least 10 characters." in result.stderr
    assert _accounts(folder, "short@example.org") == []


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.org"])
def test_users_create_refuses_a_bad_email(install, password_file, email):
    folder, env, _ = install
    result = users_create(email, "Bad", "--password-file", str(password_file), env=env, cwd=folder)
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "Invalid value for --email" in result.stderr
    with sqlite3.connect(folder / "alliance.sqlite") as conn:
        assert conn.execute('SELECT count(*) FROM "user" WHERE display_name = ?', ("Bad",)).fetchone() == (0,)


def test_users_create_reads_the_password_from_stdin(install):
    folder, env, _ = install
    result = users_create(
        "stdin@example.org",
        "Stdin",
        "--password-file",
        "-",
        env=env,
        cwd=folder,
        stdin="typed on stdin ok\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Created student stdin@example.org." in result.stdout
    [(_, _, role, password_hash)] = _accounts(folder, "stdin@example.org")
    assert role == "student"
    assert PasswordHasher().verify(password_hash, "typed on stdin ok")  # the newline is not part of it


# --- a database that cannot be used -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("nonsense", "DATABASE_URL cannot be used"),
        ("foo://x", "DATABASE_URL cannot be used"),
        ("postgresql://nobody@127.0.0.1:1/x", "The database could not be used: connection failed"),
    ],
)
def test_a_bad_database_url_gets_one_clear_message(tmp_path, url, said):
    result = alliance("db", "upgrade", env=environment(tmp_path, DATABASE_URL=url), cwd=tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert said in result.stderr


def test_creating_an_account_before_the_database_exists_says_to_upgrade(tmp_path, password_file):
    result = users_create(
        "a@example.org",
        "A",
        "--password-file",
        str(password_file),
        env=environment(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert_no_traceback(result)
    assert "run `alliance db upgrade`" in result.stderr


def test_users_create_refuses_a_name_the_web_form_would_refuse(install, password_file):
    folder, env, _ = install
    result = users_create(
        "long@example.org",
        "x" * 101,
        "--password-file",
        str(password_file),
        env=env,
        cwd=folder,
    )
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "at most 100 characters" in result.stderr
    assert _accounts(folder, "long@example.org") == []


def test_gunicorn_stops_instead_of_restarting_workers_on_broken_content(tmp_path):
    write_broken_tree(tmp_path / "bad")
    env = environment(tmp_path, ALLIANCE_CONTENT_DIRS=str(tmp_path / "bad"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        # As the deployment guide runs it: the app is built once, in the master, before any worker.
        [str(ALLIANCE.with_name("gunicorn")), "--preload", "--bind", "127.0.0.1:0", "--workers", "2", "app.wsgi:app"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 3
    assert "Alliance cannot start: the content has problems." in result.stderr
    assert "Traceback" not in result.stderr
