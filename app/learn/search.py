"""The learner's search over lessons, the glossary, quizzes and conversations: a GET form, no script needed."""

from flask import render_template, request

from app.content import catalog
from app.converters import page_number
from app.learn import bp
from app.services import search as finder


@bp.get("/search")
def search():
    """The search form and, once words are given, ranked results with the passages that match."""
    raw = request.args.get("q", "")
    kind = request.args.get("kind", "")
    kind = kind if kind in finder.KINDS else ""
    page = request.args.get("page", 1, type=page_number)
    results = finder.search(catalog(), raw, kind or None, page) if raw.strip() else None
    return render_template(
        "learn/search.html",
        results=results,
        kind=kind,
        kinds=finder.KINDS,
        places=finder.PLACES,
        per_page=finder.PER_PAGE,
        max_query=finder.MAX_QUERY,
        max_terms=finder.MAX_TERMS,
    )
