"""Printable records as PDF files, drawn from their HTML by WeasyPrint.

WeasyPrint needs Pango from the operating system (Debian: libpango-1.0-0, libpangoft2-1.0-0) and a font.
It is imported only when a PDF is asked for, so a server without Pango still starts and serves every
page; the PDF link then answers with advice to print the page instead (PdfUnavailable).
"""

import logging
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)


class PdfUnavailable(RuntimeError):
    """PDFs cannot be made on this server (WeasyPrint or the system libraries it needs are missing)."""


def render(html: str, stylesheet: str = "transcript-pdf.css") -> bytes:
    """The HTML document as PDF bytes, styled by the named file of the static folder."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the package is there but Pango is not
        log.warning("PDFs are unavailable: %s", exc)
        raise PdfUnavailable(str(exc)) from exc
    css = Path(current_app.static_folder) / stylesheet
    # Nothing is fetched while drawing: the stylesheet is given whole and records carry no images, so no
    # address in a name or title can make the server open a file or a URL.
    no_fetching = weasyprint.urls.URLFetcher(allowed_protocols=())
    document = weasyprint.HTML(string=html, url_fetcher=no_fetching)
    return document.write_pdf(
        stylesheets=[weasyprint.CSS(string=css.read_text(encoding="utf-8"), url_fetcher=no_fetching)]
    )
