"""The observation form editor's views: start one, its settings, behaviour items, patient's form, sources, preview.

Thin: the draft's edits are app/services/authored_observations.py; moving, copying and deleting
items, publishing, versions, sharing and files are the quiz editor's (an observation form is an
authored quiz whose draft is a `type: observation` file).
"""

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp
from app.author import observation_fields as of
from app.author.conversation_fields import nearest, values
from app.author.conversations import _saved
from app.author.fields import MAX_TEXT, anchor
from app.author.routes import item_or_404, quiz_or_404
from app.content import catalog
from app.content.observations import GLOBAL_RATINGS, score
from app.errors import not_found
from app.extensions import db
from app.observe.services import ratings
from app.services import authored_observations as forms
from app.services import authoring
from app.services.authored_conversations import number_or_text

SETTINGS = {
    "title": "Title",
    "module": "Module",
    "consultation": "The consultation",
    "minutes": "Minutes",
    "pass_mark": "Pass mark",
    "about": "About the form",
}
_ITEM_PATH = re.compile(r"^items\.(\d+)(?:\.(.*))?$")


def observation_or_404(form_id: int):
    """The authored observation form if the signed-in educator may edit it; a 404 otherwise."""
    found = quiz_or_404(form_id)
    if not found.is_observation:
        not_found(f"There is no observation form of yours at this address; this is a {found.kind}.")
    return found


def summary(form, checked) -> list[tuple[str, str, str, bool]]:
    """Every problem for the summary: (where, message, link to its field, is_warning)."""
    entries, page = [], of.page_known()
    items = form.draft.get("items") or []
    for n, problem in enumerate(checked.problems):
        path = checked.fields.get(n, "")
        match = _ITEM_PATH.match(path)
        if match and int(match[1]) < len(items) and isinstance(items[int(match[1])], dict):
            position = int(match[1]) + 1
            target = nearest(of.item_known(), match[2] or "")
            href = url_for(".observation_item", quiz_id=form.id, position=position, _anchor=anchor(target or "item"))
            where = f"Item {position}"
        elif target := nearest(page, path):
            href = f"#{anchor(target)}"
            where = SETTINGS.get(target) or ("Patient's form" if target.startswith("patient") else "Sources")
            where = "Items" if target == "items" else where
        else:
            href, where = "#settings-heading", "The form"
        entries.append((where, problem.message, href, problem.is_warning))
    return entries


def _page_problems(checked) -> dict[str, list]:
    found: dict[str, list] = {}
    for n, problem in enumerate(checked.problems):
        path = checked.fields.get(n, "")
        if not _ITEM_PATH.match(path) and (target := nearest(of.page_known(), path)):
            found.setdefault(target, []).append(problem)
    return found


def _item_counts(form, checked) -> dict[int, int]:
    counts: dict[int, int] = {}
    for n, _problem in enumerate(checked.problems):
        if match := _ITEM_PATH.match(checked.fields.get(n, "")):
            counts[int(match[1]) + 1] = counts.get(int(match[1]) + 1, 0) + 1
    return counts


def _modules():
    return [(m.id, m.title) for m in catalog().modules]


@bp.route("/observations/new", methods=["GET", "POST"])
def observation_new():
    """Start an observation form: its title, module, the consultation it observes and how long it takes."""
    values_ = {"title": "", "module": "", "consultation": "", "minutes": "10"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values_ = {k: request.form.get(k, "")[:MAX_TEXT] for k in values_}
        title = " ".join(values_["title"].split())
        if not title:
            errors["title"] = "Give the observation form a title."
        elif len(title) > 200:
            errors["title"] = "Keep the title to 200 characters or fewer."
        if catalog().module(values_["module"]) is None:
            errors["module"] = "Choose the module the form goes with."
        consultation = values_["consultation"].replace("\r\n", "\n").strip()
        if not consultation:
            errors["consultation"] = "Say what consultation is observed (who, where, what the student does)."
        minutes = number_or_text(values_["minutes"])
        if not isinstance(minutes, int) or not 1 <= minutes <= 120:
            errors["minutes"] = "Give the station's minutes as a whole number from 1 to 120."
        if not errors:
            created = forms.create_observation(current_user, title, values_["module"], consultation, minutes)
            db.session.commit()
            flash(
                "Observation form started. Add its behaviour items and sources, preview it, then publish it.", "success"
            )
            return redirect(url_for(".observation", quiz_id=created.id))
    page = render_template("author/observation_new.html", values=values_, errors=errors, modules=_modules())
    return page, 422 if errors else 200


def _settings_from_form() -> dict:
    text = {k: request.form.get(k, "").replace("\r\n", "\n").strip()[:MAX_TEXT] for k in SETTINGS}
    text["title"] = " ".join(text["title"].split())
    for key in ("minutes", "pass_mark"):
        text[key] = number_or_text(text[key]) if text[key] else ""
    return text


@bp.route("/<int:quiz_id>/observation", methods=["GET", "POST"])
def observation(quiz_id: int):
    """The form's page: settings, behaviour items, the patient's form, sources, and every problem the checker finds."""
    found = observation_or_404(quiz_id)
    if request.method == "POST":
        forms.update_settings(found, _settings_from_form())
        db.session.commit()
        flash(*_saved(authoring.check(found, catalog())))
        return redirect(url_for(".observation", quiz_id=found.id))
    checked = authoring.check(found, catalog())
    draft = found.draft
    return render_template(
        "author/observation.html",
        quiz=found,
        checked=checked,
        summary=summary(found, checked),
        problems=_page_problems(checked),
        modules=_modules(),
        values=values({k: draft.get(k) for k in ("patient", "references")}),
        items=[i if isinstance(i, dict) else {} for i in draft.get("items") or []],
        item_problems=_item_counts(found, checked),
        anchor=anchor,
        scales=of.SCALES,
        patient_slots=of.PATIENT_ITEMS,
        reference_slots=of.REFERENCES,
        is_owner=found.owner_id == current_user.id,
    )


@bp.post("/<int:quiz_id>/observation/items")
def observation_add_item(quiz_id: int):
    """Add an empty behaviour item on the chosen scale and open its form."""
    found = observation_or_404(quiz_id)
    try:
        position = forms.add_behaviour(found, request.form.get("scale", ""))
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".observation", quiz_id=found.id, _anchor="items-heading"))
    db.session.commit()
    return redirect(url_for(".observation_item", quiz_id=found.id, position=position))


@bp.route("/<int:quiz_id>/observation/items/<int:position>", methods=["GET", "POST"])
def observation_item(quiz_id: int, position: int):
    """One behaviour item's form: text, competencies, scale and anchors, critical, source."""
    found = observation_or_404(quiz_id)
    current = item_or_404(found, position)
    if request.method == "POST":
        authoring.update_item(found, position, of.item_from_form(request.form))
        db.session.commit()
        flash(*_saved(authoring.check(found, catalog())))
        return redirect(url_for(".observation_item", quiz_id=found.id, position=position))
    checked = authoring.check(found, catalog())
    prefix = f"items.{position - 1}"
    problems: dict[str, list] = {}
    for path, problem in checked.under(prefix):
        problems.setdefault(nearest(of.item_known(), path[len(prefix) + 1 :]), []).append(problem)
    references = [
        r for r in found.draft.get("references") or [] if isinstance(r, dict) and isinstance(r.get("id"), str)
    ]
    return render_template(
        "author/observation_item.html",
        quiz=found,
        item=current,
        position=position,
        count=len(found.draft.get("items") or []),
        values=values({k: v for k, v in current.items() if k != "id"}),
        problems=problems,
        anchor=anchor,
        scales=of.SCALES,
        sources=[("", "None")] + [(r["id"], r["id"]) for r in references],
        competencies=catalog().competencies,
    )


@bp.post("/<int:quiz_id>/observation/patient")
def observation_patient(quiz_id: int):
    """Save the patient's short form (an introduction and two to eight statements in plain words)."""
    found = observation_or_404(quiz_id)
    forms.update_patient(found, of.patient_from_form(request.form, found.draft.get("patient")))
    db.session.commit()
    flash(*_saved(authoring.check(found, catalog())))
    return redirect(url_for(".observation", quiz_id=found.id, _anchor="patient-heading"))


@bp.post("/<int:quiz_id>/observation/references")
def observation_references(quiz_id: int):
    """Save the sources the form cites."""
    found = observation_or_404(quiz_id)
    forms.update_references(found, of.references_from_form(request.form))
    db.session.commit()
    flash(*_saved(authoring.check(found, catalog())))
    return redirect(url_for(".observation", quiz_id=found.id, _anchor="references-heading"))


@bp.route("/<int:quiz_id>/observation/preview", methods=["GET", "POST"])
def observation_preview(quiz_id: int):
    """The draft's rating page as an examiner sees it, and the patient's form; marks sent are scored, nothing kept."""
    found = observation_or_404(quiz_id)
    checked = authoring.check(found, catalog())
    form = checked.quiz
    if form is None:
        return render_template("author/observation_preview.html", quiz=found, form=None, checked=checked), 409
    entered = ratings.read(form, "examiner", request.form) if request.method == "POST" else None
    result = score(form, entered.marks) if entered else None
    return render_template(
        "author/observation_preview.html",
        quiz=found,
        form=form,
        checked=checked,
        entered=entered,
        result=result,
        marks=entered.marks if entered else {},
        comments=entered.comments if entered else {},
        global_rating=entered.global_rating if entered else None,
        global_ratings=GLOBAL_RATINGS,
        pass_total=form.pass_mark * form.max_score / 100,
        done=False,
    ), (422 if entered and entered.problems else 200)


@bp.get("/<int:quiz_id>/observation/preview/patient")
def observation_preview_patient(quiz_id: int):
    """The draft's patient form as a patient sees it (nothing is sent from it)."""
    found = observation_or_404(quiz_id)
    checked = authoring.check(found, catalog())
    status = 409 if checked.quiz is None else 200
    return render_template(
        "author/observation_preview_patient.html", quiz=found, form=checked.quiz, checked=checked, marks={}
    ), status
