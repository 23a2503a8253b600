"""A production metric over time as a block chart, coloured by the version serving each moment.

Drawn as plain Rich ``Text`` (no plotting library): one column per time slice holds the mean of
the observations in it, in the colour of the version that served them; the version's own
logged (evaluation) value is a dotted level behind the bars, so a gap between eval and
production is visible at a glance.  Below the bars, ``▲`` marks each stage change (green a
promotion, yellow a rollback) and the serving version is named where it starts.  Refs go
through :func:`lit`-style literal text: a version name never reaches markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from ...display import fmt_delta, fmt_number, safe
from .curves import curve_style

BLOCKS = " ▁▂▃▄▅▆▇█"
AXIS = 8  # columns for the y-axis labels
CHANGE_STYLES = {"promote": "bold green", "rollback": "bold yellow"}


def version_order(series: dict[str, Any]) -> list[str]:
    """The versions in the order they first served in the span (their colour index)."""
    order: list[str] = []
    for point in series["points"]:
        if point["version"] and point["version"] not in order:
            order.append(point["version"])
    return order


def columns_of(series: dict[str, Any], count: int) -> tuple[list[tuple[float, str] | None],
                                                              float, float]:
    """``count`` time slices: each the count-weighted mean and the version of its last
    observation (None where nothing was observed), and the span's start and end."""
    points = series["points"]
    times = [p["t"] for p in points] + [c["at"] for c in series["changes"]]
    start, end = min(times), max(times)
    width = (end - start) / count or 1.0
    sums: list[list[float]] = [[0.0, 0.0] for _ in range(count)]
    last: list[str | None] = [None] * count
    for point in points:
        index = min(count - 1, int((point["t"] - start) / width))
        sums[index][0] += point["mean"] * point["count"]
        sums[index][1] += point["count"]
        last[index] = point["version"]
    cells = [(total / n, last[i] or "") if n else None for i, (total, n) in enumerate(sums)]
    return fill_gaps(cells), start, end


def fill_gaps(cells: list[tuple[float, str] | None], longest: int = 2
              ) -> list[tuple[float, str] | None]:
    """Carry a value over empty columns shorter than ``longest + 1`` between two columns of the
    same version: a bucket wider than a column leaves such holes, they are not outages."""
    out = list(cells)
    index = 0
    while index < len(out):
        if out[index] is None and index > 0 and out[index - 1] is not None:
            stop = index
            while stop < len(out) and out[stop] is None:
                stop += 1
            if stop < len(out) and stop - index <= longest and out[stop][1] == out[index - 1][1]:
                out[index:stop] = [out[index - 1]] * (stop - index)
            index = stop
        index += 1
    return out


def _column(time: float, start: float, end: float, count: int) -> int:
    if end <= start:
        return 0
    return max(0, min(count - 1, int((time - start) / (end - start) * count)))


def production_chart(series: dict[str, Any], width: int, height: int = 8) -> Text:
    """The chart of ``Catalog.production_series`` in ``width`` × (``height`` + 2) cells."""
    if not series["points"]:
        return Text(f"no observations of {safe(series['metric'])} in {safe(series['stage'])}",
                    style="dim")
    count = max(4, width - AXIS)
    cells, start, end = columns_of(series, count)
    order = version_order(series)
    styles = {ref: curve_style(i) for i, ref in enumerate(order)}
    values = [c[0] for c in cells if c] + [series["eval"][r] for r in order if r in series["eval"]]
    low, high = min(values), max(values)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    low -= (high - low) / height  # the lowest value still shows one bar cell
    scale = height / (high - low)
    out = Text(no_wrap=True)
    for row in range(height - 1, -1, -1):
        label = fmt_number(high) if row == height - 1 else fmt_number(low) if row == 0 else ""
        out.append(f"{label[:AXIS - 1]:>{AXIS - 1}}│", style="dim")
        for cell in cells:
            if cell is None:
                out.append(" ")
                continue
            level = (cell[0] - low) * scale - row
            if level >= 1:
                out.append("█", style=styles.get(cell[1], ""))
                continue
            served = series["eval"].get(cell[1])
            if served is not None and int((served - low) * scale - 1e-9) == row and level < 0.5:
                out.append("·", style=styles.get(cell[1], ""))  # the eval level behind
            elif level > 0:
                out.append(BLOCKS[max(1, round(level * 8))], style=styles.get(cell[1], ""))
            else:
                out.append(" ")
        out.append("\n")
    marks = [" "] * count
    mark_styles = [""] * count
    for change in series["changes"]:
        index = _column(change["at"], start, end, count)
        marks[index] = "▲"
        mark_styles[index] = CHANGE_STYLES.get(change["action"], "bold")
    out.append(" " * (AXIS - 1) + "└", style="dim")
    for mark, style in zip(marks, mark_styles):
        out.append(mark if mark != " " else "─", style=style or "dim")
    out.append("\n" + " " * AXIS)
    names = Text(" " * count, no_wrap=True)
    previous = None
    for index, cell in enumerate(cells):
        version = cell[1] if cell else previous
        if version and version != previous:
            label = "v" + version.rsplit("@", 1)[-1]
            names = names[:index] + Text(safe(label), style=styles.get(version, "")) + \
                names[index + len(label):]
        previous = version
    out.append_text(names[:count])
    return out


def eval_vs_production(series: dict[str, Any]) -> list[dict[str, Any]]:
    """Per version that served in the span: observations, production mean, eval value, the
    difference (production − eval), in serving order."""
    rows = []
    for ref in version_order(series):
        points = [p for p in series["points"] if p["version"] == ref]
        n = sum(p["count"] for p in points)
        mean = sum(p["mean"] * p["count"] for p in points) / n if n else None
        logged = series["eval"].get(ref)
        rows.append({"ref": ref, "count": n, "production": mean, "eval": logged,
                     "delta": None if mean is None or logged is None else mean - logged})
    return rows


def eval_table(series: dict[str, Any]) -> Text:
    """:func:`eval_vs_production` as aligned literal text, each version in its chart colour."""
    rows = eval_vs_production(series)
    if not rows:
        return Text("")
    styles = {ref: curve_style(i) for i, ref in enumerate(version_order(series))}
    width = max(7, *(len(safe(r["ref"])) for r in rows))
    out = Text(f"  {'version':<{width}} {'eval':>8} {'prod':>8} {'Δ':>8} {'obs':>6}\n",
               style="dim", no_wrap=True)
    for row in rows:
        out.append("█ ", style=styles[row["ref"]])
        out.append(f"{safe(row['ref']):<{width}} ", style="bold")
        out.append(f"{fmt_number(row['eval']):>8} {fmt_number(row['production']):>8} ")
        out.append(f"{fmt_delta(row['delta']):>8}")  # no colour: better may be lower
        out.append(f" {row['count']:>6}\n")
    out.rstrip()
    return out
