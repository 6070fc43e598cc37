"""Course builder views: thin, they call the course service and commit once."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.content import catalog
from app.converters import whole_number
from app.errors import not_found
from app.extensions import db
from app.services import authoring, cohorts, courses, invitations
from app.teach import bp
from app.teach.forms import AddItemsForm, CourseForm


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


def _item_or_404(course, item_id: int):
    item = courses.find_item(course, item_id)
    if item is None:
        not_found("That item is no longer in this course. The course's items are listed on its page.")
    return item


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
    editable = courses.can_edit(current_user, course)
    add_form = add_form or AddItemsForm()
    return render_template(
        "teach/course.html",
        course=course,
        editable=editable,
        contents={i.id: courses.content_for(catalog(), i.kind, i.item_ref) for i in course.items},
        add_form=add_form,
        # What was ticked stays ticked when the form comes back with a message.
        ticked=set(add_form.choice.data or ()) if add_form.errors else set(),
        groups=courses.catalogue_groups(catalog(), course, authoring.offered_to(current_user)) if editable else [],
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


def _quoted(titles: list[str]) -> str:
    """Titles in quotes, joined as a sentence says them: “A”, “B” and “C”."""
    quoted = [f"“{t}”" for t in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


@bp.post("/courses/<int:course_id>/items")
def add_course_item(course_id: int):
    """Append the ticked modules, quizzes and conversations, in the catalogue's order."""
    course = _editable_or_404(course_id)
    form = AddItemsForm()
    if not form.validate_on_submit():
        return _builder(course, form, 422)
    try:
        # Quizzes written in the browser that this educator is not offered are not in their catalogue (app/author).
        added = courses.add_items(authoring.offered_catalog(current_user, catalog()), course, form.choice.data, form.is_required.data)
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
    count = len(added.added)
    message = f"Added {_quoted(added.titles)} to the course." if count == 1 else f"Added {count} items to the course: {_quoted(added.titles)}."
    if added.already:
        message += f" Already in it, so not added again: {_quoted(added.already)}."
    flash(message, "success")
    return redirect(url_for(".course", course_id=course.id, _anchor="items"))


_ACTIONS = {
    "up": lambda c, i: courses.move_item(c, i, -1),
    "down": lambda c, i: courses.move_item(c, i, 1),
    "required": lambda c, i: courses.set_required(c, i, True),
    "optional": lambda c, i: courses.set_required(c, i, False),
}


@bp.post("/courses/<int:course_id>/items/<int:item_id>")
def change_course_item(course_id: int, item_id: int):
    """Move an item up or down, or make it required or optional (removing asks first: see remove_course_item)."""
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
    return redirect(url_for(".course", course_id=course.id, _anchor=f"item-{item_id}"))


@bp.route("/courses/<int:course_id>/items/<int:item_id>/remove", methods=["GET", "POST"])
def remove_course_item(course_id: int, item_id: int):
    """Ask before taking an item out of the course (GET), then take it out (POST)."""
    course = _editable_or_404(course_id)
    item = _item_or_404(course, item_id)
    content = courses.content_for(catalog(), item.kind, item.item_ref)
    title = content.title if content else item.item_ref
    if request.method == "GET":
        return render_template(
            "teach/remove_item.html",
            course=course,
            item=item,
            title=title,
            kind_label=courses.KIND_LABELS.get(item.kind, "Item"),
            assigned_to=courses.assignment_count(course),
        )
    courses.remove_item(course, item.id)
    db.session.commit()
    flash(f"Removed “{title}” from the course.", "success")
    return redirect(url_for(".course", course_id=course.id, _anchor="items"))


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


# --- previews: a module, quiz or conversation as a student sees it, nothing saved


_PREVIEWS = {"module": ("teach.preview_module", "module_id"), "quiz": ("teach.preview_quiz", "quiz_id")}
_PREVIEWS["conversation"] = ("teach.preview_conversation", "conversation_id")


@bp.context_processor
def _preview_links() -> dict:
    """`preview_url(kind, ref, course_id)` for the teaching pages: the preview of a module, quiz or conversation."""

    def preview_url(kind: str, ref: str, course_id: int | None = None) -> str:
        endpoint, name = _PREVIEWS[kind]
        return url_for(endpoint, **{name: ref}, course=course_id)

    return {"preview_url": preview_url}


def _from_course():
    """The course the preview was opened from (?course=<id>), for the way back; None if absent or not visible."""
    course_id = request.args.get("course", type=whole_number)
    return courses.get_visible(current_user, course_id) if course_id else None


def _preview(kind: str, content):
    if content is None:
        not_found("That content is not in the catalogue. Choose something to preview from a course's page.")
    return render_template(
        "teach/preview.html",
        kind=kind,
        kind_label=courses.KIND_LABELS[kind],
        content=content,
        from_course=_from_course(),
        module=catalog().module(content.module_id) if kind != "module" else None,
    )


@bp.get("/preview/modules/<module_id>")
def preview_module(module_id: str):
    """A module's lessons, one after the other, as a student reads them."""
    return _preview("module", catalog().module(module_id))


@bp.get("/preview/quizzes/<quiz_id>")
def preview_quiz(quiz_id: str):
    """A quiz's items and options as a student sees them, with no answer marked and nothing to submit."""
    return _preview("quiz", catalog().quiz(quiz_id))


@bp.get("/preview/conversations/<conversation_id>")
def preview_conversation(conversation_id: str):
    """A conversation's introduction and opening: the patient's first line and the replies on offer."""
    return _preview("conversation", catalog().conversation(conversation_id))
