"""Browse (home): models with stage badges, the selected model's versions, a detail pane.

The versions table is a :class:`VirtualGrid`: the ordered ids of the whole model come from one
query (the first page first, so the screen draws at once), rows are fetched by id as they
scroll into view.  The detail pane and the trend follow the cursor after a short pause, so
holding an arrow key repaints two lines per step and not the whole pane.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.errors import MltuiError
from ...display import safe
from ..widgets.filterbar import FilterPrompt
from ..base import CatalogScreen
from ..widgets.grid import VirtualGrid
from ..widgets.keybar import KeyBar
from ..widgets.detail import render_version_detail
from ..widgets.text import lit, stage_label
from ..widgets.versioncols import stage_sets_of, version_columns
from .browse_data import ALL, BrowseData, VersionPage, browse_data, version_page

DETAIL_DELAY = 0.15  # seconds the cursor rests before the detail pane follows
EMPTY_CATALOG = "The catalog is empty.\n\nImport run logs with:\n  mltui import PATH --model NAME"
AGE_TICK = 20.0  # seconds between redraws of the age column (its finest unit is a minute)


class BrowseScreen(CatalogScreen):
    """Home: models, their versions and the selected version's detail."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="browse.filter"),
        Binding("escape", "clear_filter", "Clear filter", id="browse.clear_filter"),
        Binding("s", "sort", "Sort", id="browse.sort"),
        Binding("space", "mark", "Mark", id="browse.mark"),
        Binding("c", "compare", "Compare", id="browse.compare"),
        Binding("l", "lineage", "Lineage", id="browse.lineage"),
        Binding("e", "docs", "Docs", id="browse.docs"),
        Binding("p", "promote", "Promote", id="browse.promote"),
        Binding("r", "rollback", "Rollback", id="browse.rollback"),
        Binding("h", "history", "History", id="browse.history"),
        Binding("R", "runs", "Runs", id="browse.runs"),
        Binding("P", "production", "Prod", id="browse.production"),
        Binding("u", "unarchive", "Unarchive", id="browse.unarchive"),
        Binding("enter", "detail", "Detail", show=False, id="browse.detail"),
        # Copies (OSC 52): in ? and the palette; the key bar has no room left at 80 columns.
        Binding("y", "copy_ref", "Copy reference", show=False, id="browse.copy_ref"),
        Binding("Y", "copy_path", "Copy artifact path", show=False, id="browse.copy_path"),
        Binding("t", "trend_metric", "Trend metric", show=False, id="browse.trend"),
        Binding("C", "columns", "Choose columns", show=False, id="browse.columns"),
        Binding("tab", "switch_pane", "Switch pane", show=False, id="browse.switch"),
    ]

    # The versions table takes the focus as the screen composes: the default (the first
    # focusable, the model list) was restyled twice more before the first frame, focused
    # and then blurred by ``on_mount``.
    AUTO_FOCUS = "#versions"

    DEFAULT_CSS = """
    BrowseScreen > KeyBar { dock: none; split: bottom; }
    BrowseScreen #models { split: left; width: 20; border-right: vkey $foreground 20%; }
    BrowseScreen #models-title, BrowseScreen #versions-title {
        height: 1; background: $boost; color: $text-muted; padding: 0 1;
    }
    BrowseScreen #versions { height: 1fr; min-height: 5; }
    BrowseScreen #detail { height: 45%; border-top: hkey $foreground 20%; padding: 0 1; }
    BrowseScreen #model-list { height: 1fr; border: none; }
    """

    def __init__(self, start: str | None = None) -> None:
        super().__init__()
        self.start = start  # a model name, ALL, or None for the first model
        self.choice: str | None = None  # what the model list selects: a model name or ALL
        self.filter_text = ""
        self.sort_text = ""
        self.metric_keys: list[str] = []
        self.param_keys: list[str] = []  # chosen with C; fetched for the rows on screen only
        self.trend_key: str | None = None
        self._can_rollback = False
        self._detail_timer: Timer | None = None
        self._models: list[dict[str, Any]] = []
        self._had_row = False
        self._archived: str | None = None  # the ref under the cursor when it is archived
        self._resumed = False  # see _on_screen_resume

    def compose(self) -> ComposeResult:
        # No row or column containers: the key bar and the models column are split off the
        # screen's edges (the key bar first, so it spans the whole width) and the versions
        # pane stacks in what is left.  Each container was one more node to style, mount,
        # lay out and paint before the first frame.  The filter prompt is mounted at the
        # first ``/`` (``filter_prompt``).
        yield KeyBar()
        with Vertical(id="models"):
            yield Static(Text("models"), id="models-title")
            yield OptionList(id="model-list")
        yield Static(Text("versions"), id="versions-title")
        yield VirtualGrid([], empty_text="no versions", id="versions")
        with VerticalScroll(id="detail"):
            yield Static(Text("…", style="dim"), id="detail-body")

    @property
    def grid(self) -> VirtualGrid:
        return self.query_one("#versions", VirtualGrid)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler.  The first resume is the app's start: every node
        # was styled as it mounted a moment ago, so restyling them all again (and each
        # widget's component classes) was wasted work before the first frame.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    async def on_mount(self) -> None:
        self.grid.loader = lambda ids: self.catalog.versions(ids, metric_keys=self.metric_keys,
                                                             param_keys=self.param_keys)
        self.grid.focus()
        prefetched = self.app.take_prefetched(self.start)
        if prefetched is not None and prefetched.done() and prefetched.exception() is None:
            # Read while Textual was starting: shown now, so the first frame has the rows.
            self._show_models(prefetched.result(), keep_model=False)
        else:
            self.load_models(prefetched=prefetched)
        self.set_interval(AGE_TICK, self.tick_ages)

    def tick_ages(self) -> None:
        """Ages are "how long ago": redraw them as the clock moves (rows are not re-read)."""
        self.grid.redraw()

    async def reload(self) -> None:
        """Another process wrote: re-read models, ids and visible rows; keep the cursor."""
        self.load_models(keep_model=True)

    # -- loading ---------------------------------------------------------------------------------

    @work(exclusive=True, group="models", exit_on_error=False)
    async def load_models(self, keep_model: bool = False,
                          prefetched: "Future[BrowseData] | None" = None) -> None:
        """Models, alerts and the chosen model's first page, in one catalog call."""
        if prefetched is not None:  # started before the screen: wait for it, do not re-read
            data = await asyncio.wrap_future(prefetched)
        else:
            data = await self.db(browse_data, self.catalog,
                                 self.choice if keep_model else self.start,
                                 self.filter_text, self.sort_text)
        self._show_models(data, keep_model)

    def _show_models(self, data: BrowseData, keep_model: bool) -> None:
        """Fill the model list; show the chosen model's first page read with it."""
        models, alerts = data.models, data.alerts
        self._models = models
        option_list = self.query_one("#model-list", OptionList)
        option_list.clear_options()
        total = sum(m["versions"] for m in models)
        option_list.add_option(Option(Text.assemble(("all versions", "bold italic"),
                                                    (f"  {total}", "dim")), id=ALL))
        for model in models:
            prompt = lit(model["name"], "bold")
            prompt.append(f"  {model['versions']}", style="dim")
            firing = sum(1 for alert in alerts if alert["model"] == model["name"])
            if firing:  # an alert badge: the model needs a look (P shows why)
                prompt.append(f" ⚠{firing}", style="bold red")
            if model["stages"]:
                prompt.append("\n")
                prompt.append_text(Text(" ").join(
                    Text.assemble(stage_label([stage]), (f" v{version}", "dim"))
                    for stage, version in model["stages"].items()))
            option_list.add_option(Option(prompt, id=model["name"]))
        if data.choice is None or data.page is None:
            self.grid.set_ids([])  # the detail pane then says how to fill the catalog
            return
        option_list.highlighted = [ALL, *(m["name"] for m in models)].index(data.choice)
        if data.choice != self.choice or keep_model:
            self.choice = data.choice
            self._show_page(data.page, keep=True)
            self.finish_versions(data.page)

    @property
    def model(self) -> str | None:
        """The selected model's name; None for "all versions" (or before loading)."""
        return None if self.choice in (None, ALL) else self.choice

    def current_model(self) -> str | None:
        """The model actions apply to: the selected one, or the cursor row's under "all"."""
        if self.model is not None:
            return self.model
        row = self.grid.row(self.grid.cursor_id)
        return row["model"] if row else None

    @on(OptionList.OptionHighlighted, "#model-list")
    def model_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        choice = event.option.id
        if choice and choice != self.choice:
            self.choice = choice
            self.grid.marked.clear()
            self.trend_key = None
            self.load_versions(keep=False)

    @work(exclusive=True, group="versions", exit_on_error=False)
    async def load_versions(self, keep: bool = True) -> None:
        """The chosen model's columns, first ids and rows, then the rest of its ids."""
        if self.choice is None:
            return
        choice = self.choice
        page = await self.db(version_page, self.catalog, self.model, self.filter_text,
                             self.sort_text)
        if choice != self.choice:
            return
        self._show_page(page, keep)
        await self._rest_of_versions(page)

    def _show_page(self, page: VersionPage, keep: bool) -> None:
        """Columns, first ids and their rows, drawn at once (no row is fetched again)."""
        if page.column_error is not None:
            self.report_error(page.column_error)
        keys, model = page.keys, self.model
        self.metric_keys, self.param_keys = keys, page.params
        if self.trend_key not in keys:
            self.trend_key = keys[0] if keys else None
        grid = self.grid
        grid.set_columns(version_columns(keys, grid.size.width or self.size.width - 20,
                                         self.app.now, all_models=model is None,
                                         stage_sets=stage_sets_of(self._models, model),
                                         param_keys=page.params))
        grid.set_ids(page.first, keep=grid.cursor_id if keep else None, clear_rows=True,
                     reset=not keep)
        grid.add_rows(page.rows)
        self._update_title(len(page.first), partial=page.partial)
        self.app.warm_up_later()  # the first rows are shown: Docs' code can load meanwhile

    @work(exclusive=True, group="versions", exit_on_error=False)
    async def finish_versions(self, page: VersionPage) -> None:
        """After the first page is shown: the rest of its ids, whether ``r`` applies."""
        await self._rest_of_versions(page)

    async def _rest_of_versions(self, page: VersionPage) -> None:
        choice, filter_text, sort_text = self.choice, self.filter_text, self.sort_text
        if page.partial:  # the rest of the ordered ids, after the first paint
            every = await self.db(self.catalog.version_ids, model=self.model,
                                  filter=filter_text or None, sort=sort_text or None)
            if choice == self.choice:
                self.grid.set_ids(every, keep=self.grid.cursor_id)
                self._update_title(len(every))
        await self._check_rollback()

    async def _check_rollback(self) -> None:
        """Whether ``r`` applies: the current model's production has an earlier holder."""
        model = self.current_model()
        try:
            target = await self.db(self.catalog.rollback_target, model, "production") \
                if model else None
        except MltuiError:
            target = None
        if (target is not None) != self._can_rollback:
            self._can_rollback = target is not None
            self.refresh_bindings()

    def _update_title(self, count: int, partial: bool = False) -> None:
        title = Text.assemble(("versions of ", "dim"), (safe(self.model or "all models"), "bold"),
                              (f"  {count:,}{'+' if partial else ''}", "dim"))
        if self.filter_text:
            title.append("  filter: ", style="dim")
            title.append(safe(self.filter_text), style="italic")
        if self.sort_text:
            title.append("  sort: ", style="dim")
            title.append(safe(self.sort_text), style="italic")
        if self.grid.marked:
            title.append(f"  marked {len(self.grid.marked)}", style="yellow")
        self.query_one("#versions-title", Static).update(title)

    # -- detail pane -------------------------------------------------------------------------------

    @on(VirtualGrid.CursorMoved, "#versions")
    def cursor_moved(self, event: VirtualGrid.CursorMoved) -> None:
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, self.load_detail)
        has_row = event.row_id is not None
        row = self.grid.row(event.row_id)
        if row is not None:  # cached: promote's state follows at once, not after the detail
            archived = f"{row['model']}@{row['version']}" if row.get("status") == "archived" \
                else None
            if archived != self._archived:
                self._archived = archived
                self.refresh_bindings()
        if has_row != self._had_row:  # key states depend only on whether a row is selected
            self._had_row = has_row
            self.refresh_bindings()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load_detail(self) -> None:
        version_id = self.grid.cursor_id
        body = self.query_one("#detail-body", Static)
        if version_id is None:
            body.update(Text(EMPTY_CATALOG if not self._models else "no version selected",
                             style="dim"))
            return
        detail = await self.db(self.catalog.version_detail, version_id)
        trend = await self.db(self.catalog.trend, detail["model"], self.trend_key) \
            if self.trend_key else []
        if version_id == self.grid.cursor_id:
            body.update(render_version_detail(detail, trend, self.trend_key,
                                              width=body.size.width or None))
            archived = detail["ref"] if detail.get("status") == "archived" else None
            if archived != self._archived:
                self._archived = archived
                self.refresh_bindings()
            if self.model is None:  # under "all versions" the model follows the cursor
                await self._check_rollback()

    # -- actions -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what does not apply (None), rather than failing when pressed."""
        needs_version = {"mark", "lineage", "docs", "promote", "detail", "copy_ref", "copy_path"}
        if action in needs_version and (not self.is_mounted or self.grid.cursor_id is None):
            return None
        if action == "compare" and (not self.is_mounted or len(self.grid.marked) < 2):
            return None
        if action == "rollback" and not self._can_rollback:
            return None
        if action == "promote" and self._archived:
            return None
        if action == "clear_filter":
            return bool(self.filter_text)  # shown only while a filter is on
        if action == "unarchive":
            return True if self._archived else False  # shown only where it applies
        return True

    def key_note(self) -> str:
        """Why ``p`` is greyed out, in the key bar."""
        if self._archived:
            return f"p: {self._archived} is archived and cannot be promoted — u unarchives it"
        return ""

    def action_unarchive(self) -> None:
        """``u``: make the archived version under the cursor ready again (asks first)."""
        from .confirm import ConfirmDialog

        ref = self._archived
        if ref is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.unarchive(ref)

        self.app.push_screen(ConfirmDialog(f"Unarchive {ref}?",
                                           "it can be promoted again; recorded in the history"),
                             answered)

    @work(group="unarchive", exit_on_error=False)
    async def unarchive(self, ref: str) -> None:
        """Write the unarchive, then reload what every screen shows."""
        await self.db(self.catalog.unarchive, ref, reason="unarchived in the app")
        self.app.notify(f"{ref} unarchived", markup=False)
        self._archived = None
        self.refresh_bindings()
        await self.app.reload_screens()

    def action_copy_ref(self) -> None:
        """``y``: the selected version's reference (``fraud@3``) to the clipboard (OSC 52)."""
        row = self.grid.row(self.grid.cursor_id)
        if row is not None:
            ref = f"{row['model']}@{row['version']}"
            self.app.copy_to_clipboard(ref)
            self.app.notify(f"copied {safe(ref)}", markup=False)

    def action_copy_path(self) -> None:
        """``Y``: the selected version's artifact path to the clipboard (OSC 52)."""
        row = self.grid.row(self.grid.cursor_id)
        if row is None:
            return
        path = row.get("artifact_path")
        if not path:
            self.app.notify(f"{row['model']}@{row['version']} has no artifact path",
                            severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(path)
        self.app.notify(f"copied {safe(path)}", markup=False)

    def action_switch_pane(self) -> None:
        option_list = self.query_one("#model-list", OptionList)
        (self.grid if option_list.has_focus else option_list).focus()

    async def action_filter(self) -> None:
        await (await self.filter_prompt()).open(self.filter_text)

    async def filter_prompt(self) -> FilterPrompt:
        """The ``/`` prompt over the versions table, mounted at its first use."""
        found = self.query("#filter")
        if found:
            return found.first(FilterPrompt)
        prompt = FilterPrompt(lambda text: self.catalog.version_ids(
            model=self.model, filter=text, limit=1),
            placeholder="filter: metrics.f1 > 0.8 and params.lr = '0.01'", id="filter")
        await self.mount(prompt, before=self.grid)
        return prompt

    @on(FilterPrompt.Applied, "#filter")
    def filter_applied(self, event: FilterPrompt.Applied) -> None:
        self.filter_text = event.text
        self.refresh_bindings()
        self.load_versions(keep=True)

    def action_clear_filter(self) -> None:
        """ESC: drop the filter in force (the list shows every version again)."""
        if self.filter_text:
            self.filter_text = ""
            self.refresh_bindings()
            self.load_versions(keep=True)

    def action_sort(self) -> None:
        from .pickers import SortPicker

        def chosen(value: str | None) -> None:
            if value is not None:
                self.sort_text = value
                self.load_versions(keep=True)

        self.app.push_screen(SortPicker(self.metric_keys, self.sort_text, self.param_keys), chosen)

    def action_mark(self) -> None:
        if self.grid.toggle_mark() is not None:
            self.grid.move_to(self.grid.cursor_index + 1)
            self._update_title(len(self.grid.ids))
            self.refresh_bindings()

    def action_trend_metric(self) -> None:
        if self.metric_keys:
            index = (self.metric_keys.index(self.trend_key) + 1) % len(self.metric_keys) \
                if self.trend_key in self.metric_keys else 0
            self.trend_key = self.metric_keys[index]
            self.load_detail()

    def action_columns(self) -> None:
        """``C``: choose the model's metric columns (kept in the project config)."""
        from .pickers import choose_columns

        self.run_worker(choose_columns(self), group="columns", exit_on_error=False)

    def action_compare(self) -> None:
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(self.grid.marked_in_order()[:8]))

    def action_lineage(self) -> None:
        from .lineage import LineageScreen

        if self.grid.cursor_id is not None:
            self.app.push_screen(LineageScreen(self.grid.cursor_id))

    def action_docs(self) -> None:
        from .docs_entry import open_docs

        if self.grid.cursor_id is not None:
            self.run_worker(open_docs(self, self.grid.cursor_id), group="docs", exclusive=True,
                            exit_on_error=False)

    def action_history(self) -> None:
        from .history import HistoryScreen

        self.app.push_screen(HistoryScreen(model=self.current_model()))

    def action_runs(self) -> None:
        from .runs import RunsScreen

        self.app.push_screen(RunsScreen())

    def action_production(self) -> None:
        from .production import ProductionScreen

        model = self.current_model()
        if model is not None:
            self.app.push_screen(ProductionScreen(model))

    def action_detail(self) -> None:
        from .detail import DetailScreen

        if self.grid.cursor_id is not None:
            self.app.push_screen(DetailScreen(self.grid.cursor_id))

    def action_promote(self) -> None:
        from .promote import PromoteDialog

        if self.grid.cursor_id is not None:
            self.app.push_screen(PromoteDialog(self.grid.cursor_id), self._after_write)

    def action_rollback(self) -> None:
        from .promote import RollbackDialog

        model = self.current_model()
        if model is not None:
            self.app.push_screen(RollbackDialog(model), self._after_write)

    def _after_write(self, changed: bool | None) -> None:
        if changed:
            self.call_later(self.app.reload_screens)

