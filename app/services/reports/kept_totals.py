"""The progress report's whole-cohort totals and a page's cells, kept per process under the cohort's counter, and
after a change brought up to date from the students it was about rather than counted again.

Database triggers (migrations d16b0000e001 and e17b0000b001) add one to a cohort's counter (`report_generation`)
in the same transaction as any change the report counts, and note the student it was about with the counter
after it (`report_change`). A process keeps, per cohort and course plan, each current student's share of the
totals (a short tuple of 0s and 1s, see `share`) and their sum, under the counter it read before reading them.
A view whose counter reads the same uses them as they are (no statement); one whose counter has moved reads
the facts of the students noted since (one statement), replaces their shares and adjusts the sum, and updates
the kept page's cells from the same rows. Nothing here can go stale: every process follows the database's
counter, and re-reading a student whose change is already counted gives the same share again.
"""

import threading
from collections.abc import Callable, Iterable, Sequence

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.services.reports import matrix_queries as queries
from app.services.reports import share_queries
from app.services.reports.matrix_queries import Counted, Plan

#: The triggers migration d16b0000e001 makes (5 tables, insert/update/delete each, no insert on "user"), each
#: noting the student since e17b0000b001.
TRIGGERS = 14
#: What a process keeps before letting go of all of it: cohorts' totals (per cohort and course plan), their
#: students' shares (a dict entry each, about 100 bytes: 200,000 is about 20 MB), and pages' cells (about 190 kB
#: for 100 students of a 10-item course).
KEPT = {"totals": 128, "students": 200_000, "page": 16}
_KEPT = "alliance.report_totals"

_TRIGGERS_PRESENT = {
    "sqlite": text(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'report_generation_%' "
        "AND sql LIKE '%report_change%'"
    ),
    "postgresql": text(
        "SELECT count(*) FROM pg_trigger AS t JOIN pg_proc AS p ON p.oid = t.tgfoid "
        "WHERE NOT t.tgisinternal AND t.tgname LIKE 'report_generation_%' AND p.prosrc LIKE '%report_change%'"
    ),
}

#: A student's facts by item id, as matrix._facts_by_student makes them: ("l", lessons done) for a module opened,
#: ("q", passed, best, attempts) for a submitted activity, ("o",) for an open marked attempt only.
Facts = dict[str, tuple]
#: (1, never signed in, completed the course), then per module (completed, opened), then per activity (passed,
#: submitted, only an open marked attempt): a current student's part of the cohort's totals.
Share = tuple[int, ...]
#: Turns facts rows (tag, user_id, ref, a, b, c) into each student's Facts.
Shape = Callable[[Iterable], dict[int, Facts]]


def share(plan: Plan, never_signed_in: int, lessons_done: Sequence[int | None], states: Sequence[int]) -> Share:
    """One current student's part of the totals, by the per-cell rules, from their lessons completed per module (None:
    none opened) and their state per activity (3 passed, 2 submitted, 1 only an open marked attempt, 0 nothing):
    (1, never signed in, completed the course), then per module (completed, opened), then per activity (passed,
    submitted, only an open marked attempt)."""
    counted = [1, never_signed_in, 0]
    done_required = 0
    for (ref, lessons), done in zip(plan.lessons, lessons_done, strict=True):
        completed = done is not None and lessons > 0 and done >= lessons
        counted += (int(completed), int(done is not None))
        done_required += completed and ref in plan.required_modules
    for ref, state in zip(plan.activities, states, strict=True):
        counted += (int(state == 3), int(state >= 2), int(state == 1))
        done_required += state == 3 and ref in plan.required_activities
    counted[2] = int(bool(plan.required) and done_required == plan.required)
    return tuple(counted)


def share_of_facts(plan: Plan, never_signed_in: int, mine: Facts) -> Share:
    """A student's share from their facts by item id (see Facts)."""
    lessons = [mine[ref][1] if ref in mine else None for ref in plan.modules]
    return share(plan, never_signed_in, lessons, [_state(mine.get(ref)) for ref in plan.activities])


def _state(fact: tuple | None) -> int:
    if fact is None:
        return 0
    if fact[0] == "q":
        return 3 if fact[1] else 2
    return 1  # ("o",): an open marked attempt, nothing submitted


def share_of_row(plan: Plan, row) -> Share:
    """A student's share from their row of share_queries.cohort_shares."""
    at = 2 + len(plan.lessons)
    lessons = row[2:at]
    states = []
    for n in range(len(plan.activities)):
        summary, is_open = row[at + 2 * n], row[at + 2 * n + 1]
        states.append(summary + 1 if summary else (1 if is_open else 0))
    return share(plan, row[1], lessons, states)


class Tally:
    """A cohort's totals for a course plan: each current student's share and their sum, under a counter."""

    def __init__(self, plan: Plan, generation: int):
        self.plan = plan
        self.generation = generation
        self.shares: dict[int, tuple[int, ...]] = {}
        self.sums = [0] * (3 + 2 * len(plan.lessons) + 3 * len(plan.activities))
        self._same: dict[tuple[int, ...], tuple[int, ...]] = {}  # one tuple per distinct share
        self._counted: Counted | None = None

    def put(self, user_id: int, found: tuple[int, ...] | None) -> None:
        """Replace a student's share (None: no longer a current student)."""
        old = self.shares.pop(user_id, None)
        if old is not None:
            self.sums = [total - part for total, part in zip(self.sums, old, strict=True)]
        if found is not None:
            self.shares[user_id] = self._same.setdefault(found, found)
            self.sums = [total + part for total, part in zip(self.sums, found, strict=True)]
        self._counted = None

    def fill(self, rows: Iterable) -> None:
        """Every student's share from their rows of share_queries.cohort_shares (an empty tally)."""
        made: dict[tuple, Share] = {}  # students with the same row share one tuple, worked out once
        many: dict[Share, int] = {}
        for row in rows:
            key = tuple(row[1:])
            found = made.get(key)
            if found is None:
                counted = share_of_row(self.plan, row)
                found = made[key] = self._same.setdefault(counted, counted)
            self.shares[row[0]] = found
            many[found] = many.get(found, 0) + 1
        self.sums = [sum(part[i] * n for part, n in many.items()) for i in range(len(self.sums))]
        self._counted = None

    def counted(self) -> Counted:
        """The totals as the matrix reads them."""
        if self._counted is None:
            sums, plan = self.sums, self.plan
            modules = {ref: (sums[3 + 2 * n], sums[4 + 2 * n]) for n, (ref, _) in enumerate(plan.lessons)}
            at = 3 + 2 * len(plan.lessons)
            activities = {ref: (sums[at + 3 * n], sums[at + 3 * n + 1]) for n, ref in enumerate(plan.activities)}
            open_only = {ref: sums[at + 3 * n + 2] for n, ref in enumerate(plan.activities)}
            self._counted = Counted(sums[0], sums[1], sums[2], modules, activities, open_only)
        return self._counted


def _kept() -> dict | None:
    """This app's kept totals, or None when they cannot be trusted: the counter's triggers are not all there, or
    do not note students (checked once per process)."""
    store = current_app.extensions.get(_KEPT)
    if store is None:
        check = _TRIGGERS_PRESENT.get(db.engine.dialect.name)
        present = db.session.scalar(check) if check is not None else 0
        store = {"on": present == TRIGGERS, "kept": {"totals": {}, "page": {}}, "lock": threading.Lock()}
        if not store["on"]:
            current_app.logger.warning(
                "Progress reports count their totals on every view: %s of the %s triggers of migrations "
                "d16b0000e001 and e17b0000b001 are in the database (run `alliance db upgrade`).",
                present,
                TRIGGERS,
            )
        current_app.extensions[_KEPT] = store
    return store if store["on"] else None


def let_go_of_kept_totals() -> bool:
    """Forget every cohort's kept totals and pages in this process (the triggers' check stays done); whether
    totals are kept."""
    store = _kept()
    for found in (store or {}).get("kept", {}).values():
        found.clear()
    return store is not None


def _split(rows: Iterable, shape: Shape) -> tuple[dict[int, tuple[int, int]], dict[int, Facts]]:
    """Rows of share_queries.changed_facts as (user id -> (never signed in, is still a current member))
    and each student's facts."""
    people, found = {}, []
    for row in rows:
        if row[0] == "p":
            people[row[1]] = (row[3], row[5])
        else:
            found.append(row)
    return people, shape(found)


def _count_afresh(cohort_id: int, plan: Plan, generation: int) -> Tally:
    """Every current student's share, from one statement."""
    tally = Tally(plan, generation)
    tally.fill(share_queries.cohort_shares(cohort_id, plan))
    return tally


def _follow(tally: Tally, cohort_id: int, generation: int, shape: Shape) -> dict[int, Facts]:
    """Bring the tally up to `generation`: the shares of the students noted since its own counter read afresh;
    return their facts (a student with none: an empty dict)."""
    people, found = _split(share_queries.changed_facts(cohort_id, tally.plan, tally.generation), shape)
    for user_id, (never, is_member) in people.items():
        mine = found.setdefault(user_id, {})
        tally.put(user_id, share_of_facts(tally.plan, never, mine) if is_member else None)
    tally.generation = generation
    return found


def kept_view(
    cohort_id: int, user_ids: list[int], plan: Plan, generation: int | None, shape: Shape
) -> tuple[dict[int, Facts], Counted]:
    """A page of the cohort's students' facts (shaped) and the whole cohort's totals, under the cohort's counter
    `generation` read before this call (None: an empty page): none, one or (a page not kept) two statements while
    the triggers are there; else the page's facts and the totals counted afresh (two statements)."""
    store = _kept() if generation is not None else None
    if store is None:
        return shape(queries.page_facts(user_ids, plan)), queries.totals(cohort_id, plan)
    kept = store["kept"]
    page_key = (cohort_id, plan, tuple(user_ids))
    # One request at a time changes a process's tallies (threaded servers): a share is replaced whole.
    with store["lock"]:
        tally = kept["totals"].get((cohort_id, plan))
        page = kept["page"].get(page_key)
        if tally is None:
            tally = _count_afresh(cohort_id, plan, generation)
            _bound(kept, len(tally.shares))
            kept["totals"][(cohort_id, plan)] = tally
        elif tally.generation != generation:
            was = tally.generation
            found = _follow(tally, cohort_id, generation, shape)
            if page is not None and page[0] == was:
                mine = {**page[1], **{user_id: found[user_id] for user_id in user_ids if user_id in found}}
                page = (generation, {user_id: facts for user_id, facts in mine.items() if facts})
        if page is None or page[0] != generation:
            page = (generation, shape(queries.page_facts(user_ids, plan)))
        if page_key not in kept["page"] and len(kept["page"]) >= KEPT["page"]:
            kept["page"].clear()
        kept["page"][page_key] = page
        return page[1], tally.counted()


def _bound(kept: dict, more: int) -> None:
    """Let go of every tally before keeping `more` students' shares past KEPT (the reports in use are counted
    again once)."""
    tallies = kept["totals"]
    if len(tallies) >= KEPT["totals"] or sum(len(t.shares) for t in tallies.values()) + more > KEPT["students"]:
        tallies.clear()
