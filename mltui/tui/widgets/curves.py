"""Metric curves over steps, several runs overlaid: a textual-plotext plot fed with thinned data.

The plot itself carries no user text (no title, no labels): the caller draws the title and the
legend as literal ``Text`` beside it, so a metric key or a ref can never reach Plotext's own
string handling.  Each curve is thinned to a few points per terminal column before plotting —
braille markers resolve two dots per column, so more points only cost time, and min/max
bucketing keeps spikes that an even stride would drop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.strip import Strip
from plotext._dict import themes as plotext_themes
from textual_plotext import PlotextPlot

from .lineplot import Run, Series, Theme, draw_rows

# Okabe–Ito colours (distinguishable with the common colour-vision deficiencies) plus a grey:
# one per compared version, the baseline first.
CURVE_COLOURS: list[tuple[int, int, int]] = [
    (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
    (0, 114, 178), (213, 94, 0), (204, 121, 167), (190, 190, 190),
]
# Quadrant blocks (2×2 dots a cell) rather than braille (2×4): fonts of many terminals
# (and of SVG screenshot renderers) lack the braille block, every one has the quadrants.
MARKER = "hd"
POINTS_PER_COLUMN = 2  # one min/max pair per column: all the quadrant marker resolves


def curve_style(index: int) -> str:
    """The Rich style of curve ``index`` (the legend uses it next to the name)."""
    r, g, b = CURVE_COLOURS[index % len(CURVE_COLOURS)]
    return f"rgb({r},{g},{b})"


def clean_points(points: Iterable[tuple[float | None, float | None]]) -> list[tuple[float, float]]:
    """``(step, value)`` pairs ready to draw: missing steps numbered by position, NaN/inf and
    missing values dropped (they cannot be placed on an axis)."""
    isfinite = math.isfinite
    return [(float(index if step is None else step), float(value))
            for index, (step, value) in enumerate(points)
            if value is not None and isfinite(value)]


def thin(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most about ``limit`` points, keeping each bucket's lowest and highest value in order
    (the first of equal ones), and the last point."""
    if len(points) <= limit or limit < 4:
        return points
    buckets = limit // 2
    size = len(points) / buckets
    values = [point[1] for point in points]
    out: list[tuple[float, float]] = []
    for bucket in range(buckets):
        start, stop = int(bucket * size), int((bucket + 1) * size)
        if start >= stop:
            continue
        # min/max of a slice and .index run in C: ~5x faster than min(range, key=...).
        window = values[start:stop]
        low = start + window.index(min(window))
        high = start + window.index(max(window))
        if low < high:
            out += (points[low], points[high])
        elif high < low:
            out += (points[high], points[low])
        else:
            out.append(points[low])
    if out[-1] != points[-1]:
        out.append(points[-1])
    return out


def step_ticks(low: float, high: float, count: int) -> list[int]:
    """At most about ``count`` whole-number ticks at round steps (1, 2, 5 × 10ⁿ) in the range."""
    if high <= low:
        return [int(low)]
    raw = max(1.0, (high - low) / max(1, count))
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    tick = first
    while tick <= high + 1e-9:
        ticks.append(round(tick))
        tick += step
    return ticks or [int(low)]


def compact(step: int) -> str:
    """A step count for an axis: ``950``, ``12k``, ``1.5M``."""
    if abs(step) >= 1_000_000:
        return f"{step / 1_000_000:.3g}M"
    if abs(step) >= 10_000:
        return f"{step / 1000:.3g}k"
    return str(step)


@dataclass
class Curve:
    """One run's curve: its points and its colour index."""

    points: list[tuple[float, float]]
    colour: int
    _thinned: dict[int, tuple[list[float], list[float]]] = field(default_factory=dict, repr=False)

    def xy(self, limit: int) -> tuple[list[float], list[float]]:
        """The thinned x and y lists for a point budget (cached per budget)."""
        cached = self._thinned.get(limit)
        if cached is None:
            kept = thin(self.points, limit)
            cached = ([p[0] for p in kept], [p[1] for p in kept])
            self._thinned[limit] = cached
        return cached


class CurveChart(PlotextPlot):
    """Several curves over steps, overlaid, one colour each (the legend lives outside)."""

    DEFAULT_CSS = """
    CurveChart { height: 1fr; width: 1fr; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.curves: list[Curve] = []
        self.last_render_ms: float | None = None  # for the performance report
        self.rendered_at: float | None = None
        # The strips drawn, per size and Plotext theme (the app's, unless one is set).
        self._drawn: tuple[tuple[int, int, str], list[Strip]] | None = None

    def set_curves(self, curves: list[Curve]) -> None:
        """Draw these curves (an empty list draws empty axes)."""
        self.curves = curves
        self._drawn = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """One row of the chart.  Curves come straight from :mod:`.lineplot` as strips, drawn
        once per size (``Text`` → ``Content`` → strips cost more than drawing them); empty
        axes take the ordinary path through :meth:`render`."""
        width, height = self.size
        curves = [curve for curve in self.curves if curve.points]
        if not (curves and width and height):
            return super().render_line(y)
        key = (width, height, self._get_plotext_theme_name(self.app.theme))
        if self._drawn is None or self._drawn[0] != key:
            started = time.perf_counter()
            strips = [self._strip(runs, y) for y, runs in
                      enumerate(self._draw_rows(curves, width, height))]
            self._drawn = (key, strips)
            self.last_render_ms = (time.perf_counter() - started) * 1000
            self.rendered_at = time.perf_counter()
        strips = self._drawn[1]
        return strips[y] if y < len(strips) else Strip.blank(width, self.visual_style.rich_style)

    def render(self) -> RenderResult:
        """Empty axes, by Plotext itself: reached only through :meth:`render_line` when there
        is no curve to draw (curves are drawn there, as strips); records how long it took."""
        started = time.perf_counter()
        width, height = self.size.width, self.size.height
        result = self._plotext_axes() if width and height else Text("")
        self.last_render_ms = (time.perf_counter() - started) * 1000
        if self.curves:
            self.rendered_at = time.perf_counter()
        return result

    def _strip(self, runs: list[Run], y: int) -> Strip:
        """One row as Textual would make it of ``Text``: the widget's style under each run's,
        and each run's offset in the meta (text selection reads it; it also keeps runs of
        equal colours apart, as screenshots expect)."""
        base, x, segments = self.visual_style.rich_style, 0, []
        for chars, style in runs:
            segments.append(Segment(chars, base + style + Style.from_meta({"offset": (x, y)})))
            x += len(chars)
        return Strip(segments, x)

    def _x_ticks(self, curves: list[Curve], width: int) -> list[int]:
        xs = [x for curve in curves for x in (curve.points[0][0], curve.points[-1][0])]
        return step_ticks(min(xs), max(xs), max(2, width // 16))

    def _draw_rows(self, curves: list[Curve], width: int, height: int) -> list[list[Run]]:
        limit = max(8, width * POINTS_PER_COLUMN)
        series = []
        for curve in curves:
            xs, ys = curve.xy(limit)
            # A scalar metric is one dot: a line needs two points.
            series.append(Series(xs, ys, CURVE_COLOURS[curve.colour % len(CURVE_COLOURS)],
                                 "●" if len(xs) == 1 else None))
        ticks = self._x_ticks(curves, width)
        colours = plotext_themes.get(self._get_plotext_theme_name(self.app.theme),
                                     plotext_themes["default"])
        return draw_rows(series, width, height, ticks, [compact(t) for t in ticks],
                         Theme(*colours[:4]))

    def _plotext_axes(self) -> RenderResult:
        """Empty axes, drawn by Plotext (only the bottom and left axes: the top and right
        lines would cost a row and a column that a 9-row chart at 80×24 cannot spare)."""
        plt = self.plt
        plt.clear_data()
        plt.xaxes(True, False)
        plt.yaxes(True, False)
        return super().render()
