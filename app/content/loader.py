"""Find, validate and build content from folders; every problem is collected, none raised early."""

import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.content import charts, conversations, markdown, observations, quality
from app.content.authored_ids import is_authored
from app.content.catalog import Catalog, Competency, Figure, GlossaryTerm, Lesson, Module, Quiz, Reference, Section
from app.content.checker import Checker
from app.content.conversations import Conversation
from app.content.items import REGISTRY, Item
from app.content.observations import ObservationForm
from app.content.problems import ContentError, Problem, display_path
from app.content.yamlfile import Mapping, YamlError, load
from app.paths import shipped

COMPETENCIES_FILE = Path(__file__).with_name("competencies.yaml")

_COMPETENCY_TAG = re.compile(r"^<!--\s*competencies:(.*)-->\s*$")
_FENCE = re.compile(r"^(```|~~~)")
_SETEXT_H1 = re.compile(r"^=+\s*$")
# Authors leave notes for reviewers in HTML comments; they never reach the page.
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MODULE_KEYS = {
    "id",
    "title",
    "summary",
    "minutes",
    "order",
    "objectives",
    "lessons",
    "references",
    "glossary",
    "figures",
    "charts",
}
_LESSON_KEYS = {"id", "title", "file", "minutes", "key_points"}
_QUIZ_KEYS = {"id", "type", "title", "module", "pass_mark", "marking", "intro", "items"}
#: How a quiz may be marked: by its items' points, or by certainty-based marking.
_MARKINGS = ("standard", "certainty")


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


@dataclass
class _LessonText:
    """A lesson's Markdown rendered: intro, sections, and what it cites, links and places."""

    intro_html: str
    sections: list[Section]
    cited: list[str]
    terms: list[tuple[int, str]]
    charts: list[str]


def _parse_lesson_markdown(
    text: str, check: Checker, references: dict[str, Reference], chart_html: dict[str, str]
) -> _LessonText:
    """Split a lesson into intro and tagged `##` sections; render each once."""
    cited: list[str] = []
    terms: list[tuple[int, str]] = []
    placed: list[str] = []

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
        if not in_fence:
            terms.extend((number, match.group(2)) for match in markdown.TERM.finditer(line))
            chart_match = markdown.CHART.match(line)
            if chart_match:
                if chart_match.group(1) in placed:
                    check.problem(
                        number, f"places the chart '{chart_match.group(1)}' a second time; place each chart once"
                    )
                if chart_match.group(1) not in chart_html:
                    check.problem(
                        number, f"places the chart '{chart_match.group(1)}', which the module does not define"
                    )
                placed.append(chart_match.group(1))

    def body(source: list[str]) -> str:
        text = _COMMENT.sub("", "\n".join(source))
        safe = markdown.CITATION.sub(lambda m: m.group(0) if m.group(1) in references else "", text)
        return markdown.render(safe, cite, chart=lambda chart_id: chart_html.get(chart_id, ""))

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
    return _LessonText(intro_html, sections, cited, terms, placed)


def _glossary(data: Mapping, check: Checker, module_id: str) -> list[GlossaryTerm]:
    """The terms a module introduces."""
    terms: list[GlossaryTerm] = []
    for number, entry in check.mappings(data, "glossary", "the module", required=False):
        what = f"glossary entry {number}"
        check.unknown_keys(entry, {"id", "term", "definition"}, what)
        term_id = check.slug(entry, "id", what)
        term, definition = check.text(entry, "term", what), check.text(entry, "definition", what)
        check.in_words(definition, entry.line_of("definition"), f"{what}: the definition")
        if term_id in {t.id for t in terms}:
            check.problem(entry.line_of("id"), f"two glossary entries have the id '{term_id}'")
        elif term_id and term and definition:
            terms.append(GlossaryTerm(term_id, " ".join(term.split()), markdown.render(definition), module_id))
    return terms


def _charts(data: Mapping, check: Checker, references: dict[str, Reference]) -> list[charts.Chart]:
    """The charts a module defines, each drawn from one study's figures."""
    found: list[charts.Chart] = []
    for number, entry in check.mappings(data, "charts", "the module", required=False):
        what = f"chart {number}"
        before = len(check.problems)
        check.unknown_keys(entry, {"id", "title", "description", "axis", "study", "bars"}, what)
        chart_id = check.slug(entry, "id", what)
        title, description = check.text(entry, "title", what), check.text(entry, "description", what)
        axis, study = check.text(entry, "axis", what), check.slug(entry, "study", what)
        if study and study not in references:
            check.problem(entry.line_of("study"), f"{what}: the study '{study}' is not in the module's references")
        if chart_id in {c.id for c in found}:
            check.problem(entry.line_of("id"), f"two charts have the id '{chart_id}'")
        bars = []
        for bar_number, raw_bar in check.mappings(entry, "bars", what, low=2, high=12):
            bar_what = f"{what}, bar {bar_number}"
            check.unknown_keys(raw_bar, {"label", "value", "note"}, bar_what)
            label = check.text(raw_bar, "label", bar_what)
            value_text = check.text(raw_bar, "value", bar_what)
            note = check.text(raw_bar, "note", bar_what, required=False) or ""
            if label and len(label) > 70:
                check.problem(
                    raw_bar.line_of("label"), f"{bar_what}: the label is {len(label)} characters; keep it to 70"
                )
            try:
                value = float(value_text) if value_text else None
                if value is not None and not math.isfinite(value):
                    raise ValueError
            except ValueError:
                check.problem(raw_bar.line_of("value"), f"{bar_what}: 'value' must be a number, not {value_text!r}")
                value = None
            if label and value_text and value is not None:
                bars.append(charts.Bar(" ".join(label.split()), value_text, value, " ".join(note.split())))
        if len(check.problems) == before:
            found.append(charts.Chart(chart_id, title, " ".join(description.split()), axis, study, tuple(bars)))
    return found


def _figures(data: Mapping, check: Checker, references: dict[str, Reference], module_id: str) -> list[Figure]:
    """The figures a module quotes, as listed for reviewers."""
    figures: list[Figure] = []
    for number, entry in check.mappings(data, "figures", "the module", required=False):
        what = f"figure {number}"
        check.unknown_keys(entry, {"value", "measures", "study"}, what)
        value, measures = check.text(entry, "value", what), check.text(entry, "measures", what)
        study = check.slug(entry, "study", what)
        if study and study not in references:
            check.problem(entry.line_of("study"), f"{what}: the study '{study}' is not in the module's references")
        elif value and measures and study:
            figures.append(Figure(value, " ".join(measures.split()), study, module_id))
    return figures


def _load_module(
    path: Path, competency_ids: frozenset[str]
) -> tuple[Module | None, list[Problem], list[tuple[str, int, str]]]:
    """Validate one module.yaml and its lesson files; build the Module when all is well."""
    check = Checker(display_path(path), competency_ids)
    try:
        raw = load(path)
    except YamlError as exc:
        check.problem(exc.line, str(exc))
        return None, check.problems, []
    data = check.mapping(raw, "a module file", 1)
    if data is None:
        return None, check.problems, []
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

    glossary = _glossary(data, check, module_id or "")
    module_charts = _charts(data, check, references)
    chart_html = {
        chart.id: charts.render(
            chart,
            f'Source: <a href="#ref-{chart.study}">[{references[chart.study].number}]</a>.',
        )
        for chart in module_charts
    }
    chart_study = {chart.id: chart.study for chart in module_charts}
    figures = _figures(data, check, references, module_id or "")
    lessons: list[Lesson] = []
    lesson_texts: list[str] = []
    term_uses: list[tuple[str, int, str]] = []
    placed_charts: set[str] = set()
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
        key_points = check.text_list(lesson_data, "key_points", what, low=2, high=6)
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
        parsed = _parse_lesson_markdown(text, lesson_check, references, chart_html)
        check.problems.extend(lesson_check.problems)
        cited = parsed.cited + [chart_study[c] for c in parsed.charts if c in chart_study]
        cited = list(dict.fromkeys(cited))
        used_refs.update(cited)
        lesson_texts.append(text)
        term_uses.extend((lesson_check.file, line, term_id) for line, term_id in parsed.terms)
        placed_charts.update(parsed.charts)
        lesson_bytes.append(source)
        if lesson_id and lesson_title and lesson_minutes and not lesson_check.problems:
            lessons.append(
                Lesson(
                    id=lesson_id,
                    module_id=module_id or "",
                    position=position,
                    title=lesson_title,
                    minutes=lesson_minutes,
                    intro_html=parsed.intro_html,
                    sections=tuple(parsed.sections),
                    cited=tuple(cited),
                    key_points=tuple(markdown.render_inline(point) for point in key_points),
                    terms=tuple(dict.fromkeys(term_id for _, term_id in parsed.terms)),
                    version=_digest(source),
                )
            )
    linked = {term_id for _, _, term_id in term_uses}
    for term in glossary:
        if term.id not in linked:
            check.problem(
                data.line_of("glossary"),
                f"the glossary term '{term.id}' is linked from none of the module's lessons; "
                f"link it where it is introduced with [[{term.id}]]",
            )
    for chart in module_charts:
        if chart.id not in placed_charts:
            check.problem(
                data.line_of("charts"),
                f"the chart '{chart.id}' is placed in none of the lessons; put {{{{chart: {chart.id}}}}} on a line of its own",
            )
    quoted = "\n".join(lesson_texts) + "\n" + "\n".join(b.value_text for c in module_charts for b in c.bars)
    for figure in figures:
        if figure.value not in quoted:
            check.problem(
                data.line_of("figures"),
                f"the figure '{figure.value}' ({figure.measures}) appears in none of the module's lessons or charts",
            )
    if check.problems:
        return None, check.problems, term_uses
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
            glossary=tuple(glossary),
            figures=tuple(figures),
            charts=tuple(module_charts),
            version=_digest(path.read_bytes(), *lesson_bytes),
        ),
        [],
        term_uses,
    )


def _load_quiz(
    path: Path, competency_ids: frozenset[str]
) -> tuple[Quiz | Conversation | ObservationForm | None, int, list[Problem], quality.Bank | None]:
    """Validate one quiz or conversation file; return it, the line of its module key, problems and warnings,
    and its options as the item-quality rules read them."""
    check = Checker(display_path(path), competency_ids)
    try:
        raw = load(path)
    except YamlError as exc:
        check.problem(exc.line, str(exc))
        return None, 0, check.problems, None
    data = check.mapping(raw, "a quiz file", 1)
    if data is None:
        return None, 0, check.problems, None
    if data.get("type") == "conversation":
        conversation = conversations.parse(data, check, _digest(path.read_bytes()))
        bank = quality.conversation_bank(data, check.file) if conversation else None
        return conversation, data.line_of("module"), check.problems, bank
    if data.get("type") == "observation":
        form = observations.parse(data, check, _digest(path.read_bytes()))
        return form, data.line_of("module"), check.problems, None
    if data.get("type", "quiz") != "quiz":
        check.problem(
            data.line_of("type"),
            f"'type' must be 'conversation', 'observation', or 'quiz' (the default), not {data.get('type')!r}",
        )
    check.unknown_keys(data, _QUIZ_KEYS, "the quiz")
    quiz_id = check.slug(data, "id", "the quiz")
    title = check.text(data, "title", "the quiz")
    module_id = check.slug(data, "module", "the quiz")
    pass_mark = check.integer(data, "pass_mark", "the quiz", 1, 100)
    marking = data.get("marking", "standard")
    if marking not in _MARKINGS:
        check.problem(
            data.line_of("marking"), f"the quiz: 'marking' must be 'standard' or 'certainty', not {marking!r}"
        )
    intro = check.text(data, "intro", "the quiz", required=False) or ""
    check.in_words(intro, data.line_of("intro"), "the quiz: the intro")
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
    if any(not p.is_warning for p in check.problems):
        return None, 0, check.problems, None
    quiz = Quiz(
        id=quiz_id,
        title=title,
        module_id=module_id,
        pass_mark=pass_mark,
        marking=marking,
        intro_html=markdown.render(intro),
        items=tuple(items),
        version=_digest(path.read_bytes()),
    )
    return quiz, data.line_of("module"), check.problems, quality.quiz_bank(data, check.file)


def _package_glossary(
    modules: list[Module], module_paths: dict[str, Path], term_uses: list[tuple[str, int, str]]
) -> tuple[dict[str, GlossaryTerm], list[Problem]]:
    """Every module's terms in one glossary; a term defined twice or linked but never defined is a problem."""
    glossary: dict[str, GlossaryTerm] = {}
    problems: list[Problem] = []
    for module in modules:
        for term in module.glossary:
            if term.id in glossary:
                other = display_path(module_paths[glossary[term.id].module_id])
                problems.append(
                    Problem(
                        display_path(module_paths[module.id]),
                        None,
                        f"the glossary term '{term.id}' is also defined by {other}",
                    )
                )
            else:
                glossary[term.id] = term
    for file, line, term_id in term_uses:
        if term_id not in glossary:
            problems.append(Problem(file, line, f"links [[{term_id}]], which no module's glossary defines"))
    return glossary, problems


def _name_terms(module: Module, glossary: dict[str, GlossaryTerm]) -> Module:
    """The module with each bare glossary link showing its term's name."""
    names = {term_id: term.term for term_id, term in glossary.items()}

    def lesson(item: Lesson) -> Lesson:
        sections = tuple(replace(s, html=markdown.name_terms(s.html, names)) for s in item.sections)
        return replace(item, intro_html=markdown.name_terms(item.intro_html, names), sections=sections)

    return replace(module, lessons=tuple(lesson(item) for item in module.lessons))


def _declared_id(path: Path) -> str:
    """The id a module file declares, read leniently from a file that may be invalid."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return path.parent.name
    match = re.search(r"^id:\s*['\"]?([A-Za-z0-9-]+)", text, re.M)
    return match.group(1) if match else path.parent.name


@dataclass
class Loaded:
    """All content under some folders: the catalog (None when there are errors), every problem and
    warning, and each valid quiz's and conversation's options as the item-quality rules read them."""

    catalog: Catalog | None
    problems: list[Problem]
    banks: list[quality.Bank]

    @property
    def errors(self) -> list[Problem]:
        """The problems that make the content invalid (warnings left out)."""
        return [p for p in self.problems if not p.is_warning]


def build_catalog(
    dirs: list[Path], competencies: tuple[Competency, ...] | None = None, explicit: frozenset[Path] = frozenset()
) -> Catalog:
    """Load and validate all content under `dirs`; raise ContentError listing every error (warnings pass).

    A folder in `explicit` (named by the user) with no content in it is a problem too.
    """
    loaded = load_content(dirs, competencies, explicit)
    if loaded.catalog is None:
        raise ContentError(loaded.errors)
    return loaded.catalog


def load_content(
    dirs: list[Path], competencies: tuple[Competency, ...] | None = None, explicit: frozenset[Path] = frozenset()
) -> Loaded:
    """Load and validate all content under `dirs`, collecting every problem and warning; never raises."""
    competencies = competencies or load_competencies()
    competency_ids = frozenset(c.id for c in competencies)
    found = _discover(dirs, explicit)
    problems = list(found.problems)
    modules: list[Module] = []
    module_paths: dict[str, Path] = {}
    invalid_module_ids: set[str] = set()
    term_uses: list[tuple[str, int, str]] = []
    for path in found.module_files:
        module, module_problems, module_term_uses = _load_module(path, competency_ids)
        problems.extend(module_problems)
        term_uses.extend(module_term_uses)
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
    talks: list[Conversation] = []
    forms: list[ObservationForm] = []
    quiz_paths: dict[str, Path] = {}
    banks: list[quality.Bank] = []
    for path in found.quiz_files:
        quiz, module_line, quiz_problems, bank = _load_quiz(path, competency_ids)
        problems.extend(quiz_problems)
        if quiz is None:
            continue
        if is_authored(quiz.id) and path.resolve().is_relative_to(shipped("quizzes").resolve()):
            # Reserved for quizzes written in the browser (app/content/authored_ids.py): the two must never collide.
            problems.append(Problem(display_path(path), 1, f"the id '{quiz.id}' is reserved for authored quizzes (a-<number>-...)"))
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
        if isinstance(quiz, ObservationForm):
            forms.append(quiz)  # observed, not answered: no item-quality bank
            continue
        (talks if isinstance(quiz, Conversation) else quizzes).append(quiz)
        banks.append(bank)
    glossary, glossary_problems = _package_glossary(modules, module_paths, term_uses)
    problems.extend(glossary_problems)
    problems.extend(quality.enforced(quality.review(banks)))
    if any(not p.is_warning for p in problems):
        return Loaded(None, problems, banks)
    modules = [_name_terms(module, glossary) for module in modules]
    modules.sort(key=lambda m: (m.order, m.title))
    order = {m.id: i for i, m in enumerate(modules)}
    quizzes.sort(key=lambda q: (order[q.module_id], q.title))
    talks.sort(key=lambda c: (order[c.module_id], c.title))
    forms.sort(key=lambda f: (order[f.module_id], f.title))
    catalog = Catalog(
        competencies=competencies,
        modules=tuple(modules),
        quizzes=tuple(quizzes),
        conversations=tuple(talks),
        observations=tuple(forms),
    )
    return Loaded(catalog, problems, banks)


def check_dirs(dirs: list[Path], explicit: frozenset[Path] = frozenset()) -> list[Problem]:
    """Every error in the content under `dirs` (empty when it is valid; warnings are left out)."""
    return sorted(load_content(dirs, explicit=explicit).errors, key=Problem.sort_key)
