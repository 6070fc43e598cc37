"""Practice: one item at a time with feedback straight after each answer; never counts towards grades."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.content import catalog
from app.content.certainty import parse_level
from app.content.items import AnswerError
from app.converters import positive_number
from app.errors import not_found
from app.extensions import db
from app.learn import bp
from app.learn.routes import _own_attempt_or_404, _quiz_or_404, refuse_if_withdrawn
from app.services import events, practice, quizzes, reports, results


def _practice_or_redirect(attempt_id: int):
    """The learner's practice attempt; an assessed one or a conversation goes to its own page."""
    attempt = _own_attempt_or_404(attempt_id)
    if catalog().conversation(attempt.quiz_ref) is not None:
        return attempt, redirect(url_for(".conversation_attempt", attempt_id=attempt.id))
    if not attempt.is_practice:
        return attempt, redirect(url_for(".attempt", attempt_id=attempt.id))
    if attempt.item_refs is None:
        # A practice run of a conversation that is no longer offered: there is nothing to show.
        not_found("This conversation is no longer offered.")
    quiz = catalog().quiz(attempt.quiz_ref)
    if attempt.submitted_at is None and quiz is not None and quiz.version != attempt.content_version:
        # As with an assessed attempt: practice begun on an older version of the quiz starts again.
        quizzes.set_aside(attempt)
        db.session.commit()
        flash("This quiz was updated since you began practising it, so your practice starts again.", "info")
        return attempt, redirect(url_for(".quiz", quiz_id=quiz.id))
    return attempt, None


def origin(attempt) -> tuple[str, str]:
    """Where a practice attempt was started from, as (link text, url)."""
    ref = attempt.quiz_ref
    if ref == events.REVIEW_SET:
        return "Back to your review queue", url_for(".review")
    if (competency_id := events.competency_of_set(ref)) is not None:
        return "Back to this competency", url_for(".practise_competency", competency_id=competency_id)
    if catalog().quiz(ref) is not None:
        return "Back to the quiz", url_for(".quiz", quiz_id=ref)
    return "Back to your progress", url_for(".progress_page")


def title(attempt) -> str:
    """What a practice attempt practises, in words."""
    name = reports.activity_title(catalog(), attempt.quiz_ref)
    return name if attempt.quiz_ref == events.REVIEW_SET else f"Practice: {name}"


@bp.post("/quizzes/<quiz_id>/practice")
def practise_quiz(quiz_id: str):
    """Begin (or resume) practising a whole quiz."""
    quiz = _quiz_or_404(quiz_id)
    refuse_if_withdrawn(quiz, "practice")
    attempt = practice.start_quiz(current_user.id, quiz)
    db.session.commit()
    return redirect(url_for(".practice_attempt", attempt_id=attempt.id))


@bp.route("/practice/attempts/<int:attempt_id>", methods=["GET", "POST"])
def practice_attempt(attempt_id: int):
    """The next item of a practice attempt (answering it shows its feedback), or the summary at the end."""
    attempt, elsewhere = _practice_or_redirect(attempt_id)
    if elsewhere is not None:
        return elsewhere
    back = origin(attempt)
    if attempt.abandoned_at is not None:
        flash("That practice was set aside because its items changed. Start again from here.", "info")
        return redirect(back[1])
    if attempt.submitted_at is None and practice.finish_if_done(current_user.id, attempt, catalog()):
        # Every item left was removed from the content: the attempt ends with what was answered.
        db.session.commit()
    if attempt.submitted_at is not None:
        if request.method == "POST":
            flash("This practice is finished; here is its summary.", "info")
            return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
        return _summary(attempt, back)
    step = practice.next_step(attempt, catalog())
    if step is None:
        # Another request finished this practice a moment ago: show where it stands now.
        db.session.rollback()
        return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
    status, state = 200, {}
    if request.method == "POST":
        position = request.form.get("position", type=positive_number)
        if position != step.position:
            flash("That item was already answered. Here is the next one.", "info")
            return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
        state = _read(step)
        if not state["errors"]:
            try:
                practice.answer(current_user.id, attempt, step, state["value"], state["confidence"], catalog())
            except (practice.StaleItem, practice.Finished):
                db.session.rollback()
                flash("That item was already answered. Here is where your practice stands.", "info")
                return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
            db.session.commit()
            return redirect(url_for(".practice_feedback", attempt_id=attempt.id, position=step.position))
        status = 422
    return render_template(
        "learn/practice/item.html",
        attempt=attempt,
        step=step,
        total=len(attempt.item_refs or []),
        title=title(attempt),
        back=back,
        **state,
    ), status


def _read(step) -> dict:
    """The answer and confidence submitted for one item, with what is wrong with them."""
    errors: dict[str, str] = {}
    kept = None
    try:
        value = step.item.handler.answer_from_form(step.item, request.form)
    except AnswerError as exc:
        value, kept = None, exc.kept
        errors["answer"] = exc.message
    else:
        if value is None:
            errors["answer"] = "Answer the item before you go on."
    confidence = parse_level(request.form.get(quizzes.confidence_field(step.item)))
    if confidence is None:
        errors["confidence"] = "Say how sure you are of this answer."
    return {"value": value, "kept": kept, "confidence": confidence, "errors": errors}


@bp.get("/practice/attempts/<int:attempt_id>/items/<int:position>")
def practice_feedback(attempt_id: int, position: int):
    """The feedback on one answered practice item, with the way on."""
    attempt, elsewhere = _practice_or_redirect(attempt_id)
    if elsewhere is not None:
        return elsewhere
    response = next((r for r in attempt.responses if r.position == position), None)
    if response is None:
        not_found("That item of your practice has not been answered yet.")
    found = practice.resolve(catalog(), practice.item_key(response.quiz_ref, response.item_ref))
    item = found[1] if found and found[1].version == response.item_version else None
    return render_template(
        "learn/practice/feedback.html",
        attempt=attempt,
        response=response,
        item=item,
        total=len(attempt.item_refs or []),
        summary=quizzes.summarise(attempt),
        title=title(attempt),
        back=origin(attempt),
    )


def _summary(attempt, back):
    items, changed = {}, set()
    for response in attempt.responses:
        found = practice.resolve(catalog(), practice.item_key(response.quiz_ref, response.item_ref))
        if found and found[1].version == response.item_version:
            items[response.position] = found[1]
        elif found:
            changed.add(response.position)
    summary = quizzes.summarise(attempt)
    return render_template(
        "learn/practice/summary.html",
        attempt=attempt,
        # Named for people: a scenario by its patient, not seven "What do you say?".
        overview=results.overview(attempt, summary, items, changed),
        summary=summary,
        title=title(attempt),
        back=back,
        quiz=catalog().quiz(attempt.quiz_ref),
    )
