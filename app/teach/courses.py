"""Course builder views: thin, they call the course service and commit once."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.content import catalog
from app.errors import not_found
from app.extensions import db
from app.services import cohorts, courses, invitations
from app.teach import bp
from app.teach.forms import AddItemForm, CourseForm


@bp.get("/")
def dashboard():
    """The educator's cohorts and courses."""
    return render_template(
        "teach/dashboard.html",
        cohorts=cohorts.cohorts_for(current_user),
        shares=invitations.pending_shares(current_user),
        courses=courses.visible_courses(current_user),
    )


def _visible_or_404(course_id: int):
    course = courses.get_visible(current_user, course_id)
    if course is None:
        not_found("There is no course of yours at this address.")
    return course


def _editable_or_404(course_id: int):
    course = _visible_or_404(course_id)
    if not courses.can_edit(current_user, course):
        not_found("Only the course's owner can change it. Copy it to make your own version.")
    return course


@bp.route("/courses/new", methods=["GET", "POST"])
def new_course():
    """Create a draft course."""
    form = CourseForm()
    if form.validate_on_submit():
        course = courses.create(current_user, form.title.data, form.description.data or "")
        db.session.commit()
        flash("Course created as a draft. Add modules, quizzes and conversations, then publish it.", "success")
        return redirect(url_for(".course", course_id=course.id))
    return render_template("teach/course_form.html", form=form, course=None), 422 if form.errors else 200


def _builder(course, add_form=None, status=200):
    add_form = add_form or AddItemForm()
    in_course = {f"{i.kind}:{i.item_ref}" for i in course.items}
    add_form.choice.choices = [("", "Choose content…")] + [
        c for c in courses.choices(catalog()) if c[0] not in in_course
    ]
    return render_template(
        "teach/course.html",
        course=course,
        editable=courses.can_edit(current_user, course),
        contents={i.id: courses.content_for(catalog(), i.kind, i.item_ref) for i in course.items},
        add_form=add_form,
        kind_labels=courses.KIND_LABELS,
    ), status


@bp.get("/courses/<int:course_id>")
def course(course_id: int):
    """The course builder (or, for a colleague's published course, its contents and a copy button)."""
    return _builder(_visible_or_404(course_id))


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
def edit_course(course_id: int):
    """Change a course's title and description."""
    course = _editable_or_404(course_id)
    form = CourseForm(obj=course)
    if form.validate_on_submit():
        courses.update_details(course, form.title.data, form.description.data or "")
        db.session.commit()
        flash("Course details saved.", "success")
        return redirect(url_for(".course", course_id=course.id))
    return render_template("teach/course_form.html", form=form, course=course), 422 if form.errors else 200


@bp.post("/courses/<int:course_id>/items")
def add_course_item(course_id: int):
    """Append a module, quiz or conversation."""
    course = _editable_or_404(course_id)
    form = AddItemForm()
    form.choice.choices = courses.choices(catalog())
    if not form.validate_on_submit():
        return _builder(course, form, 422)
    try:
        courses.add_item(catalog(), course, form.choice.data, form.is_required.data)
        db.session.commit()
    except courses.CourseError as exc:
        form.choice.errors = [str(exc)]
        db.session.rollback()
        return _builder(course, form, 422)
    except IntegrityError:
        # Another change to this course landed at the same moment (a double click): nothing was added.
        db.session.rollback()
        flash("The course changed while you were adding to it. Check the items and add again if needed.", "warning")
        return redirect(url_for(".course", course_id=course.id, _anchor="items"))
    flash("Added to the course.", "success")
    return redirect(url_for(".course", course_id=course.id, _anchor="items"))


_ACTIONS = {
    "up": lambda c, i: courses.move_item(c, i, -1),
    "down": lambda c, i: courses.move_item(c, i, 1),
    "remove": courses.remove_item,
    "required": lambda c, i: courses.set_required(c, i, True),
    "optional": lambda c, i: courses.set_required(c, i, False),
}


@bp.post("/courses/<int:course_id>/items/<int:item_id>")
def change_course_item(course_id: int, item_id: int):
    """Move an item up or down, remove it, or make it required or optional."""
    course = _editable_or_404(course_id)
    action = request.form.get("action", "")
    if action not in _ACTIONS:
        flash("That change is not one this page offers; nothing was changed.", "warning")
        return redirect(url_for(".course", course_id=course.id))
    try:
        _ACTIONS[action](course, item_id)
    except courses.CourseError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for(".course", course_id=course.id))
    db.session.commit()
    return redirect(
        url_for(".course", course_id=course.id, _anchor=f"item-{item_id}" if action != "remove" else "items")
    )


@bp.post("/courses/<int:course_id>/publish")
def publish_course(course_id: int):
    """Publish the course, or return it to draft."""
    course = _editable_or_404(course_id)
    publish = request.form.get("action") == "publish"
    try:
        courses.set_published(course, publish)
    except courses.CourseError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for(".course", course_id=course.id))
    db.session.commit()
    flash(
        "The course is published: you can assign it to cohorts." if publish else "The course is a draft again.",
        "success",
    )
    return redirect(url_for(".course", course_id=course.id))


@bp.post("/courses/<int:course_id>/copy")
def copy_course(course_id: int):
    """Make a draft copy of a course to change freely."""
    duplicate = courses.copy(current_user, _visible_or_404(course_id))
    db.session.commit()
    flash("This is your copy, as a draft. Change it as you like.", "success")
    return redirect(url_for(".course", course_id=duplicate.id))
