"""The competency heatmap: each student's share of right answers per competency or group."""

import json
from dataclasses import dataclass
from html import escape

from markupsafe import Markup
from sqlalchemy import Text, case, cast, func, select

from app.content import Catalog
from app.extensions import db
from app.models import ItemResponse, QuizAttempt, User
from app.models.types import MAX_ID
from app.services.cohorts import member_ids
from app.services.reports.people import Student
from app.services.reports.scope import assigned_work
from app.services.reports.text import shorten

# --- 3. the competency heatmap

#: The framework's areas (a competency id's first part): full name, and a short one for the picture.
GROUP_NAMES = {
    "ta": ("The therapeutic alliance", "Alliance"),
    "bordin": ("Bordin's components", "Bordin"),
    "sdm": ("Shared decision making", "SDM"),
    "comm": ("Communication skills", "Communication"),
    "practice": ("Clinical practice", "Practice"),
    "pcc": ("Patient-centred care", "PCC"),
    "org": ("Organisation", "Organisation"),
}
#: Five shades of one hue, light to dark, for 0-19, 20-39, 40-59, 60-79 and 80-100% correct. Dark text
#: on the three lightest and white text on the two darkest keep a contrast of at least 4.5:1.
SHADES = ("#deebf7", "#9ecae1", "#6baed6", "#2171b5", "#08306b")
SHADE_BANDS = ("0–19%", "20–39%", "40–59%", "60–79%", "80–100%")


@dataclass(frozen=True)
class HeatColumn:
    """A competency, or a group of competencies."""

    code: str
    name: str
    refs: tuple[str, ...]
    short: str = ""
    #: The full name of the competency's group (empty for a group itself).
    group: str = ""


@dataclass(frozen=True)
class HeatCell:
    """A student's answers counted for one column."""

    answered: int = 0
    correct: int = 0
    harmful: int = 0

    @property
    def percent(self) -> int | None:
        """Share of the answers that were the best one, 0-100, or None with no answers."""
        return round(100 * self.correct / self.answered) if self.answered else None

    @property
    def band(self) -> str:
        """The shade band, "0" (lightest) to "4" (darkest), or "none" when nothing was answered."""
        percent = self.percent
        return "none" if percent is None else str(min(4, percent // 20))


#: Students per page of the heatmap: 36 columns for thousands of students would be a page of many megabytes.
HEATMAP_PAGE_SIZE = 100


@dataclass(frozen=True)
class Heatmap:
    """Students × competencies (or groups): the share of answers that were right, one page of students."""

    columns: list[HeatColumn]
    rows: list[tuple[Student, list[HeatCell]]]
    by_group: bool
    #: The whole cohort's answers per column (every page).
    totals: list[HeatCell]
    page: int = 1
    students_total: int = 0
    page_size: int = HEATMAP_PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages of students there are (at least one)."""
        return max(1, -(-self.students_total // self.page_size))

    @property
    def first(self) -> int:
        """The number of the page's first student (1-based)."""
        return (self.page - 1) * self.page_size + 1

    @property
    def lines(self) -> list[tuple[HeatColumn, HeatCell, list[HeatCell]]]:
        """One line per competency (or group): the whole cohort's cell, then each student's on this page."""
        return [
            (column, self.totals[index], [cells[index] for _, cells in self.rows])
            for index, column in enumerate(self.columns)
        ]

    @property
    def sections(self) -> list[tuple[str, list[tuple[HeatColumn, HeatCell, list[HeatCell]]]]]:
        """The lines under their group's name, in the framework's order (one unnamed section for groups)."""
        found: dict[str, list] = {}
        for line in self.lines:
            found.setdefault(line[0].group, []).append(line)
        return list(found.items())


def heat_columns(catalog: Catalog, by_group: bool) -> list[HeatColumn]:
    """The competencies, grouped in the framework's order of groups, or their groups; codes (C1.., G1..) name them
    only inside the code."""
    groups: dict[str, list[str]] = {}
    for c in catalog.competencies:
        groups.setdefault(c.group, []).append(c.id)
    if not by_group:
        names = {c.id: c.name for c in catalog.competencies}
        in_groups = [(group, ref) for group, refs in groups.items() for ref in refs]  # each group's together
        return [
            HeatColumn(f"C{n}", names[ref], (ref,), group=GROUP_NAMES.get(group, (group, group))[0])
            for n, (group, ref) in enumerate(in_groups, start=1)
        ]
    columns = []
    for n, (group, refs) in enumerate(groups.items(), start=1):
        name, short = GROUP_NAMES.get(group, (group, group))
        columns.append(HeatColumn(f"G{n}", name, tuple(refs), short))
    return columns


def _add(cells: list[list[int]], index: int, answered: int, correct: int, harmful: int) -> None:
    cell = cells[index]
    cell[0] += answered or 0
    cell[1] += correct or 0
    cell[2] += harmful or 0


def heatmap(catalog: Catalog, cohort_id: int, by_group: bool = False, page: int = 1) -> Heatmap | None:
    """Each student's share of right answers per competency (or group) for one page of students, and the
    cohort's totals: three queries. None for a page past the last."""
    columns = heat_columns(catalog, by_group)
    where = {ref: index for index, column in enumerate(columns) for ref in column.refs}
    if not 0 < page <= MAX_ID // HEATMAP_PAGE_SIZE:
        return None
    in_page = (
        select(User.id, User.display_name, User.email, func.count().over().label("total"))
        .where(User.id.in_(member_ids(cohort_id)))
        .order_by(User.display_name, User.id)
        .limit(HEATMAP_PAGE_SIZE)
        .offset((page - 1) * HEATMAP_PAGE_SIZE)
        .subquery()
    )
    found = db.session.execute(select(in_page)).all()
    if not found and page > 1:
        return None
    people = [Student(row.id, row.display_name, row.email) for row in found]
    # Counted from the marked answers at the cohort's assigned work only: the learner's practice,
    # reviews and other work never reach an educator, even as totals.
    seen = assigned_work(cohort_id).attempts()
    refs_text = cast(ItemResponse.competency_refs, Text)
    correct = func.sum(case((ItemResponse.is_correct.is_(True), 1), else_=0))
    harmful = func.sum(case((ItemResponse.grade == "harmful", 1), else_=0))
    decoded: dict[str, list[str]] = {}

    def refs_of(text: str | None) -> list[str]:
        if text not in decoded:
            decoded[text] = [ref for ref in (json.loads(text) if text else []) if ref in where]
        return decoded[text]

    counts: dict[int, list[list[int]]] = {}
    for user_id, text, answered, right, bad in db.session.execute(
        select(ItemResponse.user_id, refs_text, func.count(), correct, harmful)
        .join(QuizAttempt, QuizAttempt.id == ItemResponse.attempt_id)
        .where(ItemResponse.user_id.in_(select(in_page.c.id)), seen)
        .group_by(ItemResponse.user_id, refs_text)
    ):
        for ref in refs_of(text):  # a retired competency is left out
            _add(counts.setdefault(user_id, [[0, 0, 0] for _ in columns]), where[ref], answered, right, bad)
    totals = [[0, 0, 0] for _ in columns]
    for text, answered, right, bad in db.session.execute(
        select(refs_text, func.count(), correct, harmful)
        .join(QuizAttempt, QuizAttempt.id == ItemResponse.attempt_id)
        .where(ItemResponse.user_id.in_(member_ids(cohort_id)), seen)
        .group_by(refs_text)
    ):
        for ref in refs_of(text):
            _add(totals, where[ref], answered, right, bad)
    empty = [HeatCell() for _ in columns]
    rows = [(s, [HeatCell(*c) for c in counts[s.id]] if s.id in counts else empty) for s in people]
    return Heatmap(
        columns,
        rows,
        by_group,
        [HeatCell(*t) for t in totals],
        page=page,
        students_total=found[0].total if found else 0,
    )


def shade(percent: int | None) -> str:
    """The fill for a percentage (white when nothing was answered)."""
    if percent is None:
        return "#ffffff"
    return SHADES[min(4, percent // 20)]


def heatmap_svg(report: Heatmap, title: str, svg_id: str = "heatmap") -> Markup:
    """The heatmap as an SVG image with a title and description; the same numbers are in the table.

    One row per competency (or group), named in full, and one column for the whole cohort, then one per
    student, named at the top. Drawn to be shown at its own size (never scaled down), so its text stays
    12 px on any screen; a narrow screen scrolls it sideways in its box. Each cell is shaded by its band
    and also carries its number, so colour is never the only cue.
    """
    font, cell_w, cell_h, gap = 12, 40, 22, 8
    label_width = 12 + round(0.58 * font * max(len(shorten(c.name, 40)) for c in report.columns))
    names = ["Whole cohort", *(shorten(student.name, 22) for student, _ in report.rows)]
    top = 16 + round(0.5 * 0.58 * font * max(len(n) for n in names))  # names slanted at 30 degrees
    columns = [report.totals, *([cells[i] for i in range(len(report.columns))] for _, cells in report.rows)]
    x_of = [label_width] + [label_width + gap + cell_w * (n + 1) for n in range(len(report.rows))]
    width = max(x_of[-1] + cell_w + 150, 6 * 92)  # room for the last slanted name, and for the key
    legend_y = top + cell_h * len(report.columns) + 30
    height = legend_y + 44
    title_id, desc_id = f"{svg_id}-title", f"{svg_id}-desc"
    what = "competency group" if report.by_group else "competency"
    description = (
        f"{len(report.columns)} rows, one per {what}, and {len(report.rows) + 1} columns: the whole cohort, then "
        f"each of {len(report.rows)} students. Each cell gives the percentage of the answers, on items assessing "
        "it, that were the best answer, shaded from light (low) to dark (high); a dash marks nothing answered yet. "
        "The table has the same numbers, with the answers counted."
    )
    ink = "#1d2733"
    parts = [
        f'<svg class="heatmap" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="{font}" fill="{ink}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        "<g>",
    ]
    for n, name in enumerate(names):
        x = x_of[n] + cell_w / 2
        weight = ' font-weight="700"' if n == 0 else ""
        parts.append(f'<text transform="translate({x:g} {top - 6}) rotate(-30)"{weight}>{escape(name)}</text>')
    parts.append('</g><g text-anchor="end">')
    for row, column in enumerate(report.columns):
        y = top + row * cell_h + 15
        parts.append(f'<text x="{label_width - 8}" y="{y}">{escape(shorten(column.name, 40))}</text>')
    # Shared attributes on groups keep each cell to two short elements (thousands of cells on a page).
    parts.append('</g><g stroke="#8a94a0" stroke-width="0.5">')
    for n, cells in enumerate(columns):
        for row, cell in enumerate(cells):
            dashed = ' stroke-dasharray="2 2"' if cell.percent is None else ""
            parts.append(
                f'<rect x="{x_of[n]}" y="{top + row * cell_h}" width="{cell_w - 1}" height="{cell_h - 1}" '
                f'fill="{shade(cell.percent)}"{dashed}/>'
            )
    parts.append('</g><g text-anchor="middle">')
    for n, cells in enumerate(columns):
        for row, cell in enumerate(cells):
            percent = cell.percent
            light = ' fill="#fff"' if percent is not None and percent >= 60 else ""
            text = "–" if percent is None else percent
            parts.append(f'<text x="{x_of[n] + cell_w / 2:g}" y="{top + row * cell_h + 15}"{light}>{text}</text>')
    parts.append("</g>")
    parts.append(f'<text x="0" y="{legend_y - 8}">Key: best answers as a % of answers given</text>')
    for band, (colour, label) in enumerate([*zip(SHADES, SHADE_BANDS, strict=True), ("#ffffff", "none given")]):
        x = band * 92
        dashed = ' stroke-dasharray="2 2"' if band == len(SHADES) else ""
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="16" height="16" fill="{colour}" stroke="#8a94a0" '
            f'stroke-width="0.5"{dashed}></rect>'
            f'<text x="{x + 20}" y="{legend_y + 13}">{label}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
