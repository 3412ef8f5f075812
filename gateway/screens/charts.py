"""Charts drawn on the server as SVG (no JavaScript chart library): the geometry here, the markup in
templates/common/_bar_chart.svg.

A chart is horizontal grouped bars: one group per category (a reagent, a lot, a test), one bar per series (e.g.
revenue, reagent cost, margin), on one scale with zero marked, so a negative margin reads to the left of the axis.
Values are integers (đồng, tests, days); `label` formats the value printed at the end of each bar. The same
figures are always in a table beside the chart, which is what a screen reader reads.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 760
LABEL_WIDTH = 190  # the category names on the left
VALUE_ROOM = 110  # the figure printed after the longest bar
BAR = 14
BAR_GAP = 3
GROUP_GAP = 12
LEGEND = 28


@dataclass(frozen=True)
class Series:
    """One kind of bar: its name (translated), its values in category order, its CSS class (the colour)."""

    name: str
    values: Sequence[int | None]
    css: str


@dataclass
class Chart:
    """What the SVG template draws."""

    title: str
    width: int
    height: int
    zero_x: float
    plot_top: int
    legend: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series],
              label: Callable[[int], str] = str, cap: int | None = None, missing: str = "—") -> Chart:
    """Lay out a grouped horizontal bar chart; a value above `cap` is drawn at the cap (its label says the value),
    a None value draws no bar and says `missing`."""
    shown = [v for s in series for v in s.values if v is not None]
    drawn = [min(v, cap) if cap is not None else v for v in shown]
    low, high = min([0, *drawn]), max([0, *drawn])
    if high == low:
        high = low + 1
    plot = WIDTH - LABEL_WIDTH - VALUE_ROOM

    def x(value: int) -> float:
        return LABEL_WIDTH + (value - low) * plot / (high - low)

    group_height = len(series) * (BAR + BAR_GAP) - BAR_GAP
    groups, top = [], LEGEND + 8
    for index, category in enumerate(categories):
        bars = []
        for number, one in enumerate(series):
            value = one.values[index]
            y = top + number * (BAR + BAR_GAP)
            if value is None:
                bars.append({"y": y, "x": x(0), "width": 0, "css": one.css, "label": missing, "text_x": x(0) + 4,
                             "series": one.name, "value": None})
                continue
            end = x(min(value, cap) if cap is not None else value)
            left, right = min(end, x(0)), max(end, x(0))
            bars.append({"y": y, "x": round(left, 1), "width": round(max(right - left, 1 if value else 0), 1),
                         "css": one.css, "label": label(value), "text_x": round(right + 4, 1),
                         "series": one.name, "value": value})
        groups.append({"category": category, "label_y": top + group_height / 2 + 4, "bars": bars})
        top += group_height + GROUP_GAP
    legend = [{"name": one.name, "css": one.css, "x": LABEL_WIDTH + i * 170} for i, one in enumerate(series)]
    return Chart(title=title, width=WIDTH, height=max(top, LEGEND + 40), zero_x=round(x(0), 1),
                 plot_top=LEGEND, legend=legend, groups=groups)
