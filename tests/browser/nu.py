"""The Nu HTML Checker (the W3C's validator, npm package vnu-jar) as a local HTTP service for the
browser tests: started once per session on a loopback port, then each page state is posted to it."""

import json
import shutil
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

    def __init__(self) -> None:
        java = shutil.which("java")
        if java is None or not VNU.is_file():
            raise RuntimeError(
                f"The HTML checks need Java (apt-get install default-jre-headless) and {VNU} (npm ci)."
            )
        self.port = _free_port()
        self.process = subprocess.Popen(
            [java, "-Xss2m", "-Dnu.validator.servlet.bind-address=127.0.0.1", "-cp", str(VNU),
             "nu.validator.servlet.Main", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ready = False  # it reads its schemas for about 20 s: the browser tests start meanwhile

    def _wait(self) -> None:
        deadline = time.monotonic() + 120
        while not self._ready:
            try:
                self._post("<!doctype html><html lang=en><title>x</title>")
                self._ready = True
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
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
        """End the checker's process."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
