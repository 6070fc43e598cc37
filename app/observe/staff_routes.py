"""The rating staff's pages: a cohort's stations and examiners, rating a student, patients' links, the report."""

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from app.content import catalog
from app.errors import not_found, refuse
from app.extensions import db
from app.models import Cohort, User
from app.models.types import MAX_ID
from app.observe import bp, charts, qr
from app.observe.forms import ExaminerForm, StationForm
from app.observe.rating_page import handle_rating
from app.observe.services import access, patients, ratings, report, results, stations, stats, versions
from app.services import cohorts
from app.services.authored_observations import offered_forms
from app.services.reports.csvsafe import csv_chunks, filename


def _cohort_or_404(cohort_id: int) -> tuple[Cohort, str]:
    role = access.staff_role(current_user, cohort_id)
    if role is None:
        not_found("There is no cohort of yours at this address. Your cohorts are listed under Teaching.")
    return db.session.get(Cohort, cohort_id), role


def _educator_only(role: str) -> None:
    if role != "educator":
        refuse(Forbidden, "Only the cohort's educators can change its stations. Examiners rate at them.")


def _station_or_404(station_id: int):
    found = stations.for_staff(current_user, station_id)
    if found is None:
        not_found("There is no station of yours at this address. Your cohorts' stations are listed on their pages.")
    station, cohort, role = found
    form = versions.station_form(catalog(), station)
    if form is None:
        not_found("This station's observation form is no longer in the catalogue, so it cannot be shown.")
    return station, cohort, role, form


def _student_or_404(cohort: Cohort, user_id: int):
    if not 0 < user_id <= MAX_ID or not stations.is_member(cohort.id, user_id):
        not_found("There is no current student of this cohort at this address.")
    return db.session.get(User, user_id)


def _stations_page(cohort, role, station_form=None, examiner_form=None, status=200):
    station_form = station_form or StationForm()
    offered = [(f.id, f.title) for f in offered_forms(current_user, catalog())]  # never another's private form
    station_form.form_ref.choices = [("", "Choose a form…")] + offered
    return render_template(
        "observe/stations.html",
        cohort=cohort,
        role=role,
        stations=stations.for_cohort(cohort.id),
        forms={f.id: f for f in catalog().observations},
        station_form=station_form,
        examiner_form=examiner_form or ExaminerForm(),
        examiners=access.examiners(cohort) if role == "educator" else [],
    ), status


@bp.get("/")
def index():
    """Every cohort whose stations the person rates at: those they teach and those they examine."""
    return render_template(
        "observe/index.html",
        teaching=cohorts.cohorts_for(current_user),
        examining=access.examined_cohorts(current_user),
    )


@bp.route("/cohorts/<int:cohort_id>/stations", methods=["GET", "POST"])
def cohort_stations(cohort_id: int):
    """A cohort's stations; its educators also set new stations (POST) and add examiners here."""
    cohort, role = _cohort_or_404(cohort_id)
    if request.method == "GET":
        return _stations_page(cohort, role)
    _educator_only(role)
    form = StationForm()
    form.form_ref.choices = [(f.id, f.title) for f in offered_forms(current_user, catalog())]
    valid = form.validate_on_submit()
    if valid and form.form_ref.data not in dict(form.form_ref.choices):  # unknown, private to another, or withdrawn
        form.form_ref.errors.append("There is no such observation form; choose one of those listed.")
        valid = False
    if not valid:
        return _stations_page(cohort, role, station_form=form, status=422)
    station = stations.create(cohort, catalog().observation(form.form_ref.data), form.title.data or "", current_user)
    db.session.commit()
    flash(f"Station “{station.title}” set. Examiners and you can rate students at it now.", "success")
    return redirect(url_for(".station", station_id=station.id))


@bp.post("/cohorts/<int:cohort_id>/examiners")
def add_examiner(cohort_id: int):
    """Add an examiner to the cohort."""
    cohort, role = _cohort_or_404(cohort_id)
    _educator_only(role)
    form = ExaminerForm()
    if form.validate_on_submit():
        try:
            examiner = access.add_examiner(cohort, form.email.data, current_user)
        except access.ExaminerError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{examiner.display_name} can now rate at this cohort's stations.", "success")
            return redirect(url_for(".cohort_stations", cohort_id=cohort.id, _anchor="examiners"))
    return _stations_page(cohort, role, examiner_form=form, status=422)


@bp.post("/cohorts/<int:cohort_id>/examiners/<int:user_id>/remove")
def remove_examiner(cohort_id: int, user_id: int):
    """Remove an examiner (their ratings stay)."""
    cohort, role = _cohort_or_404(cohort_id)
    _educator_only(role)
    if not access.remove_examiner(cohort, user_id):
        not_found("That person is not an examiner of this cohort.")
    db.session.commit()
    flash("The examiner was removed. The ratings they gave stay.", "success")
    return redirect(url_for(".cohort_stations", cohort_id=cohort.id, _anchor="examiners"))


@bp.get("/stations/<int:station_id>")
def station(station_id: int):
    """A station: each student, who has rated them, and the station's settings."""
    station, cohort, role, form = _station_or_404(station_id)
    students = stations.students(cohort)
    everything = ratings.all_for_station(station.id)
    return render_template(
        "observe/station.html",
        station=station,
        cohort=cohort,
        role=role,
        form=form,
        students=students,
        ratings=everything,
        pass_total=stations.pass_total(station, form),
    )


@bp.post("/stations/<int:station_id>/settings")
def station_settings(station_id: int):
    """Let students rate one another here, or stop them."""
    station, _cohort, role, _form = _station_or_404(station_id)
    _educator_only(role)
    allowed = request.form.get("peer") == "on"
    stations.set_peer(station, allowed)
    db.session.commit()
    flash("Students may now rate one another here." if allowed else "Peer rating is off for this station.", "success")
    return redirect(url_for(".station", station_id=station.id))


@bp.post("/stations/<int:station_id>/release")
def release(station_id: int):
    """Show the students their ratings at this station."""
    station, _cohort, role, form = _station_or_404(station_id)
    _educator_only(role)
    if stations.release(station):
        ratings.record_events(ratings.submitted_for_station(station.id), form)
        db.session.commit()
        flash("Ratings released: each student now sees every submitted rating of them here.", "success")
    return redirect(url_for(".station", station_id=station.id))


@bp.route("/stations/<int:station_id>/delete", methods=["GET", "POST"])
def delete_station(station_id: int):
    """GET: what deleting the station would delete, and a button to confirm; POST: delete it."""
    station, cohort, role, _form = _station_or_404(station_id)
    _educator_only(role)
    if request.method == "GET":
        return render_template(
            "observe/delete_station.html", station=station, cohort=cohort, holdings=stations.holdings(station)
        )
    title = station.title
    stations.delete(station)
    db.session.commit()
    flash(f"Station “{title}” was deleted with every rating given at it.", "success")
    return redirect(url_for(".cohort_stations", cohort_id=cohort.id))


@bp.route("/stations/<int:station_id>/students/<int:user_id>/rate", methods=["GET", "POST"])
def rate(station_id: int, user_id: int):
    """Rate a student on the station's form: one screen, save as you go, submit once."""
    station, cohort, role, form = _station_or_404(station_id)
    student = _student_or_404(cohort, user_id)
    return handle_rating(
        station,
        form,
        student,
        role,
        back=url_for(".station", station_id=station.id),
        heading=f"Rate {student.display_name}",
    )


@bp.get("/stations/<int:station_id>/students/<int:user_id>")
def student_ratings(station_id: int, user_id: int):
    """Every submitted rating of one student here, side by side, with the self-vs-educator gap."""
    station, cohort, _role, form = _station_or_404(station_id)
    student = _student_or_404(cohort, user_id)
    view = _view(station, form, student.id, for_student=False)
    return render_template(
        "observe/ratings.html", station=station, cohort=cohort, form=form, student=student, view=view, staff=True
    )


def _view(station, form, student_id: int, for_student: bool):
    raters = [o.rater_id for o in ratings.of_student(station.id, student_id)]
    return results.student_view(station, form, student_id, results.names_of(raters), for_student)


@bp.post("/stations/<int:station_id>/students/<int:user_id>/patient-link")
def patient_link(station_id: int, user_id: int):
    """A one-time link and QR code for a patient to rate this student."""
    station, cohort, _role, form = _station_or_404(station_id)
    student = _student_or_404(cohort, user_id)
    if not form.patient_items:
        not_found("This station's form has no patient's questions, so there is no patient link to make.")
    token = patients.make(station, student.id, current_user)
    db.session.commit()
    link = url_for("observe_patient.rate", token=token, _external=True)
    return render_template(
        "observe/patient_link.html",
        station=station,
        cohort=cohort,
        student=student,
        link=link,
        qr_svg=qr.svg(link),
        hours=int(patients.LIFETIME.total_seconds() // 3600),
    )


@bp.get("/stations/<int:station_id>/report")
def station_report(station_id: int):
    """Score distribution, the borderline-regression pass mark, agreement between raters, self-vs-educator gaps."""
    station, cohort, role, form = _station_or_404(station_id)
    built = report.build(station, form, stations.students(cohort))
    return render_template(
        "observe/report.html",
        station=station,
        cohort=cohort,
        role=role,
        report=built,
        distribution_chart=charts.distribution(built.bars, form.max_score, f"Staff ratings by total: {station.title}"),
        min_regression=stats.MIN_FOR_REGRESSION,
        min_agreement=stats.MIN_FOR_AGREEMENT,
    )


@bp.post("/stations/<int:station_id>/pass-mark")
def adopt_pass_mark(station_id: int):
    """Set the station's pass mark to the one borderline regression gives now."""
    station, cohort, role, form = _station_or_404(station_id)
    _educator_only(role)
    fit = report.build(station, form, stations.students(cohort)).fit
    if fit is None:
        flash("There are not enough ratings yet to set a pass mark by borderline regression.", "warning")
    else:
        try:
            stations.set_pass_total(station, fit.pass_mark, form)
        except stations.StationError as exc:
            flash(str(exc), "warning")
        else:
            db.session.commit()
            flash(f"The pass mark is now {station.pass_total:g} of {form.max_score}.", "success")
    return redirect(url_for(".station_report", station_id=station.id))


@bp.get("/stations/<int:station_id>/report.csv")
def station_csv(station_id: int):
    """Every submitted rating at the station as a CSV file (streamed)."""
    station, cohort, _role, form = _station_or_404(station_id)
    response = Response(stream_with_context(csv_chunks(report.csv_rows(station, form))), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(cohort.name, station.title)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
