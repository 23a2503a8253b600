"""The live run view: one run's curve as it trains, production's curve of the same metric
overlaid, the verdict line and whether the model's gates would pass on today's values.

Everything shown comes from one call (:func:`mltui.services.liverun.live_run_view`) on a
database thread.  The screen re-reads when the catalog changes (the app's live refresh, which
an import by ``mltui watch`` or the app's own watch triggers) and redraws only when the result
differs from what is on screen, so leaving it open on an idle run costs nothing on the wire.
``m`` / ``M`` cycle the metric; ``d`` opens the run's full detail.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from ...core.progress import live_state, run_speed
from ...display import fmt_number, safe
from ...services.liverun import live_run_view
from ..base import CatalogScreen
from ..widgets.curves import Curve, CurveChart, curve_style
from ..widgets.keybar import KeyBar
from ..widgets.text import lit
from .runs import LIVE_LOOK, progress_cell

RUN_COLOUR, PRODUCTION_COLOUR = 1, 0  # sky blue for the run, orange for production
MAX_GATE_LINES = 3


def _at(axis: str, x: float) -> str:
    return f"{axis} {fmt_number(x)}"


def value_line(view: dict[str, Any]) -> Text:
    """``f1  last 0.878 at epoch 4 · best 0.881 at epoch 3.2 · higher is better``."""
    key = view["key"]
    text = Text.assemble(lit(key, "bold"), "  ")
    if view["last"] is None:
        return text.append("no value yet", style="dim")
    x, value = view["last"]
    text.append("last ", style="dim")
    text.append(fmt_number(value), style="bold")
    text.append(f" at {_at(view['axis'], x)}", style="dim")
    bx, best = view["best"]
    text.append(" · best ", style="dim")
    text.append(fmt_number(best), style="bold")
    text.append(f" at {_at(view['axis'], bx)}", style="dim")
    text.append(" · " + ("lower" if view["direction"] == "min" else "higher") + " is better",
                style="dim")
    return text


def gates_text(view: dict[str, Any]) -> Text:
    """Would the run pass the production gates today, and which fail: actual vs required."""
    gates = view["gates"]
    if gates is None:
        return Text("gates: no model to check against", style="dim")
    results = gates["results"]
    head = Text("gates ", style="dim")
    head.append_text(lit(f"{gates['model']} → {gates['stage']}", "dim"))
    head.append(": ")
    if not results:
        return head.append("none set, nothing to pass", style="dim")
    failed = [r for r in results if not r["passed"]]
    if not failed:
        head.append("✓ would pass today", style="bold green")
        head.append(f" ({len(results)} of {len(results)})", style="dim")
        return head
    head.append(f"✗ would fail today: {len(failed)} of {len(results)}", style="bold red")
    for result in failed[:MAX_GATE_LINES]:
        head.append("\n  ✗ ", style="red")
        head.append_text(lit(result["rule"]))
        actual = "none" if result["actual"] is None else fmt_number(result["actual"])
        head.append(f"  actual {actual}, required ", style="dim")
        head.append_text(lit(result["expected"]))
    if len(failed) > MAX_GATE_LINES:
        head.append(f"\n  … {len(failed) - MAX_GATE_LINES} more (d: detail)", style="dim")
    return head


class LiveRunScreen(CatalogScreen):
    """One run's metric curve as it grows, against production, with the gates' verdict."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="liverun.back"),
        Binding("m", "metric(1)", "Next metric", id="liverun.next_metric"),
        Binding("M", "metric(-1)", "Prev metric", id="liverun.prev_metric"),
        Binding("d", "detail", "Detail", id="liverun.detail"),
    ]

    DEFAULT_CSS = """
    LiveRunScreen #live-chart-title { height: 1; padding: 0 1; background: $boost; }
    LiveRunScreen #live-chart { height: 1fr; min-height: 6; }
    LiveRunScreen #live-legend, LiveRunScreen #live-values { height: 1; padding: 0 1; }
    LiveRunScreen #live-verdict { height: auto; max-height: 2; padding: 0 1; }
    LiveRunScreen #live-gates { height: auto; max-height: 5; padding: 0 1; }
    """

    def __init__(self, run_id: int, model: str | None = None):
        super().__init__()
        self.run_id = run_id
        self.model = model
        self.key: str | None = None
        self.view: dict[str, Any] | None = None
        self.speed: dict[str, Any] | None = None
        self.redraws = 0  # how many times the data changed on screen (tests, the benchmark)

    def compose(self) -> ComposeResult:
        yield Static(Text("live run …", style="dim"), id="live-title", classes="screen-title")
        with Vertical(id="live-pane"):
            yield Static(Text(""), id="live-chart-title")
            yield CurveChart(id="live-chart")
            yield Static(Text(""), id="live-legend")
            yield Static(Text(""), id="live-values")
            yield Static(Text(""), id="live-verdict")
            yield Static(Text(""), id="live-gates")
        yield KeyBar()

    def on_mount(self) -> None:
        self.load()

    async def reload(self) -> None:
        """The catalog changed (the log grew, a promotion): read again, redraw if different."""
        self.load()

    @work(exclusive=True, group="live", exit_on_error=False)
    async def load(self) -> None:
        catalog, run_id, key, model = self.catalog, self.run_id, self.key, self.model

        def fetch() -> tuple[dict[str, Any], dict[str, Any] | None]:
            view = live_run_view(catalog, run_id, key, model=model)
            return view, run_speed(catalog, [run_id]).get(run_id)

        view, speed = await self.db(fetch)
        if speed is not None:
            speed = self.app.with_watch_rates({run_id: speed})[run_id]
        if view == self.view and speed == self.speed:
            return  # nothing new: no redraw, no bytes to the terminal
        self.view, self.speed, self.key = view, speed, view["key"]
        self.redraws += 1
        self.draw(view, speed)

    def draw(self, view: dict[str, Any], speed: dict[str, Any] | None) -> None:
        """Put a view on screen (only called when it changed)."""
        run = view["run"]
        title = Text.assemble(("live ", "dim"), lit(run["name"] or run["uid"][:12], "bold"),
                              "  ", lit(f"run:{run['uid'][:12]}", "dim"), "  ")
        state = live_state(run, self.app.now(), self.app.stall_after)
        if state in LIVE_LOOK:
            title.append(*LIVE_LOOK[state])
        else:
            title.append_text(lit((run["status"] or "not running").lower(), "dim"))
        if speed is not None:
            title.append("  ")
            title.append_text(progress_cell(speed))
        self.query_one("#live-title", Static).update(title)
        key = view["key"]
        chart_title = Text("no metric yet", style="dim")
        if key is not None:
            chart_title = Text.assemble(("curve ", "dim"), lit(key, "bold"),
                                        (f" over {view['axis']}s", "dim"))
            if len(view["keys"]) > 1:
                chart_title.append(f"  ({view['keys'].index(key) + 1}/{len(view['keys'])}, "
                                   "m/M: metric)", style="dim")
        self.query_one("#live-chart-title", Static).update(chart_title)
        curves = []
        if view["production_curve"]:
            curves.append(Curve(view["production_curve"], PRODUCTION_COLOUR))
        if view["curve"]:
            curves.append(Curve(view["curve"], RUN_COLOUR))
        self.query_one("#live-chart", CurveChart).set_curves(curves)
        legend = Text.assemble(("━━ ", curve_style(RUN_COLOUR)), lit(run["name"] or "this run"))
        if view["production"]:
            legend.append("  ")
            legend.append("━━ ", style=curve_style(PRODUCTION_COLOUR))
            legend.append_text(lit(f"{view['production']} (production)"))
            if not view["production_curve"]:
                legend.append(f" logged no {safe(key or '')}", style="dim")
        self.query_one("#live-legend", Static).update(legend)
        self.query_one("#live-values", Static).update(
            value_line(view) if key is not None else Text(""))
        self.query_one("#live-verdict", Static).update(lit(view["verdict"], multiline=True))
        self.query_one("#live-gates", Static).update(gates_text(view))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cycling the metric needs two metrics."""
        if action == "metric":
            return True if self.view is not None and len(self.view["keys"]) > 1 else None
        return True

    def action_metric(self, step: int) -> None:
        if self.view is None or not self.view["keys"]:
            return
        keys = self.view["keys"]
        index = keys.index(self.key) if self.key in keys else 0
        self.key = keys[(index + step) % len(keys)]
        self.load()

    def action_detail(self) -> None:
        from .runs import RunDetailScreen

        self.app.push_screen(RunDetailScreen(self.run_id))
