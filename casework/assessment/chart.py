"""The ranking as a horizontal bar chart, laid out here and drawn as inline SVG by a template
(no script, no library, no CDN; colours as SVG attributes, so the strict CSP allows them)."""

from dataclasses import dataclass

WIDTH = 640
LABEL = 150  # room for the township names
VALUE = 70  # room for the figure after a bar
ROW = 30
BAR = 18
TOP = 10


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    text_x: float
    text_anchor: str
    bottom_band: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    zero_x: float
    bars: list[Bar]


def layout(rows: list[dict]) -> Chart:
    """One bar per township from zero to its total on the sheet (negative totals point left)."""
    values = [float(r.get("total", r["net"])) for r in rows]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    if hi == lo:
        hi = lo + 1
    area = WIDTH - LABEL - 2 * VALUE

    def x(v):
        return LABEL + VALUE + (v - lo) / (hi - lo) * area

    zero = x(0)
    bars = []
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        end = x(value)
        left = min(zero, end)
        bars.append(
            Bar(
                label=row["name"],
                value=row.get("total", row["net"]),
                x=round(left, 1),
                y=TOP + i * ROW,
                width=round(max(abs(end - zero), 1), 1),
                text_x=round(end + 4 if value >= 0 else end - 4, 1),
                text_anchor="start" if value >= 0 else "end",
                bottom_band=row["bottom_band"],
            )
        )
    return Chart(WIDTH, TOP * 2 + ROW * len(rows), round(zero, 1), bars)
