"""Cohort views: members, joining, sharing and assignments. Thin: the cohort service does the work."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from app.converters import whole_number
from app.credentials import requirements
from app.errors import not_found, refuse
from app.extensions import db
from app.learn.courses import today
from app.models import User
from app.models.types import MAX_ID
from app.services import cohorts, courses, invitations
from app.teach import bp
from app.teach.forms import AssignForm, CohortForm, ShareForm


def cohort_or_404(cohort_id: int):
    """A cohort the educator teaches; any other answers like a missing one."""
    cohort = cohorts.get_for(current_user, cohort_id)
    if cohort is None:
        not_found("There is no cohort of yours at this address. Your cohorts are listed under Teaching.")
    return cohort


@bp.route("/cohorts/new", methods=["GET", "POST"])
def new_cohort():
    """Create a cohort with its own join code."""
    form = CohortForm()
    if form.validate_on_submit():
        cohort = cohorts.create(current_user, form.name.data)
        db.session.commit()
        flash(f"Cohort created. Students join with the code {cohort.join_code}.", "success")
        return redirect(url_for(".cohort", cohort_id=cohort.id))
    return render_template("teach/cohort_form.html", form=form), 422 if form.errors else 200


def _assign_form(form: AssignForm | None = None) -> tuple[AssignForm, list]:
    """The assign form offering every published course, and the educator's own drafts (which cannot be assigned)."""
    form = form or AssignForm()
    if not form.is_submitted():
        form.observed_stations.data = requirements.form_default()  # the site's default, to change per assignment
    found = courses.visible_courses(current_user)
    form.course.choices = [("", "Choose a published course…")] + [(str(c.id), c.title) for c in found if c.is_published]
    return form, [c for c in found if not c.is_published and c.owner_id == current_user.id]


def _page(cohort, share_form=None, assign_form=None, status=200, page=1):
    found = cohorts.members_page(cohort, page)
    if found is None:
        not_found("This cohort has no such page of students; start again from the first page.")
    members, total = found
    assign_form, drafts = _assign_form(assign_form)
    return render_template(
        "teach/cohort.html",
        cohort=cohort,
        members=members,
        members_total=total,
        page=page,
        pages=max(1, -(-total // cohorts.MEMBERS_PAGE_SIZE)),
        first=(page - 1) * cohorts.MEMBERS_PAGE_SIZE + 1,
        invited=invitations.for_cohort(cohort),
        invited_counts=invitations.count_for_cohort(cohort),
        educators=cohorts.educators(cohort),
        assignments=cohorts.assignments(cohort),
        share_form=share_form or ShareForm(),
        assign_form=assign_form,
        drafts=drafts,
        past_due=bool(assign_form.due_on.errors and assign_form.due_on.data),
        join_url=url_for("learn.join_link", code=cohort.join_code, _external=True),
    ), status


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    """A cohort: its students (a page at a time), invitations, join code and link, co-educators and courses."""
    return _page(cohort_or_404(cohort_id), page=request.args.get("page", 1, type=whole_number))


@bp.post("/cohorts/<int:cohort_id>/share")
def share_cohort(cohort_id: int):
    """Invite a colleague to teach the cohort; they see it once they accept."""
    cohort = cohort_or_404(cohort_id)
    form = ShareForm()
    if form.validate_on_submit():
        try:
            colleague = invitations.share(cohort, form.email.data, current_user)
        except cohorts.CohortError as exc:
            db.session.rollback()
            form.email.errors = [str(exc)]
        else:
            db.session.commit()
            flash(
                f"{colleague.display_name} is invited to teach this cohort. They see it once they accept the "
                "invitation on their Teaching page.",
                "success",
            )
            return redirect(url_for(".cohort", cohort_id=cohort.id, _anchor="educators"))
    return _page(cohort, share_form=form, status=422)


@bp.route("/cohorts/<int:cohort_id>/members/<int:user_id>/remove", methods=["GET", "POST"])
def remove_member(cohort_id: int, user_id: int):
    """Ask before taking a student out of the cohort (GET); take them out, keeping their learning records (POST)."""
    cohort = cohort_or_404(cohort_id)
    if request.method == "GET":
        member = cohorts.membership(cohort, user_id) if 0 < user_id <= MAX_ID else None
        if member is None or member.removed_at is not None:
            not_found("That student is not in this cohort. Its students are listed on the cohort's page.")
        return render_template(
            "teach/remove_member.html", cohort=cohort, member=member, student=db.session.get(User, user_id)
        )
    if cohorts.remove_member(cohort, user_id):
        db.session.commit()
        flash("The student was removed from the cohort. Their learning records are kept.", "success")
    else:
        flash("That student is not in this cohort; nothing was changed.", "info")
    return redirect(url_for(".cohort", cohort_id=cohort.id, _anchor="members"))


@bp.post("/cohorts/<int:cohort_id>/joining")
def set_joining(cohort_id: int):
    """Open or close joining by code."""
    cohort = cohort_or_404(cohort_id)
    cohort.is_join_open = request.form.get("action") == "open"
    db.session.commit()
    flash("Students can join with the code." if cohort.is_join_open else "Joining by code is closed.", "success")
    return redirect(url_for(".cohort", cohort_id=cohort.id, _anchor="joining"))


def _assignable(form: AssignForm):
    """The course the form names, or None with the reason on the form: not one of the educator's, or a draft."""
    try:
        course = courses.get_visible(current_user, whole_number(form.course.data))
    except ValueError:  # not a number: a tampered or garbled form
        course = None
    if course is None:
        form.course.errors.append("Choose a course from the list.")
    elif not course.is_published:
        form.course.errors.append(
            f"“{course.title}” is a draft, so it cannot be assigned. Publish it on its page first, then assign it."
        )
        return None
    return course


def _past_due(form: AssignForm) -> bool:
    """A due date already past and not yet confirmed: the form comes back asking to confirm or change it."""
    due, starts = form.due_on.data, form.starts_on.data
    if due is None or due >= today() or form.confirm_past_due.data or (starts and due < starts):
        return False  # (dates out of order are refused outright, by cohorts.assign)
    form.due_on.errors.append(
        f"{due.strftime('%-d %B %Y')} has already passed, so students would see the course as overdue at once. "
        "Choose a later date, or press “Assign with this past due date” to keep it."
    )
    return True


@bp.post("/cohorts/<int:cohort_id>/assignments")
def assign_course(cohort_id: int):
    """Assign a published course to the cohort, with optional start and due dates; a past due date asks first."""
    cohort = cohort_or_404(cohort_id)
    form = AssignForm()
    if form.validate_on_submit() and (course := _assignable(form)) is not None and not _past_due(form):
        try:
            stations = form.observed_stations.data
            assignment = cohorts.assign(cohort, course, current_user, form.starts_on.data, form.due_on.data, stations)
        except cohorts.CohortError as exc:
            db.session.rollback()
            form.course.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"“{course.title}” is assigned to {cohort.name}.", "success")
            if stations is not None and assignment.observed_stations != stations:
                # Already assigned: its dates change here, its certificate's requirement on its own page.
                flash(
                    f"Its certificate still asks for {requirements.needed(assignment.observed_stations)} passed "
                    "observed stations: change that with “Change” in the Certificate column.",
                    "info",
                )
            return redirect(url_for(".cohort", cohort_id=cohort.id, _anchor="assignments"))
    return _page(cohort, assign_form=form, status=422)


@bp.post("/invitations/<int:cohort_id>")
def answer_share(cohort_id: int):
    """Accept or decline a colleague's invitation to teach a cohort."""
    action = request.form.get("action")
    if action not in ("accept", "decline"):
        refuse(BadRequest, "Choose Accept or Decline to answer the invitation.")
    accept = action == "accept"
    try:
        cohort = invitations.answer_share(current_user, cohort_id, accept)
    except invitations.NoInvitation as exc:
        not_found(str(exc))
    db.session.commit()
    if accept:
        flash(f"You now teach {cohort.name}.", "success")
        return redirect(url_for(".cohort", cohort_id=cohort.id))
    flash(f"You declined the invitation to teach {cohort.name}.", "info")
    return redirect(url_for(".dashboard"))
