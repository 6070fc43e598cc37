"""Find, validate and build content from folders; every problem is collected, none raised early."""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.content import markdown
from app.content.catalog import Catalog, Competency, Lesson, Module, Quiz, Reference, Section
from app.content.checker import Checker
from app.content.items import REGISTRY, Item
from app.content.problems import ContentError, Problem, display_path
from app.content.yamlfile import YamlError, load

COMPETENCIES_FILE = Path(__file__).with_name("competencies.yaml")

_COMPETENCY_TAG = re.compile(r"^<!--\s*competencies:(.*)-->\s*$")
_FENCE = re.compile(r"^(```|~~~)")
_SETEXT_H1 = re.compile(r"^=+\s*$")
# Authors leave notes for reviewers in HTML comments; they never reach the page.
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MODULE_KEYS = {"id", "title", "summary", "minutes", "order", "objectives", "lessons", "references"}
_LESSON_KEYS = {"id", "title", "file", "minutes"}
_QUIZ_KEYS = {"id", "title", "module", "pass_mark", "intro", "items"}


@dataclass
class _Found:
    """Content files discovered under the given folders."""

    module_files: list[Path] = field(default_factory=list)
    quiz_files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _discover(dirs: list[Path], explicit: frozenset[Path] = frozenset()) -> _Found:
    """Collect module.yaml and quiz files, accepting a content root, a modules or quizzes folder, or one module."""
    found = _Found()
    seen: set[Path] = set()

    def add(target: list[Path], path: Path) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            target.append(path)

    for folder in dirs:
        if not folder.is_dir():
            found.problems.append(Problem(display_path(folder), None, "no such folder"))
            continue
        before = len(found.module_files) + len(found.quiz_files)
        roots = [folder] if (folder / "modules").is_dir() or (folder / "quizzes").is_dir() else []
        for root in roots:
            for path in sorted((root / "modules").glob("*/module.yaml")):
                add(found.module_files, path)
            for path in sorted((root / "quizzes").glob("*.y*ml")):
                add(found.quiz_files, path)
        if not roots:
            if (folder / "module.yaml").is_file():
                add(found.module_files, folder / "module.yaml")
            for path in sorted(folder.glob("*/module.yaml")):
                add(found.module_files, path)
            for path in sorted(folder.glob("*.y*ml")):
                if path.name != "module.yaml":
                    add(found.quiz_files, path)
        if len(found.module_files) + len(found.quiz_files) == before and not roots and folder in explicit:
            found.problems.append(
                Problem(display_path(folder), None, "no content here: expected modules/*/module.yaml or quizzes/*.yaml")
            )
    return found


def load_competencies(path: Path = COMPETENCIES_FILE) -> tuple[Competency, ...]:
    """Read the packaged competency framework."""
    data = load(path)
    return tuple(Competency(c["id"], c["name"], c["description"]) for c in data["competencies"])


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()[:16]


def _parse_lesson_markdown(
    text: str, check: Checker, references: dict[str, Reference]
) -> tuple[str, list[Section], list[str]]:
    """Split a lesson into intro and tagged `##` sections; render each once."""
    cited: list[str] = []

    def cite(ref_id: str) -> str:
        ref = references[ref_id]
        if ref_id not in cited:
            cited.append(ref_id)
        return f'<sup class="cite"><a href="#ref-{ref.id}" aria-label="reference {ref.number}">[{ref.number}]</a></sup>'

    lines = text.splitlines()
    in_fence = False
    # (heading line number, heading text) per section; index 0 is the intro.
    chunks: list[tuple[int, str | None, list[str]]] = [(1, None, [])]
    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and line.startswith("# "):
            check.problem(
                number, "a lesson must not have a level-1 heading ('# '); the lesson title is the page heading"
            )
            continue
        if not in_fence and _SETEXT_H1.match(line) and number > 1 and lines[number - 2].strip():
            check.problem(
                number, "a lesson must not have a level-1 heading (text underlined with '='); use '## ' for sections"
            )
        if not in_fence and line.startswith("## "):
            chunks.append((number, line[3:].strip(), []))
            continue
        chunks[-1][2].append(line)
        for match in markdown.CITATION.finditer(line):
            if match.group(1) not in references:
                check.problem(number, f"cites [@{match.group(1)}], which is not in the module's references")

    def body(source: list[str]) -> str:
        text = _COMMENT.sub("", "\n".join(source))
        safe = markdown.CITATION.sub(lambda m: m.group(0) if m.group(1) in references else "", text)
        return markdown.render(safe, cite)

    intro_html = body(chunks[0][2])
    sections: list[Section] = []
    anchors: set[str] = set()
    for heading_line, title, source in chunks[1:]:
        rest = list(source)
        while rest and not rest[0].strip():
            rest.pop(0)
        tag = _COMPETENCY_TAG.match(rest[0].strip()) if rest else None
        tag_line = heading_line + 1 + (len(source) - len(rest))
        if not tag:
            check.problem(
                heading_line,
                f"section '{title}' has no competencies tag; put '<!-- competencies: id, id -->' on the line after the heading",
            )
            competencies: tuple[str, ...] = ()
        else:
            competencies = check.competency_list(tag.group(1), tag_line, f"section '{title}'")
            rest = rest[1:]
        anchor = base = markdown.slugify(title or "")
        counter = 2
        while anchor in anchors:
            anchor, counter = f"{base}-{counter}", counter + 1
        anchors.add(anchor)
        sections.append(Section(markdown.render_inline(title or ""), anchor, competencies, body(rest)))
    if not sections:
        check.problem(None, "the lesson has no sections; start each with '## Heading' and its competencies tag")
    return intro_html, sections, cited


def _load_module(path: Path, competency_ids: frozenset[str]) -> tuple[Module | None, list[Problem]]:
    """Validate one module.yaml and its lesson files; build the Module when all is well."""
    check = Checker(display_path(path), competency_ids)
    try:
        raw = load(path)
    except YamlError as exc:
        check.problem(exc.line, str(exc))
        return None, check.problems
    data = check.mapping(raw, "a module file", 1)
    if data is None:
        return None, check.problems
    check.unknown_keys(data, _MODULE_KEYS, "the module")
    module_id = check.slug(data, "id", "the module")
    title = check.text(data, "title", "the module")
    summary = check.text(data, "summary", "the module")
    minutes = check.integer(data, "minutes", "the module", 1, 10_000)
    order = data.get("order", 1000)
    if isinstance(order, bool) or not isinstance(order, int):
        check.problem(data.line_of("order"), "the module: 'order' must be a whole number")
        order = 1000
    objectives = []
    for objective in check.items(data, "objectives", "the module"):
        if not isinstance(objective, str) or not objective.strip():
            check.problem(data.line_of("objectives"), "the module: every objective must be non-empty text")
        else:
            objectives.append(objective.strip())

    references: dict[str, Reference] = {}
    raw_refs = data.get("references", [])
    if not isinstance(raw_refs, list):
        check.problem(data.line_of("references"), "the module: 'references' must be a list")
        raw_refs = []
    for raw_ref in raw_refs:
        ref = check.mapping(raw_ref, "a reference", data.line_of("references"))
        if ref is None:
            continue
        check.unknown_keys(ref, {"id", "text"}, "a reference")
        ref_id, text = check.slug(ref, "id", "a reference"), check.text(ref, "text", "a reference")
        if ref_id and ref_id in references:
            check.problem(ref.line, f"two references have the id '{ref_id}'")
        elif ref_id and text:
            references[ref_id] = Reference(ref_id, len(references) + 1, " ".join(text.split()))

    lessons: list[Lesson] = []
    lesson_bytes: list[bytes] = []
    lesson_ids: set[str] = set()
    used_refs: set[str] = set()
    for position, raw_lesson in enumerate(check.items(data, "lessons", "the module"), start=1):
        lesson_data = check.mapping(raw_lesson, f"lesson {position}", data.line_of("lessons"))
        if lesson_data is None:
            continue
        what = f"lesson {position}"
        check.unknown_keys(lesson_data, _LESSON_KEYS, what)
        lesson_id = check.slug(lesson_data, "id", what)
        lesson_title = check.text(lesson_data, "title", what)
        lesson_minutes = check.integer(lesson_data, "minutes", what, 1, 600)
        file_name = check.text(lesson_data, "file", what)
        if lesson_id in lesson_ids:
            check.problem(lesson_data.line_of("id"), f"two lessons have the id '{lesson_id}'")
        lesson_ids.add(lesson_id)
        if file_name is None:
            continue
        lesson_path = (path.parent / file_name).resolve()
        if path.parent.resolve() not in lesson_path.parents:
            check.problem(
                lesson_data.line_of("file"), f"{what}: the file '{file_name}' must be inside the module's folder"
            )
            continue
        if not lesson_path.is_file():
            check.problem(lesson_data.line_of("file"), f"{what} names the file '{file_name}', which does not exist")
            continue
        try:
            source = lesson_path.read_bytes()
            text = source.decode("utf-8")
        except UnicodeDecodeError:
            check.problems.append(Problem(display_path(lesson_path), None, "the file is not UTF-8 text"))
            continue
        lesson_check = Checker(display_path(lesson_path), competency_ids)
        intro_html, sections, cited = _parse_lesson_markdown(text, lesson_check, references)
        check.problems.extend(lesson_check.problems)
        used_refs.update(cited)
        lesson_bytes.append(source)
        if lesson_id and lesson_title and lesson_minutes and not lesson_check.problems:
            lessons.append(
                Lesson(
                    id=lesson_id,
                    module_id=module_id or "",
                    position=position,
                    title=lesson_title,
                    minutes=lesson_minutes,
                    intro_html=intro_html,
                    sections=tuple(sections),
                    cited=tuple(cited),
                    version=_digest(source),
                )
            )
    if check.problems:
        return None, check.problems
    return (
        Module(
            id=module_id,
            title=title,
            summary=" ".join(summary.split()),
            minutes=minutes,
            order=order,
            objectives=tuple(objectives),
            lessons=tuple(lessons),
            references=tuple(references.values()),
            version=_digest(path.read_bytes(), *lesson_bytes),
        ),
        [],
    )


def _load_quiz(path: Path, competency_ids: frozenset[str]) -> tuple[Quiz | None, int, list[Problem]]:
    """Validate one quiz file; return the Quiz, the line of its module key, and problems."""
    check = Checker(display_path(path), competency_ids)
    try:
        raw = load(path)
    except YamlError as exc:
        check.problem(exc.line, str(exc))
        return None, 0, check.problems
    data = check.mapping(raw, "a quiz file", 1)
    if data is None:
        return None, 0, check.problems
    check.unknown_keys(data, _QUIZ_KEYS, "the quiz")
    quiz_id = check.slug(data, "id", "the quiz")
    title = check.text(data, "title", "the quiz")
    module_id = check.slug(data, "module", "the quiz")
    pass_mark = check.integer(data, "pass_mark", "the quiz", 1, 100)
    intro = check.text(data, "intro", "the quiz", required=False) or ""
    items: list[Item] = []
    item_ids: set[str] = set()
    for position, raw_item in enumerate(check.items(data, "items", "the quiz"), start=1):
        item_data = check.mapping(raw_item, f"item {position}", data.line_of("items"))
        if item_data is None:
            continue
        item_id = check.slug(item_data, "id", f"item {position}")
        if item_id in item_ids:
            check.problem(item_data.line_of("id"), f"two items have the id '{item_id}'")
        item_ids.add(item_id)
        item_type = item_data.get("type")
        handler = REGISTRY.get(item_type) if isinstance(item_type, str) else None
        if handler is None:
            known = ", ".join(sorted(REGISTRY))
            check.problem(
                item_data.line_of("type"), f"item {position}: unknown item type {item_type!r} (known: {known})"
            )
            continue
        item = handler.parse(item_data, check, item_id or f"item-{position}")
        if item is not None:
            items.append(item)
    if check.problems:
        return None, 0, check.problems
    quiz = Quiz(
        id=quiz_id,
        title=title,
        module_id=module_id,
        pass_mark=pass_mark,
        intro_html=markdown.render(intro),
        items=tuple(items),
        version=_digest(path.read_bytes()),
    )
    return quiz, data.line_of("module"), []


def _declared_id(path: Path) -> str:
    """The id a module file declares, read leniently from a file that may be invalid."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return path.parent.name
    match = re.search(r"^id:\s*['\"]?([A-Za-z0-9-]+)", text, re.M)
    return match.group(1) if match else path.parent.name


def build_catalog(
    dirs: list[Path], competencies: tuple[Competency, ...] | None = None, explicit: frozenset[Path] = frozenset()
) -> Catalog:
    """Load and validate all content under `dirs`; raise ContentError listing every problem.

    A folder in `explicit` (named by the user) with no content in it is a problem too.
    """
    competencies = competencies or load_competencies()
    competency_ids = frozenset(c.id for c in competencies)
    found = _discover(dirs, explicit)
    problems = list(found.problems)
    modules: list[Module] = []
    module_paths: dict[str, Path] = {}
    invalid_module_ids: set[str] = set()
    for path in found.module_files:
        module, module_problems = _load_module(path, competency_ids)
        problems.extend(module_problems)
        if module is None:
            invalid_module_ids.add(_declared_id(path))
            continue
        if module.id in module_paths:
            problems.append(
                Problem(
                    display_path(path),
                    1,
                    f"the module id '{module.id}' is also used by {display_path(module_paths[module.id])}",
                )
            )
            continue
        module_paths[module.id] = path
        modules.append(module)
    quizzes: list[Quiz] = []
    quiz_paths: dict[str, Path] = {}
    for path in found.quiz_files:
        quiz, module_line, quiz_problems = _load_quiz(path, competency_ids)
        problems.extend(quiz_problems)
        if quiz is None:
            continue
        if quiz.id in quiz_paths:
            problems.append(
                Problem(
                    display_path(path),
                    1,
                    f"the quiz id '{quiz.id}' is also used by {display_path(quiz_paths[quiz.id])}",
                )
            )
            continue
        if quiz.module_id in invalid_module_ids:
            continue  # its module's own problems are reported; saying it is missing would mislead
        if quiz.module_id not in module_paths:
            problems.append(
                Problem(
                    display_path(path),
                    module_line,
                    f"the quiz pairs with the module '{quiz.module_id}', which does not exist",
                )
            )
            continue
        quiz_paths[quiz.id] = path
        quizzes.append(quiz)
    if problems:
        raise ContentError(problems)
    modules.sort(key=lambda m: (m.order, m.title))
    order = {m.id: i for i, m in enumerate(modules)}
    quizzes.sort(key=lambda q: (order[q.module_id], q.title))
    return Catalog(competencies=competencies, modules=tuple(modules), quizzes=tuple(quizzes))


def check_dirs(dirs: list[Path], explicit: frozenset[Path] = frozenset()) -> list[Problem]:
    """Every problem in the content under `dirs` (empty when it is valid)."""
    try:
        build_catalog(dirs, explicit=explicit)
    except ContentError as exc:
        return exc.problems
    return []
