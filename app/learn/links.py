"""Addresses of catalog content, built once per app and script root instead of on every page.

The progress page links every competency and module (over 40 links); `url_for` builds each
address anew, at about a tenth of a millisecond per page for every ten links. Ids come from the
catalog only, so the cache holds at most one address per piece of content.
"""

from collections.abc import Iterable

from flask import current_app, request, url_for


def by_id(endpoint: str, argument: str, ids: Iterable[str]) -> dict[str, str]:
    """`url_for(endpoint, **{argument: id})` for each id, by id (a full endpoint name)."""
    cache: dict[tuple[str, str, str], str] = current_app.extensions.setdefault("alliance.content_links", {})
    root = request.script_root
    links = {}
    for content_id in ids:
        key = (endpoint, root, content_id)
        link = cache.get(key)
        if link is None:
            link = cache[key] = url_for(endpoint, **{argument: content_id})
        links[content_id] = link
    return links
