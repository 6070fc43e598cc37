"""Serve Alliance with gunicorn on loopback and measure a lesson page and a quiz submission.

A plain Flask "hello" is served and measured the same way, so the figures read as ratios that
hold from one machine to another. Only 127.0.0.1 is contacted; every loop is bounded.

    python benchmarks/serve.py [--seconds 10] [--concurrency 4] [--workers 2] [--json out.json]
"""

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "benchmark password"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Client:
    """A minimal cookie-keeping HTTP client for one simulated learner."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        """Send one request; return status, headers and body."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), text

    def token(self, path: str) -> str:
        """GET a page and return its CSRF token."""
        status, _, text = self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)


def wait_until_up(port: int, seconds: float = 30) -> None:
    """Wait for a server to accept connections."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def gunicorn(app_path: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    """Start gunicorn serving `app_path` on loopback."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        app_path,
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    wait_until_up(port)
    return process


def run_load(name: str, action, concurrency: int, seconds: float) -> dict:
    """Call `action(worker_index)` (returns latency seconds) from threads for a bounded time."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        mine = []
        while time.monotonic() < deadline and len(mine) < 100_000:
            mine.append(action(index))
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "name": name,
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
    }


def backend_pids(database: str) -> list[int]:
    """PostgreSQL's server processes for `database` on this machine (their titles name it), for their CPU time."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry.name))
    return found


def cpu_of(pids: list[int]) -> float:
    """CPU seconds these processes have used so far (those gone since are left out)."""
    from benchmarks.pages import cpu_seconds

    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def with_server_cpu(result: dict, app_cpu: float, db_cpu: float | None) -> dict:
    """Add the server's CPU milliseconds per request (app workers, and the database's when measured)."""
    requests_done = max(1, result["requests"])
    result["app_cpu_ms_per_request"] = round(1000 * app_cpu / requests_done, 2)
    if db_cpu is not None:
        result["db_cpu_ms_per_request"] = round(1000 * db_cpu / requests_done, 2)
    return result


def timed(call) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    """Set up a database and a learner per thread, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per scenario (1 to 300)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (1 to 64)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (1 to 16)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 300 or not 1 <= args.concurrency <= 64 or not 1 <= args.workers <= 16:
        parser.error("--seconds 1..300, --concurrency 1..64, --workers 1..16")

    instance = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
    env = {**os.environ, "ALLIANCE_INSTANCE_PATH": str(instance), "SECRET_KEY": "benchmark"}
    env.setdefault("DATABASE_URL", f"sqlite:///{instance / 'bench.sqlite'}")
    alliance = [sys.executable, "-m", "app.cli"]
    subprocess.run([*alliance, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    for i in range(args.concurrency):
        subprocess.run(
            [
                *alliance,
                "users",
                "create",
                "--email",
                f"learner{i}@example.org",
                "--name",
                f"Learner {i}",
                "--password-file",
                "-",
            ],
            input=PASSWORD,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    sys.path.insert(0, str(ROOT))
    from app.content import content_dirs, load_once

    catalog = load_once(content_dirs())
    quiz = catalog.quizzes[0]
    module = catalog.module(quiz.module_id)
    lesson_path = f"/learn/modules/{module.id}/lessons/{module.lessons[1].id}"
    # Every item answered (scenario items with their first option, others rightly), as a browser sends them,
    # "not sure" of each, so wrong answers and unsure right ones go to the review queue too.
    answers: dict = {}
    by_item: dict[str, dict] = {}
    for item in quiz.items:
        answer = item.options[0].id if item.type == "scenario" else item.handler.right_answer(item)
        by_item[item.id] = {**item.handler.form_data(item, answer), f"confidence-{item.id}": "1"}
        answers |= by_item[item.id]

    app_port, hello_port = free_port(), free_port()
    servers = [
        gunicorn("app.wsgi:app", app_port, args.workers, env),
        gunicorn("benchmarks.hello:app", hello_port, args.workers, env),
    ]
    try:
        learners = []
        for i in range(args.concurrency):
            client = Client(app_port)
            token = client.token("/auth/sign-in")
            status, _, _ = client.request(
                "POST", "/auth/sign-in", {"csrf_token": token, "email": f"learner{i}@example.org", "password": PASSWORD}
            )
            assert status == 302, f"sign-in failed: {status}"
            learners.append(client)
        hello = Client(hello_port)

        def get_hello(_: int) -> float:
            return timed(lambda: hello.request("GET", "/"))

        def get_lesson(i: int) -> float:
            def call():
                status, _, _ = learners[i].request("GET", lesson_path)
                assert status == 200, status

            return timed(call)

        def submit_quiz(i: int) -> float:
            client = learners[i]
            token = client.token(f"/learn/quizzes/{quiz.id}")
            status, headers, _ = client.request("POST", f"/learn/quizzes/{quiz.id}/attempts", {"csrf_token": token})
            assert status == 302, status
            attempt_path = headers["Location"]
            form = {"csrf_token": token, **answers}

            def call():
                status, headers, _ = client.request("POST", attempt_path, form)
                assert status == 302 and headers["Location"].endswith("/results"), status

            return timed(call)

        def practise_item(i: int) -> float:
            client = learners[i]
            token = client.token(f"/learn/quizzes/{quiz.id}")
            page = ""
            while 'name="position"' not in page:  # a finished practice: the next press begins a new one
                status, headers, _ = client.request("POST", f"/learn/quizzes/{quiz.id}/practice", {"csrf_token": token})
                assert status == 302, status
                path = headers["Location"]
                status, _, page = client.request("GET", path)
            position = int(re.search(r'name="position" value="(\d+)"', page).group(1))
            form = {"csrf_token": token, "position": str(position), **by_item[quiz.items[position - 1].id]}

            def call():
                status, headers, _ = client.request("POST", path, form)
                assert status == 302 and headers["Location"].endswith(f"/items/{position}"), status

            return timed(call)

        def get_review(i: int) -> float:
            def call():
                status, _, _ = learners[i].request("GET", "/learn/review")
                assert status == 200, status

            return timed(call)

        def get_progress(i: int) -> float:
            def call():
                status, _, _ = learners[i].request("GET", "/learn/progress")
                assert status == 200, status

            return timed(call)

        from benchmarks.pages import worker_pids

        db_name = env["DATABASE_URL"].rsplit("/", 1)[-1].split("?")[0] if "postgres" in env["DATABASE_URL"] else None

        def measured(name: str, action, server: subprocess.Popen) -> dict:
            """run_load, with the CPU the server's workers (and PostgreSQL's processes for this database) spent."""
            workers = worker_pids(server.pid)
            backends = backend_pids(db_name) if db_name else []
            app_before, db_before = cpu_of(workers), cpu_of(backends)
            result = run_load(name, action, args.concurrency, args.seconds)
            db_used = cpu_of(backends) - db_before if db_name and server is servers[0] else None
            return with_server_cpu(result, cpu_of(workers) - app_before, db_used)

        results = [
            measured("hello (plain Flask)", get_hello, servers[1]),
            measured("lesson page", get_lesson, servers[0]),
            measured("quiz submission", submit_quiz, servers[0]),
            measured("practice answer", practise_item, servers[0]),
            measured("review page", get_review, servers[0]),
            measured("progress page", get_progress, servers[0]),
        ]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)

    base = results[0]
    database = "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    print(f"gunicorn --workers {args.workers}, {args.concurrency} client threads, {args.seconds:g}s each, {database}")
    print(
        f"{'scenario':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs hello req/s':>17}{'app CPU ms':>12}{'db CPU ms':>11}"
    )
    for r in results:
        ratio = r["requests_per_second"] / base["requests_per_second"]
        r["throughput_vs_hello"] = round(ratio, 3)
        db_ms = r.get("db_cpu_ms_per_request", "")
        print(
            f"{r['name']:<22}{r['requests_per_second']:>9}{r['p50_ms']:>9}{r['p99_ms']:>9}{ratio:>17.2f}"
            f"{r['app_cpu_ms_per_request']:>12}{db_ms:>11}"
        )
    print("app/db CPU ms: CPU the app's workers (and PostgreSQL's processes for this database) spent per request")
    print("quiz submission: each timed POST follows an untimed quiz page and attempt start by the same learner")
    print("practice answer: each timed POST answers one item; finding the next item is untimed")
    print("review and progress pages: read after the submissions above filled the learner's queue and history")
    if args.json:
        args.json.write_text(json.dumps({"database": database, "workers": args.workers, "results": results}, indent=2))


if __name__ == "__main__":
    main()
