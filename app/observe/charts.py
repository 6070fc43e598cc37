"""The station report's distribution chart, drawn by the content's own bar chart (SVG with a table)."""

from markupsafe import Markup

from app.content import charts
from app.observe.services.stats import Bar


def distribution(bars: list[Bar], maximum: int, title: str) -> Markup:
    """Staff ratings counted by checklist total, as a horizontal bar chart with its numbers in a table."""
    count = sum(bar.count for bar in bars)
    chart = charts.Chart(
        id="distribution",
        title=title,
        description=f"{count} rating{'s' if count != 1 else ''} by educators and examiners, by checklist total out of {maximum}.",
        axis="Ratings",
        study="",
        bars=tuple(charts.Bar(f"Total {bar.label}", str(bar.count), float(bar.count), "") for bar in bars),
    )
    return Markup(charts.render(chart))  # noqa: S704 - render escapes every text it places
