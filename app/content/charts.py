"""Accessible bar charts drawn as SVG on the server, once, when content loads.

The SVG has no viewBox, so it is never scaled: its text stays at the page's size (14 px) on a phone
as on a desktop. Across the chart, positions are percentages of its width; down it, pixels.
"""

import textwrap
from dataclasses import dataclass
from html import escape

_ROW = 46
_BAR = 18
_TOP = 8
_AXIS_LINE = 18
#: The share of the width bars may use; the rest keeps room for the value after the longest bar.
_PLOT = 80.0
#: Characters of the axis label per line: about 260 px of 14 px text, under a phone's width.
_AXIS_WRAP = 36


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value as the source writes it, and an optional note."""

    label: str
    value_text: str
    value: float
    note: str


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart of figures from one study."""

    id: str
    title: str
    description: str
    axis: str
    study: str
    bars: tuple[Bar, ...]


def render(chart: Chart, cite_html: str = "") -> str:
    """The chart as a figure: an SVG with title and description, a caption and the numbers in a table."""
    low = min(0.0, *(b.value for b in chart.bars))
    high = max(0.0, *(b.value for b in chart.bars))
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return round(_PLOT * (value - low) / span, 2)

    axis_lines = textwrap.wrap(chart.axis, _AXIS_WRAP) or [""]
    height = _TOP + _ROW * len(chart.bars) + 12 + _AXIS_LINE * len(axis_lines)
    zero = x(0.0)
    title_id, desc_id = f"chart-{chart.id}-title", f"chart-{chart.id}-desc"
    parts = [
        f'<svg class="chart" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description)}</desc>',
    ]
    for index, bar in enumerate(chart.bars):
        top = _TOP + index * _ROW
        start, end = sorted((zero, x(bar.value)))
        # Set in from the edge, clear of an axis at zero on the left.
        parts.append(f'<text class="chart-label" x="0" dx="8" y="{top + 12}">{escape(bar.label)}</text>')
        parts.append(
            f'<rect class="chart-bar chart-bar-{index % 4}" x="{start}%" y="{top + 18}" '
            f'width="{max(end - start, 0.2)}%" height="{_BAR}"></rect>'
        )
        parts.append(f'<text class="chart-value" x="{end}%" dx="6" y="{top + 32}">{escape(bar.value_text)}</text>')
    axis_y = _TOP + _ROW * len(chart.bars) + 4
    parts.append(f'<line class="chart-axis" x1="{zero}%" y1="{_TOP}" x2="{zero}%" y2="{axis_y}"></line>')
    for number, line in enumerate(axis_lines):
        y = axis_y + 22 + number * _AXIS_LINE
        parts.append(f'<text class="chart-axis-label" x="0" dx="8" y="{y}">{escape(line)}</text>')
    parts.append("</svg>")
    notes = any(bar.note for bar in chart.bars)
    rows = "".join(
        f'<tr><th scope="row">{escape(bar.label)}</th><td>{escape(bar.value_text)}</td>'
        + (f"<td>{escape(bar.note)}</td>" if notes else "")
        + "</tr>"
        for bar in chart.bars
    )
    note_head = '<th scope="col">Note</th>' if notes else ""
    numbers_id = f"chart-{chart.id}-numbers"
    # A figure's caption is its first or last child (HTML), so it comes first: the chart's title,
    # then the chart, then its numbers in a table that scrolls in its own box on a narrow screen.
    return (
        f'<figure class="chart-figure" id="chart-{chart.id}">'
        + f"<figcaption><strong>{escape(chart.title)}.</strong> {escape(chart.description)} {cite_html}</figcaption>"
        + "".join(parts)
        + f'<div class="table-scroll" role="region" aria-labelledby="{numbers_id}" tabindex="0">'
        + f'<table class="chart-data"><caption id="{numbers_id}">The numbers in “{escape(chart.title)}”</caption>'
        + f'<thead><tr><th scope="col">Group</th><th scope="col">{escape(chart.axis)}</th>{note_head}</tr></thead>'
        + f"<tbody>{rows}</tbody></table></div></figure>"
    )
