"""The mastery chart: one bar per competency, grouped by area, drawn as SVG on the server; pure.

It follows the lesson charts (app/content/charts.py): the same classes and row layout (the name
above its bar), a title and description for screen readers, and the same numbers in a table on
the page. Each bar has one box per answer in the window, filled for each right answer, with a
line at the number needed for mastery; the count and the state follow in words, and a blocked
bar is hatched as well as coloured, so colour is never the only cue.

The SVG has no viewBox, so it is never scaled down: its text keeps the page's 14 px on a phone. Every
row fits in 300 px (the boxes, then the count and state), narrower than a phone's column.
"""

from collections.abc import Sequence
from functools import lru_cache
from html import escape as _escape

from markupsafe import Markup

from app.services.mastery import Group, Rule

_ROW = 44
_GROUP_ROW = 34
_TOP = 4
_BOX_H = 16
_BAR_ROOM = 140
_LEGEND = 176
INK = "#1d2733"
#: Fill of a right answer's box by state; dark enough for 3:1 against white (non-text contrast).
FILLS = {"mastered": "#1b6b35", "learning": "#0b5c7a", "blocked": "#a4262c", "not-started": "#ffffff"}
SHORT_STATES = {"mastered": "Mastered", "learning": "Learning", "blocked": "Blocked", "not-started": "Not started"}


#: Names, states and counts repeat on every page: each string is escaped once per process.
escape = lru_cache(maxsize=4096)(_escape)


def _box_width(rule: Rule) -> float:
    return min(28.0, _BAR_ROOM / rule.window)


def description(groups: Sequence[Group], rule: Rule) -> str:
    """What the chart shows, for screen readers and the caption."""
    count = sum(len(g.rows) for g in groups)
    return (
        f"{count} competencies in {len(groups)} areas. Each bar has one box for each of your last {rule.window} "
        f"answers on the competency, filled when the answer was right; a line marks the {rule.required} right "
        "answers needed for mastery. After each bar come the number right and the state in words; a bar blocked "
        "by a harmful reply is hatched. The table that follows has the same numbers."
    )


def svg(groups: Sequence[Group], rule: Rule, title: str, svg_id: str = "mastery-chart") -> Markup:
    """The chart as an SVG image with a title and description."""
    box = _box_width(rule)
    bar_end = box * rule.window
    rows = sum(len(g.rows) for g in groups)
    height = _TOP + _GROUP_ROW * len(groups) + _ROW * rows + _LEGEND
    title_id, desc_id, hatch_id = f"{svg_id}-title", f"{svg_id}-desc", f"{svg_id}-hatch"
    parts = [
        f'<svg class="chart mastery-chart" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description(groups, rule))}</desc>',
        # White stripes over the fill: a blocked bar differs from a learning one in texture, not only hue.
        f'<defs><pattern id="{hatch_id}" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{FILLS["blocked"]}"></rect>'
        '<rect width="3" height="8" fill="#ffffff"></rect></pattern></defs>',
    ]
    y = _TOP
    for group in groups:
        parts.append(f'<text class="chart-label" x="0" y="{y + 24}" font-weight="700">{escape(group.name)}</text>')
        y += _GROUP_ROW
        for row in group.rows:
            standing = row.standing
            parts.append(f'<text class="chart-label" x="0" y="{y + 13}">{escape(row.competency.name)}</text>')
            fill = f"url(#{hatch_id})" if standing.state == "blocked" else FILLS[standing.state]
            # The boxes and the line, drawn once per kind of bar and moved into place.
            parts.append(f'<g transform="translate(0 {y})">')
            parts.append(
                _bar(fill, standing.correct_in_window, standing.answers_in_window, rule.window, rule.required, box)
            )
            parts.append("</g>")
            if standing.total:
                value = f"{standing.correct_in_window} of {standing.answers_in_window} · {SHORT_STATES[standing.state]}"
            else:
                value = "no answers yet"
            parts.append(f'<text class="chart-value" x="{bar_end + 10:g}" y="{y + 32}">{escape(value)}</text>')
            y += _ROW
    parts.append(_legend(y + 24, box, rule, hatch_id))
    parts.append("</svg>")
    return Markup("".join(parts))


@lru_cache(maxsize=1024)
def _bar(fill: str, correct: int, answered: int, window: int, required: int, box: float) -> str:
    """One bar's boxes (filled for each right answer, dashed where no answer is yet) and its mastery line, at y 0.

    Bars differ only in these numbers, so each kind is drawn once per process.
    """
    parts = []
    for index in range(window):
        filled = index < correct
        dashed = ' stroke-dasharray="3 2"' if index >= answered else ""
        parts.append(
            f'<rect x="{index * box + 1:g}" y="19" width="{box - 4:g}" height="{_BOX_H}" '
            f'fill="{fill if filled else "#ffffff"}" stroke="{INK}" stroke-width="1"{dashed}></rect>'
        )
    mark = required * box - 1.5
    parts.append(f'<line x1="{mark:g}" y1="15" x2="{mark:g}" y2="39" stroke="{INK}" stroke-width="2"></line>')
    return "".join(parts)


def _legend(y: float, box: float, rule: Rule, hatch_id: str) -> str:
    """A key to the boxes, the line and the hatching."""
    entries = [
        (
            f'<rect x="1" y="{y}" width="{box - 4:g}" height="{_BOX_H}" fill="{FILLS["learning"]}" stroke="{INK}"></rect>',
            "a right answer",
        ),
        (
            f'<rect x="1" y="{y}" width="{box - 4:g}" height="{_BOX_H}" fill="#ffffff" stroke="{INK}"></rect>',
            "an answer not right",
        ),
        (
            f'<rect x="1" y="{y}" width="{box - 4:g}" height="{_BOX_H}" fill="#ffffff" stroke="{INK}" '
            'stroke-dasharray="3 2"></rect>',
            "no answer yet",
        ),
        (
            f'<rect x="1" y="{y}" width="{box - 4:g}" height="{_BOX_H}" fill="url(#{hatch_id})" stroke="{INK}"></rect>',
            "right, but blocked by a harmful reply",
        ),
        (
            f'<line x1="{box / 2:g}" y1="{y - 4}" x2="{box / 2:g}" y2="{y + 20}" stroke="{INK}" stroke-width="2"></line>',
            f"{rule.required} right answers needed for mastery",
        ),
    ]
    parts = [f'<text class="chart-axis-label" x="0" y="{y}">Key</text>']
    for line, (shape, label) in enumerate(entries):
        parts.append(
            f'<g transform="translate(0 {12 + line * 28})">{shape}'
            f'<text class="chart-axis-label" x="{box + 4:g}" y="{y + 13}">{escape(label)}</text></g>'
        )
    return "".join(parts)
