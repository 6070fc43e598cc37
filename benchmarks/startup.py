"""Cold start and worker memory: `alliance serve` from its start to the first page, and RSS/PSS after every page.

Each round starts `alliance serve` (2 workers unless `--workers`), times it from the start of the
process to the first 200 answer (the sign-in page), and does the same with a plain Flask app
under gunicorn (`benchmarks/hello.py`, preloaded) as the floor. Then, on one server, a student,
an educator and an admin each open every page they can reach by following links (GET only,
same site, at most `--pages` each), and each worker's RSS and PSS (pages shared with the master
counted once) are read from /proc, with the compiled extensions the workers mapped that the master
had not (what the pages opened loaded on demand). Also prints where the start-up goes inside the
process: importing the app, building it (content catalog included), the collection and freeze, and
which of the libraries only some routes need (HEAVY) building the app imported.

    python benchmarks/startup.py [--rounds 5] [--workers 2] [--pages 400] [--json out.json]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the project's packages are importable
    sys.path.insert(0, str(ROOT))

from benchmarks.pages import memory_mb, start_alliance, worker_pids  # noqa: E402
from benchmarks.reports import PASSWORD  # noqa: E402
from benchmarks.serve import HOST, Client, free_port  # noqa: E402

USERS = {"student": "student@example.org", "educator": "educator@example.org", "admin": "admin@example.org"}
#: Libraries only some routes or commands use (tests/test_startup.py holds the app to the same list).
HEAVY = (
    "weasyprint", "hypothesis", "alembic", "flask_migrate", "openpyxl", "zxcvbn", "pylti1p3", "jwt", "jwcrypto",
    "cryptography", "requests", "lxml", "markdownify", "bs4", "segno",
)  # fmt: skip
#: Links never followed while warming up: they end the session, or are files rather than pages.
_SKIP = re.compile(r"^/(static/|auth/sign-out)|\.(css|js|png|svg|ico|pdf)$")


def first_answer(command: list[str], port: int, path: str, env: dict) -> tuple[float, subprocess.Popen]:
    """Start a server and time it from the process's start to the first 200 answer to `path`."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = Client(port)
    while True:
        try:
            if client.request("GET", path)[0] == 200:
                return time.monotonic() - started, process
        except OSError:
            pass
        if time.monotonic() - started > 60 or process.poll() is not None:
            raise SystemExit(f"{command} did not start")
        time.sleep(0.01)


def stop(process: subprocess.Popen) -> None:
    """Stop a server and wait for it."""
    process.terminate()
    process.wait(timeout=60)


def plain_flask_start(env: dict) -> float:
    """Seconds from start to first answer of the plain Flask page under gunicorn, preloaded."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--preload", "--bind", f"{HOST}:{port}", "--workers", "2"]
    seconds, process = first_answer([*command, "--log-level", "warning", "benchmarks.hello:app"], port, "/", env)
    stop(process)
    return seconds


def in_process(env: dict) -> dict:
    """Where the start-up goes inside one process: import, create_app (catalog included), freeze."""
    code = (
        "import time, json; t0 = time.perf_counter(); c0 = time.process_time()\n"
        "import app, app.serve; t1 = time.perf_counter(); c1 = time.process_time()\n"
        "from app import create_app; a = create_app(); t2 = time.perf_counter(); c2 = time.process_time()\n"
        "from app.serve import freeze_startup_objects; n = freeze_startup_objects(); t3 = time.perf_counter()\n"
        "rss = int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20\n"
        f"import sys; heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps({'import_s': t1 - t0, 'create_app_s': t2 - t1, 'freeze_s': t3 - t2, 'frozen': n, "
        "'import_cpu_s': c1 - c0, 'create_app_cpu_s': c2 - c1, 'rss_mb': rss, "
        "'heavy_modules_loaded': heavy}))"
    )
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout)
    figures["process_s"] = time.monotonic() - started
    return figures


def mapped_packages(pid: int) -> set[str]:
    """The installed packages whose compiled extensions a process has mapped (a sign of what it imported)."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split(maxsplit=5)[-1]
        if "-packages/" in path and (path.endswith(".so") or ".so." in path):
            found.add(path.split("-packages/", 1)[1].split("/", 1)[0].split(".", 1)[0])
    return found


def sign_in(port: int, email: str) -> Client:
    """A client signed in as `email`."""
    client = Client(port)
    token = client.token("/auth/sign-in")
    status, _, _ = client.request("POST", "/auth/sign-in", {"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 302, f"sign-in as {email} failed: {status}"
    return client


def crawl(client: Client, start: str, limit: int) -> int:
    """Open every page reachable from `start` by links (GET, same site), at most `limit`; how many opened."""
    seen, queue, opened = {start}, [start], 0
    while queue and opened < limit:
        path = queue.pop(0)
        try:
            status, headers, text = client.request("GET", path)
        except (OSError, UnicodeDecodeError):
            continue
        opened += 1
        if status in (301, 302, 303) and headers.get("Location", "").startswith("/"):
            found = [headers["Location"]]
        elif status != 200 or "text/html" not in headers.get("Content-Type", ""):
            continue
        else:
            found = re.findall(r'href="(/[^"#]*)', text)
        for link in found:
            link = unescape(link)
            if link not in seen and not _SKIP.search(link):
                seen.add(link)
                queue.append(link)
    return opened


def setup(env: dict) -> None:
    """A migrated database with a student, an educator and an admin."""
    alliance = [sys.executable, "-m", "app.cli"]
    subprocess.run([*alliance, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    for role, email in USERS.items():
        subprocess.run(
            [*alliance, "users", "create", "--email", email, "--name", role.title(), "--role", role]
            + ["--password-file", "-"],
            input=PASSWORD,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )


def main() -> None:
    """Measure, print, and optionally write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="cold starts of each server (1 to 50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (1 to 16)")
    parser.add_argument("--pages", type=int, default=400, help="pages each user opens at most (1 to 5000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 50 or not 1 <= args.workers <= 16 or not 1 <= args.pages <= 5000:
        parser.error("--rounds 1..50, --workers 1..16, --pages 1..5000")

    instance = Path(tempfile.mkdtemp(prefix="alliance-startup-"))
    env = {**os.environ, "ALLIANCE_INSTANCE_PATH": str(instance), "SECRET_KEY": "benchmark"}
    env.setdefault("DATABASE_URL", f"sqlite:///{instance / 'startup.sqlite'}")
    env["BENCH_PLAIN_DATABASE"] = str(instance / "plain.sqlite")
    setup(env)

    alliance_starts, plain_starts, inside = [], [], []
    for _ in range(args.rounds):  # interleaved, so a busy moment of the machine weighs on both
        server = start_alliance("serve", args.workers, env)
        alliance_starts.append(server.cold_start_s)
        stop(server.process)
        plain_starts.append(plain_flask_start(env))
        inside.append(in_process(env))

    server = start_alliance("serve", args.workers, env)
    try:
        opened = {role: crawl(sign_in(server.port, email), "/", args.pages) for role, email in USERS.items()}
        workers = {pid: memory_mb(pid) for pid in worker_pids(server.process.pid)}
        master = memory_mb(server.process.pid)
        in_master = mapped_packages(server.process.pid)
        loaded_by_pages = sorted(set().union(*(mapped_packages(pid) for pid in workers)) - in_master)
    finally:
        stop(server.process)

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    figures = {
        "database": "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite",
        "workers": args.workers,
        "cold_start_s": {"alliance_serve": median(alliance_starts), "plain_flask": median(plain_starts)},
        "cold_start_all_s": {"alliance_serve": alliance_starts, "plain_flask": plain_starts},
        "inside_one_process_s": {
            key: median([r[key] for r in inside])
            for key in (
                "import_s",
                "create_app_s",
                "freeze_s",
                "process_s",
                "import_cpu_s",
                "create_app_cpu_s",
                "rss_mb",
            )
        },
        "frozen_objects": inside[-1]["frozen"],
        "heavy_modules_loaded_at_start": inside[-1]["heavy_modules_loaded"],
        "pages_opened": opened,
        "worker_memory_mb": [{"rss": round(rss, 1), "pss": round(pss, 1)} for rss, pss in workers.values()],
        "master_memory_mb": {"rss": round(master[0], 1), "pss": round(master[1], 1)},
        "extensions_in_master": sorted(in_master),
        "extensions_loaded_by_pages": loaded_by_pages,
        "load_average": os.getloadavg(),
    }
    print(f"{figures['database']}, {args.workers} workers, median of {args.rounds} cold starts")
    print(f"cold start to the first page: alliance serve {figures['cold_start_s']['alliance_serve']} s, ", end="")
    print(f"plain Flask under gunicorn {figures['cold_start_s']['plain_flask']} s")
    print("inside one process: " + ", ".join(f"{k} {v}" for k, v in figures["inside_one_process_s"].items()))
    print(f"heavy modules loaded at start: {figures['heavy_modules_loaded_at_start'] or 'none'}")
    print(f"pages opened: {opened}")
    for n, memory in enumerate(figures["worker_memory_mb"], start=1):
        print(f"worker {n}: RSS {memory['rss']} MB, PSS {memory['pss']} MB")
    print(f"master: RSS {figures['master_memory_mb']['rss']} MB, PSS {figures['master_memory_mb']['pss']} MB")
    print(f"compiled extensions in the master: {', '.join(figures['extensions_in_master'])}")
    print(f"loaded by the pages opened (in a worker, not the master): {', '.join(loaded_by_pages) or 'none'}")
    print(f"load average {figures['load_average']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
