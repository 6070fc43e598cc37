"""Transcript responses shared by the educator's view (app.teach.reports) and the learner's (app.learn.transcript):
the PDF download, or a page of advice when this server cannot draw PDFs."""

from flask import Response, render_template

from app.services import reports
from app.services.reports.pdf import PdfUnavailable


def pdf_name(transcript) -> str:
    """An ASCII file name: transcript, the learner's name, the day it was made."""
    base = reports.filename("transcript", transcript.name, transcript.made_at.strftime("%Y-%m-%d"))
    return base.removesuffix(".csv") + ".pdf"


def transcript_pdf(transcript, page_url: str) -> Response:
    """The transcript as a PDF attachment, never kept in shared caches; advice and a 503 if PDFs cannot be made."""
    html = render_template("transcript/pdf.html", transcript=transcript)
    try:
        body = reports.pdf.render(html)
    except PdfUnavailable:
        page = render_template("transcript/pdf_unavailable.html", page_url=page_url, transcript=transcript)
        return Response(page, status=503, mimetype="text/html")
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf_name(transcript)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
