"""Content: modules and quizzes read from files once, validated, rendered; no database access."""

from functools import lru_cache
from pathlib import Path

from flask import current_app, request

from app.content import cache, live
from app.content.catalog import Catalog, Competency, Lesson, Module, Quiz
from app.content.loader import build_catalog, check_dirs
from app.content.problems import ContentError, Problem
from app.paths import shipped

__all__ = [
    "Catalog",
    "Competency",
    "ContentError",
    "Lesson",
    "Module",
    "Problem",
    "Quiz",
    "catalog",
    "check_dirs",
    "content_dirs",
    "load_once",
]


def content_dirs(extra: list[Path] | None = None) -> list[Path]:
    """The shipped content folders followed by an institution's extra ones."""
    return [shipped("modules"), shipped("quizzes"), *(extra or [])]


@lru_cache(maxsize=8)
def _load(dirs: tuple[Path, ...]) -> Catalog:
    return cache.load(list(dirs), _cache_folder[0], build_catalog)


#: Where the parsed catalog is kept between starts (app.content.cache), set by the first `load_once` that names one.
_cache_folder: list[Path | None] = [None]


def load_once(dirs: list[Path], cache_folder: Path | None = None) -> Catalog:
    """Build the catalog for these folders, parsing them once per process (or not at all, from `cache_folder`)."""
    if cache_folder is not None and _cache_folder[0] is None:
        _cache_folder[0] = cache_folder
    return _load(tuple(p.resolve() for p in dirs))


def catalog() -> Catalog:
    """The running app's catalog for this request: shipped content plus published authored quizzes (app/content/live.py)."""
    try:
        return request.environ[live.ENVIRON_KEY]  # pages call this dozens of times: the held catalog, at once
    except (KeyError, RuntimeError):
        return live.request_catalog(current_app._get_current_object())
