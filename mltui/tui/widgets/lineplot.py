"""The curves chart drawn straight to styled rows, character for character what Plotext draws.

Plotext builds a line plot in pure Python one dot at a time: each segment between two points
becomes a list of dots (``get_lines``), the dots are grouped per cell into quadrant markers
(``hd_group``), every cell of the figure is a list entry written into an ANSI string, and
``Text.from_ansi`` parses that string back.  For 8 curves that was ~50 ms a frame at 120×13
on a quiet machine, ~80 ms under load — most of the time Compare took to draw.

This module draws the one figure :class:`~mltui.tui.widgets.curves.CurveChart` asks for (a
left axis with 7 automatic ticks, a bottom axis with the given ticks and labels, quadrant-marker
lines and single dots; no title, grid or legend) with the same arithmetic — Plotext's own
tick labels, its float expressions for data → dot and its line rasterisation — on integer
masks per cell, and turns rows into runs with the very styles ``Text.from_ansi`` gives Plotext's
codes (``CurveChart`` makes strips of them; :func:`draw` a ``Text``).  ``tests/tui/test_lineplot.py`` checks the result equals Plotext's, cell by
cell and style by style, on random and hostile curves at several sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import plotext._utility as plotext_utils
from rich.console import Console
from rich.style import Style
from rich.text import Text

Y_TICKS = 7  # Plotext's default number of y ticks
NO_COLOUR = plotext_utils.no_color  # Plotext's "no colour, no style"
Run = tuple[str, Style]  # characters of one style, side by side in a row
# A cell's 2×2 dots as a 4-bit mask (bit 0: top left, 1: top right, 2: bottom left,
# 3: bottom right) → Plotext's quadrant character for the same dots.
QUADRANTS = [plotext_utils.hd_codes[((m >> 0) & 1, (m >> 1) & 1, (m >> 2) & 1, (m >> 3) & 1)]
             for m in range(16)]


@dataclass(frozen=True)
class Series:
    """One curve to draw: its points, its RGB colour, and lines (quadrant dots) or one dot."""

    xs: Sequence[float]
    ys: Sequence[float]
    colour: tuple[int, int, int]
    dot: str | None = None  # a marker character for a scatter (no lines); None: hd lines


@dataclass(frozen=True)
class Theme:
    """Plotext theme colours: canvas, axes (the frame's background), ticks and tick style."""

    canvas: Any
    axes: Any
    ticks: Any
    ticks_style: Any


def limits(values: list[float]) -> tuple[float, float]:
    """Plotext's ``get_lim`` of finite ``values``: their range, a flat one widened by half
    its value either way (or to -1…1 at zero, or when there are none)."""
    low, high = (min(values), max(values)) if values else (0, 0)
    if low != high:
        return low, high
    return (0.5 * low, 1.5 * low) if low != 0 else (-1, 1)


def to_cells(values: Sequence[float], low: float, high: float, bins: int) -> list[int]:
    """Plotext's ``get_matrix_data``: each value's bin, the same float operations in order
    (its ``round(x, 8)`` then ``floor``)."""
    span = high - low
    scale = bins - 1
    floor, ceil = math.floor, math.ceil
    out = []
    append = out.append
    for value in values:
        n = (0.5 + scale * (value - low) / span) * 100000000
        rounded = floor(n)
        if n - rounded >= 0.5:
            rounded = ceil(n)
        append(floor(rounded * 1e-08))
    return out


def line_masks(xs: list[int], ys: list[int]) -> dict[tuple[int, int], int]:
    """Every dot of the lines between consecutive points, or-ed into per-cell quadrant masks
    (bit 0: top left, 1: top right, 2: bottom left, 3: bottom right).

    Plotext's ``get_line``: ``a = max(|dx|, |dy|) + 1`` evenly spaced points, each coordinate
    truncated with ``int``; the union of all segments' dots (each segment's end is the next
    one's start, so Plotext's dropping of ends changes nothing but the last point, added back).
    """
    masks: dict[tuple[int, int], int] = {}
    get = masks.get
    dots = []
    for n in range(len(xs) - 1):
        x0, y0, x1, y1 = xs[n], ys[n], xs[n + 1], ys[n + 1]
        steps = max(abs(x1 - x0), abs(y1 - y0))
        if steps == 1:
            dots.append((x0, y0))
        elif steps:  # steps == 0: the same dot twice, Plotext draws nothing for it
            slope_x, slope_y = (x1 - x0) / steps, (y1 - y0) / steps
            dots += [(int(x0 + i * slope_x), int(y0 + i * slope_y)) for i in range(steps)]
    if xs:
        dots.append((xs[-1], ys[-1]))
    for x, y in dots:
        key = (x >> 1, y >> 1)
        masks[key] = get(key, 0) | (1 << ((x & 1) + (0 if y & 1 else 2)))
    return masks


@lru_cache(maxsize=256)
def cell_style(fg: Any, style: Any, bg: Any) -> Style:
    """The Rich style ``Text.from_ansi`` gives a cell Plotext colours (fg, style, bg)."""
    code = plotext_utils.colors_to_ansi(fg, style, bg)
    parsed = Text.from_ansi(code + "x" + plotext_utils.ansi_end)
    return parsed.get_style_at_offset(Console(), 0) if parsed.spans else Style.null()


def place_label(row: list[str], at: int, label: str, width: int) -> int | None:
    """Where Plotext writes an x tick label centred near column ``at`` of ``row`` ("dynamic"
    alignment, shifted off the edges), or None when it would touch another label."""
    length = len(label)
    first, last = max(at - length + 1, 0), min(at + length, len(row) - 1)
    free = [i for i in range(first, last) if row[i] == " "]
    low, high = min(free, default=at - length + 1), max(free, default=at + length)
    low, high = high - length + 1, low + length
    at = (low + high - length) // 2
    begin, end = max(at - 1, 0), min(at + length + 1, width)
    if at < 0 or at + length > width or any(row[c] != " " for c in range(begin, end)):
        return None
    return at


class Canvas:
    """The figure's cells, rows counted from the bottom as Plotext counts them: a character,
    a foreground and a style each; the background is the theme's (canvas inside, axes out)."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.fgs: list[list[Any]] = [[NO_COLOUR] * width for _ in range(height)]
        self.styles: list[list[Any]] = [[NO_COLOUR] * width for _ in range(height)]

    def put(self, col: int, row: int, text: str, fg: Any, style: Any = None) -> None:
        """Write ``text`` from (col, row) rightwards; cells off the figure are skipped."""
        if not 0 <= row < self.height:
            return
        chars, fgs, styles = self.chars[row], self.fgs[row], self.styles[row]
        for offset, char in enumerate(text):
            if 0 <= col + offset < self.width:
                chars[col + offset] = char
                fgs[col + offset] = fg
                if style is not None:
                    styles[col + offset] = style

    def runs(self, theme: Theme, area: tuple[int, int, int, int]) -> list[list[Run]]:
        """Rows top to bottom, each as runs of characters of equal colours with their style."""
        col_start, row_start, col_end, row_end = area
        rows = []
        for row in range(self.height - 1, -1, -1):
            inside_row = row_start <= row < row_end
            chars, fgs, styles = self.chars[row], self.fgs[row], self.styles[row]
            runs: list[Run] = []
            run_start, run_key = 0, None
            for col in range(self.width):
                bg = theme.canvas if inside_row and col_start <= col < col_end else theme.axes
                key = (fgs[col], styles[col], bg)
                if key != run_key:
                    if run_key is not None:
                        runs.append(("".join(chars[run_start:col]), cell_style(*run_key)))
                    run_start, run_key = col, key
            if run_key is not None:
                runs.append(("".join(chars[run_start:]), cell_style(*run_key)))
            rows.append(runs)
        return rows


def rows_to_text(rows: list[list[Run]]) -> Text:
    """The rows as one ``Text``, each row ended by a newline (as ``Text.from_ansi`` gives
    Plotext's output)."""
    text = Text()
    for runs in rows:
        for chars, style in runs:
            text.append(chars, style)
        text.append("\n")
    return text


def draw(series: list[Series], width: int, height: int, x_ticks: list[float],
         x_labels: list[str], theme: Theme) -> Text:
    """The chart as ``Text`` (see :func:`draw_rows`)."""
    return rows_to_text(draw_rows(series, width, height, x_ticks, x_labels, theme))


def draw_rows(series: list[Series], width: int, height: int, x_ticks: list[float],
              x_labels: list[str], theme: Theme) -> list[list[Run]]:
    """The chart as Plotext draws it with ``xaxes(True, False)``, ``yaxes(True, False)`` and
    ``xticks(x_ticks, x_labels)`` (``x_labels`` not empty), at ``width`` × ``height``."""
    x_low, x_high = limits([x for s in series for x in s.xs])
    y_low, y_high = limits([y for s in series for y in s.ys])
    y_ticks = plotext_utils.linspace(y_low, y_high, Y_TICKS)
    y_labels = plotext_utils.add_extra_spaces(plotext_utils.get_labels(y_ticks), "left")
    label_width = max(map(len, y_labels), default=0)
    canvas_width, canvas_height = width - 1 - label_width, height - 2
    col_start, row_start = label_width + 1, 2
    canvas = Canvas(width, height)
    ticks = theme.ticks
    kept = []
    if height > 0:
        for col, label in zip(to_cells(x_ticks, x_low, x_high, canvas_width), x_labels):
            at = place_label(canvas.chars[0], col_start + col, label, width)
            if at is not None:
                canvas.put(at, 0, label, ticks, theme.ticks_style)
                kept.append(col)
    y_rows = to_cells(y_ticks, y_low, y_high, canvas_height)
    if width >= label_width:
        for row, label in zip(y_rows, y_labels):
            canvas.put(0, row + row_start, label, ticks, theme.ticks_style)
    if width >= label_width + 1:
        for i in range(canvas_height):
            canvas.put(label_width, row_start + i, "┤" if i in y_rows else "│", ticks)
    if canvas_height >= 0 and canvas_width >= 0:
        canvas.put(col_start - 1, row_start - 1, "└", ticks)
    if canvas_height >= -1:
        canvas.put(col_start, row_start - 1,
                   "".join("┬" if i in kept else "─" for i in range(canvas_width)), ticks)
    chars, fgs, styles = canvas.chars, canvas.fgs, canvas.styles
    for one in series:
        for (x, y), char in _cells(one, (x_low, x_high, y_low, y_high),
                                   canvas_width, canvas_height).items():
            if 0 <= x < canvas_width and 0 <= y < canvas_height:
                row, col = y + row_start, x + col_start
                chars[row][col], fgs[row][col], styles[row][col] = char, one.colour, NO_COLOUR
    return canvas.runs(theme, (col_start, row_start, col_start + canvas_width,
                                  row_start + canvas_height))


def _cells(one: Series, lims: tuple[float, float, float, float], canvas_width: int,
           canvas_height: int) -> dict[tuple[int, int], str]:
    """One curve's character per canvas cell (quadrant dots along its lines, or its dots)."""
    x_low, x_high, y_low, y_high = lims
    if canvas_width == 0:
        return {}
    if one.dot is not None:
        xs = to_cells(one.xs, x_low, x_high, canvas_width)
        ys = to_cells(one.ys, y_low, y_high, canvas_height)
        return {(x, y): one.dot for x, y in zip(xs, ys)}
    xs = to_cells(one.xs, x_low, x_high, canvas_width * 2)
    ys = to_cells(one.ys, y_low, y_high, canvas_height * 2)
    return {key: QUADRANTS[mask] for key, mask in line_masks(xs, ys).items()}
