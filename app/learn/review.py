"""The learner's spaced review queue: what is due, what is coming, and starting a review session."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from fsrs import Rating

from app.content import catalog
from app.extensions import db
from app.learn import bp
from app.models.types import utcnow
from app.services import events, practice, results, review, review_queue

#: What each kind of answer does to an item's next review, in a learner's words (never the scheduler's
#: rating names: "Again", "Hard", "Good" and "Easy" mean nothing to a student).
COMES_BACK = {
    Rating.Again: "It comes back soonest, within minutes",
    Rating.Hard: "It comes back soon, since you were not sure",
    Rating.Good: "It comes back later",
    Rating.Easy: "It comes back latest of all",
}


@bp.get("/review", endpoint="review")
def review_page():
    """Items due for review now, the coming week's counts, and how the schedule works."""
    now = utcnow()
    due = review_queue.due(current_user.id, catalog(), now)
    coming = review_queue.upcoming(current_user.id, catalog(), now)
    return render_template(
        "learn/review.html",
        due=due,
        coming=coming,
        chart=review_queue.week_chart(coming),
        session_size=current_app.config["REVIEW_SESSION_SIZE"],
        rules=[(words, COMES_BACK[rating]) for words, rating in review.RATING_RULES],
        day_label=review_queue.day_label,
        item_title=results.item_title,
    )


@bp.post("/review/sessions")
def start_review():
    """Open a practice attempt at the earliest due items (up to REVIEW_SESSION_SIZE) and go to it."""
    due = review_queue.due(current_user.id, catalog(), utcnow())
    keys = [item.key for item in due.items[: current_app.config["REVIEW_SESSION_SIZE"]]]
    if not keys:
        flash("Nothing is due for review right now. Come back when the list below says something is due.", "info")
        return redirect(url_for(".review"))
    # An open session resumes only while what it has left is still due; else the due items start afresh.
    still_due = {item.key for item in due.items}
    attempt = practice.start_set(current_user.id, events.REVIEW_SET, keys, catalog(), resume_within=still_due)
    db.session.commit()
    return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
