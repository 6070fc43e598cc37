"""A learner's private reflections: write, edit or delete one on a module, quiz or conversation."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.content import catalog
from app.errors import not_found
from app.extensions import db
from app.learn import bp
from app.models.study import REFLECTION_MAX, Reflection
from app.services import reflections


@bp.app_template_global("own_reflection")
def own_reflection(kind: str, subject_id: str) -> Reflection | None:
    """The signed-in learner's reflection on a subject, for the prompt on its page (one query; None for visitors)."""
    if not current_user.is_authenticated:
        return None
    return reflections.get(current_user.id, f"{kind}/{subject_id}")


def _subject_or_404(kind: str, subject_id: str) -> tuple[reflections.Subject, Reflection | None]:
    """The subject and the learner's reflection on it; a retired subject only while that reflection exists."""
    found = reflections.subject(catalog(), kind, subject_id) or reflections.retired(kind, subject_id)
    existing = reflections.get(current_user.id, found.ref) if found is not None else None
    if found is None or (not found.is_offered and existing is None):
        not_found(
            "There is nothing here to reflect on: reflections are written on a module, a quiz or a conversation "
            "that is offered now. Follow the “Write a reflection” link on its page."
        )
    return found, existing


def _back_link(subject: reflections.Subject) -> tuple[str, str]:
    """Where the learner came from: the subject's own page (their progress page once it is retired)."""
    if not subject.is_offered:
        return url_for(".progress_page", _anchor="reflections-heading"), "Back to your progress"
    endpoint = {"module": ".module", "quiz": ".quiz", "conversation": ".conversation"}[subject.kind]
    key = {"module": "module_id", "quiz": "quiz_id", "conversation": "conversation_id"}[subject.kind]
    return url_for(endpoint, **{key: subject.id}), f"Back to the {subject.kind}"


@bp.route("/reflections/<kind>/<subject_id>", methods=["GET", "POST"])
def reflection(kind: str, subject_id: str):
    """The learner's reflection on one subject: read, write or edit it."""
    subject, existing = _subject_or_404(kind, subject_id)
    text, error, status = (existing.body if existing else ""), None, 200
    if request.method == "POST":
        # CSRFProtect has refused any POST without a valid token before this view runs.
        text = request.form.get("body", "")
        try:
            if not reflections.clean(text) and existing is not None:
                # Clearing the text and saving is how a reflection is emptied: it is deleted.
                reflections.remove(current_user.id, subject.ref)
                db.session.commit()
                flash("You emptied your reflection, so it was deleted.", "success")
                return _after_delete(subject)
            reflections.save(current_user.id, subject.ref, text)
        except reflections.Invalid as exc:
            db.session.rollback()
            error, status = str(exc), 422
        else:
            db.session.commit()
            flash("Your reflection was saved. Only you can see it.", "success")
            return redirect(url_for(".reflection", kind=subject.kind, subject_id=subject.id))
    back_url, back_text = _back_link(subject)
    return render_template(
        "learn/reflection.html",
        subject=subject,
        existing=existing,
        text=text,
        error=error,
        limit=REFLECTION_MAX,
        back_url=back_url,
        back_text=back_text,
    ), status


@bp.post("/reflections/<kind>/<subject_id>/delete")
def delete_reflection(kind: str, subject_id: str):
    """Delete the learner's reflection on one subject (only their own: there is no other to reach)."""
    subject, _ = _subject_or_404(kind, subject_id)
    if reflections.remove(current_user.id, subject.ref):
        db.session.commit()
        flash("Your reflection was deleted.", "success")
    else:
        flash("There was no reflection to delete here.", "info")
    return _after_delete(subject)


def _after_delete(subject: reflections.Subject):
    """Back to the empty edit page; for a retired subject, which has no page left, to the progress page."""
    if not subject.is_offered:
        return redirect(url_for(".progress_page", _anchor="reflections-heading"))
    return redirect(url_for(".reflection", kind=subject.kind, subject_id=subject.id))
