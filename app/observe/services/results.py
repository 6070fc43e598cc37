"""What ratings give: a student's side-by-side view and gaps, the station report, "seen to do", passes.

A student's result at a station comes from the staff ratings (educator and examiners): the mean
of their checklist totals against the station's pass mark, failed whatever the total when any
staff rater marked a critical item "not done". Self, peer and patient ratings are shown beside
them and never change the result. The self-vs-educator gap compares the student's own marks with
the mean staff mark, item by item; per competency it is the mean gap as a share of each item's
range (percentage points), so items on different scales can be put together.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.content import Catalog
from app.content.observations import GLOBAL_RATINGS, ObservationForm, score
from app.extensions import db
from app.models import Observation, Station, User
from app.models.observation import STAFF_ROLES
from app.observe.services import stations, versions

ROLE_NAMES = {"educator": "Educator", "examiner": "Examiner", "self": "Self", "peer": "Peer", "patient": "Patient"}


@dataclass(frozen=True)
class Column:
    """One rater's rating as a column of the side-by-side view."""

    heading: str
    role: str
    observation: Observation

    @property
    def global_label(self) -> str:
        """The global rating in words, or a dash for raters who give none."""
        g = self.observation.global_rating
        return GLOBAL_RATINGS[g] if g is not None else "—"


@dataclass(frozen=True)
class Gap:
    """Self minus staff on one item (in points) or one competency (in percentage points of the items' range)."""

    key: str
    self_value: float
    staff_value: float
    gap: float


@dataclass
class Outcome:
    """A student's result at a station from the staff ratings."""

    rated: bool
    mean_total: float | None = None
    critical_failed: tuple[str, ...] = ()
    passed: bool = False


def outcome(form: ObservationForm, staff: Sequence[Observation], pass_total: float) -> Outcome:
    """Passed: rated by staff, their mean total at the pass mark or above, no critical item "not done" by any."""
    scores = [score(form, o.marks) for o in staff]
    if not scores:
        return Outcome(False)
    mean = sum(s.total for s in scores) / len(scores)
    failed = tuple(dict.fromkeys(item for s in scores for item in s.critical_failed))
    complete = all(not s.unrated for s in scores)
    return Outcome(True, mean, failed, complete and not failed and mean >= pass_total)


def mean_marks(form: ObservationForm, observations: Sequence[Observation]) -> dict[str, float]:
    """Each item's mean point over these ratings (items nobody rated left out)."""
    found: dict[str, float] = {}
    for item in form.items:
        values = [o.marks[item.id] for o in observations if o.marks.get(item.id) is not None]
        if values:
            found[item.id] = sum(values) / len(values)
    return found


def gaps(form: ObservationForm, own: dict, staff: dict[str, float]) -> tuple[list[Gap], list[Gap]]:
    """Self minus staff per item (points) and per competency (percentage points of the items' range)."""
    per_item, by_competency = [], defaultdict(list)
    for item in form.items:
        if own.get(item.id) is None or item.id not in staff:
            continue
        gap = own[item.id] - staff[item.id]
        per_item.append(Gap(item.id, own[item.id], staff[item.id], gap))
        for competency in item.competencies:
            by_competency[competency].append(
                ((own[item.id] - item.scale.low) / item.scale.span, (staff[item.id] - item.scale.low) / item.scale.span)
            )
    per_competency = []
    for competency in form.competencies:
        pairs = by_competency.get(competency)
        if pairs:
            mine = 100 * sum(a for a, _ in pairs) / len(pairs)
            theirs = 100 * sum(b for _, b in pairs) / len(pairs)
            per_competency.append(Gap(competency, mine, theirs, mine - theirs))
    return per_item, per_competency


@dataclass
class StudentView:
    """Everything a student (or their educator) sees of one student's ratings at a station."""

    columns: list[Column]
    outcome: Outcome
    item_gaps: list[Gap] = field(default_factory=list)
    competency_gaps: list[Gap] = field(default_factory=list)
    patient_columns: list[Column] = field(default_factory=list)


def student_view(
    station: Station, form: ObservationForm, student_id: int, names: dict[int, str], for_student: bool
) -> StudentView:
    """The student's submitted ratings side by side; peers stay anonymous to the student they rated."""
    found = db.session.scalars(
        select(Observation)
        .where(
            Observation.station_id == station.id,
            Observation.student_id == student_id,
            Observation.submitted_at.is_not(None),
        )
        .order_by(Observation.submitted_at, Observation.id)
    ).all()
    columns, patients, peers = [], [], 0
    for o in found:
        if o.rater_role == "peer":
            peers += 1
            heading = f"Peer {peers}" if for_student else f"Peer: {names.get(o.rater_id, 'a student')}"
        elif o.rater_role == "patient":
            heading = f"Patient {len(patients) + 1}"
        elif o.rater_role == "self":
            heading = "Self"
        else:
            heading = f"{ROLE_NAMES[o.rater_role]}: {names.get(o.rater_id, 'former staff')}"
        column = Column(heading, o.rater_role, o)
        (patients if o.rater_role == "patient" else columns).append(column)
    staff = [c.observation for c in columns if c.role in STAFF_ROLES]
    own = next((c.observation for c in columns if c.role == "self"), None)
    view = StudentView(columns, outcome(form, staff, stations.pass_total(station, form)), patient_columns=patients)
    if own is not None and staff:
        view.item_gaps, view.competency_gaps = gaps(form, own.marks, mean_marks(form, staff))
    return view


def names_of(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names by id (one query)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def passed_stations(user_id: int, cohort_id: int, catalog: Catalog | None = None) -> list[Station]:
    """The released stations of the cohort the learner passed (staff ratings only), oldest first.

    For credentials: "did this learner pass their observed stations?". An unreleased station never counts.
    `catalog`: the running app's when not given.
    """
    if catalog is None:
        from app.content import catalog as running

        catalog = running()
    rows = db.session.execute(
        select(Station, Observation)
        .join(Observation, Observation.station_id == Station.id)
        .where(
            Station.cohort_id == cohort_id,
            Station.released_at.is_not(None),
            Observation.student_id == user_id,
            Observation.rater_role.in_(STAFF_ROLES),
            Observation.submitted_at.is_not(None),
        )
        .order_by(Station.id, Observation.id)
    ).all()
    by_station: dict[int, tuple[Station, list[Observation]]] = {}
    for station, observation in rows:
        by_station.setdefault(station.id, (station, []))[1].append(observation)
    passed = []
    for station, observations in by_station.values():
        form = versions.form_at(catalog, station.form_ref, observations[0].form_version)  # the rated version
        if form is not None and outcome(form, observations, stations.pass_total(station, form)).passed:
            passed.append(station)
    return passed


@dataclass(frozen=True)
class Seen:
    """What staff saw a learner do for one competency: marks given of marks possible, over how many stations."""

    got: float
    possible: float
    stations: int

    @property
    def percent(self) -> float:
        """The share of the possible marks given, 0-100."""
        return 100 * self.got / self.possible if self.possible else 0.0


def seen_to_do(catalog: Catalog, user_ids: Sequence[int] | Any, released_only: bool) -> dict[int, dict[str, Seen]]:
    """Per learner and competency, the marks staff gave on items observing it, of those possible (one query).

    `user_ids`: ids, or a SELECT of them. `released_only`: what the learner themself may see.
    """
    query = (
        select(Observation.student_id, Observation.marks, Station.id, Station.form_ref, Observation.form_version)
        .join(Station, Station.id == Observation.station_id)
        .where(
            Observation.student_id.in_(user_ids if not isinstance(user_ids, Sequence) else list(user_ids)),
            Observation.rater_role.in_(STAFF_ROLES),
            Observation.submitted_at.is_not(None),
        )
    )
    if released_only:
        query = query.where(Station.released_at.is_not(None))
    earned: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    where: dict[tuple[int, str], set[int]] = defaultdict(set)
    for student_id, marks, station_id, form_ref, form_version in db.session.execute(query):
        form = versions.form_at(catalog, form_ref, form_version)  # each rating read on the version it was made on
        if form is None:
            continue
        for item in form.items:
            value = (marks or {}).get(item.id)
            if value is None or not item.scale.accepts(value):
                continue
            for competency in item.competencies:
                tally = earned[(student_id, competency)]
                tally[0] += value - item.scale.low
                tally[1] += item.scale.span
                where[(student_id, competency)].add(station_id)
    result: dict[int, dict[str, Seen]] = defaultdict(dict)
    for (student_id, competency), (got, possible) in earned.items():
        if possible:
            result[student_id][competency] = Seen(got, possible, len(where[(student_id, competency)]))
    return dict(result)


def cohort_seen(catalog: Catalog, cohort_id: int, columns: Sequence[Any]) -> list[tuple[float | None, int]]:
    """Per heatmap column (its competency refs): the cohort's mean "seen to do" and how many students were seen."""
    from app.services.cohorts import member_ids

    by_student = seen_to_do(catalog, member_ids(cohort_id), released_only=False)
    found = []
    for column in columns:
        shares = []
        for seen in by_student.values():
            parts = [seen[ref] for ref in column.refs if ref in seen]
            possible = sum(p.possible for p in parts)
            if possible:
                shares.append(100 * sum(p.got for p in parts) / possible)
        found.append((sum(shares) / len(shares) if shares else None, len(shares)))
    return found


def pairs_for_agreement(form: ObservationForm, staff_by_student: dict[int, list[Observation]]):
    """(global pairs, item pairs) from the first two staff ratings of each student rated twice."""
    global_pairs, item_pairs = [], []
    for ratings in staff_by_student.values():
        if len(ratings) < 2:
            continue
        first, second = ratings[0], ratings[1]
        if first.global_rating is not None and second.global_rating is not None:
            global_pairs.append((first.global_rating, second.global_rating))
        for item in form.items:
            a, b = first.marks.get(item.id), second.marks.get(item.id)
            if a is not None and b is not None:
                item_pairs.append((a - item.scale.low, b - item.scale.low))
    return global_pairs, item_pairs


def item_labels(form: ObservationForm) -> list[int]:
    """The item scores any item of the form can take (0 to the widest span)."""
    return list(range(max((item.scale.span for item in form.items), default=0) + 1))
