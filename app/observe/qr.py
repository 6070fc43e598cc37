"""QR codes as inline SVG (segno), so a patient can open their link from a phone held to the screen."""

from markupsafe import Markup


def svg(data: str) -> Markup:
    """The QR code of `data` as an SVG element with a title, safe to place in a page."""
    import segno  # lazily: only the patient-link page draws one

    code = segno.make(data, error="m")
    text = code.svg_inline(scale=5, border=4, title="QR code of the patient's link", svgclass="qr-code", omitsize=False)
    return Markup(text)  # noqa: S704 - segno writes the SVG from the encoded modules; the title is ours
