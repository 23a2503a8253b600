"""The promote and rollback dialogs: what will change, why, and whether the gates allow it.

Promote shows the target stage, the version that holds it now, the metric diff between the two,
the gate results and a reason; a failing gate blocks unless *force* is ticked and a reason
given.  Rollback shows what the stage will return to and asks for a reason.  Each confirmed
action is one catalog transaction, recorded in the stage history and the event log.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, Static

from ...core.errors import GateFailed, MltuiError
from ...display import fmt_delta, fmt_number, safe
from ..widgets.inputs import SteadyInput
from ..base import CatalogModal
from ..widgets.text import lit, stage_badges

COMMON_STAGES = ["production", "staging", "champion", "challenger", "canary"]


def gate_lines(results: list[dict[str, Any]], limit: int | None = None, *,
               list_passing: bool = False) -> Text:
    """Gate results, failing first (rule, then actual vs required), passing ones as a count.

    A failing gate is the reason a promotion is refused, so it comes first and is never hidden
    behind passing ones; ``limit`` caps the failing lines (the rest are counted) so the verdict
    always fits the dialog.  ``list_passing`` lists every passing rule too (the history's
    record of what was checked).
    """
    if not results:
        return Text("no gates guard this stage", style="dim")
    failed = [r for r in results if not r["passed"] and not r.get("skipped")]
    passed = [r for r in results if r["passed"] and not r.get("skipped")]
    skipped = [r for r in results if r.get("skipped")]
    shown = failed if limit is None or len(failed) <= limit else failed[:max(limit - 1, 0)]
    text = Text(no_wrap=True, overflow="ellipsis")
    for result in shown:
        if text:
            text.append("\n")
        text.append("✗ FAIL ", style="bold red")
        text.append_text(lit(result["rule"], "bold"))
        text.append("  ")
        text.append_text(lit(result["detail"]))
    if len(shown) < len(failed):
        text.append("\n" if text else "")
        text.append(f"✗ … and {len(failed) - len(shown)} more failing", style="bold red")
    summary = []
    if list_passing:
        for result in passed + skipped:
            text.append("\n" if text else "")
            text.append(" – " if result.get("skipped") else " ✓ ",
                        style="dim" if result.get("skipped") else "bold green")
            text.append_text(lit(result["rule"]))
            text.append("  ")
            text.append_text(lit(result["detail"], "dim"))
        passed = skipped = []
    if passed:
        summary.append(f"✓ {len(passed)} gate{'s' if len(passed) != 1 else ''} pass")
    if skipped:
        summary.append(f"– {len(skipped)} skipped")
    if summary:
        text.append("\n" if text else "")
        text.append("  ".join(summary), style="green" if not failed else "dim")
    return text


def metric_diff(candidate: dict[str, Any], holder: dict[str, Any] | None) -> Table:
    """Candidate against the current holder, metric by metric."""
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("metric", style="dim")
    if holder is not None:
        table.add_column(lit(holder["ref"]), justify="right")
    table.add_column(lit(candidate["ref"], "bold"), justify="right")
    if holder is not None:
        table.add_column("Δ", justify="right")
    theirs = {m["key"]: m["last"] for m in holder["metric_summary"]} if holder else {}
    for m in candidate["metric_summary"]:
        mine = m["last"]
        cells = [lit(m["key"])]
        if holder is not None:
            cells.append(Text(fmt_number(theirs.get(m["key"]))))
        cells.append(Text(fmt_number(mine if mine is not None else m["last_raw"]), style="bold"))
        if holder is not None:
            other = theirs.get(m["key"])
            cells.append(Text(fmt_delta(None if other is None or mine is None else mine - other)))
        table.add_row(*cells)
    return table


class PromoteDialog(CatalogModal[bool]):
    """Promote one version to a stage.

    The verdict (failing gates, the refusal, how to force) and the controls sit above the metric
    diff, and the diff alone scrolls: whatever the terminal's height, what decides the
    promotion is on screen without a scrolling key.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="promote.cancel"),
        Binding("ctrl+s", "confirm", "Promote", id="promote.confirm"),
        Binding("ctrl+f", "toggle_force", "Force", id="promote.force"),
    ]

    def __init__(self, version_id: int, stage: str = "production"):
        super().__init__()
        self.version_id = version_id
        self.initial_stage = stage
        self.detail: dict[str, Any] | None = None
        self.gates_failed = False
        self.results: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="promote-dialog"):
            yield Static(Text("Promote", style="bold"), id="promote-title")
            with Horizontal(classes="field-row"):
                yield Label("stage ")
                yield SteadyInput(self.initial_stage, id="stage", compact=True,
                            suggester=SuggestFromList(COMMON_STAGES, case_sensitive=False))
            yield Static(Text("…", style="dim"), id="holder")
            yield Static(id="gates")
            yield Static(id="problem", classes="error-line")
            with Horizontal(classes="field-row"):
                yield Label("reason")
                yield SteadyInput(placeholder="why (recorded in the history)", id="reason", compact=True)
            yield Checkbox("force past failing gates (ctrl+f; needs a reason)", id="force",
                           disabled=True, compact=True)
            with Horizontal(classes="dialog-buttons"):
                # Promote before Cancel: Tab from the reason reaches the action, not a cancel.
                yield Button("Promote", variant="primary", id="confirm", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            with VerticalScroll(id="promote-body", can_focus=False):
                yield Static(id="diff")

    DEFAULT_CSS = """
    PromoteDialog #promote-title { height: 1; }
    PromoteDialog .field-row { height: 1; }
    PromoteDialog .field-row Label { width: 7; color: $text-muted; }
    PromoteDialog .field-row Input { width: 1fr; }
    PromoteDialog #gates { height: auto; }
    PromoteDialog #problem { height: auto; text-style: bold; }
    PromoteDialog .dialog-buttons { margin-top: 0; }
    PromoteDialog #promote-body { height: auto; border-top: hkey $panel-lighten-2; }
    """

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()
        self.evaluate()

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        """Give the metric diff only the rows the verdict and controls leave free."""
        dialog = self.query_one("#promote-dialog")
        body = self.query_one("#promote-body")
        fixed = sum(child.outer_size.height for child in dialog.children if child is not body)
        free = self.size.height - 2 - fixed  # 2: the dialog's border
        body.styles.max_height = max(free, 0)
        body.display = free >= 3  # a rule and at least two rows, or nothing

    def gate_limit(self) -> int:
        """How many failing gates fit: the terminal less the dialog's fixed rows (≥ 2)."""
        return max(2, self.size.height - 11)

    @on(Input.Changed, "#stage")
    def stage_changed(self) -> None:
        self.evaluate()

    @work(exclusive=True, group="evaluate", exit_on_error=False)
    async def evaluate(self) -> None:
        stage = self.query_one("#stage", Input).value.strip() or "production"
        try:
            detail = self.detail or await self.db(self.catalog.version_detail, self.version_id)
            self.detail = detail
            holder_id = await self.db(self.catalog.stage_holder, detail["model"], stage)
            holder = await self.db(self.catalog.version_detail, holder_id) if holder_id else None
            check = await self.db(self.catalog.check, self.version_id, stage=stage)
        except MltuiError as exc:
            self.query_one("#problem", Static).update(lit(exc.one_line()))
            return
        title = Text.assemble(("Promote ", "bold"), (safe(detail["ref"]), "bold"))
        if detail["stages"]:
            title.append("  ")
            title.append_text(stage_badges(detail["stages"]))
        self.query_one("#promote-title", Static).update(title)
        if holder is None:
            holding = Text.assemble(("no version holds ", "dim"), (safe(stage), "bold"),
                                    (" yet", "dim"))
        elif holder["id"] == self.version_id:
            holding = Text.assemble((safe(detail["ref"]), "bold"), (" already holds ", "dim"),
                                    (safe(stage), "bold"))
        else:
            holding = Text.assemble((safe(stage), "bold"), (" is held by ", "dim"),
                                    (safe(holder["ref"]), "bold"), (" → will be ", "dim"),
                                    (safe(detail["ref"]), "bold green"))
        self.query_one("#holder", Static).update(holding)
        self.query_one("#diff", Static).update(metric_diff(detail, holder if holder and
                                                          holder["id"] != self.version_id else None))
        self.results = check["results"]
        self.query_one("#gates", Static).update(gate_lines(self.results, self.gate_limit()))
        self.gates_failed = not check["passed"]
        force = self.query_one("#force", Checkbox)
        force.disabled = not self.gates_failed
        if not self.gates_failed:
            force.value = False
        self.show_verdict()
        self.call_after_refresh(self.fit)

    def show_verdict(self, refused: bool = False) -> None:
        """The line under the gates: why a promotion is (or was) refused and how to force it."""
        problem = self.query_one("#problem", Static)
        if not self.gates_failed:
            problem.update("")
        elif self.query_one("#force", Checkbox).value:
            problem.update(Text("forcing past the failing gate: a reason is required",
                                style="bold yellow"))
        else:
            verb = "refused" if refused else "blocked"
            problem.update(Text(f"{verb}: a gate fails — ctrl+f to force, with a reason",
                                style="bold"))

    @on(Checkbox.Changed, "#force")
    def force_changed(self) -> None:
        self.show_verdict()

    def action_toggle_force(self) -> None:
        force = self.query_one("#force", Checkbox)
        if not force.disabled:
            force.value = not force.value

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.app.notify("promote cancelled, nothing changed", markup=False)
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted, "#reason")
    def action_confirm(self) -> None:
        self.promote()

    @work(exclusive=True, group="promote", exit_on_error=False)
    async def promote(self) -> None:
        stage = self.query_one("#stage", Input).value.strip() or "production"
        reason = self.query_one("#reason", Input).value.strip() or None
        force = self.query_one("#force", Checkbox).value
        problem = self.query_one("#problem", Static)
        try:
            result = await self.db(self.catalog.promote, self.version_id, stage, reason=reason,
                                   force=force)
        except GateFailed:
            self.gates_failed = True
            self.query_one("#force", Checkbox).disabled = False
            self.show_verdict(refused=True)
            return
        except MltuiError as exc:
            problem.update(lit(exc.one_line(), "bold"))
            return
        if not result["changed"]:
            self.app.notify(f"{result['ref']} already holds {result['stage']}", markup=False)
            self.dismiss(False)
            return
        forced = " (forced)" if result["forced"] else ""
        message = f"{result['stage']}: {result['from'] or 'none'} → {result['to']}{forced}"
        self.app.notify(message, title="promoted", markup=False)
        self.dismiss(True)


class RollbackDialog(CatalogModal[bool]):
    """Roll a stage of a model back to the version it held before."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="rollback.cancel"),
        Binding("ctrl+s", "confirm", "Roll back", id="rollback.confirm"),
    ]

    DEFAULT_CSS = """
    RollbackDialog .field-row { height: 1; margin-bottom: 1; }
    RollbackDialog .field-row Label { width: 7; color: $text-muted; }
    RollbackDialog .field-row Input { width: 1fr; }
    RollbackDialog #rb-plan { margin-bottom: 1; }
    """

    def __init__(self, model: str, stage: str = "production", *, reason: str = ""):
        super().__init__()
        self.model = model
        self.initial_stage = stage
        self.initial_reason = reason  # prefilled, e.g. the alert that asks for the rollback
        self.target: tuple[int | None, int | None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rollback-dialog"):
            yield Static(Text.assemble(("Roll back ", "bold"), (safe(self.model), "bold")),
                         classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label("stage ")
                yield SteadyInput(self.initial_stage, id="rb-stage", compact=True,
                            suggester=SuggestFromList(COMMON_STAGES, case_sensitive=False))
            yield Static(Text("…", style="dim"), id="rb-plan")
            with Horizontal(classes="field-row"):
                yield Label("reason")
                yield SteadyInput(self.initial_reason, placeholder="why (recorded in the history)",
                                  id="rb-reason", compact=True)
            yield Static(id="rb-problem", classes="error-line")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="rb-cancel", compact=True)
                yield Button("Roll back", variant="warning", id="rb-confirm", compact=True)

    def on_mount(self) -> None:
        self.query_one("#rb-reason", Input).focus()
        self.evaluate()

    @on(Input.Changed, "#rb-stage")
    def stage_changed(self) -> None:
        self.evaluate()

    @work(exclusive=True, group="evaluate", exit_on_error=False)
    async def evaluate(self) -> None:
        stage = self.query_one("#rb-stage", Input).value.strip() or "production"
        plan = self.query_one("#rb-plan", Static)
        button = self.query_one("#rb-confirm", Button)
        try:
            self.target = await self.db(self.catalog.rollback_target, self.model, stage)
            labels = None
            if self.target:
                labels = [await self.db(self.catalog.ref_of, v) if v else "none"
                          for v in self.target]
        except MltuiError as exc:
            plan.update(lit(exc.one_line()))
            button.disabled = True
            return
        if labels is None:
            plan.update(Text.assemble(("nothing to roll back: ", "bold"), (safe(stage), "bold"),
                                      (" has no earlier version", "dim")))
            button.disabled = True
            return
        button.disabled = False
        plan.update(Text.assemble((safe(stage), "bold"), (": ", "dim"), (safe(labels[0]), "bold"),
                                  (" → ", "dim"), (safe(labels[1]), "bold green"),
                                  ("  (the version it held before)", "dim")))

    @on(Button.Pressed, "#rb-cancel")
    def action_cancel(self) -> None:
        self.app.notify("rollback cancelled, nothing changed", markup=False)
        self.dismiss(False)

    @on(Button.Pressed, "#rb-confirm")
    @on(Input.Submitted, "#rb-reason")
    def action_confirm(self) -> None:
        if self.target is not None:
            self.rollback()

    @work(exclusive=True, group="rollback", exit_on_error=False)
    async def rollback(self) -> None:
        stage = self.query_one("#rb-stage", Input).value.strip() or "production"
        reason = self.query_one("#rb-reason", Input).value.strip() or None
        try:
            result = await self.db(self.catalog.rollback, self.model, stage, reason=reason)
        except MltuiError as exc:
            self.query_one("#rb-problem", Static).update(lit(exc.one_line(), "bold"))
            return
        message = f"{result['stage']}: {result['from'] or 'none'} → {result['to'] or 'none'}"
        self.app.notify(message, title="rolled back", markup=False)
        self.dismiss(True)
