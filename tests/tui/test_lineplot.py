"""The chart drawn by ``lineplot`` is Plotext's picture: same characters, same styles.

Each case is drawn twice — by Plotext as the chart drew it before (``plot``/``scatter`` with
quadrant markers, then ``Text.from_ansi`` of its output) and by ``lineplot.draw`` — and the
two are rendered to segments and compared cell by cell (character and Rich style).
"""

from __future__ import annotations

import math
import random

import pytest
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual_plotext.plot import Plot, _rgbify_theme, _sequence
from plotext._dict import themes

from mltui.tui.widgets.curves import CURVE_COLOURS, MARKER, Curve, compact, step_ticks, thin
from mltui.tui.widgets.lineplot import Series, Theme, draw

THEME = "mltui-test-lineplot"
themes[THEME] = _rgbify_theme((30, 30, 30), (40, 40, 40), (220, 220, 220), "default", _sequence)
CONSOLE = Console(width=400, color_system="truecolor")


def ticks_for(curves: list[Curve], width: int) -> list[int]:
    xs = [x for c in curves for x in (c.points[0][0], c.points[-1][0])]
    return step_ticks(min(xs), max(xs), max(2, width // 16))


def by_plotext(curves: list[Curve], width: int, height: int) -> Text:
    """What CurveChart drew before lineplot: Plotext's own build."""
    plt = Plot()
    plt.plotsize(width, height)
    plt._set_size(width, height)
    plt.theme(THEME)
    plt.clear_data()
    plt.xaxes(True, False)
    plt.yaxes(True, False)
    ticks = ticks_for(curves, width)
    plt.xticks(ticks, [compact(t) for t in ticks])
    # Plotext keeps the ticks in a set's order (random per process: where labels crowd, a
    # different one wins each run); lineplot places them left to right, one of those orders.
    plt.monitor.xticks[0], plt.monitor.xlabels[0] = ticks, [compact(t) for t in ticks]
    for curve in curves:
        xs, ys = curve.xy(max(8, width * 2))
        if len(xs) == 1:
            plt.scatter(xs, ys, marker="●", color=CURVE_COLOURS[curve.colour])
        else:
            plt.plot(xs, ys, marker=MARKER, color=CURVE_COLOURS[curve.colour])
    return Text.from_ansi(plt.build())


def by_lineplot(curves: list[Curve], width: int, height: int) -> Text:
    series = []
    for curve in curves:
        xs, ys = curve.xy(max(8, width * 2))
        series.append(Series(xs, ys, CURVE_COLOURS[curve.colour], "●" if len(xs) == 1 else None))
    ticks = ticks_for(curves, width)
    return draw(series, width, height, ticks, [compact(t) for t in ticks],
                Theme(*themes[THEME][:4]))


def cells(text: Text) -> list[tuple[str, object]]:
    return [(char, segment.style) for segment in text.render(CONSOLE) for char in segment.text]


def random_curves(rng: random.Random) -> list[Curve]:
    curves = []
    for index in range(rng.randint(1, 8)):
        steps = rng.choice([1, 2, 3, 50, 240, 1000])
        stride = rng.choice([1, 1, 10])
        base = rng.choice([0.0, 1e-9, 1e6, -5.0, -1e-3])
        shape = rng.choice(["decay", "flat", "noise", "spikes"])
        points = []
        for step in range(steps):
            if shape == "flat":
                value = base + 3.0
            elif shape == "noise":
                value = base + rng.gauss(0, 1)
            else:
                value = base + math.exp(-step / 300) * (1 + 0.1 * index)
                if shape == "spikes" and rng.random() < 0.02:
                    value += rng.choice([-1, 1]) * rng.random() * 5
            points.append((float(step * stride), value))
        curves.append(Curve(points, index))
    return curves


@pytest.mark.parametrize("seed", range(6))
def test_lineplot_draws_what_plotext_draws(seed) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        width = rng.choice([12, 20, 40, 58, 78, 80, 118, 120, 200])
        height = rng.choice([3, 4, 6, 9, 13, 20, 31])
        curves = random_curves(rng)
        expected, drawn = by_plotext(curves, width, height), by_lineplot(curves, width, height)
        assert drawn.plain == expected.plain, (width, height)
        assert cells(drawn) == cells(expected), (width, height)


def test_the_compare_workload_is_drawn_as_plotext_draws_it() -> None:
    """8 curves × 1,000 steps at the chart sizes of 80×24 and 120×40."""
    curves = [Curve([(float(step), (1 + index) * 0.01 + (0.5 + 0.5 * ((step * (index + 3)) % 17)
                                                           / 17) * 0.99 ** step)
                     for step in range(1000)], index) for index in range(8)]
    for width, height in ((80, 9), (120, 13), (120, 31)):
        expected = by_plotext(curves, width, height)
        assert cells(by_lineplot(curves, width, height)) == cells(expected)


def test_spikes_and_the_last_point_survive_thinning() -> None:
    """A one-step spike up or down anywhere, and the last point, are in the thinned curve and
    on the chart (the top and bottom rows of the canvas hold the spikes)."""
    points = [(float(step), 1.0) for step in range(1000)]
    points[137] = (137.0, 9.0)
    points[862] = (862.0, -7.0)
    points[-1] = (999.0, 3.0)
    kept = thin(points, 80 * 2)
    assert (137.0, 9.0) in kept and (862.0, -7.0) in kept and kept[-1] == (999.0, 3.0)
    lines = by_lineplot([Curve(points, 0)], 80, 9).plain.splitlines()
    top, bottom = lines[0], lines[6]  # 7 canvas rows above the x axis and its labels
    assert top.split("┤")[0].strip() == "9.0" and top.split("┤")[1].strip()  # spike up: top row
    assert bottom.split("┤")[0].strip() == "-7.0" and bottom.split("┤")[1].strip()  # down: bottom
    assert lines[2].startswith(" 3.7┤") and lines[2][-1] != " "  # the last point, 3.0


async def test_the_chart_widget_draws_its_strips_as_textual_draws_its_text() -> None:
    """CurveChart hands its rows to Textual as strips; they are the strips Textual makes of
    the same chart as ``Text`` (``lineplot.rows_to_text``): same characters, colours, styles."""
    from textual.app import App

    from mltui.tui.widgets.curves import CurveChart

    class ChartApp(App):
        def compose(self):
            yield CurveChart(id="chart")

    def cells_of(strip) -> list[tuple[object, ...]]:
        """Each character with what its style draws (the meta, offsets for selection, aside)."""
        return [(char, style.color, style.bgcolor, style.bold, style.dim, style.italic,
                 style.underline, style.reverse, style.strike)
                for segment in strip for char in segment.text
                for style in [segment.style or Style()]]

    app = ChartApp()
    async with app.run_test(size=(80, 14)) as pilot:
        chart = app.query_one(CurveChart)
        chart.set_curves(random_curves(random.Random(7)))
        await pilot.pause()
        direct = [chart.render_line(y) for y in range(chart.size.height)]
        # Textual's own path from the same chart as ``Text``: the widget never takes it (its
        # rows go out as strips), so the test hands it that Text as the widget's render().
        from mltui.tui.widgets.lineplot import rows_to_text

        curves = [curve for curve in chart.curves if curve.points]
        chart.render = lambda: rows_to_text(chart._draw_rows(curves, *chart.size))
        chart._dirty_regions.add(chart.region)
        chart._render_content()
        through_text = chart._render_cache.lines
        assert len(direct) == len(through_text) == 14
        for ours, theirs in zip(direct, through_text):
            assert cells_of(ours) == cells_of(theirs)
