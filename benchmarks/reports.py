"""Time the educators' reports on a large cohort: the progress matrix and the CSV exports.

Seeds (in bulk) one cohort of N students (2,000 by default) assigned a 10-item course (4 modules,
4 quizzes, 2 conversations), each student with lesson, quiz and competency summaries and one
submitted attempt per quiz, then times each report in-process (Flask's test client, no HTTP) and,
unless --no-gunicorn, served by gunicorn on 127.0.0.1, one request at a time. Prints medians, and the
most memory (Python's own allocations, tracemalloc) one in-process request held while its body was
read and dropped piece by piece: streamed downloads stay flat whatever the cohort's size.

    python benchmarks/reports.py [--students 2000] [--repeat 15] [--workers 2] [--no-gunicorn]
    DATABASE_URL=postgresql://user@127.0.0.1/db python benchmarks/reports.py   # an empty database
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import Client, free_port, gunicorn  # noqa: E402

PASSWORD = "benchmark password"
EDUCATOR = "educator@example.org"


def seed(app, students: int, educator_email: str = EDUCATOR, prefix: str = "student") -> dict[str, str]:
    """A cohort of `students` with a 10-item course and their records; return the report paths.

    `educator_email` and `prefix` (of the students' emails) let one database hold several cohorts.
    """
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import (
        CohortMember,
        CompetencyProgress,
        ItemResponse,
        LessonProgress,
        QuizAttempt,
        QuizProgress,
        User,
    )
    from app.models.types import utcnow
    from app.services import accounts, cohorts, courses
    from app.services.quizzes import response_row

    catalog = app.extensions["alliance.catalog"]
    with app.app_context():
        educator = accounts.create_user(educator_email, "Educator", PASSWORD, "educator")
        course = courses.create(educator, "Benchmark course", "")
        quizzes = list(catalog.quizzes[:4])
        talks = list(catalog.conversations[:2])
        modules = [catalog.module(q.module_id) for q in quizzes]
        for choice in [f"module:{m.id}" for m in modules] + [f"quiz:{q.id}" for q in quizzes]:
            courses.add_item(catalog, course, choice)
        for talk in talks:
            courses.add_item(catalog, course, f"conversation:{talk.id}")
        courses.set_published(course, True)
        cohort = cohorts.create(educator, "Benchmark cohort")
        cohorts.assign(cohort, course, educator, None, None)
        now = utcnow()
        emails = [f"{prefix}{n:05d}@example.org" for n in range(students)]
        db.session.execute(
            insert(User),
            [
                {"email": e, "display_name": f"Student {n:05d}", "password_hash": "-", "role": "student"}
                for n, e in enumerate(emails)
            ],
        )
        ids = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
        db.session.execute(
            insert(CohortMember),
            [{"cohort_id": cohort.id, "user_id": i, "joined_via": "roster", "joined_at": now} for i in ids],
        )
        db.session.execute(
            insert(LessonProgress),
            [
                {
                    "user_id": i,
                    "module_ref": m.id,
                    "lesson_ref": lesson.id,
                    "content_version": lesson.version,
                    "view_count": 1 + i % 3,
                    "first_viewed_at": now,
                    "last_viewed_at": now,
                    "completed_at": now if (i + n) % 4 else None,
                }
                for i in ids
                for m in modules
                for n, lesson in enumerate(m.lessons[: 1 + i % len(m.lessons)])
            ],
        )
        db.session.execute(
            insert(QuizProgress),
            [
                {
                    "user_id": i,
                    "quiz_ref": q.id,
                    "module_ref": q.module_id,
                    "attempt_count": 1 + i % 3,
                    "best_percent": float((i * 7 + n * 13) % 101),
                    "last_percent": float((i * 7 + n * 13) % 101),
                    "is_passed": (i * 7 + n * 13) % 101 >= q.pass_mark,
                    "last_submitted_at": now,
                }
                for i in ids
                for n, q in enumerate(quizzes + talks)
                if (i + n) % 5
            ],
        )
        refs = [c.id for c in catalog.competencies]
        db.session.execute(
            insert(CompetencyProgress),
            [
                {"user_id": i, "competency_ref": ref, "answered_count": 4, "correct_count": (i + n) % 5}
                for i in ids
                for n, ref in enumerate(refs)
                if (i + n) % 3
            ],
        )
        db.session.execute(
            insert(QuizAttempt),
            [
                {
                    "user_id": i,
                    "quiz_ref": q.id,
                    "module_ref": q.module_id,
                    "content_version": q.version,
                    "pass_mark": q.pass_mark,
                    "max_score": q.max_score,
                    "score": 0.0,
                    "is_passed": False,
                    "started_at": now,
                    "submitted_at": now,
                }
                for i in ids
                for q in quizzes
            ],
        )
        # Each item answered right or wrong (a third wrong), graded once per quiz, item and rightness.
        keys = {
            q.id: [(item, {r: item.handler.grade(item, _answer(item, r)) for r in (True, False)}) for item in q.items]
            for q in quizzes
        }
        attempts = db.session.execute(
            select(QuizAttempt.id, QuizAttempt.user_id, QuizAttempt.quiz_ref).where(QuizAttempt.user_id.in_(ids))
        ).all()
        rows = [
            response_row(attempt_id, user_id, quiz_ref, item.id, item.type, item.version, position, g, now)
            for attempt_id, user_id, quiz_ref in attempts
            for position, (item, graded) in enumerate(keys[quiz_ref], start=1)
            for g in (graded[(user_id + position) % 3 != 0],)
        ]
        for start in range(0, len(rows), 20_000):
            db.session.execute(insert(ItemResponse), rows[start : start + 20_000])
        db.session.commit()
        base = f"/teach/cohorts/{cohort.id}"
        last = max(1, -(-students // 100))
        return {
            "matrix page": f"{base}/courses/{course.id}/report",
            "matrix, last page": f"{base}/courses/{course.id}/report?page={last}",
            "matrix, not completed": f"{base}/courses/{course.id}/report?show=incomplete",
            "matrix CSV": f"{base}/courses/{course.id}/report.csv",
            "competency heatmap": f"{base}/competencies",
            "item analysis": f"{base}/quizzes/{quizzes[0].id}/analysis",
            "attempts CSV": f"{base}/attempts.csv",
            "responses": str(len(rows)),
        }


def _answer(item, right: bool):
    return item.handler.right_answer(item) if right else item.handler.wrong_answer(item)


def peak_mb(call) -> float:
    """The most memory (MB, Python's allocations) one call held."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def median_ms(call, repeat: int) -> tuple[float, int]:
    """Median milliseconds of `repeat` calls (after one untimed warm-up), and the response size."""
    size = call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 1), size


def main() -> None:
    """Seed, then time each report in-process and under gunicorn."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=2000, help="cohort size (10 to 20000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per report (3 to 200)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (1 to 16)")
    parser.add_argument("--no-gunicorn", action="store_true", help="time in-process only")
    args = parser.parse_args()
    if not 10 <= args.students <= 20_000 or not 3 <= args.repeat <= 200 or not 1 <= args.workers <= 16:
        parser.error("--students 10..20000, --repeat 3..200, --workers 1..16")

    instance = Path(tempfile.mkdtemp(prefix="alliance-reports-bench-"))
    os.environ.update({"ALLIANCE_INSTANCE_PATH": str(instance), "SECRET_KEY": "benchmark"})
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{instance / 'bench.sqlite'}")
    database = "postgresql" if os.environ["DATABASE_URL"].startswith("postgres") else "sqlite"

    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    paths = seed(app, args.students)
    responses = paths.pop("responses")
    print(
        f"{database}: {args.students} students, 10-item course, {responses} responses "
        f"(seeded in {time.perf_counter() - started:.1f} s); median of {args.repeat} requests, one at a time"
    )

    client = app.test_client()
    page = client.get("/auth/sign-in").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    signed_in = client.post("/auth/sign-in", data={"csrf_token": token, "email": EDUCATOR, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code

    def in_process(path: str):
        def call() -> int:
            # Read as a server sends it: piece by piece, each piece dropped once counted.
            response = client.get(path, buffered=False)
            assert response.status_code == 200, (path, response.status_code)
            size = sum(len(piece) for piece in response.response)
            response.close()
            return size

        return call

    results = {
        name: {"in-process": median_ms(in_process(path), args.repeat), "peak": peak_mb(in_process(path))}
        for name, path in paths.items()
    }

    if not args.no_gunicorn:
        port = free_port()
        server = gunicorn("app.wsgi:app", port, args.workers, dict(os.environ))
        try:
            http = Client(port)
            token = http.token("/auth/sign-in")
            status, _, _ = http.request(
                "POST", "/auth/sign-in", {"csrf_token": token, "email": EDUCATOR, "password": PASSWORD}
            )
            assert status == 302, status

            def served(path: str):
                def call() -> int:
                    status, _, body = http.request("GET", path)
                    assert status == 200, (path, status)
                    return len(body)

                return call

            for name, path in paths.items():
                results[name]["gunicorn"] = median_ms(served(path), args.repeat)
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"{'report':<24}{'in-process ms':>15}{'gunicorn ms':>13}{'size':>12}{'peak memory':>14}")
    for name, timing in results.items():
        ms, size = timing["in-process"]
        served_ms = timing.get("gunicorn", ("-", 0))[0]
        print(f"{name:<24}{ms:>15}{served_ms:>13}{size / 1024:>10.0f} kB{timing['peak']:>11.1f} MB")


if __name__ == "__main__":
    main()
