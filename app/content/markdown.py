"""Markdown to safe HTML, done once when content loads."""

import re
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["table", "replacements", "smartquotes"])

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
# A placeholder no Markdown rule touches, swapped for the link after sanitising.
_PLACEHOLDER = "\u0001cite:{}\u0001"
_PLACEHOLDER_RE = re.compile("\u0001cite:([a-z0-9-]+)\u0001")


def render(text: str, cite: Callable[[str], str] | None = None) -> str:
    """Render Markdown to sanitised HTML; `cite` turns a reference id into its link HTML."""
    source = CITATION.sub(lambda m: _PLACEHOLDER.format(m.group(1)), text)
    html = nh3.clean(
        _md.render(source),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto"},
    )
    return _PLACEHOLDER_RE.sub(lambda m: cite(m.group(1)) if cite else "", html)


def render_inline(text: str) -> str:
    """Render a one-line Markdown string (a heading) to sanitised inline HTML."""
    return nh3.clean(_md.renderInline(text), tags={"em", "strong", "code"}, attributes={})


def slugify(text: str) -> str:
    """Make a URL fragment from a heading."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "section"
