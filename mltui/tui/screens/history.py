"""History: the stage history (every promote, rollback, clear, import) and the event log.

Newest first, in pages of 200: the next page is read when the cursor reaches the end of what
is loaded, so a catalog with years of history opens at once.  ``f`` chooses the model, ``a``
cycles the action, ``E`` switches between the stage history and the event log (the audit
trail of every write).  The selected entry's reason and gate results are in the pane below.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...display import fmt_time, safe
from ..widgets.keybar import KeyBar
from ..base import CatalogScreen
from ..widgets.grid import Column, VirtualGrid
from ..widgets.text import lit
from .promote import gate_lines

PAGE = 200
NEAR_END = 1  # rows before the end of what is loaded at which the next page is read
STAGE_ACTIONS = [None, "promote", "rollback", "clear", "import"]
EVENT_ACTIONS = [None, "import", "dataset", "create-model", "register", "promote", "rollback",
                 "clear", "doc", "tag", "archive", "unarchive", "gate-add", "gate-remove"]
ACTION_STYLES = {"promote": "green", "rollback": "yellow", "clear": "magenta", "import": "blue",
                 "register": "cyan", "doc": "cyan"}


def short_time(timestamp: float | None) -> str:
    """``09-21 16:29`` (UTC), for narrow screens."""
    if timestamp is None:
        return "—"
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%m-%d %H:%M")


def _version(value: int | None) -> str:
    return "—" if value is None else f"v{value}"


def action_cell(row: dict[str, Any]) -> Text:
    """The action, coloured; a forced promotion ends in a red ``!``."""
    text = lit(row["action"], ACTION_STYLES.get(row["action"], ""))
    if row.get("forced"):
        text.append("!", style="bold red")
    return text


def change_text(before: Any, after: Any) -> Text:
    """An event's change: ``production: fraud@2 → fraud@3`` or the JSON of both sides."""
    if isinstance(before, dict) and isinstance(after, dict) and len(before) == 1 and \
            before.keys() == after.keys():
        (key, old), = before.items()
        new = after[key]
        return Text.assemble((safe(key), "dim"), ": ", lit(old if old is not None else "none"),
                             (" → ", "dim"), lit(new if new is not None else "none"))
    parts = Text()
    if before is not None:
        parts.append_text(lit(_compact(before)))
        parts.append(" → ", style="dim")
    if after is not None:
        parts.append_text(lit(_compact(after)))
    return parts


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def history_columns(width: int) -> list[Column]:
    """Stage-history columns; a narrow screen gets the short time."""
    wide = width >= 100
    return [
        Column("when", "when", lambda r: Text(fmt_time(r["at"]) if wide else short_time(r["at"]),
                                              style="dim"), width=16 if wide else 11),
        Column("model", "model", lambda r: lit(r["model"], "bold"), width=12 if wide else 9),
        Column("stage", "stage", lambda r: lit(r["stage"]), width=11 if wide else 10),
        Column("action", "action", action_cell, width=9),
        Column("change", "from → to", lambda r: Text.assemble(
            _version(r["from_version"]), (" → ", "dim"), (_version(r["to_version"]), "bold")),
            width=10 if wide else 9),
        Column("who", "who", lambda r: lit(r["actor"]), width=10 if wide else 7),
        Column("reason", "reason", lambda r: lit(r["reason"] or ""), width=0, min_width=8),
    ]


def event_columns(width: int) -> list[Column]:
    """Event-log columns."""
    wide = width >= 100
    return [
        Column("when", "when", lambda r: Text(fmt_time(r["at"]) if wide else short_time(r["at"]),
                                              style="dim"), width=16 if wide else 11),
        Column("action", "action", action_cell, width=12 if wide else 10),
        Column("ref", "on", lambda r: lit(r["ref"] or r["entity_kind"] or ""),
               width=18 if wide else 14),
        Column("who", "who", lambda r: lit(r["actor"]), width=10 if wide else 7),
        Column("change", "change", lambda r: change_text(r["before"], r["after"]) +
               (Text.assemble(("  ", ""), lit(r["detail"], "dim")) if r["detail"] else Text()),
               width=0, min_width=8),
    ]


def history_detail(row: dict[str, Any] | None) -> Group | Text:
    """The selected stage-history entry: what moved, who, when, why, and the gate results."""
    if row is None:
        return Text("nothing selected", style="dim")
    head = Text.assemble(lit(row["model"], "bold"), " ", lit(row["stage"], "bold"), "  ",
                         _version(row["from_version"]), (" → ", "dim"),
                         (_version(row["to_version"]), "bold"), "  ", action_cell(row),
                         ("  by ", "dim"), lit(row["actor"]), ("  at ", "dim"),
                         fmt_time(row["at"]))
    if row.get("forced"):
        head.append("  forced past failing gates", style="bold red")
    reason = Text.assemble(("reason  ", "dim"),
                           lit(row["reason"], multiline=True) if row["reason"]
                           else Text("—", style="dim"))
    gates = Text("gates", style="dim")
    if row["gate_results"]:
        gates.append("\n")
        gates.append_text(gate_lines(row["gate_results"], list_passing=True))
    else:
        gates.append("  none recorded", style="dim")
    return Group(head, reason, gates)


def event_detail(row: dict[str, Any] | None) -> Group | Text:
    """The selected event: action, what it touched, before and after, detail."""
    if row is None:
        return Text("nothing selected", style="dim")
    head = Text.assemble(action_cell(row), "  ", lit(row["ref"] or "", "bold"),
                         (f"  ({safe(row['entity_kind'] or '')})", "dim"), ("  by ", "dim"),
                         lit(row["actor"]), ("  at ", "dim"), fmt_time(row["at"]))
    lines: list[Any] = [head]
    for key in ("before", "after"):
        if row[key] is not None:
            lines.append(Text.assemble((f"{key:>6}  ", "dim"), lit(_compact(row[key]))))
    if row["detail"]:
        lines.append(Text.assemble(("detail  ", "dim"),
                                   lit(row["detail"], multiline=True)))
    return Group(*lines)


class ModelPicker(ModalScreen["list[str | None] | None"]):
    """Choose the model the history shows: ``[None]`` all, ``[name]`` one, None cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modelpicker.cancel")]
    DEFAULT_CSS = """
    ModelPicker > Vertical { width: 44; height: auto; max-height: 80%; }
    ModelPicker OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, models: list[str], current: str | None):
        super().__init__()
        self.models = models
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Show the history of", style="bold"), classes="dialog-title")
            yield OptionList(Option(Text("all models", style="italic"), id="all"),
                             *[Option(lit(name), id=f"m{index}")
                               for index, name in enumerate(self.models)])

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        option_list.highlighted = (self.models.index(self.current) + 1
                                   if self.current in self.models else 0)
        option_list.focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        """Enter on an option chooses it."""
        option_id = event.option.id or "all"
        self.dismiss([None] if option_id == "all" else [self.models[int(option_id[1:])]])

    def action_cancel(self) -> None:
        """``escape``: keep the current model."""
        self.dismiss(None)


class HistoryScreen(CatalogScreen):
    """The stage history (or the event log) as a paged timeline, newest first."""

    BINDINGS = [
        Binding("f", "choose_model", "Model", id="history.model"),
        Binding("a", "cycle_action", "Action", id="history.action"),
        Binding("E", "toggle_events", "Event log", id="history.events"),
        Binding("escape", "back", "Back", id="history.back"),
    ]

    DEFAULT_CSS = """
    HistoryScreen #history-grid { height: 1fr; }
    HistoryScreen #history-detail {
        height: 7; border-top: hkey $foreground 20%; padding: 0 1;
    }
    HistoryScreen.tall #history-detail { height: 10; }
    """

    def __init__(self, model: str | None = None):
        super().__init__()
        self.model = model
        self.action: str | None = None
        self.events_mode = False
        self.rows: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []
        self.exhausted = False
        self._loading_more = False
        self._generation = 0  # bumps on every filter change: late pages of old filters are dropped

    def compose(self) -> ComposeResult:
        yield Static(Text("history …", style="dim"), id="history-title", classes="screen-title")
        yield VirtualGrid(history_columns(120), empty_text="no entries", id="history-grid")
        with VerticalScroll(id="history-detail"):
            yield Static(Text("…", style="dim"), id="history-detail-body")
        yield KeyBar()

    @property
    def grid(self) -> VirtualGrid:
        """The timeline grid."""
        return self.query_one("#history-grid", VirtualGrid)

    def on_mount(self) -> None:
        self.set_class(self.size.height >= 34, "tall")
        self._set_columns()
        self.grid.focus()
        self.load()

    def on_resize(self) -> None:
        self.set_class(self.size.height >= 34, "tall")
        self._set_columns()

    def _set_columns(self) -> None:
        width = self.size.width
        self.grid.set_columns(event_columns(width) if self.events_mode else history_columns(width))

    async def reload(self) -> None:
        """The catalog changed: re-read as many entries as are loaded, keep the cursor."""
        self.load(keep=True)

    # -- loading ----------------------------------------------------------------------------------

    async def _fetch(self, offset: int, limit: int) -> list[dict[str, Any]]:
        if self.events_mode:
            return await self.db(self.catalog.events, action=self.action, limit=limit,
                                 offset=offset)
        return await self.db(self.catalog.history, model=self.model, action=self.action,
                             limit=limit, offset=offset)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def load(self, keep: bool = False) -> None:
        """Read the first page (or, on reload, as many entries as were loaded)."""
        generation = self._generation
        limit = max(PAGE, len(self.order)) if keep else PAGE
        rows = await self._fetch(0, limit)
        if generation != self._generation:
            return
        grid = self.grid
        keep_id = grid.cursor_id if keep else None
        self.rows = {row["id"]: row for row in rows}
        self.order = [row["id"] for row in rows]
        self.exhausted = len(rows) < limit
        grid.set_ids(self.order, keep=keep_id, clear_rows=True)
        grid.add_rows(rows)
        if not keep:
            grid.move_to(0)
        self._update_title()
        self._show_detail()

    @work(group="more", exit_on_error=False)
    async def load_more(self) -> None:
        """The next page, appended (entries saved meanwhile shift offsets: drop repeats)."""
        generation = self._generation
        try:
            rows = await self._fetch(len(self.order), PAGE)
        except Exception as exc:  # noqa: BLE001
            self.report_error(exc)
            return
        finally:
            self._loading_more = False
        if generation != self._generation:
            return
        fresh = [row for row in rows if row["id"] not in self.rows]
        self.exhausted = len(rows) < PAGE
        for row in fresh:
            self.rows[row["id"]] = row
            self.order.append(row["id"])
        grid = self.grid
        grid.set_ids(self.order, keep=grid.cursor_id)
        grid.add_rows(fresh)
        self._update_title()

    @on(VirtualGrid.RowsNeeded, "#history-grid")
    def rows_needed(self, event: VirtualGrid.RowsNeeded) -> None:
        # Every loaded entry is in memory; the grid only asks after evicting from its cache.
        """Hand the grid rows it evicted from its cache."""
        self.grid.add_rows([self.rows[i] for i in event.ids if i in self.rows])

    @on(VirtualGrid.CursorMoved, "#history-grid")
    def cursor_moved(self) -> None:
        """Show the entry's detail; at the end of what is loaded, read the next page."""
        self._show_detail()
        grid = self.grid
        if (not self.exhausted and not self._loading_more and self.order
                and grid.cursor_index >= len(self.order) - NEAR_END):
            self._loading_more = True
            self.load_more()

    def _update_title(self) -> None:
        count = f"{len(self.order)}{'+' if not self.exhausted else ''}"
        if self.events_mode:
            title = Text.assemble(("event log", "bold"), ("   action: ", "dim"),
                                  (self.action or "all", "bold"), (f"   {count} events", "dim"),
                                  ("   E: stage history", "dim"))
        else:
            title = Text.assemble(("stage history", "bold"), ("   model: ", "dim"),
                                  (safe(self.model) if self.model else "all", "bold"),
                                  ("   action: ", "dim"), (self.action or "all", "bold"),
                                  (f"   {count} entries", "dim"),
                                  ("   ! forced", "dim"))
        self.query_one("#history-title", Static).update(title)

    def _show_detail(self) -> None:
        row = self.rows.get(self.grid.cursor_id) if self.grid.cursor_id is not None else None
        body = self.query_one("#history-detail-body", Static)
        body.update(event_detail(row) if self.events_mode else history_detail(row))

    # -- filters ----------------------------------------------------------------------------------

    def _refilter(self) -> None:
        self._generation += 1
        self._loading_more = False
        self.exhausted = False
        self.load()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The event log has no model filter (the catalog's events() takes none)."""
        if action == "choose_model" and self.events_mode:
            return None
        return True

    def action_cycle_action(self) -> None:
        """``a``: the next action filter."""
        choices = EVENT_ACTIONS if self.events_mode else STAGE_ACTIONS
        index = choices.index(self.action) if self.action in choices else 0
        self.action = choices[(index + 1) % len(choices)]
        self._refilter()

    def action_choose_model(self) -> None:
        """``f``: choose the model (or all models)."""
        self.pick_model()

    @work(exclusive=True, group="pick", exit_on_error=False)
    async def pick_model(self) -> None:
        """Read the model names and open the picker."""
        models = [m["name"] for m in await self.db(self.catalog.models)]

        def chosen(choice: list[str | None] | None) -> None:
            if choice is not None and choice[0] != self.model:
                self.model = choice[0]
                self._refilter()

        self.app.push_screen(ModelPicker(models, self.model), chosen)

    def action_toggle_events(self) -> None:
        """``E``: switch between the stage history and the event log."""
        self.events_mode = not self.events_mode
        self.action = None  # the two logs name their actions differently
        self._set_columns()
        self._refilter()

    def action_back(self) -> None:
        """``escape``: back to the screen below."""
        self.app.pop_screen()
