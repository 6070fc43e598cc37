"""Accessible bar charts drawn as SVG on the server, once, when content loads."""

from dataclasses import dataclass
from html import escape

_WIDTH = 640
_ROW = 46
_BAR = 18
_TOP = 8
_BOTTOM = 34
_VALUE_ROOM = 70


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
    plot = _WIDTH - _VALUE_ROOM

    def x(value: float) -> float:
        return round(plot * (value - low) / span, 2)

    height = _TOP + _ROW * len(chart.bars) + _BOTTOM
    zero = x(0.0)
    title_id, desc_id = f"chart-{chart.id}-title", f"chart-{chart.id}-desc"
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description)}</desc>',
    ]
    for index, bar in enumerate(chart.bars):
        top = _TOP + index * _ROW
        start, end = sorted((zero, x(bar.value)))
        parts.append(f'<text class="chart-label" x="0" y="{top + 12}">{escape(bar.label)}</text>')
        parts.append(
            f'<rect class="chart-bar chart-bar-{index % 4}" x="{start}" y="{top + 18}" '
            f'width="{max(end - start, 1)}" height="{_BAR}"></rect>'
        )
        parts.append(f'<text class="chart-value" x="{end + 6}" y="{top + 32}">{escape(bar.value_text)}</text>')
    axis_y = _TOP + _ROW * len(chart.bars) + 4
    parts.append(f'<line class="chart-axis" x1="{zero}" y1="{_TOP}" x2="{zero}" y2="{axis_y}"></line>')
    parts.append(f'<text class="chart-axis-label" x="0" y="{axis_y + 22}">{escape(chart.axis)}</text>')
    parts.append("</svg>")
    notes = any(bar.note for bar in chart.bars)
    rows = "".join(
        f'<tr><th scope="row">{escape(bar.label)}</th><td>{escape(bar.value_text)}</td>'
        + (f"<td>{escape(bar.note)}</td>" if notes else "")
        + "</tr>"
        for bar in chart.bars
    )
    note_head = '<th scope="col">Note</th>' if notes else ""
    return (
        f'<figure class="chart-figure" id="chart-{chart.id}">'
        + "".join(parts)
        + f"<figcaption><strong>{escape(chart.title)}.</strong> {escape(chart.description)} {cite_html}</figcaption>"
        + f'<table class="chart-data"><caption>The numbers in “{escape(chart.title)}”</caption>'
        + f'<thead><tr><th scope="col">Group</th><th scope="col">{escape(chart.axis)}</th>{note_head}</tr></thead>'
        + f"<tbody>{rows}</tbody></table></figure>"
    )
