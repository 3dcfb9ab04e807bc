"""Daily charts drawn by the server as SVG: the geometry is computed here, the markup is the
`chart` partial of templates/dashboard/index.html.

Horizontal positions are percentages of the chart's width, so a chart fills any screen without
scaling its text; vertical positions are pixels in a plot of fixed height.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

PLOT_TOP = 10
PLOT_HEIGHT = 180
AXIS_ROOM = 26  # under the plot, for the day labels
HEIGHT = PLOT_TOP + PLOT_HEIGHT + AXIS_ROOM
BASELINE = PLOT_TOP + PLOT_HEIGHT
MAX_DAY_LABELS = 7
DENSE_AFTER = 31  # days; past this, line charts show their points only under the pointer
CROWDED_AFTER = 14  # days; past this, phones do the same
GRIDLINES = 4

Formatter = Callable[[int], str]


def count(value: int) -> str:
    return f"{value:,}"


def day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


@dataclass(frozen=True)
class Series:
    key: str  # names the colour: CSS class chart-<key>
    label: str
    values: Sequence[int]  # one per day

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayMark:
    x: str
    label: str


@dataclass(frozen=True)
class Bar:
    key: str
    x: str
    width: str
    y: float
    height: float
    title: str


@dataclass(frozen=True)
class Segment:
    key: str
    x1: str
    y1: float
    x2: str
    y2: float


@dataclass(frozen=True)
class Point:
    key: str
    x: str
    y: float
    title: str


@dataclass(frozen=True)
class LegendItem:
    key: str
    label: str
    total: str


@dataclass(frozen=True)
class TableRow:
    day: date
    cells: list[str]


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # "line" or "bar"
    description: str
    legend: list[LegendItem]
    ticks: list[Tick]
    day_marks: list[DayMark]
    table: list[TableRow]
    totals: list[str]
    bars: list[Bar] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    per: str = "day"  # what one slot is: "day" or "week"
    dense: bool = False
    crowded: bool = False
    empty: bool = False
    height: int = HEIGHT
    baseline: int = BASELINE


def nice_step(peak: int, steps: int = GRIDLINES, unit: int = 1) -> int:
    """The gridline step: a round whole number of units (100 for cents: whole dollars), 1, 1.5,
    2, 2.5, 3, 4, 5, 6 or 8 times a power of ten, so that `steps` steps reach peak."""
    raw = max(peak / unit / steps, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
        step = multiple * magnitude
        if step == int(step) and step >= raw:
            return int(step) * unit
    return 10 * magnitude * unit


def _percent(value: float) -> str:
    return f"{value:.3f}%"


def _y(value: int, top: int) -> float:
    return round(BASELINE - PLOT_HEIGHT * value / top, 2)


def time_chart(
    *,
    id: str,
    title: str,
    kind: str,
    days: Sequence[date],
    series: Sequence[Series],
    fmt: Formatter = count,
    tick_fmt: Formatter | None = None,
    unit: int = 1,
    empty_text: str = "nothing",
    per: str = "day",
) -> Chart:
    """A chart with one slot per day (or per week, `days` then being their first days): grouped
    bars, or lines through the middle of each slot."""
    if kind not in ("line", "bar"):
        raise ValueError(f"unknown chart kind {kind!r}")
    if any(len(s.values) != len(days) for s in series):
        raise ValueError("every series needs one value per day")
    tick_fmt = tick_fmt or fmt
    n = len(days)
    slot = 100 / n if n else 100
    peak = max((max(s.values, default=0) for s in series), default=0)
    step = nice_step(peak, unit=unit)
    top = step * GRIDLINES
    ticks = [Tick(_y(step * i, top), tick_fmt(step * i)) for i in range(GRIDLINES + 1)]
    every = max(1, math.ceil(n / MAX_DAY_LABELS))
    day_marks = [DayMark(_percent((i + 0.5) * slot), day_label(days[i])) for i in range(n - 1, -1, -every)][::-1]

    chart = Chart(
        id=id,
        title=title,
        kind=kind,
        description=_describe(days, series, fmt, empty_text, per),
        legend=[LegendItem(s.key, s.label, fmt(s.total)) for s in series],
        ticks=ticks,
        day_marks=day_marks,
        table=[TableRow(day, [fmt(s.values[i]) for s in series]) for i, day in enumerate(days)],
        totals=[fmt(s.total) for s in series],
        per=per,
        dense=n > DENSE_AFTER,
        crowded=n > CROWDED_AFTER,
        empty=peak == 0,
    )
    if kind == "bar":
        group = slot * 0.76
        width = group / max(len(series), 1)
        for i, day in enumerate(days):
            for k, s in enumerate(series):
                value = s.values[i]
                if value <= 0:
                    continue
                y = _y(value, top)
                height = max(BASELINE - y, 1.5)
                chart.bars.append(
                    Bar(
                        key=s.key,
                        x=_percent(i * slot + (slot - group) / 2 + k * width),
                        width=_percent(width * 0.92),
                        y=round(BASELINE - height, 2),
                        height=round(height, 2),
                        title=f"{day_label(day)}: {fmt(value)} {s.label.lower()}",
                    )
                )
    else:
        for s in series:
            previous = None
            for i, day in enumerate(days):
                x, y = _percent((i + 0.5) * slot), _y(s.values[i], top)
                if previous:
                    chart.segments.append(Segment(s.key, previous[0], previous[1], x, y))
                chart.points.append(Point(s.key, x, y, f"{day_label(day)}: {fmt(s.values[i])} {s.label.lower()}"))
                previous = (x, y)
    return chart


def _describe(days: Sequence[date], series: Sequence[Series], fmt: Formatter, empty_text: str, per: str) -> str:
    if not days:
        return "No days to show."
    span = f"{day_label(days[0])} to {day_label(days[-1])} {days[-1].year}"
    if all(s.total == 0 for s in series):
        return f"From {span}: {empty_text}."
    totals = ", ".join(f"{s.label.lower()} {fmt(s.total)}" for s in series)
    best = max(range(len(days)), key=lambda i: sum(s.values[i] for s in series))
    when = day_label(days[best]) if per == "day" else f"the week of {day_label(days[best])}"
    return f"Totals from {span}: {totals}. The busiest {per} was {when}."
