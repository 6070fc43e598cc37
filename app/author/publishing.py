"""Preview as a learner, publish, history with diffs, sharing, and the admin's site-wide switch."""

from types import SimpleNamespace

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from app.author import bp
from app.author.routes import quiz_or_404
from app.content import catalog, live
from app.content.items import AnswerError
from app.converters import whole_number
from app.errors import not_found, refuse
from app.extensions import db
from app.models import AuthoredQuiz
from app.services import authoring


@bp.route("/<int:quiz_id>/preview", methods=["GET", "POST"])
def preview(quiz_id: int):
    """The draft as a learner sees it; answers sent are graded and shown, and nothing is recorded."""
    quiz = quiz_or_404(quiz_id)
    if quiz.is_conversation:  # a conversation is previewed by playing it
        return redirect(url_for(".conversation_play", quiz_id=quiz.id))
    if quiz.is_observation:  # an observation form is previewed as its rating page
        return redirect(url_for(".observation_preview", quiz_id=quiz.id))
    checked = authoring.check(quiz, catalog())
    if checked.quiz is None:
        return render_template("author/preview.html", quiz=quiz, draft=None, checked=checked), 409
    draft = checked.quiz
    responses, unanswered, invalid = [], [], {}
    if request.method == "POST":
        for item in draft.items:
            try:
                answer = item.handler.answer_from_form(item, request.form)
            except AnswerError as exc:
                invalid[item.id] = exc.message
                continue
            if answer is None:
                unanswered.append(item.id)
                continue
            try:
                grade = item.handler.grade(item, answer)
            except AnswerError as exc:
                invalid[item.id] = exc.message
                continue
            responses.append(
                (
                    item,
                    SimpleNamespace(
                        item_ref=item.id,
                        answer=grade.answer,
                        grade=grade.grade,
                        score=grade.score,
                        max_score=grade.max_score,
                        is_correct=grade.is_correct,
                        confidence=None,
                    ),
                )
            )
    score = sum(r.score for _item, r in responses)
    return render_template(
        "author/preview.html",
        quiz=quiz,
        draft=draft,
        checked=checked,
        responses=responses,
        unanswered=unanswered,
        invalid=invalid,
        submitted=request.method == "POST",
        score=score,
        answers=request.form,
    )


@bp.post("/<int:quiz_id>/publish")
def publish(quiz_id: int):
    """Publish the draft as the next version: learners get it within seconds; past attempts keep theirs."""
    quiz = quiz_or_404(quiz_id)
    try:
        version = authoring.publish(quiz, current_user, catalog())
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".quiz", quiz_id=quiz.id))
    db.session.commit()
    live.changed(current_app._get_current_object())
    where = (
        "Set a station on it from a cohort's Stations page; stations already rated keep the version they were rated on."
        if quiz.is_observation
        else "Add it to a course in the course builder; attempts already taken stay with the version they were taken on."
    )
    flash(f"Version {version.number} published. {where}", "success")
    return redirect(url_for(".history", quiz_id=quiz.id))


@bp.get("/<int:quiz_id>/history")
def history(quiz_id: int):
    """Every published version, who published it and when, and what changed from the one before."""
    quiz = quiz_or_404(quiz_id)
    versions = list(quiz.versions)
    changes = []
    for n, version in enumerate(versions):
        before = versions[n - 1].content if n else None
        changes.append((version, authoring.diff(before, version.content)))
    pending = authoring.diff(versions[-1].content, quiz.draft) if versions else []
    return render_template("author/history.html", quiz=quiz, changes=list(reversed(changes)), pending=pending)


@bp.post("/<int:quiz_id>/share")
def share(quiz_id: int):
    """Let another educator edit the quiz (the owner only)."""
    quiz = quiz_or_404(quiz_id)
    if quiz.owner_id != current_user.id:
        refuse(Forbidden, "Only the quiz's owner can share it.")
    try:
        person = authoring.share(quiz, request.form.get("email", ""))
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".quiz", quiz_id=quiz.id, _anchor="sharing"))
    db.session.commit()
    flash(f"{person.display_name} can now edit this quiz.", "success")
    return redirect(url_for(".quiz", quiz_id=quiz.id, _anchor="sharing"))


@bp.post("/<int:quiz_id>/share/<int:user_id>/remove")
def unshare(quiz_id: int, user_id: int):
    """Stop a co-editor editing the quiz (the owner only)."""
    quiz = quiz_or_404(quiz_id)
    if quiz.owner_id != current_user.id:
        refuse(Forbidden, "Only the quiz's owner can change who edits it.")
    authoring.unshare(quiz, user_id)
    db.session.commit()
    flash("They can no longer edit this quiz.", "success")
    return redirect(url_for(".quiz", quiz_id=quiz.id, _anchor="sharing"))


@bp.post("/site-wide/<int:quiz_id>")
def site_wide(quiz_id: int):
    """An admin offers a published quiz in every educator's course builder, or stops offering it."""
    if not current_user.is_admin:
        refuse(Forbidden, "Only an admin can offer a quiz to every educator.")
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    if quiz is None:
        not_found("There is no authored quiz at this address.")
    try:
        authoring.set_site_wide(quiz, request.form.get("offer") == "yes")
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index", _anchor="every-quiz"))
    db.session.commit()
    flash(
        f"“{quiz.title}” is {'now offered to every educator' if quiz.is_site_wide else 'offered only to its owner and co-editors again'}.",
        "success",
    )
    return redirect(url_for(".index", _anchor="every-quiz"))


@bp.route("/<int:quiz_id>/withdraw", methods=["GET", "POST"])
def withdraw(quiz_id: int):
    """Its owner or an admin withdraws a published quiz: asked first; POST does it. Attempts and history stay."""
    quiz = db.session.get(AuthoredQuiz, quiz_id)
    if quiz is None or not authoring.may_withdraw(current_user, quiz):
        not_found("There is no quiz of yours at this address. It may have been deleted, or it is not shared with you.")
    back = url_for(".history", quiz_id=quiz.id) if authoring.is_editor(current_user, quiz) else None
    back = back or url_for(".index", _anchor="every-quiz")
    if request.method == "POST":
        try:
            authoring.withdraw(quiz)
        except authoring.AuthoringError as exc:
            flash(str(exc), "error")
            return redirect(back)
        db.session.commit()
        live.changed(current_app._get_current_object())
        flash(
            f"“{quiz.title}” is withdrawn: learners cannot start it any more, and it has left the course builders. "
            "Attempts already taken and their results stay. Publish it again to bring it back.",
            "success",
        )
        return redirect(back)
    return render_template("author/withdraw.html", quiz=quiz, back=back)


def version_number(raw: str | None) -> int | None:
    """A version number from the address, or None."""
    try:
        return whole_number(raw or "")
    except ValueError:
        return None
