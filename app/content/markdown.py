"""Markdown to safe HTML, done once when content loads.

markdown-it and nh3 are imported on the first render, not with this module: a start that reads the
parsed catalog from its cache (app/content/cache.py) renders nothing, and its workers stay 2.5 MB smaller.
"""

import functools
import re
from collections.abc import Callable
from html import escape as html_escape


@functools.cache
def _md():
    """The Markdown parser (CommonMark, tables, typographic replacements and quotes), made on first use."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
        ["table", "replacements", "smartquotes"]
    )


_ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "dd",
    "dl",
    "dt",
    "em",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title", "class"}, "sup": {"class"}, "th": {"scope"}, "ol": {"start"}}

CITATION = re.compile(r"\[@([a-z][a-z0-9-]*)\]")
#: `[[term-id]]` or `[[shown text|term-id]]`: a link to the term's glossary entry.
TERM = re.compile(r"\[\[(?:([^\[\]|]+)\|)?([a-z][a-z0-9-]*)\]\]")
#: `{{chart: id}}` on a line of its own places a chart.
CHART = re.compile(r"^\{\{\s*chart:\s*([a-z][a-z0-9-]*)\s*\}\}\s*$")
#: Glossary links point here; the page swaps it for the glossary's URL (see `link_glossary`),
#: so content rendered once at start stays right wherever the app is mounted.
GLOSSARY_HREF = "\u0002glossary\u0002"
TERM_NAME = "\u0002term:{}\u0002"
_TERM_NAME_RE = re.compile("\u0002term:([a-z0-9-]+)\u0002")
# Placeholders no Markdown rule touches, swapped for HTML after sanitising.
_PLACEHOLDER = "\u0001{}:{}\u0001"
_PLACEHOLDER_RE = re.compile("(?:<p>)?\u0001(cite|term|chart):([^\u0001]*)\u0001(?:</p>)?")


def render(
    text: str,
    cite: Callable[[str], str] | None = None,
    terms: list[tuple[str, str]] | None = None,
    chart: Callable[[str], str] | None = None,
) -> str:
    """Render Markdown to sanitised HTML.

    `cite` turns a reference id into its link HTML; `terms` collects each glossary link as
    (shown text, term id), in order; `chart` turns a chart id into its figure HTML.
    """
    found_terms = terms if terms is not None else []

    def term(match: re.Match) -> str:
        found_terms.append((match.group(1) or "", match.group(2)))
        return _PLACEHOLDER.format("term", len(found_terms) - 1)

    lines = [CHART.sub(lambda m: _PLACEHOLDER.format("chart", m.group(1)), line) for line in text.split("\n")]
    source = CITATION.sub(lambda m: _PLACEHOLDER.format("cite", m.group(1)), "\n".join(lines))
    source = TERM.sub(term, source)
    import nh3

    html = nh3.clean(
        _md().render(source),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto"},
    )

    def swap(match: re.Match) -> str:
        kind, payload = match.group(1), match.group(2)
        whole = match.group(0)
        if kind == "chart":
            # A chart is a block of its own: it replaces the paragraph that held the placeholder.
            return chart(payload) if chart else ""
        before = "<p>" if whole.startswith("<p>") else ""
        after = "</p>" if whole.endswith("</p>") else ""
        if kind == "cite":
            inner = cite(payload) if cite else ""
        else:
            shown, term_id = found_terms[int(payload)]
            inner = term_link(term_id, shown)
        return before + inner + after

    # A table's empty corner cell is no header of anything: as a header cell it confuses screen readers.
    return _PLACEHOLDER_RE.sub(swap, html).replace("<th></th>", "<td></td>")


def term_link(term_id: str, shown: str) -> str:
    """The HTML of a link to a glossary entry; `shown` is plain text (escaped here)."""
    # With no text of its own, the link shows the term's name, known once every module is loaded.
    label = html_escape(shown) if shown else TERM_NAME.format(term_id)
    return f'<a class="term" href="{GLOSSARY_HREF}#term-{term_id}">{label}</a>'


def name_terms(html: str, names: dict[str, str]) -> str:
    """Fill in the names of glossary links written without text of their own."""
    return _TERM_NAME_RE.sub(lambda m: html_escape(names.get(m.group(1), m.group(1))), html)


def link_glossary(html: str, glossary_url: str) -> str:
    """Point a rendered page's glossary links at the glossary's URL."""
    return html.replace(GLOSSARY_HREF, glossary_url)


def render_inline(text: str) -> str:
    """Render a one-line Markdown string (a heading) to sanitised inline HTML."""
    import nh3

    return nh3.clean(_md().renderInline(text), tags={"em", "strong", "code"}, attributes={})


def slugify(text: str) -> str:
    """Make a URL fragment from a heading."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "section"
