"""Production (``P`` from Browse): how a model's versions did where they served.

For one model, stage and observed metric: the metric over time with each stage change marked
(which version served when), each version's logged evaluation value against its production
mean, and the model's active alerts.  ``r`` on an alert opens the rollback dialog with the
alert as the reason, so the history says why.  ``m`` cycles the metric, ``s`` the stage.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...display import fmt_number, fmt_time, safe
from ..base import CatalogScreen
from ..widgets.keybar import KeyBar
from ..widgets.prodchart import eval_table, production_chart
from ..widgets.text import lit

CHART_HEIGHT = 6  # bar rows; the chart is two rows taller (marks and version names)


def alert_reason(alert: dict[str, Any]) -> str:
    """The rollback reason an alert suggests (what the history will record)."""
    return f"alert {alert['id']}: {alert['rule']} ({alert['detail']})"


def alert_line(alert: dict[str, Any]) -> Text:
    """One alert as literal text: where, the rule, the value seen, since when."""
    return Text.assemble(("⚠ ", "bold red"), lit(alert["version"] or alert["model"], "bold"),
                         (f" {safe(alert['stage'])}  ", "dim"), lit(alert["rule"]),
                         ("  value ", "dim"), fmt_number(alert["value"]),
                         ("  since ", "dim"), fmt_time(alert["opened_at"]))


class ProductionScreen(CatalogScreen):
    """A model's production metrics, stage changes and alerts."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="production.back"),
        Binding("m", "metric", "Metric", id="production.metric"),
        Binding("s", "stage", "Stage", id="production.stage"),
        Binding("r", "rollback", "Roll back (alert)", id="production.rollback"),
    ]

    DEFAULT_CSS = """
    ProductionScreen #prod-title { height: 1; background: $boost; padding: 0 1; }
    ProductionScreen #prod-chart { height: auto; padding: 0 1; }
    ProductionScreen #prod-lower { height: 1fr; }
    ProductionScreen #prod-eval { height: auto; max-height: 6; padding: 0 1;
                                  border-top: hkey $foreground 20%; }
    ProductionScreen #prod-alerts-box { height: 1fr; border-top: hkey $foreground 20%; }
    ProductionScreen #prod-alerts-title { height: 1; color: $text-muted; padding: 0 1; }
    ProductionScreen #prod-alerts { height: 1fr; border: none; }
    """

    def __init__(self, model: str, stage: str = "production") -> None:
        super().__init__()
        self.model = model
        self.stage = stage
        self.metric: str | None = None
        self.metrics: list[str] = []
        self.stages: list[str] = [stage]
        self.alerts: list[dict[str, Any]] = []
        self.series: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("…"), id="prod-title")
        yield Static(Text("…", style="dim"), id="prod-chart")
        with Vertical(id="prod-lower"):
            yield Static(id="prod-eval")
            with Vertical(id="prod-alerts-box"):
                yield Static(Text("active alerts"), id="prod-alerts-title")
                yield OptionList(id="prod-alerts")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#prod-alerts", OptionList).focus()
        self.load()

    async def reload(self) -> None:
        """A write (an observe, a check, a rollback) changes what is shown: read it again."""
        self.load()

    def on_resize(self) -> None:
        self._draw_chart()

    @work(exclusive=True, group="production", exit_on_error=False)
    async def load(self) -> None:
        """Read the stages, metrics, series and alerts (each on a database thread)."""
        models = await self.db(self.catalog.models)
        held = next((m["stages"] for m in models if m["name"] == self.model), {})
        monitors = await self.db(self.catalog.monitors, self.model)
        self.stages = list(dict.fromkeys(["production", *held, *(m["stage"] for m in monitors)]))
        self.metrics = await self.db(self.catalog.observation_metrics, self.model, self.stage)
        if self.metric not in self.metrics:
            self.metric = self.metrics[0] if self.metrics else None
        self.series = await self.db(self.catalog.production_series, self.model, self.metric,
                                    self.stage) if self.metric else None
        self.alerts = await self.db(self.catalog.alerts, self.model, active=True)
        self._draw(len(monitors))

    def _draw(self, monitors: int) -> None:
        title = Text.assemble(("production of ", "dim"), lit(self.model, "bold"),
                              ("  stage ", "dim"), lit(self.stage, "bold"),
                              ("  metric ", "dim"), lit(self.metric or "—", "bold"),
                              (f"  {monitors} monitor{'s' if monitors != 1 else ''}", "dim"))
        self.query_one("#prod-title", Static).update(title)
        self._draw_chart()
        self.query_one("#prod-eval", Static).update(
            eval_table(self.series) if self.series else Text(""))
        options = self.query_one("#prod-alerts", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for alert in self.alerts:
            options.add_option(Option(alert_line(alert), id=str(alert["id"])))
        if self.alerts:
            options.highlighted = min(highlighted or 0, len(self.alerts) - 1)
        self.query_one("#prod-alerts-title", Static).update(Text.assemble(
            ("active alerts", "bold red" if self.alerts else "dim"),
            (f"  {len(self.alerts)}" if self.alerts else "  none", "dim")))
        self.refresh_bindings()

    def _draw_chart(self) -> None:
        chart = self.query_one("#prod-chart", Static)
        if self.series is None:
            chart.update(Text(f"nothing observed for {safe(self.model)} in {safe(self.stage)}"
                              f" — feed it: mltui observe {safe(self.model)}@{safe(self.stage)} "
                              "LOG", style="dim"))
            return
        width = chart.content_size.width or self.size.width - 2
        chart.update(production_chart(self.series, max(20, width), CHART_HEIGHT))

    # -- actions -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``r`` applies only with an alert selected; ``m``/``s`` only with a choice."""
        if action == "rollback" and not self.alerts:
            return None
        if action == "metric" and len(self.metrics) < 2:
            return None
        if action == "stage" and len(self.stages) < 2:
            return None
        return True

    def action_metric(self) -> None:
        if self.metrics:
            index = self.metrics.index(self.metric) + 1 if self.metric in self.metrics else 0
            self.metric = self.metrics[index % len(self.metrics)]
            self.load()

    def action_stage(self) -> None:
        index = self.stages.index(self.stage) + 1 if self.stage in self.stages else 0
        self.stage = self.stages[index % len(self.stages)]
        self.metric = None
        self.load()

    def selected_alert(self) -> dict[str, Any] | None:
        """The alert under the cursor (the first when none is highlighted)."""
        if not self.alerts:
            return None
        index = self.query_one("#prod-alerts", OptionList).highlighted or 0
        return self.alerts[min(index, len(self.alerts) - 1)]

    @on(OptionList.OptionSelected, "#prod-alerts")
    def action_rollback(self) -> None:
        """``r`` (or Enter on an alert): the rollback dialog, the alert as the reason."""
        from .promote import RollbackDialog

        alert = self.selected_alert()
        if alert is None:
            return

        def done(changed: bool | None) -> None:
            if changed:
                self.call_later(self.app.reload_screens)

        self.app.push_screen(RollbackDialog(self.model, alert["stage"],
                                            reason=alert_reason(alert)), done)
