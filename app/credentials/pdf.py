"""The certificate as a PDF: drawn by WeasyPrint from HTML, with its verification address as a QR code (segno).

The QR code is an inline SVG in the HTML, so WeasyPrint fetches nothing (the project's renderer allows no
URL at all). When this server cannot make PDFs, the download answers with advice (see app/transcripts.py).
segno is imported when a certificate is drawn, not when the app is built.
"""

import re

from flask import Response, render_template
from markupsafe import Markup

from app.credentials import badges
from app.models import Certificate
from app.services.reports import pdf
from app.services.reports.pdf import PdfUnavailable


def qr_svg(address: str) -> Markup:
    """The address as a QR code, an SVG element that scales to the box CSS gives it."""
    import segno

    code = segno.make(address, error="m", micro=False)
    svg = code.svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code of the verification address" ', 1))


def file_name(certificate: Certificate, extension: str) -> str:
    """An ASCII file name: certificate, the course's title, the day it was issued."""
    slug = re.sub(r"[^a-z0-9]+", "-", certificate.course_title.lower()).strip("-")[:60] or "course"
    return f"certificate-{slug}-{certificate.issued_at:%Y-%m-%d}.{extension}"


def render(certificate: Certificate) -> bytes:
    """The certificate's PDF bytes (PdfUnavailable when this server cannot make PDFs)."""
    address = badges.verify_url(certificate.public_id)
    html = render_template(
        "credentials/certificate_pdf.html",
        certificate=certificate,
        competencies=badges.competency_names(certificate.competency_refs),
        seen=badges.competency_names(certificate.station_competency_refs or []),
        headings=(badges.COURSE_HEADING, badges.STATIONS_HEADING),
        verify_url=address,
        qr=qr_svg(address),
    )
    return pdf.render(html, stylesheet="certificate-pdf.css")


def response(certificate: Certificate) -> Response:
    """The PDF as an attachment never kept in shared caches; a page of advice and a 503 if PDFs cannot be made."""
    try:
        body = render(certificate)
    except PdfUnavailable:
        page = render_template("credentials/pdf_unavailable.html", certificate=certificate)
        return Response(page, status=503, mimetype="text/html")
    answer = Response(body, mimetype="application/pdf")
    answer.headers["Content-Disposition"] = f'attachment; filename="{file_name(certificate, "pdf")}"'
    answer.headers["Cache-Control"] = "private, no-store"
    return answer
