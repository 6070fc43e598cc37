"""Practise one competency: a short practice set of the quiz items that assess it."""

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from app.content import catalog
from app.errors import not_found
from app.extensions import db
from app.learn import bp
from app.services import authored_reach, events, mastery, practice, summaries


def _competency_or_404(competency_id: str):
    competency = catalog().competency(competency_id)
    if competency is None:
        not_found("There is no competency at this address. It may have been renamed or removed from the framework.")
    return competency


@bp.route("/practice/competencies/<competency_id>", methods=["GET", "POST"])
def practise_competency(competency_id: str):
    """The competency, the learner's standing on it and the set to practise; POST starts the set."""
    competency = _competency_or_404(competency_id)
    # The authored quizzes count only when the learner was given them (a course of theirs, or site-wide).
    items = mastery.practice_items(catalog(), competency.id, authored_reach.given_to(current_user.id, catalog()))
    error, status = None, 200
    if request.method == "POST":
        if items:
            latest = mastery.latest_by_item(current_user.id, {quiz_id for quiz_id, _ in items})
            keys = mastery.choose_items([practice.item_key(q, i) for q, i in items], latest)
            attempt = practice.start_set(current_user.id, events.competency_set_ref(competency.id), keys, catalog())
            db.session.commit()
            return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
        error, status = "No quiz items assess this competency yet, so there is no practice set to start.", 422
    rule = mastery.rule_from(current_app.config)
    standing = summaries.read(current_user.id, rule).standings.get(competency.id) or mastery.not_started(competency.id)
    return render_template(
        "learn/practise_competency.html",
        competency=competency,
        group=mastery.group_name(competency.group),
        standing=standing,
        rule=rule,
        set_size=min(len(items), mastery.PRACTICE_SET_SIZE),
        items_total=len(items),
        error=error,
    ), status
