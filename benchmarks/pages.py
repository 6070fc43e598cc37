"""Server CPU per request of Alliance's pages, as a multiple of a plain Flask page measured in the same run.

Servers, each gunicorn with --workers sync workers on 127.0.0.1, on one seeded database:
- plain: benchmarks/hello.py's /rows, one 20-row query and a Jinja render: the ceiling;
- serve: Alliance as `alliance serve` runs it (preloaded; start-up objects frozen out of the
  garbage collector's reach);
- unfrozen (only with --servers ... unfrozen): Alliance preloaded without the freeze
  (benchmarks/unfrozen.py, as app/wsgi.py was), to measure what the freeze changes.

Pages: the sign-in page, a lesson, the student home and the progress page of a learner with
about 300 answers, a quiz submission (its quiz page and attempt start are made before the
measurement), and the cohort progress report at 200 and 2,000 students: viewed again
unchanged, and viewed first after a change (before each timed request, untimed and from this
process, one member's lesson is completed or undone, as a class does all day).

Each round runs every page on every server in turn, one request at a time, for at most
--seconds and --max-requests. The workers' CPU time is read from /proc before and after each
run, so the figure is what the server spent per request, whatever else the machine does.
Prints CPU-ms per request (total, and the range over rounds), the ratio to the plain page, p50
and p99 latency, and each server's cold start and worker memory. Only 127.0.0.1 is contacted.

    python benchmarks/pages.py [--rounds 5] [--seconds 2] [--workers 2] [--servers serve unfrozen]
    python benchmarks/pages.py --cohorts 200 --rounds 2 --seconds 1     # a quick look
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import hello  # noqa: E402
from benchmarks.reports import PASSWORD  # noqa: E402
from benchmarks.reports import seed as seed_cohort  # noqa: E402
from benchmarks.serve import HOST, Client, free_port, gunicorn  # noqa: E402

#: Quizzes the progress learner submits at set-up: 27 of the first quiz's 11 items is 297 answers.
PROGRESS_SUBMISSIONS = 27
LEARNER = "learner@example.org"


# --- reading the server's CPU time and memory from /proc


def worker_pids(master: int) -> list[int]:
    """The processes whose parent is `master` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone since listed
            # The command name (field 2) may hold spaces; the fields after its ")" are plain.
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used, all its threads: nanoseconds from schedstat, else clock ticks from stat."""
    try:
        return (
            sum(int((task / "schedstat").read_text().split()[0]) for task in Path(f"/proc/{pid}/task").iterdir()) / 1e9
        )
    except (OSError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> tuple[float, float]:
    """A process's resident and proportional set sizes in MB (PSS counts pages shared after fork once)."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Pss:"):
            pss = int(line.split()[1]) / 1024
    return rss, pss


# --- servers


@dataclass
class Server:
    """A running gunicorn master and how long it took to answer its first page."""

    name: str
    process: subprocess.Popen
    port: int
    cold_start_s: float = 0.0

    def workers(self) -> list[int]:
        """The worker processes now."""
        return worker_pids(self.process.pid)


def start_alliance(name: str, workers: int, env: dict) -> Server:
    """Start Alliance the way `name` says and time it to its first sign-in page."""
    port = free_port()
    if name == "serve":
        command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
        command += ["--workers", str(workers), "--access-log", "off"]
    else:
        command = [sys.executable, "-m", "gunicorn", "--preload", "--bind", f"{HOST}:{port}"]
        command += ["--workers", str(workers), "--log-level", "warning", "benchmarks.unfrozen:app"]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    client = Client(port)
    deadline = started + 60
    while True:
        try:
            if client.request("GET", "/auth/sign-in")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"{name} did not start")
        time.sleep(0.02)
    return Server(name, process, port, time.monotonic() - started)


# --- pages


@dataclass
class Page:
    """One measured page on one server: `prepare` returns the requests of one run (made before timing)."""

    name: str
    server: Server
    prepare: Callable[[], Iterable[Callable[[], None]]]
    #: Run before each timed request, outside its time and the server's CPU (this process).
    untimed: Callable[[], None] | None = None
    cpu_ms: list[float] = field(default_factory=list)  # per round
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    cpu_total: float = 0.0


def get(client: Client, path: str) -> Callable[[], None]:
    """A GET that must answer 200."""

    def call() -> None:
        status, _, _ = client.request("GET", path)
        assert status == 200, (path, status)

    return call


def sign_in(port: int, email: str) -> Client:
    """A client signed in as `email`."""
    client = Client(port)
    token = client.token("/auth/sign-in")
    status, _, _ = client.request("POST", "/auth/sign-in", {"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 302, f"sign-in of {email} failed: {status}"
    return client


def quiz_form(quiz) -> dict:
    """Every item answered (scenario items with their first option, others rightly), "not sure" of each."""
    form: dict = {}
    for item in quiz.items:
        answer = item.options[0].id if item.type == "scenario" else item.handler.right_answer(item)
        form |= {**item.handler.form_data(item, answer), f"confidence-{item.id}": "1"}
    return form


def open_attempt(client: Client, quiz_id: str, answers: dict) -> Callable[[], None]:
    """Open (or resume) an attempt at the quiz, untimed; return its submission."""
    token = client.token(f"/learn/quizzes/{quiz_id}")
    status, headers, _ = client.request("POST", f"/learn/quizzes/{quiz_id}/attempts", {"csrf_token": token})
    assert status == 302, status
    path, form = headers["Location"], {"csrf_token": token, **answers}

    def submit() -> None:
        status, headers, _ = client.request("POST", path, form)
        assert status == 302 and headers["Location"].endswith("/results"), status

    return submit


def seed(app, learners: int, cohorts: list[int]) -> dict[str, tuple[str, str]]:
    """The learner, `learners` quiz-takers (sharing one password hash) and the cohorts.

    Returns each cohort report's name, with its educator's email and its path.
    """
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import User
    from app.services import accounts

    with app.app_context():
        accounts.create_user(LEARNER, "Learner", PASSWORD, "student")
        hashed = db.session.scalar(select(User.password_hash).where(User.email == LEARNER))
        rows = [
            {"email": f"taker{n:04d}@example.org", "display_name": f"Taker {n}", "password_hash": hashed}
            for n in range(learners)
        ]
        db.session.execute(insert(User), [{**row, "role": "student"} for row in rows])
        db.session.commit()
    reports = {}
    for size in cohorts:
        educator = f"educator{size}@example.org"
        paths = seed_cohort(app, size, educator, f"c{size}-")
        reports[f"cohort report, {size:,} students"] = (educator, paths["matrix page"])
    return reports


def lesson_changes(database_uri: str, report_path: str) -> Callable[[], None]:
    """A write moving the report's cohort counter: each call completes or undoes one lesson of the next member
    (committed at once; the database's triggers note the change as the app's own writes do)."""
    from sqlalchemy import create_engine, text

    from app.models.types import utcnow

    engine = create_engine(database_uri)
    cohort = int(report_path.split("/")[3])  # /teach/cohorts/<id>/courses/<id>/report
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT min(p.id) FROM lesson_progress AS p JOIN cohort_member AS m ON m.user_id = p.user_id "
                "WHERE m.cohort_id = :cohort GROUP BY p.user_id ORDER BY p.user_id"
            ),
            {"cohort": cohort},
        ).scalars()
        lessons = itertools.cycle(list(rows))
    toggle = text(
        "UPDATE lesson_progress SET completed_at = CASE WHEN completed_at IS NULL THEN :now ELSE NULL END "
        "WHERE id = :id"
    )

    def change() -> None:
        with engine.begin() as connection:
            connection.execute(toggle, {"now": utcnow(), "id": next(lessons)})

    return change


def measure(page: Page, seconds: float, max_requests: int, record: bool) -> None:
    """One run of a page: its requests one at a time, the workers' CPU read before and after."""
    calls = iter(page.prepare())
    workers = page.server.workers()
    before = sum(cpu_seconds(pid) for pid in workers)
    latencies = []
    deadline = time.monotonic() + seconds
    for call in itertools.islice(calls, max_requests):
        if len(latencies) >= 3 and time.monotonic() > deadline:
            break
        if page.untimed is not None:
            page.untimed()
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    after = sum(cpu_seconds(pid) for pid in workers)
    if page.server.workers() != workers:
        print(f"  {page.name} on {page.server.name}: a worker restarted; run left out", file=sys.stderr)
        return
    if record and latencies:
        page.cpu_ms.append(1000 * (after - before) / len(latencies))
        page.cpu_total += after - before
        page.requests += len(latencies)
        page.latencies.extend(latencies)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the sorted values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    """Seed, start the servers, run the rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds after one warm-up (1 to 50)")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per page per round (0.2 to 60)")
    parser.add_argument("--max-requests", type=int, default=2000, help="requests per page per round (10 to 100000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per server (1 to 16)")
    parser.add_argument("--takers", type=int, default=40, help="quiz submissions per round and server (5 to 500)")
    parser.add_argument("--cohorts", type=int, nargs="*", default=[200, 2000], help="cohort sizes (10 to 20000)")
    parser.add_argument("--servers", nargs="+", choices=["serve", "unfrozen"], default=["serve"])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not (
        1 <= args.rounds <= 50
        and 0.2 <= args.seconds <= 60
        and 10 <= args.max_requests <= 100_000
        and 1 <= args.workers <= 16
        and 5 <= args.takers <= 500
        and all(10 <= size <= 20_000 for size in args.cohorts)
    ):
        parser.error("out of range: see --help")

    instance = Path(tempfile.mkdtemp(prefix="alliance-pages-bench-"))
    os.environ.update({"ALLIANCE_INSTANCE_PATH": str(instance), "SECRET_KEY": "benchmark"})
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{instance / 'bench.sqlite'}")
    os.environ["BENCH_PLAIN_DATABASE"] = str(instance / "plain.sqlite")
    database = "postgresql" if os.environ["DATABASE_URL"].startswith("postgres") else "sqlite"
    hello.seed(os.environ["BENCH_PLAIN_DATABASE"])

    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    reports = seed(app, args.takers * len(args.servers), sorted(set(args.cohorts)))
    catalog = app.extensions["alliance.catalog"]
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    quiz = catalog.quizzes[0]
    module = catalog.module(quiz.module_id)
    lesson = f"/learn/modules/{module.id}/lessons/{module.lessons[1].id}"
    answers = quiz_form(quiz)

    env = dict(os.environ)
    plain_port = free_port()
    plain = Server("plain", gunicorn("benchmarks.hello:app", plain_port, args.workers, env), plain_port)
    servers = [plain]
    try:
        for name in args.servers:
            servers.append(start_alliance(name, args.workers, env))
        pages = [Page("plain Flask, 20 rows", plain, lambda: itertools.repeat(get(Client(plain.port), "/rows")))]
        for number, server in enumerate(servers[1:]):
            learner = sign_in(server.port, LEARNER)
            if number == 0:  # about 300 answers for the progress page (shared by every server: one database)
                for _ in range(PROGRESS_SUBMISSIONS):
                    open_attempt(learner, quiz.id, answers)()
            first = number * args.takers
            takers = [sign_in(server.port, f"taker{n:04d}@example.org") for n in range(first, first + args.takers)]
            anonymous = Client(server.port)
            pages += [
                Page("sign-in page", server, lambda c=anonymous: itertools.repeat(get(c, "/auth/sign-in"))),
                Page("lesson", server, lambda c=learner: itertools.repeat(get(c, lesson))),
                Page("student home", server, lambda c=learner: itertools.repeat(get(c, "/learn/"))),
                Page("progress (~300 answers)", server, lambda c=learner: itertools.repeat(get(c, "/learn/progress"))),
                Page("quiz submission", server, lambda t=takers: [open_attempt(c, quiz.id, answers) for c in t]),
            ]
            for name, (educator, path) in reports.items():
                report_page = get(sign_in(server.port, educator), path)
                pages.append(Page(name, server, lambda call=report_page: itertools.repeat(call)))
                change = lesson_changes(app.config["SQLALCHEMY_DATABASE_URI"], path)
                after_change = f"{name.replace('cohort report', 'report')}, after a change"
                pages.append(Page(after_change, server, lambda call=report_page: itertools.repeat(call), change))
        for page in pages:  # warm-up: templates compiled, caches filled, in both workers
            measure(page, 0.0, 10, record=False)
        for round_number in range(args.rounds):
            for page in pages:
                measure(page, args.seconds, args.max_requests, record=True)
            print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr)
        memory = {s.name: [memory_mb(pid) for pid in s.workers()] for s in servers}
    finally:
        for server in servers:
            server.process.terminate()
            server.process.wait(timeout=60)

    report(args, database, pages, servers, memory)


def report(args, database: str, pages: list[Page], servers: list[Server], memory: dict) -> None:
    """Print the table (and write the JSON when asked)."""
    ceiling = pages[0].cpu_total * 1000 / pages[0].requests
    print(
        f"{database}, gunicorn {args.workers} sync workers per server, one request at a time, "
        f"{args.rounds} rounds of at most {args.seconds:g} s per page; CPU is the workers' own (/proc)"
    )
    print(
        f"{'page':<40}{'server':<10}{'requests':>9}{'CPU-ms/req':>12}{'range':>15}{'x plain':>9}{'p50 ms':>9}{'p99 ms':>9}"
    )
    rows = []
    for page in pages:
        cpu = page.cpu_total * 1000 / page.requests
        spread = f"{min(page.cpu_ms):.2f}-{max(page.cpu_ms):.2f}"
        p50, p99 = 1000 * statistics.median(page.latencies), 1000 * percentile(page.latencies, 0.99)
        print(
            f"{page.name:<40}{page.server.name:<10}{page.requests:>9}{cpu:>12.2f}{spread:>15}"
            f"{cpu / ceiling:>9.1f}{p50:>9.2f}{p99:>9.2f}"
        )
        rows.append(
            {
                "page": page.name,
                "server": page.server.name,
                "requests": page.requests,
                "cpu_ms_per_request": round(cpu, 3),
                "cpu_ms_per_round": [round(v, 3) for v in page.cpu_ms],
                "times_plain": round(cpu / ceiling, 2),
                "p50_ms": round(p50, 2),
                "p99_ms": round(p99, 2),
            }
        )
    for server in servers:
        sizes = memory.get(server.name, [])
        rss = ", ".join(f"{r:.0f}" for r, _ in sizes)
        pss = ", ".join(f"{p:.0f}" for _, p in sizes)
        start = f"cold start {server.cold_start_s:.2f} s to the first page; " if server.name != "plain" else ""
        print(f"{server.name}: {start}worker RSS {rss} MB, PSS {pss} MB (shared pages counted once)")
    if args.json:
        servers_out = {
            s.name: {"cold_start_s": round(s.cold_start_s, 2), "worker_rss_pss_mb": memory.get(s.name)} for s in servers
        }
        args.json.write_text(json.dumps({"database": database, "pages": rows, "servers": servers_out}, indent=2))


if __name__ == "__main__":
    main()
