"""A lesson's Markdown file read: level-2 sections with their competencies tag, citations, glossary links, charts."""

import re
from dataclasses import dataclass

from app.content import markdown
from app.content.catalog import Reference, Section
from app.content.checker import Checker

_COMPETENCY_TAG = re.compile(r"^<!--\s*competencies:(.*)-->\s*$")
_FENCE = re.compile(r"^(```|~~~)")
_SETEXT_H1 = re.compile(r"^=+\s*$")
# Authors leave notes for reviewers in HTML comments; they never reach the page.
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass
class LessonText:
    """A lesson's Markdown rendered: intro, sections, and what it cites, links and places."""

    intro_html: str
    sections: list[Section]
    cited: list[str]
    terms: list[tuple[int, str]]
    charts: list[str]


def parse_lesson_markdown(
    text: str, check: Checker, references: dict[str, Reference], chart_html: dict[str, str]
) -> LessonText:
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
    return LessonText(intro_html, sections, cited, terms, placed)
