"""Ratings: one rater's marks for one student at one station, saved as they go and submitted once.

Marks arrive as form fields: `mark-<item id>` (a point of the item's scale), `comment-<item id>`,
`global` (0 clear fail .. 4 excellent; not asked of patients) and `comment`. Unreadable values are
reported, never stored. A learning event (xAPI "observed") is written for each submitted rating,
but only once the station is released, so a learner's own records never show a rating early.
"""

import re
from dataclasses import dataclass, field

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from app.content.observations import GLOBAL_RATINGS, ObservationForm, score
from app.extensions import db
from app.models import Observation, Station
from app.models.observation import STAFF_ROLES
from app.models.types import utcnow
from app.observe.services import stations
from app.services import events

COMMENT_LIMIT = 2000
#: A point of a scale as a form sends it: a few ASCII digits, perhaps negative.
_POINT = re.compile(r"-?[0-9]{1,3}")


class RatingError(ValueError):
    """A rating cannot be saved or submitted; the message says why."""


@dataclass
class Entered:
    """What a rater entered, read from a form, and what could not be read."""

    marks: dict[str, int] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    global_rating: int | None = None
    comment: str = ""
    problems: list[str] = field(default_factory=list)


def read(form: ObservationForm, role: str, data) -> Entered:
    """The marks, comments and global rating in submitted form data (a MultiDict or dict)."""
    entered = Entered()
    for item in form.items_for(role):
        raw = (data.get(f"mark-{item.id}") or "").strip()
        if raw:
            # ASCII digits only: str.isdigit() also accepts "¹" and "٣", which int() refuses or reads.
            value = int(raw) if _POINT.fullmatch(raw) else None
            if value is None or not item.scale.accepts(value):
                entered.problems.append(f"“{item.text}” was given a mark that is not on its scale; choose one again.")
            else:
                entered.marks[item.id] = value
        note = " ".join((data.get(f"comment-{item.id}") or "").split())
        if note:
            entered.comments[item.id] = note[:COMMENT_LIMIT]
    if role != "patient":
        raw = (data.get("global") or "").strip()
        if raw:
            if _POINT.fullmatch(raw) and 0 <= int(raw) < len(GLOBAL_RATINGS):
                entered.global_rating = int(raw)
            else:
                entered.problems.append("The global rating must be one of the five on the form.")
    entered.comment = (data.get("comment") or "").strip()[:COMMENT_LIMIT]
    return entered


def find(station_id: int, student_id: int, rater_id: int) -> Observation | None:
    """The rating this rater has given, or begun, for this student here."""
    return db.session.scalar(
        select(Observation).where(
            Observation.station_id == station_id,
            Observation.student_id == student_id,
            Observation.rater_id == rater_id,
        )
    )


def start(station: Station, form: ObservationForm, student_id: int, rater_id: int, role: str) -> Observation:
    """This rater's rating of the student here, begun now if it was not yet; flushes.

    Two tabs starting at once cannot make two: the unique constraint keeps one and the other reads it.
    """
    found = find(station.id, student_id, rater_id)
    if found is not None:
        return found
    observation = Observation(
        station_id=station.id,
        student_id=student_id,
        rater_id=rater_id,
        rater_role=role,
        form_version=form.version,
        marks={},
        comments={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(observation)
    except IntegrityError:
        found = find(station.id, student_id, rater_id)
        if found is None:
            raise
        return found
    return observation


def save(observation: Observation, entered: Entered) -> None:
    """Keep what was entered so far (a draft); a submitted rating cannot change; flushes."""
    if observation.submitted_at is not None:
        raise RatingError("This rating was submitted already and cannot be changed.")
    observation.marks = dict(entered.marks)
    observation.comments = dict(entered.comments)
    observation.global_rating = entered.global_rating
    observation.comment = entered.comment
    observation.updated_at = utcnow()
    db.session.flush()


def missing(form: ObservationForm, observation: Observation) -> list[str]:
    """What is still to rate before the rating can be submitted, in words."""
    items = form.items_for(observation.rater_role)
    gaps = [f"“{item.text}”" for item in items if observation.marks.get(item.id) is None]
    if observation.rater_role != "patient" and observation.global_rating is None:
        gaps.append("the global rating")
    return gaps


def submit(observation: Observation, station: Station, form: ObservationForm, pass_total: float) -> None:
    """Submit once: every item and the global rating given; the total and result fixed; flushes.

    A second submission (a double click) finds the rating claimed and changes nothing.
    """
    gaps = missing(form, observation)
    if gaps:
        raise RatingError("Rate every item before submitting. Still to rate: " + "; ".join(gaps) + ".")
    now = utcnow()
    result = score(form, observation.marks) if observation.rater_role != "patient" else None
    claimed = db.session.execute(
        update(Observation)
        .where(Observation.id == observation.id, Observation.submitted_at.is_(None))
        .values(
            submitted_at=now,
            updated_at=now,
            total=result.total if result else None,
            is_passed=result.passed(pass_total) if result else None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise RatingError("This rating was submitted already and cannot be changed.")
    db.session.refresh(observation)
    if station.released_at is not None:
        record_events([observation], form)
        if observation.rater_role in STAFF_ROLES:
            stations.announce(station, [observation.student_id])


def reopen(observation: Observation, station: Station) -> None:
    """Make a submitted rating a draft again, for its rater to change, while the station is unreleased; flushes.

    After release the students have seen it (and its learning event is recorded), so it stays as it is.
    The total and result are cleared and fixed again at the next submission.
    """
    if observation.rater_role == "patient":
        raise RatingError("A patient's answers cannot be reopened: their link works once.")
    if observation.submitted_at is None:
        raise RatingError("This rating is not submitted; it can be changed as it is.")
    released = exists().where(Station.id == observation.station_id, Station.released_at.is_not(None))
    reopened = db.session.execute(
        update(Observation)
        .where(Observation.id == observation.id, Observation.submitted_at.is_not(None), ~released)
        .values(submitted_at=None, total=None, is_passed=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(observation)
    if reopened != 1 and observation.submitted_at is not None:
        raise RatingError(
            "The ratings of this station have been released, so a submitted rating can no longer be changed."
        )


def record_events(observations: list[Observation], form: ObservationForm) -> None:
    """The learning events of submitted ratings: "observed", with the rater's role (xAPI context); flushes."""
    now = utcnow()
    rows = []
    for observation in observations:
        result: dict = {"rater_role": observation.rater_role, "station": observation.station_id}
        if observation.total is not None:
            result |= {"score": observation.total, "max": form.max_score, "success": bool(observation.is_passed)}
        if observation.global_rating is not None:
            result["global_rating"] = GLOBAL_RATINGS[observation.global_rating]
        rows.append(
            events.row(
                observation.student_id,
                "observed",
                f"observation/{form.id}",
                observation.form_version,
                at=now,
                result=result,
            )
        )
    events.record_many(rows)


def submitted_for_station(station_id: int) -> list[Observation]:
    """Every submitted rating at the station, oldest first."""
    return list(
        db.session.scalars(
            select(Observation)
            .where(Observation.station_id == station_id, Observation.submitted_at.is_not(None))
            .order_by(Observation.submitted_at, Observation.id)
        )
    )


def all_for_station(station_id: int) -> list[Observation]:
    """Every rating at the station, drafts included."""
    return list(db.session.scalars(select(Observation).where(Observation.station_id == station_id)))


def of_student(station_id: int, student_id: int, submitted_only: bool = True) -> list[Observation]:
    """The ratings of one student at a station, oldest first."""
    query = select(Observation).where(Observation.station_id == station_id, Observation.student_id == student_id)
    if submitted_only:
        query = query.where(Observation.submitted_at.is_not(None))
    return list(db.session.scalars(query.order_by(Observation.submitted_at, Observation.id)))
