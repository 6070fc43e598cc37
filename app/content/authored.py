"""Quizzes written in the browser, read as quiz files: YAML out, the loader's own checks in, problems at fields.

An authored quiz is kept as the mapping a quiz file's YAML parses to. To check or build it, the
mapping is written out as YAML and read back by the same function that reads `quizzes/*.yaml`
(`quiz_reader.load_quiz`), then put through the same item-quality rules; so a draft that passes
here passes `alliance content check` as a file, and the quiz it builds is the same object.
"""

import re
import tempfile
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from app.content import quality
from app.content.authored_ids import is_authored
from app.content.catalog import Catalog, Quiz
from app.content.conversations import Conversation
from app.content.observations import ObservationForm
from app.content.problems import Problem
from app.content.quiz_reader import load_quiz
from app.content.yamlfile import Mapping, YamlError, load

#: The keys of a quiz file in the order a person writes them (and the export keeps).
_ORDER = (
    "id", "type", "title", "module", "consultation", "minutes", "pass_mark", "marking", "intro", "items", "vignette",
    "narration", "patient", "setting", "says", "counters", "label", "start", "min", "max", "nodes", "endings",
    "prompt", "steps", "pairs", "distractors", "options", "replies", "text", "answer", "correct", "grade", "outcome",
    "competencies", "feedback", "debrief", "reachable_without_harm", "effects", "next", "if", "to", "critical",
    "scale", "anchors", "source", "about", "references",
)  # fmt: skip
#: The kinds of content an author writes here (a file's `type`; a quiz file may leave it out).
KINDS = ("quiz", "conversation", "observation")
_QUOTED = re.compile(r"'([a-z_]+)'")


@cache
def _dumper():
    """PyYAML and its dumper here (imported when content is first written out, like the reader)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        """Block style, long lines kept whole, multi-line text as literal blocks."""

    Dumper.add_representer(str, _text)
    return yaml, Dumper


def _text(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _ordered(value: Any) -> Any:
    """The value with every mapping's keys in a person's writing order (unknown keys last, as they came)."""
    if isinstance(value, dict):
        rank = {key: n for n, key in enumerate(_ORDER)}
        keys = sorted(value, key=lambda k: rank.get(k, len(rank)))
        return {k: _ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def to_yaml(data: dict) -> str:
    """The quiz as the text of a quiz file."""
    yaml, dumper = _dumper()
    return yaml.dump(_ordered(data), Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


@dataclass
class Checked:
    """A quiz mapping as the content checker sees it: the built quiz (None with errors), and every problem."""

    quiz: Quiz | Conversation | ObservationForm | None
    problems: list[Problem]
    #: Each problem's field, as a dotted path into the mapping ("items.2.options.1.feedback"; "" for the quiz).
    fields: dict[int, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """The problems that stop publishing (warnings left out)."""
        return [p for p in self.problems if not p.is_warning]

    def at(self, path: str) -> list[Problem]:
        """The problems found at this field exactly."""
        return [p for n, p in enumerate(self.problems) if self.fields.get(n) == path]

    def under(self, prefix: str) -> list[tuple[str, Problem]]:
        """(field, problem) for every problem at this field or inside it."""
        return [
            (self.fields.get(n, ""), p)
            for n, p in enumerate(self.problems)
            if self.fields.get(n, "") == prefix or self.fields.get(n, "").startswith(prefix + ".")
        ]


def _where(parsed: Any, path: str, lines: dict[int, list[tuple[str, bool]]]) -> None:
    """Note the field path each line of the parsed YAML holds (a mapping's own line, then its keys')."""
    if isinstance(parsed, Mapping):
        lines.setdefault(parsed.line, []).append((path, True))
        for key, value in parsed.items():
            child = f"{path}.{key}" if path else key
            lines.setdefault(parsed.key_lines.get(key, parsed.line), []).append((child, False))
            _where(value, child, lines)
    elif isinstance(parsed, list):
        for n, value in enumerate(parsed):
            _where(value, f"{path}.{n}" if path else str(n), lines)


def _field(problem: Problem, lines: dict[int, list[tuple[str, bool]]]) -> str:
    """The field a problem is about: the key its message names at its line, else the line's own field."""
    if problem.line is None or problem.line not in lines:
        return ""
    here = lines[problem.line]
    named = set(_QUOTED.findall(problem.message)) & set(_ORDER)
    if "no feedback" in problem.message:
        named.add("feedback")
    for path, _is_mapping in here:
        if path.rsplit(".", 1)[-1] in named and not _is_mapping:
            return path
    mappings = [path for path, is_mapping in here if is_mapping]
    keys = [path for path, is_mapping in here if not is_mapping]
    if mappings and named:
        base = max(mappings, key=len)
        return f"{base}.{sorted(named)[0]}" if base else sorted(named)[0]
    if mappings:
        return max(mappings, key=len)
    return keys[-1] if keys else ""


def check(data: dict, catalog: Catalog, expected_id: str, file_name: str | None = None) -> Checked:
    """Check a quiz mapping exactly as `alliance content check` checks a quiz file, in the context of `catalog`.

    On top of the file checks: the id must be `expected_id` (an authored one), the module must exist,
    and the item-quality rules run on the quiz's own options.
    """
    text = to_yaml(data)
    name = file_name or f"{expected_id}.yaml"
    with tempfile.TemporaryDirectory(prefix="alliance-authored-") as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        competency_ids = frozenset(c.id for c in catalog.competencies)
        quiz, _module_line, found, bank = load_quiz(path, competency_ids)
        try:
            parsed = load(path)
        except YamlError:
            parsed = None
    problems = [Problem(name, p.line, p.message, p.is_warning) for p in found]
    top = parsed if isinstance(parsed, Mapping) else None
    line_of = top.line_of if top is not None else (lambda _key: None)
    if data.get("type", "quiz") not in KINDS:
        problems.append(
            Problem(name, line_of("type"), "only quizzes, conversations and observation forms can be written here")
        )
    if data.get("id") != expected_id:
        problems.append(Problem(name, line_of("id"), f"the {kind_of(data)}: 'id' must stay '{expected_id}'"))
    if not is_authored(expected_id):
        problems.append(Problem(name, line_of("id"), f"'{expected_id}' is not an id for authored content"))
    module_id = data.get("module")
    if isinstance(module_id, str) and module_id and catalog.module(module_id) is None:
        problems.append(
            Problem(
                name,
                line_of("module"),
                f"the {kind_of(data)} pairs with the module '{module_id}', which does not exist",
            )
        )
    if bank is not None:
        problems.extend(
            Problem(name, p.line, p.message, p.is_warning) for p in quality.enforced(quality.review([bank]))
        )
    lines: dict[int, list[tuple[str, bool]]] = {}
    _where(parsed, "", lines)
    fields = {n: _field(p, lines) for n, p in enumerate(problems)}
    is_valid = quiz is not None and not any(not p.is_warning for p in problems)
    built = quiz if isinstance(quiz, Quiz | Conversation | ObservationForm) else None
    return Checked(built if is_valid else None, problems, fields)


def file_problems(text: str, catalog: Catalog, expected_id: str) -> list[Problem]:
    """The problems `alliance content check` finds in a file's own text, at its own lines (its id aside: the
    draft it is imported into keeps its own)."""
    with tempfile.TemporaryDirectory(prefix="alliance-imported-") as folder:
        path = Path(folder) / f"{expected_id}.yaml"
        path.write_text(text, encoding="utf-8")
        _built, _line, found, _bank = load_quiz(path, frozenset(c.id for c in catalog.competencies))
    return [p for p in found if "'id'" not in p.message]


def kind_of(data: dict) -> str:
    """'conversation' or 'observation form' for those mappings, else 'quiz' (a quiz file may leave its type out)."""
    return {"conversation": "conversation", "observation": "observation form"}.get(data.get("type"), "quiz")


def build(
    content: dict, catalog: Catalog, quiz_id: str, content_version: str
) -> Quiz | Conversation | ObservationForm | None:
    """The catalog's quiz for one published version (None if it no longer passes, say a competency was retired)."""
    checked = check(content, catalog, quiz_id)
    if checked.quiz is None:
        return None
    # The version published is the version: attempts recorded it, whatever a later YAML library writes.
    return replace(checked.quiz, version=content_version)


def combine(
    shipped: Catalog, authored: list[Quiz | Conversation | ObservationForm], withdrawn: frozenset[str] = frozenset()
) -> Catalog:
    """The shipped catalog with the published authored quizzes, conversations and observation forms after its own.

    `withdrawn` names those kept only for attempts already taken (the catalog's `withdrawn`).
    """
    if not authored:
        return shipped
    known = (
        {q.id for q in shipped.quizzes} | {c.id for c in shipped.conversations} | {o.id for o in shipped.observations}
    )
    extra = sorted((q for q in authored if q.id not in known), key=lambda q: (q.title.casefold(), q.id))
    quizzes = tuple(q for q in extra if isinstance(q, Quiz))
    talks = tuple(c for c in extra if isinstance(c, Conversation))
    forms = tuple(o for o in extra if isinstance(o, ObservationForm))
    return replace(
        shipped,
        quizzes=shipped.quizzes + quizzes,
        conversations=shipped.conversations + talks,
        observations=shipped.observations + forms,
        withdrawn=withdrawn & {q.id for q in extra},
    )


def version_of(data: dict, catalog: Catalog, quiz_id: str) -> str | None:
    """The content version the loader gives this quiz mapping (a hash of its YAML), or None if it is invalid."""
    checked = check(data, catalog, quiz_id)
    return checked.quiz.version if checked.quiz is not None else None
