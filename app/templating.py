"""Jinja filters and globals shared by the templates."""

from datetime import datetime
from functools import lru_cache

from flask import Flask, current_app, g, request, session, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.content import catalog, certainty, markdown
from app.content.conversations import OUTCOMES
from app.content.items import GRADE_LABELS, field_name
from app.services import estimates

#: Signed CSRF tokens by (secret, session token). Every signed-in page carries the sign-out form, and
#: signing the session's token anew on each request cost a fiftieth of a learner page; with no time
#: limit on tokens (WTF_CSRF_TIME_LIMIT None) a token signed once stays as valid as a fresh one.
_signed_tokens: dict[tuple[str, str], str] = {}
_SIGNED_TOKENS_MAX = 10_000


def csrf_token() -> str:
    """The request's signed CSRF token (Flask-WTF's generate_csrf), signed once per session token, not per request."""
    config = current_app.config
    name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(name)
    if token is not None:
        return token
    if config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()  # a signature's time then matters: sign afresh, as Flask-WTF does
    secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    raw = session.get(name)
    token = _signed_tokens.get((secret, raw)) if raw else None
    if token is None:
        token = generate_csrf()
        if len(_signed_tokens) >= _SIGNED_TOKENS_MAX:
            _signed_tokens.clear()
        _signed_tokens[(secret, session[name])] = token
    else:
        # As generate_csrf leaves it: later calls in this request, and the no-store check, read g.
        setattr(g, name, token)
    return token


def register(app: Flask) -> None:
    """Add filters and globals to the app's Jinja environment."""

    @app.template_filter("when")
    @lru_cache(maxsize=1024)  # pages show the same few times many times (a whole submission's answers share one)
    def when(value: datetime | None) -> str:
        """A timestamp as people read it (UTC)."""
        return value.strftime("%-d %b %Y, %H:%M UTC") if value else ""

    @app.template_filter("competency_name")
    def competency_name(competency_id: str) -> str:
        """The name of a competency, falling back to its id for retired ones."""
        competency = catalog().competency(competency_id)
        return competency.name if competency else competency_id

    @app.template_filter("glossary_links")
    def glossary_links(html: str) -> Markup:
        """Lesson HTML with its glossary links pointing at this app's glossary page."""
        return Markup(markdown.link_glossary(html, plain_url("learn.glossary")))

    @app.template_filter("percent")
    def percent(value: float | None) -> str:
        """A percentage without needless decimals."""
        return "" if value is None else f"{value:.0f}%"

    plain_urls: dict[tuple[str, str], str] = {}

    @app.template_global("plain_url")
    def plain_url(endpoint: str) -> str:
        """url_for(endpoint) for a full endpoint name that takes no arguments, built once per script root.

        The layout's navigation links are on every page, twice (wide screens and phones): building
        them anew each time cost a tenth of a learner page.
        """
        key = (endpoint, request.script_root)
        url = plain_urls.get(key)
        if url is None:
            url = plain_urls[key] = url_for(endpoint)
        return url

    @app.template_global("csrf_field")
    def csrf_field() -> Markup:
        """The CSRF token as a hidden input with no id, so a page may hold many forms without repeating an id."""
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token())

    app.jinja_env.globals.update(
        grade_labels=GRADE_LABELS,
        field_name=field_name,
        outcomes=OUTCOMES,
        confidence_labels=certainty.LABELS,
        cbm_right=certainty.RIGHT,
        cbm_wrong=certainty.WRONG,
    )
    # Results as people read them: "+2.5", "72.5%", an average mark "−1.38", a stored percent under its marking.
    app.jinja_env.filters.update(
        signed=certainty.signed, share=certainty.share, average_mark=certainty.average_text, score_text=certainty.describe
    )
    # Time estimates: "about 25 minutes" for a quiz, a conversation or a course's items.
    @app.template_global("course_minutes")
    def course_minutes(items) -> int:
        """About how many minutes a course's items take in all (see app.services.estimates)."""
        return estimates.total(catalog(), items)

    app.jinja_env.globals["estimated_minutes"] = estimates.minutes
    app.jinja_env.filters["duration"] = estimates.duration
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
