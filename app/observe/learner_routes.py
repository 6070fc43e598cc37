"""The learner's station pages: their stations, rating themselves and (where allowed) a peer, their results."""

from flask import render_template, url_for
from flask_login import current_user

from app.content import catalog
from app.errors import not_found
from app.extensions import db
from app.models import User
from app.models.types import MAX_ID
from app.observe import learner
from app.observe.rating_page import handle_rating
from app.observe.services import ratings, results, stations, versions


def _station_or_404(station_id: int):
    found = stations.for_learner(current_user.id, station_id)
    if found is None:
        not_found("There is no station of your cohorts at this address. Your stations are listed under “My stations”.")
    station, cohort = found
    form = versions.station_form(catalog(), station)
    if form is None:
        not_found("This station's observation form is no longer in the catalogue, so it cannot be shown.")
    return station, cohort, form


@learner.get("/")
def my_stations():
    """The stations of the learner's cohorts: rating themself, rating peers, and released results."""
    found = stations.learner_stations(current_user.id)
    mine = {o.station_id: o for o in _own_ratings([s.id for s, _c in found])}
    peers = {}
    for station, cohort in found:
        if station.is_peer_allowed and station.released_at is None:
            peers[station.id] = [u for u in stations.students(cohort) if u.id != current_user.id]
    return render_template(
        "observe/my_stations.html", found=found, mine=mine, peers=peers, forms={f.id: f for f in catalog().observations}
    )


def _own_ratings(station_ids: list[int]):
    return [o for sid in station_ids if (o := ratings.find(sid, current_user.id, current_user.id)) is not None]


@learner.route("/<int:station_id>/self", methods=["GET", "POST"])
def self_rating(station_id: int):
    """Rate one's own consultation on the station's form, before the ratings are released."""
    station, _cohort, form = _station_or_404(station_id)
    if station.released_at is not None:
        existing = ratings.find(station.id, current_user.id, current_user.id)
        if existing is None or existing.submitted_at is None:
            not_found("The ratings of this station are released, so rating yourself here has closed.")
    return handle_rating(
        station,
        form,
        current_user,
        "self",
        back=url_for(".my_stations"),
        heading=f"Rate yourself: {station.title}",
    )


@learner.route("/<int:station_id>/peers/<int:user_id>", methods=["GET", "POST"])
def peer_rating(station_id: int, user_id: int):
    """Rate another student of the cohort, where the educator allows it and until ratings are released."""
    station, cohort, form = _station_or_404(station_id)
    if not station.is_peer_allowed:
        not_found("Peer rating is not open at this station. Your educator decides when it is.")
    if user_id == current_user.id or not 0 < user_id <= MAX_ID or not stations.is_member(cohort.id, user_id):
        not_found("There is no other student of this cohort at this address.")
    if station.released_at is not None:
        not_found("The ratings of this station are released, so peer rating here has closed.")
    peer = db.session.get(User, user_id)
    return handle_rating(station, form, peer, "peer", back=url_for(".my_stations"), heading=f"Rate {peer.display_name}")


@learner.get("/<int:station_id>")
def my_ratings(station_id: int):
    """Every released rating of the learner here, side by side, with the gap between self and educator."""
    station, cohort, form = _station_or_404(station_id)
    if station.released_at is None:
        return render_template("observe/not_released.html", station=station, cohort=cohort)
    view = results.student_view(
        station,
        form,
        current_user.id,
        results.names_of(o.rater_id for o in ratings.of_student(station.id, current_user.id)),
        for_student=True,
    )
    return render_template(
        "observe/ratings.html", station=station, cohort=cohort, form=form, student=current_user, view=view, staff=False
    )
