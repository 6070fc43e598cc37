"""One module.yaml read and checked with its lesson files: references, glossary, charts, figures, lessons."""

import math
from pathlib import Path

from app.content import charts, markdown
from app.content.catalog import Figure, GlossaryTerm, Lesson, Module, Reference
from app.content.checker import Checker
from app.content.lesson_reader import parse_lesson_markdown
from app.content.problems import Problem, display_path
from app.content.versions import digest
from app.content.yamlfile import Mapping, YamlError, load

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


def load_module(
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
        parsed = parse_lesson_markdown(text, lesson_check, references, chart_html)
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
                    version=digest(source),
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
            version=digest(path.read_bytes(), *lesson_bytes),
        ),
        [],
        term_uses,
    )
