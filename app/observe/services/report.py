"""The educator's station report: distribution, borderline-regression pass mark, agreement, gaps, CSV rows."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from app.content.observations import GLOBAL_RATINGS, ObservationForm, score
from app.models import Observation, Station, User
from app.models.observation import STAFF_ROLES
from app.observe.services import ratings, results, stations, stats


@dataclass(frozen=True)
class StudentRow:
    """One student's line of the report."""

    user: User
    outcome: results.Outcome
    staff_count: int
    self_total: int | None
    patient_count: int


@dataclass
class Report:
    """Everything the station report shows."""

    station: Station
    form: ObservationForm
    pass_total: float
    rows: list[StudentRow]
    totals: list[int]
    bars: list[stats.Bar]
    fit: stats.Fit | None
    global_agreement: stats.Agreement | None
    item_agreement: stats.Agreement | None
    competency_gaps: list[tuple[str, float, int]]
    points: list[tuple[int, int]]


def build(station: Station, form: ObservationForm, students: list[User]) -> Report:
    """The report over every submitted rating at the station (a few queries, whatever the cohort's size)."""
    submitted = ratings.submitted_for_station(station.id)
    by_student: dict[int, dict[str, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    for o in submitted:
        by_student[o.student_id][o.rater_role].append(o)
    pass_total = stations.pass_total(station, form)
    staff_all = [o for o in submitted if o.rater_role in STAFF_ROLES]
    totals = [score(form, o.marks).total for o in staff_all]
    points = [(o.global_rating, score(form, o.marks).total) for o in staff_all if o.global_rating is not None]
    staff_by_student = {
        sid: [o for role in STAFF_ROLES for o in roles.get(role, [])] for sid, roles in by_student.items()
    }
    for ratings_of in staff_by_student.values():
        ratings_of.sort(key=lambda o: (o.submitted_at, o.id))
    global_pairs, item_pairs = results.pairs_for_agreement(form, staff_by_student)
    gap_sums: dict[str, list[float]] = defaultdict(list)
    rows = []
    for user in students:
        roles = by_student.get(user.id, {})
        staff = staff_by_student.get(user.id, [])
        own = roles.get("self", [])
        if own and staff:
            _items, per_competency = results.gaps(form, own[0].marks, results.mean_marks(form, staff))
            for gap in per_competency:
                gap_sums[gap.key].append(gap.gap)
        rows.append(
            StudentRow(
                user=user,
                outcome=results.outcome(form, staff, pass_total),
                staff_count=len(staff),
                self_total=score(form, own[0].marks).total if own else None,
                patient_count=len(roles.get("patient", [])),
            )
        )
    competency_gaps = [
        (competency, sum(gap_sums[competency]) / len(gap_sums[competency]), len(gap_sums[competency]))
        for competency in form.competencies
        if gap_sums.get(competency)
    ]
    return Report(
        station=station,
        form=form,
        pass_total=pass_total,
        rows=rows,
        totals=totals,
        bars=stats.distribution(totals, form.max_score),
        fit=stats.borderline_regression(points),
        global_agreement=stats.weighted_kappa(global_pairs, stats.global_labels()),
        item_agreement=stats.weighted_kappa(item_pairs, results.item_labels(form)),
        competency_gaps=competency_gaps,
        points=points,
    )


def csv_rows(station: Station, form: ObservationForm) -> Iterator[list]:
    """One row per submitted rating: student, rater, each item's mark and comment, global rating, total."""
    submitted = ratings.submitted_for_station(station.id)
    names = results.names_of([o.student_id for o in submitted] + [o.rater_id for o in submitted])
    pass_total = stations.pass_total(station, form)
    header = ["student", "rater role", "rater", "submitted at"]
    for item in form.items:
        header += [f"{item.id} mark", f"{item.id} comment"]
    for item in form.patient_items:
        header += [f"patient: {item.id} mark"]
    yield header + ["global rating", "total", "maximum", "critical items not done", "passed", "comment"]
    for o in submitted:
        row = [
            names.get(o.student_id, ""),
            o.rater_role,
            names.get(o.rater_id, "") if o.rater_id else "",
            o.submitted_at.isoformat(timespec="seconds"),
        ]
        for item in form.items:
            row += [o.marks.get(item.id, "") if o.rater_role != "patient" else "", o.comments.get(item.id, "")]
        for item in form.patient_items:
            row.append(o.marks.get(item.id, "") if o.rater_role == "patient" else "")
        if o.rater_role == "patient":
            row += ["", "", "", "", "", o.comment]
        else:
            result = score(form, o.marks)
            row += [
                GLOBAL_RATINGS[o.global_rating] if o.global_rating is not None else "",
                result.total,
                result.maximum,
                " ".join(result.critical_failed),
                "yes" if result.passed(pass_total) else "no",
                o.comment,
            ]
        yield row
