"""`alliance worker`: one long-running process that drains every outbox, then waits and drains again.

An outbox holds what a request could not wait for: learning records (xAPI statements) for the
LRS, and whatever another part registers (LMS grades, mail). The worker runs a
pass over every *enabled* drainer each `--interval` seconds, logs one line per pass that did
anything, backs off (doubling, up to `--max-backoff`) a drainer whose pass failed or raised,
and stops gracefully on SIGTERM or SIGINT: the batch in flight is finished and marked first.

Outbox rows are claimed with leases (see app.services.records.claim), so any number of worker
processes, on any number of machines sharing one PostgreSQL database, never send a row twice.
Mail is queued too: a request tries it at once and the "mail" drainer (app.mail) retries what failed.

Registering a drainer takes one line, in a module imported when the app is built (a blueprint's
package, for example):

    worker.register("lti-grades", send_due_grades, enabled=lambda app: None)

`send_due_grades(should_stop)` runs inside an app context, sends what waits (committing as it
goes, never holding a lease past its batch) until nothing is due or `should_stop()` is true,
and returns a `Drained` with its counts. `enabled(app)` returns None when the drainer can run,
or the reason it cannot (a setting missing), which the worker prints once at start.
"""

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("alliance.worker")


@dataclass
class Drained:
    """What one pass of a drainer did: sent, refused for good, left to retry, and the last error."""

    sent: int = 0
    refused: int = 0
    failed: int = 0
    error: str | None = None

    @property
    def did_something(self) -> bool:
        """Whether the pass is worth a log line."""
        return bool(self.sent or self.refused or self.failed or self.error)


@dataclass(frozen=True)
class Drainer:
    """One outbox: its name, the function that drains it, and whether this site has it switched on."""

    name: str
    drain: Callable[[Callable[[], bool]], Drained]
    enabled: Callable[[Flask], str | None] = field(default=lambda app: None)


#: Every outbox the worker drains, by name, in the order registered.
DRAINERS: dict[str, Drainer] = {}


def register(
    name: str, drain: Callable[[Callable[[], bool]], Drained], enabled: Callable[[Flask], str | None] | None = None
) -> Drainer:
    """Add an outbox to the worker (registering a name again replaces it); returns the drainer."""
    drainer = Drainer(name, drain, enabled or (lambda app: None))
    DRAINERS[name] = drainer
    return drainer


# --- the built-in outbox: learning records for the LRS


def statements_enabled(app: Flask) -> str | None:
    """Why statements cannot be forwarded on this site, or None when they can."""
    if not app.config.get("LRS_ENDPOINT"):
        return "forwarding is off: set ALLIANCE_LRS_ENDPOINT (and ALLIANCE_LRS_KEY, ALLIANCE_LRS_SECRET)."
    if not app.config.get("SITE_URL_IS_SET"):
        # Every id sent derives from the site's address: ids under the placeholder would change later.
        return (
            "set ALLIANCE_SITE_URL to the site's public address before forwarding: every statement, person and "
            "activity id sent to the LRS is derived from it."
        )
    return None


def drain_statements(should_stop: Callable[[], bool]) -> Drained:
    """Send the statements waiting in the outbox to the LRS, in leased batches."""
    from flask import current_app

    from app.content import catalog
    from app.services import records

    sender = current_app.extensions.get("alliance.lrs_sender")
    if sender is None:  # built once per process: it keeps the HTTP connection to the LRS open
        sender = records.Sender.from_config(catalog(), current_app.config)
        current_app.extensions["alliance.lrs_sender"] = sender
    summary = sender.send_due(should_stop=should_stop)
    return Drained(summary.sent, summary.refused, summary.failed, summary.errors[-1] if summary.errors else None)


register("statements", drain_statements, statements_enabled)


# --- the loop


@dataclass
class _State:
    """A drainer's place in the loop: when it runs next, and how many passes in a row went wrong."""

    due: float = 0.0
    failures: int = 0


def backoff(interval: float, failures: int, cap: float) -> float:
    """The wait after `failures` failed passes in a row: the interval doubled per failure, at most `cap`."""
    return min(cap, interval * 2 ** min(failures, 30)) if failures else interval


def _line(name: str, result: Drained | None, error: str | None = None) -> str:
    """One log line for a pass: what it did, or (`result` None) why it could not run."""
    if result is None:
        return f"{name}: the pass could not run ({error})."
    text = f"{name}: sent {result.sent}, refused {result.refused}, {result.failed} to retry later."
    return text + (f" Last error: {result.error.rstrip('.')}." if result.error else "")


def run(
    app: Flask,
    drainers: list[Drainer],
    stop: threading.Event,
    *,
    interval: float = 10.0,
    max_backoff: float = 300.0,
    say: Callable[[str], None] = click.echo,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run every drainer each `interval` seconds until `stop` is set; a failing one waits longer each time."""
    from app.extensions import db

    states = {drainer.name: _State() for drainer in drainers}
    while not stop.is_set():
        for drainer in drainers:
            state = states[drainer.name]
            if stop.is_set() or clock() < state.due:
                continue
            try:
                with app.app_context():
                    try:
                        result = drainer.drain(stop.is_set)
                    finally:
                        db.session.remove()  # nothing held between passes: no lock, no connection checked out
                went_wrong, error = bool(result.failed), None
            except Exception as exc:  # the database down, a bug in one drainer: the others carry on
                if not isinstance(exc, SQLAlchemyError):  # a bug, not the database away: its traceback helps
                    log.exception("The %s drainer failed", drainer.name)
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                result, went_wrong = None, True
                error = f"{type(exc).__name__}: {reason[0] if reason else ''}".rstrip(": ")
            state.failures = state.failures + 1 if went_wrong else 0
            wait = backoff(interval, state.failures, max(interval, max_backoff))
            state.due = clock() + wait
            if result is None or result.did_something:
                said = _line(drainer.name, result, error)
                if state.failures:
                    said += f" Next try in {wait:g} s."
                say(said)
        if not stop.is_set():
            next_due = min(state.due for state in states.values())
            stop.wait(max(0.0, next_due - clock()))


def serve_until_stopped(app: Flask, drainers: list[Drainer], interval: float, max_backoff: float) -> None:
    """Run the loop with SIGTERM and SIGINT asking it to stop (the batch in flight is finished first)."""
    stop = threading.Event()

    def request_stop(_signum, _frame) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    run(app, drainers, stop, interval=interval, max_backoff=max_backoff)
    click.echo("Stopped.")


def enabled_drainers(app: Flask, names: tuple[str, ...] = ()) -> tuple[list[Drainer], list[str]]:
    """The drainers that can run on this site (of `names`, or all), and why each other one cannot."""
    unknown = [name for name in names if name not in DRAINERS]
    if unknown:
        raise click.BadParameter(
            f"no outbox is called {', '.join(map(repr, unknown))}; there are: {', '.join(DRAINERS)}.",
            param_hint="--only",
        )
    chosen = [DRAINERS[name] for name in names] if names else list(DRAINERS.values())
    ready, off = [], []
    for drainer in chosen:
        reason = drainer.enabled(app)
        if reason is None:
            ready.append(drainer)
        else:
            off.append(f"{drainer.name}: {reason}")
    return ready, off


INTERVAL = click.option(
    "--interval",
    type=click.FloatRange(min=0.1, max=86400),
    default=10.0,
    show_default=True,
    help="Seconds to wait between passes.",
)


@click.command("worker")
@INTERVAL
@click.option(
    "--max-backoff",
    type=click.FloatRange(min=1, max=86400),
    default=300.0,
    show_default=True,
    help="The longest wait, in seconds, after passes that failed (the wait doubles with each failure).",
)
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help="Drain only this outbox (may be given more than once); by default every one this site has switched on.",
)
@with_appcontext
def worker_command(interval: float, max_backoff: float, only: tuple[str, ...]) -> None:
    """Drain every outbox (learning records for the LRS, and any other registered) until SIGTERM or SIGINT.

    Run one, or several on several machines: outbox rows are leased, so none is sent twice.
    Exits 2 when no outbox is switched on.
    """
    from flask import current_app

    app = current_app._get_current_object()
    ready, off = enabled_drainers(app, only)
    for reason in off:
        click.echo(f"Not draining {reason}", err=True)
    if not ready:
        click.echo("Nothing to drain: no outbox is switched on.", err=True)
        sys.exit(2)
    click.echo(f"Draining {', '.join(d.name for d in ready)} every {interval:g} s; stop with SIGTERM or Ctrl-C.")
    serve_until_stopped(app, ready, interval, max_backoff)
