"""Runs: every imported run, registered or not; ``n`` registers one as a new model version.

Like browse's versions table, the list is a :class:`VirtualGrid` over the ordered run ids
(first page first, the rest after the first paint), rows fetched by id as they scroll into
view.  ``/`` filters in the run scope of the filter language with a pointer at the bad column;
``enter`` opens the run's detail; ``n`` asks for a model name and registers the run.
"""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.console import RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

from ...core.errors import MltuiError
from ...core.progress import live_state, run_speed
from ...display import fmt_number, fmt_time, safe
from ..widgets.filterbar import FilterPrompt
from ..widgets.inputs import SteadyInput
from ..widgets.keybar import KeyBar
from .detail import ScrollingDetail
from ..base import CatalogModal, CatalogScreen
from ..widgets.curves import compact
from ..widgets.grid import Column, VirtualGrid
from ..widgets.text import age, key_value_lines, lit, number

FIRST_PAGE = 200


# A glyph as well as a colour, so the state reads without colour too (NO_COLOR, screenshots).
STATUS_LOOK = {"running": ("● ", "bold yellow"), "finished": ("✓ ", "green"),
               "failed": ("✗ ", "bold red"), "killed": ("✗ ", "red")}


# A live run is a word, not only a colour: "LIVE" reads in NO_COLOR and in a screenshot.
LIVE_LOOK = {"live": ("▶ LIVE", "bold reverse green"), "stalled": ("‖ stalled", "bold yellow")}


def status_cell(row: dict[str, Any], live: str | None = None) -> Text:
    """A run's status: running, finished and failed each with their own mark and colour; a run
    still being written (``live``: "live" or "stalled") says so first."""
    if live in LIVE_LOOK:
        text, style = LIVE_LOOK[live]
        return Text(text, style=style)
    status = (row["status"] or "—").lower()
    mark, style = STATUS_LOOK.get(status, ("", "dim"))
    return Text.assemble((mark, style), lit(status, style))


def progress_cell(speed: dict[str, Any] | None) -> Text:
    """``120/1k 4.2/s eta 3m``: position of total, units per second, time left; "?" for what
    the log did not record (no total, no wall times) — never an estimate from nothing."""
    if not speed:
        return Text("—", style="dim")
    unit = "ep " if speed["unit"] == "epoch" else ""
    total = compact(round(speed["total"])) if speed["total"] else "?"
    rate = f"{fmt_number(speed['rate'], 2)}/s" if speed["rate"] else "?/s"
    eta = fmt_duration(speed["eta"]) if speed["eta"] is not None else "?"
    return Text.assemble((f"{unit}{compact(round(speed['at']))}/{total} ", ""), (rate, "dim"),
                         (" eta ", "dim"), (eta, "bold" if speed["eta"] is not None else "dim"))


def fmt_duration(seconds: float) -> str:
    """``45s``, ``12m``, ``3h05m``: an ETA at the precision it deserves."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def run_columns(metric_keys: list[str], width: int, now: Callable[[], float],
                live: dict[int, str] | None = None,
                speeds: dict[int, dict[str, Any]] | None = None) -> list[Column]:
    """The runs table's columns for a screen ``width`` (narrow screens drop project/format),
    ages counted to ``now()``;
    with ``live`` runs (id → "live"/"stalled"), a progress column from ``speeds``."""
    # The same dicts, not copies: the screen updates them in place, so new data needs no
    # new columns (and no repaint of the header).
    live = {} if live is None else live
    speeds = {} if speeds is None else speeds
    columns = [
        Column("id", "run id", lambda r: lit((r["uid"] or "")[:12], "dim"), width=12),
        Column("name", "name", lambda r: lit(r["name"] or "—"), width=0, min_width=10),
    ]
    if width >= 100:
        columns.append(Column("project", "project", lambda r: lit(r["project"] or "—"), width=10))
        columns.append(Column("format", "format", lambda r: lit(r["source_format"] or "—"),
                              width=8))
    columns += [
        Column("status", "status", lambda r: status_cell(r, live.get(r["id"])), width=10),
        Column("age", "age", lambda r: age(r["start_time"] or r["created_at"], now()), width=4,
               justify="right"),
    ]
    if live:
        columns.append(Column("progress", "progress", lambda r: progress_cell(speeds.get(r["id"]))
                              if r["id"] in live else Text(""), width=21))
        if width < 100:  # the progress column takes the room of all but one metric
            metric_keys = metric_keys[:1]
    for key in metric_keys:
        columns.append(Column(f"m:{key}", safe(key)[:8], (lambda k: lambda r: number(
            r["metrics"].get(k)))(key), width=8, justify="right"))
    columns.append(Column("versions", "versions", lambda r: lit(", ".join(r["versions"]))
                          if r["versions"] else Text("—", style="dim"), width=12))
    return columns


def render_run_detail(run: dict[str, Any]) -> Group:
    """A run's detail as literal Text: metadata, versions, data, metrics, params and tags."""
    head = Text.assemble(lit(run["name"] or "(unnamed run)", "bold"), "  ",
                         lit(f"run:{run['uid']}", "dim"))
    meta = key_value_lines([
        ("project", run["project"]),
        ("source", f"{safe(run['source_format'] or '—')}  {safe(run['source_path'] or '')}"),
        ("status", run["status"]),
        ("started", fmt_time(run["start_time"])),
        ("ended", fmt_time(run["end_time"])),
        ("user", run.get("user")),
        ("commit", f"{run['git_commit']} (inferred)" if run.get("git_commit_inferred") else run["git_commit"]),
        ("branch", run["git_branch"]),
        ("versions", ", ".join(run["versions"]) or "not registered — n registers it"),
        ("data", ", ".join(f"data:{d['name']}@{d['version']}" for d in run["datasets"]) or "—"),
    ])
    metrics = Table(box=None, pad_edge=False, show_edge=False)
    for name, justify in (("metric", "left"), ("last", "right"), ("min", "right"),
                          ("max", "right"), ("points", "right")):
        metrics.add_column(name, justify=justify, style="dim" if name == "metric" else "")
    for m in run["metrics"]:
        metrics.add_row(lit(m["key"]), Text(fmt_number(m["last"] if m["last"] is not None
                                                       else m["last_raw"])),
                        Text(fmt_number(m["min"])), Text(fmt_number(m["max"])),
                        Text(str(m["count"])))
    params = Table(box=None, pad_edge=False, show_edge=False)
    params.add_column("param", style="dim")
    params.add_column("value")
    for key, value in run["params"].items():
        params.add_row(lit(key), lit(value))
    parts: list[Any] = [head, meta, Text("")]
    parts.append(metrics if run["metrics"] else Text("no metrics", style="dim"))
    parts.append(Text(""))
    parts.append(params if run["params"] else Text("no params", style="dim"))
    if run["tags"]:
        parts.append(Text(""))
        parts.append(Text.assemble(("tags  ", "dim"), lit(", ".join(
            f"{k}={v}" for k, v in run["tags"].items()))))
    return Group(*parts)


def running_first(live_ids: list[int], ids: list[int]) -> list[int]:
    """The runs still being written first (newest first), then every other run in order."""
    live = set(live_ids)
    return list(live_ids) + [i for i in ids if i not in live]


class RegisterDialog(CatalogModal[str | None]):
    """Register a run as a new version: asks for the model name (existing models suggested)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="register.cancel"),
        Binding("ctrl+s", "confirm", "Register", id="register.confirm"),
    ]
    DEFAULT_CSS = """
    RegisterDialog .field-row { height: 1; margin-bottom: 1; }
    RegisterDialog .field-row Label { width: 7; }
    RegisterDialog #register-model { width: 1fr; height: 1; border: none; padding: 0; }
    RegisterDialog #register-models { color: $text-muted; }
    """

    def __init__(self, run_id: int):
        super().__init__()
        self.run_id = run_id
        self.model_names: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="register-dialog"):
            yield Static(Text("Register run", style="bold"), classes="dialog-title",
                         id="register-title")
            with Horizontal(classes="field-row"):
                yield Label("model ")
                yield SteadyInput(placeholder="model name (new or existing)", id="register-model")
            yield Static(Text("…", style="dim"), id="register-models")
            yield Static(id="register-problem", classes="error-line")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="register-cancel")
                yield Button("Register", variant="primary", id="register-confirm")

    def on_mount(self) -> None:
        self.query_one("#register-model", Input).focus()
        self.load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        try:
            run = await self.db(self.catalog.runs, [self.run_id])
            models = await self.db(self.catalog.models)
        except MltuiError as exc:
            self.query_one("#register-problem", Static).update(lit(exc.one_line()))
            return
        names = [m["name"] for m in models]
        if run:
            title = Text.assemble(("Register run ", "bold"), lit(run[0]["uid"][:12], "bold"),
                                  "  ", lit(run[0]["name"] or "", "dim"))
            if run[0]["versions"]:
                title.append("  already ", style="dim")
                title.append_text(lit(", ".join(run[0]["versions"]), "dim"))
            self.query_one("#register-title", Static).update(title)
        self.model_names = names
        field = self.query_one("#register-model", Input)
        field.suggester = SuggestFromList(names, case_sensitive=True)
        self.update_hint()

    @on(Input.Changed, "#register-model")
    def update_hint(self) -> None:
        """Say what enter will do: add to an existing model or create one (a typo creates a
        model, so the difference is spelled out before it happens)."""
        name = self.query_one("#register-model", Input).value.strip()
        hint = Text("existing models: ", style="dim")
        hint.append_text(lit(", ".join(self.model_names) if self.model_names else "none yet"))
        hint.append("\n")
        if not name:
            hint.append("a new name creates the model", style="dim")
        elif name in self.model_names:
            hint.append("adds the next version of ", style="dim")
            hint.append_text(lit(name, "bold"))
        else:
            hint.append("creates the new model ", style="dim")
            hint.append_text(lit(name, "bold"))
            if any(n.startswith(name) for n in self.model_names):
                hint.append("  (→ accepts the suggestion)", style="dim")
        self.query_one("#register-models", Static).update(hint)

    @on(Button.Pressed, "#register-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#register-confirm")
    @on(Input.Submitted, "#register-model")
    def action_confirm(self) -> None:
        self.register()

    @work(exclusive=True, group="register", exit_on_error=False)
    async def register(self) -> None:
        name = self.query_one("#register-model", Input).value.strip()
        problem = self.query_one("#register-problem", Static)
        if not name:
            problem.update(Text("type a model name", style="bold"))
            return
        try:
            row = await self.db(self.catalog.register, name, run=self.run_id)
        except MltuiError as exc:  # a bad name, an unknown run: one line, stay open
            problem.update(lit(exc.one_line(), "bold"))
            return
        self.dismiss(f"{row['model']}@{row['version']}")


def register_run(screen: CatalogScreen, run_id: int) -> None:
    """Open the register dialog; on success notify ``registered model@N`` and reload screens."""

    def done(ref: str | None) -> None:
        if ref:
            screen.app.notify(f"registered {ref}", title="new version", markup=False)
            screen.call_later(screen.app.reload_screens)

    screen.app.push_screen(RegisterDialog(run_id), done)


class RunDetailScreen(ScrollingDetail):
    """``enter`` on a run: everything about it on one scrollable screen."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="run_detail.back"),
        Binding("n", "register", "Register", id="run_detail.register"),
    ]
    def __init__(self, run_id: int):
        super().__init__()
        self.run_id = run_id

    async def body(self) -> RenderableType:
        """The run with its params, tags, metric summary, data and versions."""
        return render_run_detail(await self.db(self.catalog.run_detail, self.run_id))

    def action_register(self) -> None:
        register_run(self, self.run_id)


class RunsScreen(CatalogScreen):
    """Every run in the catalog; filter, open, register."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="runs.back"),
        Binding("slash", "filter", "Filter", id="runs.filter"),
        Binding("n", "register", "Register", id="runs.register"),
        Binding("enter", "detail", "Detail", id="runs.detail"),
        Binding("l", "live", "Live view", id="runs.live"),
    ]

    DEFAULT_CSS = """
    RunsScreen #runs { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self.metric_keys: list[str] = []
        self.live: dict[int, str] = {}  # run id → "live" or "stalled": listed first
        self.speeds: dict[int, dict[str, Any]] = {}
        self._shape: tuple | None = None  # what the columns were built for

    def compose(self) -> ComposeResult:
        yield Static(Text("runs", style="dim"), id="runs-title", classes="screen-title")
        yield FilterPrompt(lambda text: self.catalog.run_ids(filter=text, limit=1),
                           placeholder="filter: metrics.f1 > 0.8 and params.lr = '0.01'",
                           id="runs-filter")
        yield VirtualGrid([], empty_text="no runs", id="runs")
        yield KeyBar()

    @property
    def grid(self) -> VirtualGrid:
        """The runs table."""
        return self.query_one("#runs", VirtualGrid)

    def on_mount(self) -> None:
        self.grid.loader = lambda ids: self.catalog.runs(ids, metric_keys=self.metric_keys)
        self.grid.focus()
        self.load_runs(keep=False)

    async def reload(self) -> None:
        """Another process (or ``n``) wrote: re-read ids and rows, keep the cursor."""
        self.load_runs(keep=True)

    # -- loading ---------------------------------------------------------------------------------

    @work(exclusive=True, group="runs", exit_on_error=False)
    async def load_runs(self, keep: bool = True) -> None:
        filter_text = self.filter_text or None
        keys = await self.db(self.catalog.metric_keys, limit=3)
        now = self.app.now()
        stalled = self.app.stalled_runs()
        live_ids = await self.db(self.catalog.live_run_ids, filter=filter_text,
                                 since=now - self.app.stall_after, include=sorted(stalled))
        first = await self.db(self.catalog.run_ids, filter=filter_text, limit=FIRST_PAGE)
        live = await self.db(self._live_states, live_ids, now)
        live.update({run_id: "stalled" for run_id in stalled if run_id in live_ids})
        speeds = self.app.with_watch_rates(await self.db(run_speed, self.catalog, live_ids))
        grid = self.grid
        ordered = running_first(live_ids, first)
        visible: list[dict[str, Any]] = []
        if keep:  # a reload: fetch the rows in view first, so they change in one repaint
            top = int(grid.scroll_offset.y)
            visible = await self.db(self.catalog.runs, ordered[top:top + grid.size.height],
                                    metric_keys=keys)
        shape = (tuple(keys), self.size.width >= 100, bool(live))
        self.live.clear()
        self.live.update(live)
        self.speeds.clear()
        self.speeds.update(speeds)
        self.metric_keys = keys
        if shape != self._shape:
            self._shape = shape
            grid.set_columns(self._columns())
        grid.set_ids(ordered, keep=grid.cursor_id if keep else None, clear_rows=True)
        grid.add_rows(visible)
        self._update_title(len(first), partial=len(first) == FIRST_PAGE)
        if len(first) == FIRST_PAGE:  # the rest of the ordered ids, after the first paint
            every = await self.db(self.catalog.run_ids, filter=filter_text)
            grid.set_ids(running_first(live_ids, every), keep=grid.cursor_id)
            self._update_title(len(every))
        self.refresh_bindings()

    def _live_states(self, run_ids: list[int], now: float) -> dict[int, str]:
        """Run id → "live"/"stalled" (on a database thread: reads the runs' rows)."""
        states = {row["id"]: live_state(row, now, self.app.stall_after)
                  for row in self.catalog.runs(run_ids)}
        return {run_id: state for run_id, state in states.items() if state}

    def _columns(self) -> list[Column]:
        return run_columns(self.metric_keys, self.size.width, self.app.now, self.live,
                           self.speeds)

    def _update_title(self, count: int, partial: bool = False) -> None:
        title = Text.assemble(("runs", "bold"), (f"  {count}{'+' if partial else ''}", "dim"))
        if self.filter_text:
            title.append("  filter: ", style="dim")
            title.append(safe(self.filter_text), style="italic")
        self.query_one("#runs-title", Static).update(title)

    def on_resize(self) -> None:
        """Project and format columns come and go at 100 columns."""
        if self.metric_keys or self.grid.ids:
            self._shape = (tuple(self.metric_keys), self.size.width >= 100, bool(self.live))
            self.grid.set_columns(self._columns())

    @on(VirtualGrid.CursorMoved, "#runs")
    def cursor_moved(self) -> None:
        self.refresh_bindings()

    # -- actions -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what needs a run when there is none under the cursor."""
        if action in {"register", "detail", "live"} and (not self.is_mounted
                                                 or self.grid.cursor_id is None):
            return None
        return True

    async def action_filter(self) -> None:
        await self.query_one("#runs-filter", FilterPrompt).open(self.filter_text)

    def action_back(self) -> None:
        """ESC clears an active filter first; with none, it leaves the screen."""
        if self.filter_text:
            self.filter_text = ""
            self.load_runs(keep=True)
        else:
            self.app.pop_screen()

    @on(FilterPrompt.Applied, "#runs-filter")
    def filter_applied(self, event: FilterPrompt.Applied) -> None:
        self.filter_text = event.text
        self.load_runs(keep=True)

    def action_detail(self) -> None:
        """A run still being written opens live; any other its detail."""
        run_id = self.grid.cursor_id
        if run_id in self.live:
            self.action_live()
        elif run_id is not None:
            self.app.push_screen(RunDetailScreen(run_id))

    def action_live(self) -> None:
        """The live view of the run under the cursor (any run: finished ones hold still)."""
        from .liverun import LiveRunScreen

        if self.grid.cursor_id is not None:
            self.app.push_screen(LiveRunScreen(self.grid.cursor_id, self.app.comparison_model()))

    def action_register(self) -> None:
        if self.grid.cursor_id is not None:
            register_run(self, self.grid.cursor_id)
