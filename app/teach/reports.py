"""Report views: progress matrix, a learner's record and transcript, competency heatmap, item analysis and CSV exports.

Read-only and thin: each view checks the educator may see the cohort, asks app.services.reports
for the figures (a fixed number of queries however large the cohort) and renders them.
"""

from flask import Response, render_template, request, stream_with_context, url_for

from app.content import catalog
from app.converters import page_number
from app.errors import not_found
from app.models.types import utcnow
from app.services import reports
from app.teach import bp
from app.teach.cohorts import cohort_or_404
from app.transcripts import transcript_pdf


@bp.app_template_filter("report_number")
def report_number(value: float | None) -> str:
    """A score without needless decimals (2, 1.5, 0.6667)."""
    return reports.number(value)


@bp.app_template_filter("report_pass_mark")
def report_pass_mark(attempt) -> str:
    """An attempt's pass mark on the scale its score is shown on ("70%", or an average certainty-based mark)."""
    return reports.pass_text(attempt)


@bp.app_template_global("report_url")
def report_url(cohort, course) -> str:
    """The progress report of a course assigned to a cohort (for links from the cohort page)."""
    return url_for("teach.report_matrix", cohort_id=cohort.id, course_id=course.id)


def _assigned_or_404(cohort_id: int, course_id: int):
    cohort = cohort_or_404(cohort_id)
    found = reports.assigned_course(cohort.id, course_id)
    if found is None:
        not_found("That course is not assigned to this cohort, so there is no progress report for it.")
    course, assignment = found
    return cohort, course, assignment


def _csv(rows, name: str) -> Response:
    """A CSV download that spreadsheets open correctly, not kept in shared caches, streamed a few hundred rows at a
    time: memory stays flat however large the cohort."""
    # The request's context (and its database session, which reads the rows in batches) lasts until the last piece.
    response = Response(stream_with_context(reports.csv_chunks(rows)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _matrix_page(cohort_id: int, course_id: int):
    """The cohort, its assignment and the page of the matrix the query string asks for (`page`, `show`)."""
    cohort, course, assignment = _assigned_or_404(cohort_id, course_id)
    show = request.args.get("show", "")
    if show not in reports.SHOW_LABELS:
        show = ""  # an unknown choice lists every student
    page = request.args.get("page", 1, type=page_number)
    report = reports.matrix(catalog(), cohort.id, course, assignment.due_on, utcnow().date(), page=page, show=show)
    if report is None:
        not_found("This progress report has no such page of students; start again from its first page.")
    # Built once, not once per student row: the learner pages' address up to the student's id.
    learner_url = url_for("teach.report_learner", cohort_id=cohort.id, user_id=0).removesuffix("0")
    return {
        "cohort": cohort,
        "assignment": assignment,
        "report": report,
        "learner_url": learner_url,
        "show_labels": reports.SHOW_LABELS,
    }


@bp.get("/cohorts/<int:cohort_id>/courses/<int:course_id>/report")
def report_matrix(cohort_id: int, course_id: int):
    """A page of current students × every item of an assigned course (state and best score), with the whole
    cohort's totals."""
    return render_template("teach/report_matrix.html", **_matrix_page(cohort_id, course_id))


@bp.get("/cohorts/<int:cohort_id>/courses/<int:course_id>/report/print")
def report_matrix_print(cohort_id: int, course_id: int):
    """The same page of the matrix alone, made for printing: no navigation."""
    return render_template("teach/report_matrix_print.html", printed_at=utcnow(), **_matrix_page(cohort_id, course_id))


@bp.get("/cohorts/<int:cohort_id>/courses/<int:course_id>/report.csv")
def report_matrix_csv(cohort_id: int, course_id: int):
    """The whole matrix, every current student, as a CSV file."""
    cohort, course, assignment = _assigned_or_404(cohort_id, course_id)
    columns, rows = reports.every_row(catalog(), cohort.id, course, assignment.due_on, utcnow().date())
    return _csv(reports.matrix_csv_rows(columns, rows), reports.filename(cohort.name, course.title, "progress"))


@bp.get("/cohorts/<int:cohort_id>/learners/<int:user_id>")
def report_learner(cohort_id: int, user_id: int):
    """One current student's standing on each assigned item, their marked attempts (answers folded away) grouped by
    item and filtered by activity and result, and the lessons they opened, grouped by module."""
    cohort = cohort_or_404(cohort_id)
    chosen = request.args.get("activity") or None
    result = request.args.get("result", "")
    page = request.args.get("page", 1, type=page_number)
    record = reports.learner(
        catalog(), cohort.id, user_id, page=page, activity_ref=chosen, result=result, today=utcnow().date()
    )
    if record is None:
        not_found(
            "There is no current student of this cohort at this address, or no such page of their record. "
            "Start again from the cohort's progress report."
        )
    return render_template("teach/report_learner.html", cohort=cohort, record=record, results=reports.RESULTS)


def _transcript_or_404(cohort_id: int, user_id: int):
    cohort = cohort_or_404(cohort_id)
    found = reports.transcript.for_cohort(catalog(), cohort, user_id)
    if found is None:
        not_found(
            "There is no current student of this cohort at this address, so there is no transcript here. "
            "Start again from the cohort's progress report."
        )
    return cohort, found


@bp.get("/cohorts/<int:cohort_id>/learners/<int:user_id>/transcript")
def report_transcript(cohort_id: int, user_id: int):
    """A current student's transcript of the cohort's assigned, marked work, as a page made for printing."""
    cohort, transcript = _transcript_or_404(cohort_id, user_id)
    return render_template("transcript/page.html", cohort=cohort, transcript=transcript, user_id=user_id)


@bp.get("/cohorts/<int:cohort_id>/learners/<int:user_id>/transcript.pdf")
def report_transcript_pdf(cohort_id: int, user_id: int):
    """The same transcript as a PDF file."""
    _, transcript = _transcript_or_404(cohort_id, user_id)
    return transcript_pdf(transcript, url_for(".report_transcript", cohort_id=cohort_id, user_id=user_id))


@bp.get("/cohorts/<int:cohort_id>/competencies")
def report_competencies(cohort_id: int):
    """Heatmap of each student's share of best answers per competency (or group), with the table."""
    cohort = cohort_or_404(cohort_id)
    by_group = request.args.get("by") == "group"
    report = reports.heatmap(catalog(), cohort.id, by_group=by_group, page=request.args.get("page", 1, type=page_number))
    if report is None:
        not_found("This cohort has no such page of students; start again from the first page.")
    title = f"Share of best answers per {'competency group' if by_group else 'competency'}: {cohort.name}"
    if report.pages > 1:
        title += f", students {report.first} to {report.first + len(report.rows) - 1} of {report.students_total}"
    svg = reports.heatmap_svg(report, title) if report.rows else None
    return render_template(
        "teach/report_competencies.html", cohort=cohort, report=report, svg=svg, title=title, shade_bands=reports.SHADE_BANDS
    )


@bp.get("/cohorts/<int:cohort_id>/quizzes/<quiz_id>/analysis")
def report_item_analysis(cohort_id: int, quiz_id: str):
    """Facility, discrimination and the commonest wrong answer per item; students who may need help."""
    cohort = cohort_or_404(cohort_id)
    quiz = catalog().quiz(quiz_id)
    if quiz is None:
        not_found("There is no quiz at this address. It may have been renamed or removed.")
    if not reports.assigned_work(cohort.id).covers_activity(quiz.id):
        # Students' work on a quiz is shown only where the cohort was assigned it.
        not_found("This quiz is not part of a course assigned to this cohort, so there is no analysis of it here.")
    analysis = reports.item_analysis(catalog(), cohort.id, quiz)
    return render_template(
        "teach/report_analysis.html",
        cohort=cohort,
        analysis=analysis,
        group_share=round(100 * reports.GROUP_SHARE),
        minimum=reports.MIN_FOR_DISCRIMINATION,
        failed_flag=reports.FAILED_ATTEMPTS_FLAG,
        low_facility=reports.LOW_FACILITY,
        low_discrimination=reports.LOW_DISCRIMINATION,
    )


@bp.get("/cohorts/<int:cohort_id>/attempts.csv")
def report_attempts_csv(cohort_id: int):
    """Every response of every attempt by the cohort's current students, one row each."""
    cohort = cohort_or_404(cohort_id)
    return _csv(reports.attempt_csv_rows(catalog(), cohort.id), reports.filename(cohort.name, "attempts"))
