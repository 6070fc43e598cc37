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


def heat_columns(catalog: Catalog, by_group: bool) -> list[HeatColumn]:
    """The 36 competencies as C1..C36, or their groups as G1..Gn, in the framework's order."""
    if not by_group:
        return [HeatColumn(f"C{n}", c.name, (c.id,)) for n, c in enumerate(catalog.competencies, start=1)]
    groups: dict[str, list[str]] = {}
    for c in catalog.competencies:
        groups.setdefault(c.group, []).append(c.id)
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

    Drawn to be read at about its own size in the page's column (36 competencies or a few groups).
    Each cell is shaded by its band and also carries its number, so colour is never the only cue.
    """
    label_width, cell_h, top, legend_h = 150, 20, 26, 58
    cell_w = 80 if report.by_group else 28
    width = label_width + cell_w * len(report.columns) + 2
    height = top + cell_h * len(report.rows) + legend_h
    title_id, desc_id = f"{svg_id}-title", f"{svg_id}-desc"
    what = "competency group" if report.by_group else "competency"
    description = (
        f"{len(report.rows)} students in rows and {len(report.columns)} columns, one per {what} "
        f"({report.columns[0].code} to {report.columns[-1].code}, named in the key below). Each cell gives the "
        "percentage of the student's answers, on items assessing it, that were the best answer, shaded from light "
        "(low) to dark (high); a dash marks nothing answered yet. The table that follows has the same numbers."
    )
    ink = "#1d2733"
    parts = [
        f'<svg class="heatmap" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" fill="{ink}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        '<g font-size="11" text-anchor="middle">',
    ]
    for index, column in enumerate(report.columns):
        x = label_width + index * cell_w + cell_w / 2
        label = f"{column.code} {escape(shorten(column.short, 12))}" if report.by_group else column.code
        parts.append(f'<text x="{x:g}" y="{top - 8}">{label}</text>')
    parts.append('</g><g font-size="11" text-anchor="end">')
    for row_index, (student, _) in enumerate(report.rows):
        y = top + row_index * cell_h
        parts.append(f'<text x="{label_width - 6}" y="{y + 14}">{escape(shorten(student.name, 24))}</text>')
    # Shared attributes on groups keep each cell to two short elements (thousands of cells on a page).
    parts.append('</g><g stroke="#8a94a0" stroke-width="0.5">')
    for row_index, (_, cells) in enumerate(report.rows):
        y = top + row_index * cell_h
        for index, cell in enumerate(cells):
            percent = cell.percent
            dashed = ' stroke-dasharray="2 2"' if percent is None else ""
            parts.append(
                f'<rect x="{label_width + index * cell_w}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                f'fill="{shade(percent)}"{dashed}/>'
            )
    parts.append('</g><g font-size="11" text-anchor="middle">')
    for row_index, (_, cells) in enumerate(report.rows):
        y = top + row_index * cell_h + 14
        for index, cell in enumerate(cells):
            percent = cell.percent
            light = ' fill="#fff"' if percent is not None and percent >= 60 else ""
            text = "–" if percent is None else percent
            parts.append(f'<text x="{label_width + index * cell_w + cell_w / 2:g}" y="{y}"{light}>{text}</text>')
    parts.append("</g>")
    legend_y = top + cell_h * len(report.rows) + 26
    parts.append(f'<text x="0" y="{legend_y - 6}" font-size="10">Key: best answers as a % of answers given</text>')
    for band, (colour, label) in enumerate([*zip(SHADES, SHADE_BANDS, strict=True), ("#ffffff", "none given")]):
        x = band * 80
        dashed = ' stroke-dasharray="2 2"' if band == len(SHADES) else ""
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="16" height="16" fill="{colour}" stroke="#8a94a0" '
            f'stroke-width="0.5"{dashed}></rect>'
            f'<text x="{x + 20}" y="{legend_y + 12}" font-size="10">{label}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


