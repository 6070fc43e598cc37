"""The rating page every rater but the patient uses: staff, a student rating themself, a peer.

One screen; without JavaScript "Save" keeps a draft and "Submit" sends it once ("Reopen" makes a
submitted rating a draft again for its rater, until the station is released); with it
(static/js/station.js) the form is saved shortly after every change (`action=autosave`, answered
with JSON) and a timer counts the station's minutes down.
"""

from flask import flash, jsonify, redirect, render_template, request
from flask_login import current_user

from app.content.observations import GLOBAL_RATINGS, ObservationForm
from app.extensions import db
from app.models import Station, User
from app.observe.services import ratings, stations


def handle_rating(station: Station, form: ObservationForm, student: User, role: str, *, back: str, heading: str):
    """GET: the form with what was saved; POST: autosave, save or submit it."""
    observation = ratings.find(station.id, student.id, current_user.id)
    problems: list[str] = []
    status = 200
    entered = None
    if request.method == "POST":
        action = request.form.get("action", "save")
        if action == "reopen":
            return _reopen(observation, station, student)
        entered = ratings.read(form, role, request.form)
        if observation is not None and observation.submitted_at is not None:
            if action == "autosave":
                return jsonify(error="This rating was submitted already and cannot be changed."), 409
            flash("This rating was submitted already; it is shown below.", "warning")
            return redirect(request.path)
        observation = ratings.start(station, form, student.id, current_user.id, role)
        ratings.save(observation, entered)
        if action == "autosave":
            db.session.commit()
            return jsonify(saved_at=observation.updated_at.strftime("%H:%M:%S"), problems=entered.problems)
        if action == "submit" and not entered.problems:
            try:
                ratings.submit(observation, station, form, stations.pass_total(station, form))
            except ratings.RatingError as exc:
                problems.append(str(exc))
            else:
                db.session.commit()
                flash(f"Rating of {student.display_name} submitted.", "success")
                return redirect(back)
        db.session.commit()
        problems = entered.problems + problems
        if not problems:
            flash("Saved. You can come back to this rating and finish it later.", "success")
            return redirect(request.path)
        status = 422
    return render_template(
        "observe/rate.html",
        station=station,
        form=form,
        student=student,
        role=role,
        heading=heading,
        observation=observation,
        marks=(entered.marks if entered else (observation.marks if observation else {})),
        comments=(entered.comments if entered else (observation.comments if observation else {})),
        global_rating=(entered.global_rating if entered else (observation.global_rating if observation else None)),
        comment=(entered.comment if entered else (observation.comment if observation else "")),
        global_ratings=GLOBAL_RATINGS,
        problems=problems,
        back=back,
    ), status


def _reopen(observation, station: Station, student: User):
    """Make the rater's submitted rating a draft again (until release) and show it for changing."""
    if observation is None:
        flash("There is no rating of yours here to reopen yet.", "warning")
        return redirect(request.path)
    try:
        ratings.reopen(observation, station)
    except ratings.RatingError as exc:
        flash(str(exc), "warning")
    else:
        db.session.commit()
        whom = "yourself" if student.id == current_user.id else student.display_name
        flash(f"Your rating of {whom} is a draft again: change it, then submit it.", "success")
    return redirect(request.path)
