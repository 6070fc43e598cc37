"""Content: modules and quizzes read from files once, validated, rendered; no database access."""

from functools import lru_cache
from pathlib import Path

from flask import current_app

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
    return build_catalog(list(dirs))


def load_once(dirs: list[Path]) -> Catalog:
    """Build the catalog for these folders, parsing them once per process."""
    return _load(tuple(p.resolve() for p in dirs))


def catalog() -> Catalog:
    """The running app's catalog."""
    return current_app.extensions["alliance.catalog"]
