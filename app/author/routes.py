"""The quiz editor's views: the list, a new quiz, its settings and items. Thin: the service does the work."""

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp, fields
from app.content import catalog
from app.converters import whole_number
from app.errors import not_found
from app.extensions import db
from app.services import authoring

_GONE = "There is no quiz of yours at this address. Your quizzes, and those shared with you, are listed under “Write quizzes”."


def quiz_or_404(quiz_id: int):
    """The authored quiz if the signed-in educator may edit it; a 404 otherwise (its existence stays private)."""
    quiz = authoring.editable(current_user, quiz_id)
    if quiz is None:
        not_found(_GONE)
    return quiz


def item_or_404(quiz, position: int) -> dict:
    """The draft's item at this position (from 1), or a 404."""
    items = quiz.draft.get("items") or []
    if not 1 <= position <= len(items) or not isinstance(items[position - 1], dict):
        not_found("That item is not in this quiz any more. The quiz's items are listed on its page.")
    return items[position - 1]


def _modules():
    return [(m.id, m.title) for m in catalog().modules]


@bp.get("/")
def index():
    """My authored quizzes, those shared with me, and (for an admin) every quiz, to offer site-wide."""
    owned, shared = authoring.mine(current_user)
    return render_template(
        "author/index.html",
        owned=owned,
        shared=shared,
        everyone=authoring.every_quiz() if current_user.is_admin else [],
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Start a quiz: a title and the module it goes with."""
    values = {"title": "", "module": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"title": request.form.get("title", ""), "module": request.form.get("module", "")}
        if not " ".join(values["title"].split()):
            errors["title"] = "Give the quiz a title."
        elif len(" ".join(values["title"].split())) > 200:
            errors["title"] = "Keep the title to 200 characters or fewer."
        if catalog().module(values["module"]) is None:
            errors["module"] = "Choose the module the quiz goes with."
        if not errors:
            quiz = authoring.create(current_user, values["title"], values["module"])
            db.session.commit()
            flash("Quiz started. Add its items, preview it, then publish it.", "success")
            return redirect(url_for(".quiz", quiz_id=quiz.id))
    return render_template("author/new.html", values=values, errors=errors, modules=_modules()), 422 if errors else 200


def _settings_from_form() -> dict:
    pass_mark = request.form.get("pass_mark", "").strip()
    try:
        mark: int | str = whole_number(pass_mark)
    except ValueError:
        mark = pass_mark  # kept as typed: the checker says what is wrong, at the field
    return {
        "title": " ".join(request.form.get("title", "").split())[: fields.MAX_TEXT],
        "module": request.form.get("module", "").strip(),
        "pass_mark": mark,
        "marking": request.form.get("marking", "").strip(),
        "intro": request.form.get("intro", "").replace("\r\n", "\n").strip()[: fields.MAX_TEXT],
    }


@bp.route("/<int:quiz_id>", methods=["GET", "POST"])
def quiz(quiz_id: int):
    """The quiz's page: its settings form, its items, and every problem the checker finds."""
    quiz = quiz_or_404(quiz_id)
    if quiz.is_conversation:  # the tabs and sharing forms name this page; a conversation has its own
        return redirect(url_for(".conversation", quiz_id=quiz.id))
    if quiz.is_observation:  # so does an observation form
        return redirect(url_for(".observation", quiz_id=quiz.id))
    if request.method == "POST":
        authoring.update_settings(quiz, _settings_from_form())
        db.session.commit()
        checked = authoring.check(quiz, catalog())
        flash(_saved_message(checked), "warning" if checked.errors else "success")
        return redirect(url_for(".quiz", quiz_id=quiz.id))
    checked = authoring.check(quiz, catalog())
    return render_template(
        "author/quiz.html",
        quiz=quiz,
        checked=checked,
        modules=_modules(),
        item_types=authoring.ITEM_TYPES,
        summary=summary(quiz, checked),
        item_problems=item_problems(quiz, checked),
        settings_problems={key: checked.at(key) for key in SETTINGS},
        anchor=fields.anchor,
        is_owner=quiz.owner_id == current_user.id,
    )


#: The quiz page's own fields, with the labels the summary gives them.
SETTINGS = {
    "title": "Title",
    "module": "Module",
    "pass_mark": "Pass mark",
    "marking": "Marking",
    "intro": "Introduction",
}
_ITEM_PATH = re.compile(r"^items\.(\d+)(?:\.(.*))?$")


def summary(quiz, checked) -> list[tuple[str, str, str, bool]]:
    """Every problem for the summary at the top: (where, message, link to its field, is_warning)."""
    entries = []
    items = quiz.draft.get("items") or []
    for n, problem in enumerate(checked.problems):
        path = checked.fields.get(n, "")
        match = _ITEM_PATH.match(path)
        if match and int(match[1]) < len(items) and isinstance(items[int(match[1])], dict):
            position = int(match[1]) + 1
            target = fields.nearest(items[position - 1].get("type", ""), match[2] or "")
            href = url_for(".item", quiz_id=quiz.id, position=position, _anchor=fields.anchor(target or "item"))
            where = f"Item {position}"
        elif path in SETTINGS:
            href, where = f"#{fields.anchor(path)}", SETTINGS[path]
        else:
            href, where = "#settings-heading", "The quiz"
        entries.append((where, problem.message, href, problem.is_warning))
    return entries


def item_problems(quiz, checked) -> dict[int, int]:
    """How many problems each item has, by position."""
    counts: dict[int, int] = {}
    for n, _problem in enumerate(checked.problems):
        match = _ITEM_PATH.match(checked.fields.get(n, ""))
        if match:
            counts[int(match[1]) + 1] = counts.get(int(match[1]) + 1, 0) + 1
    return counts


def _saved_message(checked) -> str:
    count = len(checked.errors)
    if not count:
        return "Saved. The checker finds no problems."
    return f"Saved. The checker finds {count} problem{'s' if count != 1 else ''}: fix them before publishing."


@bp.post("/<int:quiz_id>/items")
def add_item(quiz_id: int):
    """Add an empty item of the chosen type and open its form."""
    quiz = quiz_or_404(quiz_id)
    try:
        position = authoring.add_item(quiz, request.form.get("type", ""))
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".quiz", quiz_id=quiz.id))
    db.session.commit()
    return redirect(url_for(".item", quiz_id=quiz.id, position=position))


@bp.route("/<int:quiz_id>/items/<int:position>", methods=["GET", "POST"])
def item(quiz_id: int, position: int):
    """One item's form; saving runs the checker and shows each problem at its field."""
    quiz = quiz_or_404(quiz_id)
    current = item_or_404(quiz, position)
    if quiz.is_observation:  # a behaviour item has its own form
        return redirect(url_for(".observation_item", quiz_id=quiz.id, position=position))
    if request.method == "POST":
        authoring.update_item(quiz, position, fields.item_from_form(current.get("type", ""), request.form, current))
        db.session.commit()
        checked = authoring.check(quiz, catalog())
        flash(_saved_message(checked), "warning" if checked.errors else "success")
        return redirect(url_for(".item", quiz_id=quiz.id, position=position))
    checked = authoring.check(quiz, catalog())
    prefix = f"items.{position - 1}"
    item_type = current.get("type", "")
    problems: dict[str, list] = {}
    for path, problem in checked.under(prefix):
        problems.setdefault(fields.nearest(item_type, path[len(prefix) + 1 :]), []).append(problem)
    from app.author.stats import item_statistics

    return render_template(
        "author/item.html",
        quiz=quiz,
        item=current,
        position=position,
        count=len(quiz.draft.get("items") or []),
        values=fields.form_values(current),
        problems=problems,
        anchor=fields.anchor,
        slots=fields.slots(current.get("type", "")),
        grades=fields.GRADES,
        competencies=catalog().competencies,
        type_name=authoring.ITEM_TYPES.get(current.get("type", ""), current.get("type", "")),
        statistics=item_statistics(current_user, quiz, current.get("id", ""), catalog()),
    )


@bp.post("/<int:quiz_id>/items/<int:position>/move")
def move_item(quiz_id: int, position: int):
    """Move an item one place up or down."""
    quiz = quiz_or_404(quiz_id)
    item_or_404(quiz, position)
    offset = -1 if request.form.get("direction") == "up" else 1
    moved_to = authoring.move_item(quiz, position, offset)
    db.session.commit()
    flash(f"Item moved to position {moved_to}.", "success")
    return redirect(url_for(".quiz", quiz_id=quiz.id, _anchor=f"item-{moved_to}"))


@bp.post("/<int:quiz_id>/items/<int:position>/duplicate")
def duplicate_item(quiz_id: int, position: int):
    """Copy an item just after itself."""
    quiz = quiz_or_404(quiz_id)
    item_or_404(quiz, position)
    try:
        copy_at = authoring.duplicate_item(quiz, position)
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".quiz", quiz_id=quiz.id))
    db.session.commit()
    flash(f"Item {position} copied to position {copy_at}.", "success")
    return redirect(url_for(".quiz", quiz_id=quiz.id, _anchor=f"item-{copy_at}"))


@bp.route("/<int:quiz_id>/items/<int:position>/delete", methods=["GET", "POST"])
def delete_item(quiz_id: int, position: int):
    """Ask, then remove an item from the draft (published versions keep it)."""
    quiz = quiz_or_404(quiz_id)
    current = item_or_404(quiz, position)
    if request.method == "POST":
        authoring.delete_item(quiz, position)
        db.session.commit()
        flash(f"Item {position} deleted from the draft.", "success")
        return redirect(url_for(".quiz", quiz_id=quiz.id))
    return render_template("author/delete_item.html", quiz=quiz, item=current, position=position)
