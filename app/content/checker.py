"""Field-level checks shared by every content file, collecting problems instead of raising."""

import re
from typing import Any

from app.content.problems import Problem
from app.content.yamlfile import Mapping

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_ID_LIKE = re.compile(r"\b[a-z]+(?:\.[a-z-]+)+\b")
_LESSON_ONLY = re.compile(r"\[\[[^\]]*\]\]|\[@[^\]]*\]")


class Checker:
    """Reads fields of one file's mappings, noting a problem for each missing or wrong value."""

    def __init__(self, file: str, competency_ids: frozenset[str]):
        self.file = file
        self.competency_ids = competency_ids
        self.problems: list[Problem] = []

    def problem(self, line: int | None, message: str) -> None:
        """Record a problem at `line` of this file."""
        self.problems.append(Problem(self.file, line, message))

    def mapping(self, value: Any, what: str, line: int | None) -> Mapping | None:
        """Return `value` if it is a mapping, else note that `what` should be one."""
        if isinstance(value, Mapping):
            return value
        self.problem(line, f"{what} must be a mapping of keys to values")
        return None

    def unknown_keys(self, data: Mapping, allowed: set[str], what: str) -> None:
        """Note every key of `data` that `what` does not have (usually a typo)."""
        for key in data:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.problem(data.line_of(key), f"{what} has an unknown key '{key}' (expected: {expected})")

    def text(self, data: Mapping, key: str, what: str, required: bool = True) -> str | None:
        """A non-empty string field."""
        value = data.get(key)
        if value is None:
            if required:
                self.problem(data.line, f"{what} is missing '{key}'")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.problem(data.line_of(key), f"{what}: '{key}' must be non-empty text")
            return None
        return value.strip()

    def slug(self, data: Mapping, key: str, what: str) -> str | None:
        """An id field: lower-case letters, digits and hyphens."""
        value = self.text(data, key, what)
        if value is not None and not SLUG.match(value):
            self.problem(
                data.line_of(key),
                f"{what}: '{key}' is '{value}'; use lower-case letters, digits and single hyphens, starting with a letter",
            )
            return None
        return value

    def integer(self, data: Mapping, key: str, what: str, low: int, high: int) -> int | None:
        """A whole number between `low` and `high`."""
        value = data.get(key)
        if value is None:
            self.problem(data.line, f"{what} is missing '{key}'")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(
                data.line_of(key), f"{what}: '{key}' must be a whole number from {low} to {high}, not {value!r}"
            )
            return None
        return value

    def items(self, data: Mapping, key: str, what: str, low: int = 1, high: int | None = None) -> list:
        """A list field with `low` to `high` entries."""
        value = data.get(key)
        if value is None:
            self.problem(data.line, f"{what} is missing '{key}'")
            return []
        if not isinstance(value, list):
            self.problem(data.line_of(key), f"{what}: '{key}' must be a list")
            return []
        if len(value) < low or (high is not None and len(value) > high):
            span = f"{low} to {high}" if high is not None else f"at least {low}"
            self.problem(data.line_of(key), f"{what}: '{key}' has {len(value)} entries; it needs {span}")
        return value

    def competencies(self, data: Mapping, key: str, what: str) -> tuple[str, ...]:
        """A non-empty list of known competency ids."""
        values = self.items(data, key, what)
        line = data.line_of(key)
        known = []
        for value in values:
            if not isinstance(value, str):
                self.problem(line, f"{what}: competency ids must be text, not {value!r}")
            elif value not in self.competency_ids:
                self.problem(line, f"{what}: unknown competency id '{value}'")
            elif value not in known:
                known.append(value)
        return tuple(known)

    def competency_list(self, raw: str, line: int, what: str) -> tuple[str, ...]:
        """Competency ids written as a comma-separated list in prose files."""
        ids = [part.strip() for part in raw.split(",") if part.strip()]
        if not ids:
            self.problem(line, f"{what}: the competencies tag names no competency")
        known = []
        for value in ids:
            if value not in self.competency_ids:
                self.problem(line, f"{what}: unknown competency id '{value}'")
            elif value not in known:
                known.append(value)
        return tuple(known)

    def in_words(self, text: str | None, line: int | None, what: str) -> None:
        """Note a competency id, a glossary link or a citation in learner-facing text outside lessons.

        Learners read competencies by name; `[[term]]` and `[@ref]` work only in lessons, which have
        a glossary page and a reference list to point at.
        """
        if not text:
            return
        marker = _LESSON_ONLY.search(text)
        if marker:
            self.problem(
                line, f"{what} uses {marker.group(0)}, which works only in lessons; write the term or study in words"
            )
        for match in _ID_LIKE.finditer(text):
            if match.group(0) in self.competency_ids:
                self.problem(
                    line,
                    f"{what} writes the competency id '{match.group(0)}'; name the competency in words "
                    "(its tags already link it)",
                )
                return

    def text_list(self, data: Mapping, key: str, what: str, low: int = 1, high: int | None = None) -> list[str]:
        """A list of non-empty strings with `low` to `high` entries."""
        texts = []
        for value in self.items(data, key, what, low, high):
            if isinstance(value, str) and value.strip():
                texts.append(" ".join(value.split()))
            else:
                self.problem(data.line_of(key), f"{what}: every entry of '{key}' must be non-empty text, not {value!r}")
        return texts

    def mappings(
        self, data: Mapping, key: str, what: str, low: int = 1, high: int | None = None, required: bool = True
    ) -> list[tuple[int, Mapping]]:
        """The entries of a list of mappings, numbered from 1; each non-mapping entry is a problem."""
        if not required and key not in data:
            return []
        found = []
        for number, value in enumerate(self.items(data, key, what, low, high), start=1):
            entry = self.mapping(value, f"{what}: entry {number} of '{key}'", data.line_of(key))
            if entry is not None:
                found.append((number, entry))
        return found
