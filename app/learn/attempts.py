"""Taking a quiz: the attempt's form, submitting it, and saving its answers as the learner goes.

The form is one page holding every item (the longest quiz has 23): the learner can look back at
any vignette, and nothing is lost by leaving, because answers are saved as they are given (by
static/js/autosave.js) or with the "Save and continue later" button when scripts are off.
"""

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.content import catalog
from app.errors import not_found
from app.extensions import db
from app.learn import bp
from app.learn.routes import _own_attempt_or_404, _quiz_or_404
from app.services import drafts, quizzes

_SUBMITTED = "This attempt was already submitted, so nothing more was saved."
_CARRY_ON = "Press “Resume your attempt” below: your saved answers to unchanged items come back."
_SET_ASIDE = (
    "This quiz was updated, so this page is out of date and nothing more was saved. Open the quiz and press "
    "“Resume your attempt”: your saved answers to unchanged items come back."
)


@bp.url_value_preprocessor
def _limit_saves(endpoint: str | None, values: dict | None) -> None:
    """A save holds one quiz's form: cap its body well below the app's limit, before anything reads it."""
    if endpoint == "learn.save_answers":
        request.max_content_length = drafts.MAX_BYTES


def _wants_json() -> bool:
    """Whether the page's script sent the request (it asks for JSON); a plain form asks for a page."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _form(quiz, attempt, answers, problems: bool = False, resumed: bool = False):
    """The attempt's page: every item with the answers to show, and what still needs doing."""
    return render_template(
        "learn/attempt.html",
        quiz=quiz,
        attempt=attempt,
        answers=answers,
        problems=answers.issues(quiz) if problems else [],
        resumed=resumed,
        first_open=answers.first_open(quiz),
    )


def _answers_kept_on_a_fresh_attempt(quiz, stale):
    """The quiz changed under the learner: a current attempt, shown and saved with their answers to unchanged items."""
    kept = drafts.keep_unchanged(current_user.id, quiz, stale, request.form)
    db.session.commit()
    flash(kept.message, "warning")
    return _form(quiz, kept.attempt, kept.answers), 409


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
def attempt(attempt_id: int):
    """Answer the items of an open attempt, with the answers saved so far; submitting grades and records it once."""
    attempt = _own_attempt_or_404(attempt_id)
    if catalog().conversation(attempt.quiz_ref) is not None:
        return redirect(url_for(".conversation_attempt", attempt_id=attempt.id))
    if attempt.is_practice:
        return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
    quiz = _quiz_or_404(attempt.quiz_ref)
    if attempt.submitted_at is not None:
        if request.method == "POST":
            flash("This attempt was already submitted; here are its results. Start a new attempt to try again.", "info")
        return redirect(url_for(".results", attempt_id=attempt.id))
    if request.method == "GET":
        if attempt.abandoned_at is not None or attempt.content_version != quiz.version:
            said = (
                "That attempt was set aside because the quiz was updated before you submitted it."
                if attempt.abandoned_at is not None
                else "This quiz was updated since you began this attempt."
            )
            flash(f"{said} {_CARRY_ON}", "info")
            return redirect(url_for(".quiz", quiz_id=quiz.id))
        answers = drafts.restore(attempt, quiz)
        resumed = bool(answers.given or answers.kept or answers.confidence)
        return _form(quiz, attempt, answers, resumed=resumed)
    # CSRFProtect has refused any POST without a valid token before this view runs.
    answers = quizzes.read_answers(quiz, request.form, confidence_required=drafts.needs_confidence(attempt))
    if attempt.abandoned_at is not None or attempt.content_version != quiz.version:
        # Sent to an attempt on an older version (or a refresh of the page saying so): keep the answers.
        return _answers_kept_on_a_fresh_attempt(quiz, attempt)
    if not answers.complete:
        # Nothing is lost on the way back: what was entered is saved before the page says what is missing.
        drafts.save(attempt, quiz, answers)
        db.session.commit()
        return _form(quiz, attempt, answers, problems=True), 422
    try:
        quizzes.submit_attempt(current_user.id, attempt, quiz, answers.given, answers.confidence)
    except (quizzes.AlreadySubmitted, quizzes.Abandoned):
        db.session.rollback()
        return redirect(url_for(".results", attempt_id=attempt.id))
    except quizzes.ContentChanged:
        return _answers_kept_on_a_fresh_attempt(quiz, attempt)
    db.session.commit()
    return redirect(url_for(".results", attempt_id=attempt.id))


@bp.post("/attempts/<int:attempt_id>/save")
def save_answers(attempt_id: int):
    """Save the answers entered so far without submitting: after each change (script), or "Save and continue later"."""
    as_json = _wants_json()
    attempt = quizzes.get_own_attempt(current_user.id, attempt_id)
    quiz = catalog().quiz(attempt.quiz_ref) if attempt is not None and not attempt.is_practice else None
    if quiz is None:
        # Another learner's attempt, a practice run or a conversation: no quiz form of theirs to save.
        message = "There is no quiz attempt of yours at this address, so nothing was saved."
        if as_json:
            return jsonify(saved=False, message=message), 404
        not_found(message)
    if attempt.submitted_at is not None:
        if as_json:
            return jsonify(saved=False, message=f"{_SUBMITTED} Its results are on the quiz’s page."), 409
        flash(f"{_SUBMITTED} Here are its results.", "info")
        return redirect(url_for(".results", attempt_id=attempt.id))
    answers = quizzes.read_answers(quiz, request.form, confidence_required=drafts.needs_confidence(attempt))
    if attempt.abandoned_at is not None or attempt.content_version != quiz.version:
        if as_json:
            return jsonify(saved=False, message=_SET_ASIDE), 409
        return _answers_kept_on_a_fresh_attempt(quiz, attempt)
    drafts.save(attempt, quiz, answers)
    db.session.commit()
    total = len(quiz.items)
    if as_json:
        return jsonify(saved=True, answered=answers.answered, total=total, message="Saved")
    flash(
        f"Your answers are saved: {answers.answered} of {total} answered. Come back whenever you like and press "
        "“Resume your attempt” to carry on where you left off.",
        "success",
    )
    return redirect(url_for(".quiz", quiz_id=quiz.id))
