"""The patient's page: a short form in plain words, opened by a one-time link, without an account."""

from flask import render_template, request

from app.content import catalog
from app.extensions import db
from app.observe import patient
from app.observe.services import patients, ratings, versions


def _problem(message: str, status: int):
    return render_template("observe/patient_problem.html", message=message), status


@patient.route("/<token>", methods=["GET", "POST"])
def rate(token: str):
    """The patient's questions; answered once, then the link stops working."""
    try:
        found = patients.find(token)
    except patients.PatientLinkError as exc:
        return _problem(str(exc), 410 if exc.reason in ("used", "expired") else 404)
    form = versions.station_form(catalog(), found.station)
    if form is None or not form.patient_items:
        return _problem("This questionnaire is no longer available. Thank you for your help.", 404)
    problems: list[str] = []
    entered = None
    if request.method == "POST":
        entered = ratings.read(form, "patient", request.form)
        problems = list(entered.problems)
        if not problems:
            try:
                observation = patients.use(found, form, entered)
            except patients.PatientLinkError as exc:
                return _problem(str(exc), 410)
            except ValueError as exc:
                problems.append(str(exc))
            else:
                if found.station.released_at is not None:
                    ratings.record_events([observation], form)
                db.session.commit()
                return render_template("observe/patient_thanks.html")
    status = 422 if problems else 200
    return render_template(
        "observe/patient.html",
        form=form,
        student_name=found.student.display_name.split()[0] if found.student.display_name.split() else "",
        marks=entered.marks if entered else {},
        comment=entered.comment if entered else "",
        problems=problems,
    ), status
