"""The learner's own transcript: all their marked work, as a page made for printing and as a PDF."""

from flask import render_template, url_for
from flask_login import current_user

from app.content import catalog
from app.learn import bp
from app.services import reports
from app.transcripts import transcript_pdf


@bp.get("/transcript")
def transcript():
    """Every module, quiz and conversation the learner has marked work on, with scores and dates."""
    found = reports.transcript.for_learner(catalog(), current_user)
    return render_template("transcript/page.html", cohort=None, transcript=found)


@bp.get("/transcript.pdf")
def transcript_download():
    """The learner's transcript as a PDF file."""
    found = reports.transcript.for_learner(catalog(), current_user)
    return transcript_pdf(found, url_for(".transcript"))
