"""Compare 2–8 versions side by side, and one metric's curves overlaid.

The table is a ``DataTable`` (a ``GridTable``: its one-line cells skip Rich's layout; a
comparison is bounded: one label column and at most eight version columns) holding only
``Text`` cells.  Metrics show the value and the delta against
the first version (the baseline), coloured by the row's direction, with the best per row
starred and bold; params mark differing rows with ≠ and ``d`` hides the equal ones; then data
versions, commit, run, tags, age and stages.

Below the table, the curve of one metric for every version (``m`` cycles the metric).  At
80×24 both share the screen (the table up to 60 %, the chart the rest; the table scrolls),
because reading a delta while looking at its curve is the point of the screen; ``v`` gives
either one the whole height when a wide comparison needs it.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from ...display import fmt_delta, fmt_number, safe, short_hash
from ...report import comparison_markdown
from ..widgets.keybar import KeyBar
from ..base import CatalogScreen
from ..widgets.curves import Curve, CurveChart, clean_points, curve_style
from ..widgets.gridtable import GridTable
from ..widgets.text import age, lit, stage_badges

MAX_POINTS = 1000  # per curve, from the catalog (already thinned evenly, last point kept)
LABEL_WIDTH = 24
# Long values are cut with an ellipsis (the export keeps them whole), so that three versions
# fit 80 columns; more scroll sideways (left/right) under the fixed label column.
CELL_WIDTH = 20
VIEWS = ("split", "table", "chart")


def metric_cell(row: dict[str, Any], index: int) -> Text:
    """One metric value: value, delta against the baseline coloured better/worse, ★ if best."""
    value = row["values"][index]
    shown = value if value is not None else row["raw"][index]
    best = row["best"] == index
    text = Text(fmt_number(shown), style="bold" if best else "")
    delta = row["deltas"][index]
    if index and delta is not None:
        if delta == 0:
            style = "dim"
        else:
            improved = delta > 0 if row["direction"] == "max" else delta < 0
            style = "green" if improved else "red"
        text.append(" (")
        text.append(fmt_delta(delta), style=style)
        text.append(")")
    # The star (or its blank) keeps the numbers of a right-aligned column lined up.
    text.append(" ★" if best else "  ", style="bold yellow" if best else "")
    return text


def label(key: str, prefix: str = "  ", style: str = "") -> Text:
    """A row label: literal, cut to the label column."""
    text = Text(prefix, style=style)
    text.append_text(lit(key, style))
    text.truncate(LABEL_WIDTH, overflow="ellipsis")
    return text


def cell(value: Any, style: str = "") -> Text:
    """A literal value cell, cut to CELL_WIDTH."""
    text = lit("—" if value in (None, "") else value, style)
    text.truncate(CELL_WIDTH, overflow="ellipsis")
    return text


def pick_chart_metric(data: dict[str, Any], key_metrics: list[str]) -> str | None:
    """The metric charted first: one every version has, loss-like first, then the model's key
    metrics, then the first shared; any metric when none is shared."""
    keys = [row["key"] for row in data["metrics"]]
    shared = [row["key"] for row in data["metrics"]
              if all(v is not None or r is not None for v, r in zip(row["values"], row["raw"]))]
    for key in shared:
        if "loss" in key.lower():
            return key
    for key in key_metrics:
        if key in shared:
            return key
    if shared:
        return shared[0]
    return keys[0] if keys else None


def read_curves(catalog: Any, run_ids: list[int | None], key: str
                ) -> list[list[tuple[float, float]]]:
    """Every version's curve of ``key``, ready to draw (runs on a database thread)."""
    return [clean_points(catalog.metric_history(run_id, key, max_points=MAX_POINTS))
            if run_id is not None else [] for run_id in run_ids]


Comparison = tuple[dict[str, Any], list[dict[str, Any]], list[str], str | None,
                   list[list[tuple[float, float]]] | None]


def read_comparison(catalog: Any, version_ids: list[int], wanted: str | None,
                    cached: set[str]) -> Comparison:
    """Everything Compare shows, in one call on a database thread: the comparison, its
    versions' rows, the model's key metrics, the metric to chart (``wanted`` if compared,
    else the best pick) and its curves (None when ``cached`` has them)."""
    data = catalog.compare(version_ids)
    rows = catalog.versions(data["ids"])
    keys = catalog.key_metrics(rows[0]["model"]) if rows else []
    key = wanted if wanted in [row["key"] for row in data["metrics"]] \
        else pick_chart_metric(data, keys)
    curves = read_curves(catalog, data["run_ids"], key) \
        if key is not None and key not in cached else None
    return data, rows, keys, key, curves


def export_name(refs: list[str]) -> str:
    """``compare-<refs>`` made filename-safe (refs are ``model@N``)."""
    stem = re.sub(r"[^A-Za-z0-9@._-]+", "_", "-".join(refs))[:120]
    return f"compare-{stem}"


def write_new_file(folder: Path, stem: str, text: str) -> Path:
    """Write ``folder/stem.md``, or ``stem-1.md``, ``stem-2.md``… — never over an existing file.

    Exclusive creation (``x``) makes "does it exist" and "create it" one step, so two exports
    at once cannot both take the same name.
    """
    for attempt in range(10_000):
        path = folder / (f"{stem}.md" if attempt == 0 else f"{stem}-{attempt}.md")
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder / stem}.md and 9,999 numbered copies exist")


class CompareScreen(CatalogScreen):
    """Side by side: metrics with deltas and the best marked, params, data, and curves."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="compare.back"),
        Binding("d", "differences", "Differences only", id="compare.differences"),
        Binding("m", "next_metric", "Chart metric", id="compare.metric"),
        Binding("v", "view", "View", id="compare.view"),
        Binding("x", "export", "Export .md", id="compare.export"),
    ]

    DEFAULT_CSS = """
    CompareScreen #compare-table { height: auto; max-height: 60%; min-height: 5; }
    CompareScreen #chart-pane { height: 1fr; min-height: 8; }
    CompareScreen #chart-title { height: 1; padding: 0 1; background: $boost; color: $text-muted; }
    CompareScreen #chart { height: 1fr; }
    CompareScreen #chart-legend { height: auto; max-height: 2; padding: 0 1; }
    CompareScreen #chart-empty { height: 1fr; padding: 1 2; color: $text-muted; }
    CompareScreen.-view-table #chart-pane { display: none; }
    CompareScreen.-view-table #compare-table { height: 1fr; max-height: 100%; }
    CompareScreen.-view-chart #compare-table { display: none; }
    CompareScreen.-view-chart #chart-pane { height: 1fr; }
    """

    def __init__(self, version_ids: list[int]):
        super().__init__()
        self.version_ids = list(version_ids)
        self.data: dict[str, Any] | None = None
        self.rows: list[dict[str, Any]] = []  # catalog.versions rows: run names, tags
        self.differences_only = False
        self.chart_key: str | None = None
        self.view = "split"
        self._key_metrics: list[str] = []
        self._curves: dict[str, list[list[tuple[float, float]]]] = {}
        self._cursor_key: str | None = None
        self.opened_at = time.perf_counter()  # for the draw-time measurement
        self._first_read: asyncio.Future[Comparison] | None = None
        try:  # started now, so the database works while the screen is composed and mounted
            loop, app = asyncio.get_running_loop(), self.app
        except RuntimeError:  # made outside a running app (no loop, no active app): on mount
            return
        self._first_read = loop.create_task(app.run_db(
            read_comparison, self.catalog, self.version_ids, None, set()))

    def compose(self) -> ComposeResult:
        yield Static(Text("compare …", style="dim"), id="compare-title", classes="screen-title")
        yield GridTable(id="compare-table", cursor_type="row", zebra_stripes=False)
        # Empty ("loading curves…") until the curves come: axes drawn before them would be
        # drawn again at another height once the table above has its rows.
        chart = CurveChart(id="chart")
        chart.display = False
        with Vertical(id="chart-pane"):
            yield Static(Text(""), id="chart-title")
            yield chart
            yield Static(Text("loading curves…", style="dim"), id="chart-empty")
            yield Static(Text(""), id="chart-legend")
        yield KeyBar()

    @property
    def table(self) -> DataTable:
        """The comparison table."""
        return self.query_one("#compare-table", DataTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load()

    async def reload(self) -> None:
        """The catalog changed (e.g. a promotion): re-read, keep the cursor row and the metric."""
        self._curves.clear()
        self.load()

    # -- loading ---------------------------------------------------------------------------------

    @work(exclusive=True, group="compare", exit_on_error=False)
    async def load(self) -> None:
        """The comparison, its rows, the key metrics and the charted metric's curves, read in
        one trip to a database thread: each ``await`` of the UI loop waits its turn behind
        the frame being drawn, which made four trips the larger part of opening the screen on
        a busy machine.  Table and chart then land in the same frame.  The first read was
        started when the screen was made (``__init__``), beside composing and mounting it."""
        pending, self._first_read = self._first_read, None
        try:
            if pending is not None:
                data, rows, keys, key, curves = await pending
            else:
                data, rows, keys, key, curves = await self.db(
                    read_comparison, self.catalog, self.version_ids, self.chart_key,
                    set(self._curves))
        except Exception as exc:  # noqa: BLE001
            self.report_error(exc)
            if self.data is None:
                self.query_one("#compare-title", Static).update(
                    Text("nothing to compare (see the notice)", style="dim"))
            return
        self.data, self.rows, self._key_metrics, self.chart_key = data, rows, keys, key
        if curves is not None:
            self._curves[key] = curves  # type: ignore[index]
        self._update_title()
        self.build_table()
        self.refresh_bindings()
        if key is not None and key in self._curves:
            self._update_chart_title()
            self._show_curves(key, self._curves[key])
        else:
            self.load_curves()

    def _update_title(self) -> None:
        if self.data is None:
            return
        title = Text("compare ", style="dim")
        for index, ref in enumerate(self.data["versions"]):
            if index:
                title.append(" · ", style="dim")
            title.append(safe(ref), style=f"bold {curve_style(index)}")
            if index == 0:
                title.append(" (base)", style="dim")
        if self.differences_only:
            hidden = sum(1 for row in self.data["params"] if not row["differs"])
            title.append(f"  params: differences only ({hidden} equal hidden)", style="italic")
        self.query_one("#compare-title", Static).update(title)

    def build_table(self) -> None:
        """(Re)fill the table from ``self.data``; the cursor stays on the same row."""
        data = self.data
        if data is None:
            return
        table = self.table
        keep = self._cursor_key
        table.clear(columns=True)
        table.fixed_columns = 1
        labels = [row["key"] for row in data["metrics"]] + [row["key"] for row in data["params"]]
        width = min(LABEL_WIDTH, max([len(safe(k)) + 2 for k in labels] + [9]))
        table.add_column(Text(""), key="label", width=width)
        for index, ref in enumerate(data["versions"]):
            head = lit(ref, "bold")
            if index == 0:
                head.append(" base", style="dim")
            table.add_column(head, key=f"v{index}")
        count = len(data["versions"])
        blank = [Text("")] * count

        def section(key: str, title: str) -> None:
            table.add_row(Text(title, style="bold underline"), *blank, key=key)

        section("s:metrics", "metrics")
        for row in data["metrics"]:
            table.add_row(label(row["key"]), *[metric_cell(row, i) for i in range(count)],
                          key=f"m:{row['key']}")
        params = [row for row in data["params"] if row["differs"] or not self.differences_only]
        section("s:params", "params ≠" if self.differences_only else "params")
        for row in params:
            if row["differs"]:
                table.add_row(label(row["key"], "≠ ", "bold yellow"),
                              *[cell(v, "bold") for v in row["values"]], key=f"p:{row['key']}")
            else:
                table.add_row(label(row["key"], "  ", "dim"),
                              *[cell(v, "dim") for v in row["values"]], key=f"p:{row['key']}")
        if not data["params"]:
            table.add_row(Text("  no params", style="dim"), *blank, key="p:-")
        section("s:info", "version")
        by_id = {row["id"]: row for row in self.rows}
        info = [by_id.get(i) for i in data["ids"]]
        now = self.app.now()
        table.add_row(label("data"), *[cell(d) for d in data["datasets"]], key="i:data")
        table.add_row(label("commit"), *[cell(short_hash(c, 10) if c else None)
                                         for c in data["commits"]], key="i:commit")
        table.add_row(label("run"), *[
            cell(f"{(uid or '—')[:8]} {(r or {}).get('run_name') or ''}".strip())
            for uid, r in zip(data["runs"], info)], key="i:run")
        table.add_row(label("tags"), *[cell(", ".join(f"{k}={v}" for k, v in (r or {}).get(
            "tags", {}).items())) for r in info], key="i:tags")
        table.add_row(label("created"), *[age(c, now) for c in data["created"]], key="i:created")
        table.add_row(label("stages"), *[stage_badges(s) if s else Text("—", style="dim")
                                         for s in data["stages"]], key="i:stages")
        target = 1 if data["metrics"] else 0  # the first metric, not the section title
        if keep is not None and keep in table.rows:  # not when d has just hidden it
            target = table.get_row_index(keep)
        table.move_cursor(row=target, animate=False)

    @on(DataTable.RowHighlighted, "#compare-table")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._cursor_key = event.row_key.value

    @work(exclusive=True, group="curves", exit_on_error=False)
    async def load_curves(self) -> None:
        """The charted metric's curves (another metric: ``m``), read once per metric."""
        data, key = self.data, self.chart_key
        if data is None or key is None:
            self._show_empty("no metrics to chart")
            return
        self._update_chart_title()
        curves = self._curves.get(key)
        if curves is None:
            curves = await self.db(read_curves, self.catalog, data["run_ids"], key)
            self._curves[key] = curves
        if key != self.chart_key:
            return
        self._show_curves(key, curves)

    def _show_curves(self, key: str, curves: list[list[tuple[float, float]]]) -> None:
        """Draw ``curves`` (one per compared version, maybe empty) and their legend."""
        data = self.data
        assert data is not None
        legend = Text()
        for index, (ref, points) in enumerate(zip(data["versions"], curves)):
            if index:
                legend.append("  ")
            legend.append("━━ " if points else "   ", style=curve_style(index))
            legend.append(safe(ref), style="bold" if points else "dim")
            if not points:
                legend.append(" (no curve)", style="dim")
        self.query_one("#chart-legend", Static).update(legend)
        if not any(curves):
            self._show_empty(f"no curve of {safe(key)} in these runs")
            return
        self._chart_shown(True)
        self.query_one("#chart", CurveChart).set_curves(
            [Curve(points, index) for index, points in enumerate(curves) if points])
        self.refresh_bindings()

    def _chart_shown(self, shown: bool) -> None:
        """The chart, or the message in its place.  Set on the two widgets directly: a class
        on the pane would have the stylesheet applied again to the pane and its children."""
        self.query_one("#chart", CurveChart).display = shown
        self.query_one("#chart-empty", Static).display = not shown

    def _show_empty(self, message: str) -> None:
        self._chart_shown(False)
        self.query_one("#chart-empty", Static).update(Text(message, style="dim"))
        self.query_one("#chart", CurveChart).set_curves([])

    def _update_chart_title(self) -> None:
        if self.data is None or self.chart_key is None:
            return
        keys = [row["key"] for row in self.data["metrics"]]
        row = next(r for r in self.data["metrics"] if r["key"] == self.chart_key)
        title = Text.assemble(("curve ", "dim"), (safe(self.chart_key), "bold"),
                              (" over steps · ", "dim"),
                              ("lower" if row["direction"] == "min" else "higher", ""),
                              (" is better", "dim"))
        if len(keys) > 1:
            title.append(f"  ({keys.index(self.chart_key) + 1}/{len(keys)}, m: next)", style="dim")
        self.query_one("#chart-title", Static).update(title)

    # -- actions -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what does not apply (None), rather than failing when pressed."""
        data = self.data
        if action == "differences":
            return True if data is not None and data["params"] else None
        if action == "next_metric":
            has_runs = data is not None and any(r is not None for r in data["run_ids"])
            return True if has_runs and len(data["metrics"]) > 1 and self.view != "table" \
                else None
        if action == "export":
            return True if data is not None else None
        return True

    def action_differences(self) -> None:
        self.differences_only = not self.differences_only
        self._update_title()
        self.build_table()

    def action_next_metric(self) -> None:
        if self.data is None or not self.data["metrics"]:
            return
        keys = [row["key"] for row in self.data["metrics"]]
        index = (keys.index(self.chart_key) + 1) % len(keys) if self.chart_key in keys else 0
        self.chart_key = keys[index]
        self.load_curves()

    def action_view(self) -> None:
        """Cycle split → table only → chart only (a wide comparison can use every row)."""
        self.remove_class(f"-view-{self.view}")
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.add_class(f"-view-{self.view}")
        if self.view != "chart":
            self.table.focus()
        self.refresh_bindings()
        self.notify(f"view: {self.view}", timeout=2, markup=False)

    def action_export(self) -> None:
        if self.data is not None:
            self.export(self.data)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def export(self, data: dict[str, Any]) -> None:
        """``x``: the comparison as Markdown, as shown (differences only when ``d`` is on),
        written into the catalog's project folder — not wherever the app was started."""
        if self.differences_only:
            data = {**data, "params": [row for row in data["params"] if row["differs"]]}
        text = comparison_markdown(data)
        catalog_dir = self.catalog.path.parent
        project = catalog_dir.parent if catalog_dir.name == ".mltui" else catalog_dir
        try:  # file I/O off the UI thread too
            path = await asyncio.to_thread(write_new_file, project,
                                           export_name(data["versions"]), text)
        except OSError as exc:
            self.app.notify(f"export failed: {exc}", severity="error", markup=False)
            return
        self.app.notify(str(path), title="comparison exported", markup=False)
