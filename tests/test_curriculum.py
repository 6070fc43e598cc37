"""The shipped curriculum: eight complete modules, every competency taught and assessed, sound quizzes and figures.

These tests read the shipped modules/ and quizzes/ only; a failure names the content to fix.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from app.content import content_dirs
from app.content.loader import COMPETENCIES_FILE, build_catalog, load_competencies
from app.paths import shipped as shipped_folder


@pytest.fixture(scope="module")
def catalog():
    return build_catalog(content_dirs())


@pytest.fixture(scope="module")
def framework() -> list[str]:
    """The 36 competency ids of app/content/competencies.yaml."""
    ids = [c["id"] for c in yaml.safe_load(COMPETENCIES_FILE.read_text(encoding="utf-8"))["competencies"]]
    assert len(ids) == 36 == len(set(ids))
    return ids


def _lesson_sources() -> dict[str, list[str]]:
    """Each shipped module's lesson Markdown, as written, by module id."""
    sources: dict[str, list[str]] = {}
    for module_file in sorted(Path(shipped_folder("modules")).glob("*/module.yaml")):
        data = yaml.safe_load(module_file.read_text(encoding="utf-8"))
        sources[data["id"]] = [
            (module_file.parent / lesson["file"]).read_text(encoding="utf-8") for lesson in data["lessons"]
        ]
    return sources


def test_the_catalog_uses_the_framework(catalog, framework):
    assert [c.id for c in catalog.competencies] == framework
    assert [c.id for c in load_competencies()] == framework


def test_there_are_eight_modules(catalog):
    assert len(catalog.modules) == 8, [m.id for m in catalog.modules]
    assert len({m.id for m in catalog.modules}) == 8


def test_every_module_is_complete(catalog):
    gaps = []
    for module in catalog.modules:
        if not module.objectives:
            gaps.append(f"{module.id}: no objectives")
        if not 3 <= len(module.lessons) <= 6:
            gaps.append(f"{module.id}: {len(module.lessons)} lessons, not 3 to 6")
        if not module.references:
            gaps.append(f"{module.id}: no references")
        if not module.glossary:
            gaps.append(f"{module.id}: no glossary")
        for lesson in module.lessons:
            if not 2 <= len(lesson.key_points) <= 6 or not all(p.strip() for p in lesson.key_points):
                gaps.append(f"{module.id}/{lesson.id}: {len(lesson.key_points)} key points, not 2 to 6")
        quizzes = catalog.quizzes_for(module.id)
        if not any(len(quiz.items) >= 10 for quiz in quizzes):
            gaps.append(f"{module.id}: no quiz with at least 10 items ({[(q.id, len(q.items)) for q in quizzes]})")
    assert gaps == [], "\n".join(gaps)


def test_every_cited_reference_is_listed_and_every_reference_is_cited(catalog):
    gaps = []
    for module in catalog.modules:
        listed = {r.id for r in module.references}
        cited = {ref for lesson in module.lessons for ref in lesson.cited}
        if cited - listed:
            gaps.append(f"{module.id}: cites {sorted(cited - listed)} without listing them")
        if not cited:
            gaps.append(f"{module.id}: no lesson cites any reference")
    assert gaps == [], "\n".join(gaps)


def test_every_competency_is_taught_by_a_lesson_section(catalog, framework):
    untaught = [c for c in framework if not catalog.lessons_teaching(c)]
    assert untaught == [], f"competencies no lesson section teaches: {untaught}"
    # lessons_teaching is built from the sections' own tags.
    tagged = {c for m in catalog.modules for lesson in m.lessons for s in lesson.sections for c in s.competencies}
    assert tagged == set(framework)


def test_every_competency_is_assessed_by_at_least_three_quiz_items(catalog, framework):
    assessed = Counter(c for quiz in catalog.quizzes for item in quiz.items for c in item.competencies)
    thin = {c: assessed[c] for c in framework if assessed[c] < 3}
    assert thin == {}, f"competencies assessed by fewer than 3 quiz items (id: items): {thin}"
    assert set(assessed) <= set(framework)


def test_every_item_has_competency_tags(catalog):
    untagged = [f"{quiz.id}/{item.id}" for quiz in catalog.quizzes for item in quiz.items if not item.competencies]
    assert untagged == []


def test_every_answer_key_grades_to_full_marks(catalog):
    wrong = []
    for quiz in catalog.quizzes:
        assert quiz.max_score == 2 * len(quiz.items), quiz.id
        for item in quiz.items:
            handler = item.handler
            grade = handler.grade(item, handler.right_answer(item))
            if not (grade.is_correct and grade.score == grade.max_score == item.max_score == 2):
                wrong.append(f"{quiz.id}/{item.id}: the answer key scores {grade.score} of {grade.max_score}")
            # The key survives a trip through the form, as a learner would send it.
            form = handler.form_data(item, handler.right_answer(item))
            if handler.answer_from_form(item, form) != handler.right_answer(item):
                wrong.append(f"{quiz.id}/{item.id}: the answer key does not read back from the form")
            low = handler.grade(item, handler.wrong_answer(item))
            if low.score != 0 or low.is_correct:
                wrong.append(f"{quiz.id}/{item.id}: the wrong answer scores {low.score}")
    assert wrong == [], "\n".join(wrong)


def test_every_glossary_term_is_linked_from_a_lesson(catalog):
    terms = catalog.glossary
    assert terms
    assert len({t.id for t in terms}) == len(terms) == sum(len(m.glossary) for m in catalog.modules)
    unlinked = [f"{t.module_id}: {t.id}" for t in terms if not catalog.lessons_using(t.id)]
    assert unlinked == [], f"glossary terms no lesson links: {unlinked}"
    for term in terms:
        assert term.term.strip() and term.definition_html.strip(), term.id


def test_every_figure_appears_in_its_modules_lessons_or_charts(catalog):
    sources = _lesson_sources()
    missing = []
    for module in catalog.modules:
        quoted = "\n".join(sources[module.id]) + "\n" + "\n".join(b.value_text for c in module.charts for b in c.bars)
        references = {r.id for r in module.references}
        for figure in module.figures:
            assert figure.module_id == module.id
            if figure.value not in quoted:
                missing.append(f"{module.id}: figure {figure.value!r} ({figure.measures})")
            if figure.study not in references:
                missing.append(f"{module.id}: figure {figure.value!r} cites {figure.study}, not a reference")
    assert missing == [], "\n".join(missing)
    assert sum(len(m.figures) for m in catalog.modules) > 0


@pytest.mark.parametrize(
    ("chart_id", "values"),
    [
        ("fuentes-nrs", {"AL": "1.83", "SL": "1.03", "AE": "3.13", "SE": "2.22"}),
        ("fuentes-ppt", {"AL": "1.2", "SL": "0.3", "AE": "2.0", "SE": "1.7"}),
    ],
)
def test_the_evidence_module_charts_the_fuentes_groups_exactly(catalog, chart_id, values):
    module = catalog.module("the-evidence")
    assert module is not None, "the evidence module is missing"
    chart = next((c for c in module.charts if c.id == chart_id), None)
    assert chart is not None, f"the-evidence has no chart '{chart_id}'"
    assert chart.study in {r.id for r in module.references}
    assert len(chart.bars) == 4
    by_group = {}
    for bar in chart.bars:
        groups = [group for group in values if f"({group})" in bar.label]
        assert len(groups) == 1, f"{chart_id}: cannot tell the group of bar {bar.label!r}"
        by_group[groups[0]] = bar
    assert {group: bar.value_text for group, bar in by_group.items()} == values
    assert {group: bar.value for group, bar in by_group.items()} == {g: float(v) for g, v in values.items()}
    # The chart is drawn in a lesson, with its numbers in the table beside it.
    placed = [s.html for lesson in module.lessons for s in lesson.sections if f'id="chart-{chart_id}"' in s.html]
    assert len(placed) == 1, f"{chart_id} is placed {len(placed)} times"
    for value in values.values():
        assert f"<td>{value}</td>" in placed[0]


def test_every_link_between_lessons_leads_to_a_lesson(catalog):
    """Lessons refer back to the one lesson that teaches a study or example; every such link must resolve."""
    # A lesson page is /learn/modules/<module>/lessons/<lesson>, so a link to another lesson is
    # written relative to it as ../../<module>/lessons/<lesson>.
    lessons = {(m.id, lesson.id) for m in catalog.modules for lesson in m.lessons}
    link = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")
    broken, found = [], 0
    for module_id, sources in _lesson_sources().items():
        for source in sources:
            for target in link.findall(source):
                found += 1
                parts = re.fullmatch(r"\.\./\.\./([a-z][a-z0-9-]*)/lessons/([a-z][a-z0-9-]*)", target)
                if parts is None or (parts.group(1), parts.group(2)) not in lessons:
                    broken.append(f"{module_id}: [...]({target})")
    assert broken == [], "links that lead to no lesson:\n" + "\n".join(broken)
    assert found > 0, "no lesson links to another lesson"
