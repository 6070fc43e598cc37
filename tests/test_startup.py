"""A cold start stays short and small: nothing heavy imported until a route needs it, the catalog parsed once.

Times are CPU seconds of the process (what a loaded machine does not stretch, unlike the wall
clock), measured in fresh processes; bounds leave about twice the room the figures need here.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.content import cache, content_dirs
from app.content.loader import build_catalog
from tests.test_cli import ALLIANCE, environment

ROOT = Path(__file__).resolve().parent.parent
#: Modules only some routes or commands use: never imported by building the app and serving a page.
LAZY = (
    "weasyprint", "hypothesis", "alembic", "flask_migrate", "zxcvbn",
    # LTI (app/lti/protocol.py), Open Badges (app/credentials), quiz bank import and export (app/exchange/banks)
    "pylti1p3", "jwt", "jwcrypto", "cryptography", "requests", "lxml", "markdownify", "bs4", "segno",
    # Only a form taking a new address, a class list import or a site that sends mail needs these.
    "confusable_homoglyphs", "email_validator", "flask_mailman",
    # A site on SQLite never needs PostgreSQL's dialect (2 MB a worker; app/models/indexes.py).
    "sqlalchemy.dialects.postgresql",
    # Nothing here uses them: a dependency that brings one in must bring it in where it is used.
    "scipy", "sklearn", "statsmodels", "pingouin", "numpy", "pandas",
)  # fmt: skip

PROBE = f"""
import json, sys, time
started = time.process_time()
from app import create_app
app = create_app({{"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
                   "WTF_CSRF_ENABLED": False, "ARGON2_PROFILE": "CHEAPEST"}})
built = time.process_time() - started
page = app.test_client().get("/auth/sign-in")
rss = int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
statuses = {{}}
if len(sys.argv) > 2:  # a learner's and an educator's pages too
    from app.extensions import db
    from app.services import accounts, cohorts, courses
    with app.app_context():
        db.create_all()
        student = accounts.create_user("student@example.org", "Sam", "a long password 1", "student")
        educator = accounts.create_user("educator@example.org", "Eve", "a long password 1", "educator")
        cohort = cohorts.create(educator, "Ward 7")
        cohorts.add_member(cohort, student.id, "code")
        course = courses.create(educator, "Basics", "First steps")
        db.session.commit()
        cohort_id, course_id = cohort.id, course.id
    module = app.extensions["alliance.catalog"].modules[0]
    lesson = f"/learn/modules/{{module.id}}/lessons/{{module.lessons[0].id}}"
    for email, paths in (
        ("student@example.org", ["/learn/", "/learn/progress", f"/learn/modules/{{module.id}}", lesson, "/learn/cohorts"]),
        ("educator@example.org", ["/teach/", f"/teach/cohorts/{{cohort_id}}", f"/teach/courses/{{course_id}}", lesson]),
    ):
        client = app.test_client()
        signed_in = client.post("/auth/sign-in", data={{"email": email, "password": "a long password 1"}})
        statuses[email] = [signed_in.status_code] + [client.get(path).status_code for path in paths]
print(json.dumps({{"cpu_s": built, "status": page.status_code, "rss_mb": rss, "pages": statuses,
                  "yaml": "yaml" in sys.modules,
                  "loaded": [m for m in {LAZY!r} if m in sys.modules]}}))
"""


def probe(tmp_path: Path, pages: bool = False) -> dict:
    """Build the app in a fresh process with `tmp_path`'s instance folder and open a page (or, with `pages`, a
    learner's and an educator's pages on a database of their own); what it cost."""
    env = environment(tmp_path)
    database = tmp_path / ("pages.sqlite" if pages else "probe.sqlite")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(database), *(["pages"] if pages else [])],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_building_the_app_and_serving_a_page_imports_nothing_only_some_routes_need(tmp_path):
    cold = probe(tmp_path)
    assert cold["status"] == 200
    assert cold["loaded"] == []
    # Migrations still work: Flask-Migrate is bound the first time a `db` command runs.
    env = environment(tmp_path)
    upgraded = subprocess.run([str(ALLIANCE), "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    current = subprocess.run([str(ALLIANCE), "db", "current"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert current.returncode == 0 and "(head)" in current.stdout, current.stderr


def test_a_learner_and_an_educator_opening_their_pages_import_nothing_only_some_routes_need(tmp_path):
    seen = probe(tmp_path, pages=True)
    # Signed in (302), then every page answered: home, progress, a module, a lesson, cohorts; the teaching
    # dashboard, a cohort (which asks whether an LTI platform's roster stands behind it), a course.
    assert seen["pages"] == {"student@example.org": [302] + [200] * 5, "educator@example.org": [302] + [200] * 4}
    assert seen["loaded"] == []


def test_a_cold_start_reads_the_parsed_catalog_kept_by_the_last_one_and_stays_small(tmp_path):
    first = probe(tmp_path)  # parses the content, keeps it in <instance>/cache
    [kept] = (tmp_path / "instance" / "cache").glob("catalog-*.pickle")
    written = kept.stat().st_mtime_ns
    second = probe(tmp_path)
    assert second["status"] == 200 and second["loaded"] == []
    assert first["yaml"] and not second["yaml"]  # PyYAML only parses: a cached catalog never needs it
    # Read, not parsed again: a parse would have written the file anew. (Comparing the two starts' CPU
    # time, about 1.6 and 1.0 s on an idle machine, failed once on a loaded one: 1.57 and 1.47 s.)
    assert kept.stat().st_mtime_ns == written and list(kept.parent.iterdir()) == [kept]
    assert second["cpu_s"] < 2.0, (first, second)  # about 1.0 s of CPU on an idle machine
    assert second["rss_mb"] < 130  # about 100 MB here, before any worker forks (they share it)


def test_the_cache_parses_again_after_any_change_to_the_content(tmp_path):
    dirs = []
    for shipped in content_dirs():  # a copy of the shipped modules and quizzes, to edit
        dirs.append(tmp_path / shipped.name)
        shutil.copytree(shipped, dirs[-1])
    quiz_file = dirs[1] / "bordin-components-quiz.yaml"
    folder = tmp_path / "cache"
    builds = []

    def build(found):
        builds.append(1)
        return build_catalog(found)

    first = cache.load(dirs, folder, build)
    again = cache.load(dirs, folder, build)
    assert len(builds) == 1 and again == first
    assert first.quiz("bordin-components-quiz").title == "Bordin's components in practice"
    text = quiz_file.read_text()
    quiz_file.write_text(text.replace('title: "Bordin', 'title: "Renamed: Bordin', 1))  # an author edits the file
    renamed = cache.load(dirs, folder, build)
    assert (
        len(builds) == 2 and renamed.quiz("bordin-components-quiz").title == "Renamed: Bordin's components in practice"
    )
    assert len(list(folder.glob("catalog-*.pickle"))) == 1  # the old one is removed
    quiz_file.write_text(text)
    assert cache.load(dirs, folder, build) == first and len(builds) == 3


def test_without_a_writable_cache_folder_the_app_parses_as_before(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    dirs = [d.resolve() for d in content_dirs()]
    catalog = cache.load(dirs, blocked / "cache", build_catalog)
    assert catalog.quizzes and not (blocked / "cache").exists()
    damaged = tmp_path / "cache"
    damaged.mkdir()
    (damaged / f"{cache.PREFIX}{cache.key(dirs)[:40]}.pickle").write_bytes(b"not a pickle")
    assert cache.load(dirs, damaged, build_catalog) == catalog  # a damaged copy is parsed again, and replaced
    assert cache.load(dirs, damaged, lambda _: pytest.fail("parsed a third time")) == catalog
    assert os.access(damaged, os.W_OK)
