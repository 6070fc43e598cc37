"""The Nu HTML Checker (the W3C's validator, npm package vnu-jar) as a local HTTP service for the
browser tests: started once per run on a loopback port, then each page state is posted to it.

One Java process serves every test process of a run (pytest-xdist's workers): it costs about 15 CPU-seconds
to start and warm up, and a second one would compete with the tests for the same two cores. The run's
first process to need it starts it and leaves its pid and port in the run's directory (tests/conftest.py
makes it, and ends the checker when the run ends); the others find it there.
"""

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

VNU = Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NuChecker:
    """A running Nu checker; `errors(html)` lists what it finds wrong with a document."""

    def __init__(self, port: int | None = None, pid: int | None = None) -> None:
        self.process = None
        self._ready = False
        if port is not None:  # one that another test process started
            self.port, self.pid = port, pid
            return
        java = shutil.which("java")
        if java is None or not VNU.is_file():
            raise RuntimeError(f"The HTML checks need Java (apt-get install default-jre-headless) and {VNU} (npm ci).")
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                java,
                "-Xss2m",
                "-Dnu.validator.servlet.bind-address=127.0.0.1",
                "-cp",
                str(VNU),
                "nu.validator.servlet.Main",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self.process.pid
        # It reads its schemas for about 20 s: the browser tests start meanwhile.

    def _wait(self) -> None:
        deadline = time.monotonic() + 120
        while not self._ready:
            try:
                self._post("<!doctype html><html lang=en><title>x</title>")
                self._ready = True
            except OSError:
                if not _alive(self.pid) or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("The Nu HTML checker did not start.") from None
                time.sleep(0.25)

    def errors(self, html: str) -> list[str]:
        """The checker's errors for one HTML document, as readable lines (warnings and info left out)."""
        self._wait()
        return self._post(html)

    def _post(self, html: str) -> list[str]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/?out=json",
            data=html.encode("utf-8"),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            messages = json.load(response)["messages"]
        return [
            f"line {m.get('lastLine', '?')}: {m.get('message')} [{(m.get('extract') or '').strip()[:120]}]"
            for m in messages
            if m.get("type") == "error" or m.get("subType") == "fatal"
        ]

    def stop(self) -> None:
        """End the checker's process, if this object started it."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


#: The checker this process started for the run, ended by `stop_shared` when the run ends in this process.
_STARTED: NuChecker | None = None


def shared(directory: Path) -> NuChecker:
    """The run's one checker: started by the first process that asks, found through `directory` by the rest."""
    global _STARTED
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two workers asking at once start one checker
        found = directory / "checker"
        if found.exists():
            pid, port = map(int, found.read_text().split())
            if _alive(pid):
                return NuChecker(port, pid)
        checker = NuChecker()
        found.write_text(f"{checker.pid} {checker.port}")
        _STARTED = checker
        return checker


def stop_shared(directory: Path) -> None:
    """End the run's checker, whichever process started it (called once, by the run's main process)."""
    if _STARTED is not None:
        _STARTED.stop()
        return
    found = directory / "checker"
    if not found.exists():
        return
    pid = int(found.read_text().split()[0])
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether the process still runs (a finished child not yet reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
