"""``enter`` on a version: everything about it on one scrollable screen."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll

from ..base import CatalogScreen
from ..widgets.detail import render_version_detail
from ..widgets.keybar import KeyBar
from ..widgets.textsearch import SearchableStatic, SearchBar, TextSearchMixin, search_bindings


class ScrollingDetail(TextSearchMixin, CatalogScreen):
    """One renderable in a scroll view, read again whenever the catalog changes.

    Subclasses say what to show with :meth:`body` (catalog calls through ``self.db``); one
    that lists :func:`search_bindings` can be searched (``/``, ``n``/``N``).
    """

    DEFAULT_CSS = """
    ScrollingDetail VerticalScroll { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="detail-scroll"):
            yield SearchableStatic(Text("…", style="dim"), classes="detail-body")
        yield SearchBar(lambda: self.query_one(".detail-body", SearchableStatic))
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.load()

    async def reload(self) -> None:
        self.load()

    async def body(self) -> RenderableType:
        """What the screen shows (read from the catalog)."""
        raise NotImplementedError

    @work(exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        try:
            renderable = await self.body()
        except Exception as exc:  # noqa: BLE001 - one notice, never a traceback
            self.report_error(exc)
            return
        self.query_one(".detail-body", SearchableStatic).show(renderable)

    def action_back(self) -> None:
        """``escape``: close an open search first, then leave."""
        if not self.close_search():
            self.app.pop_screen()


class DetailScreen(ScrollingDetail):
    """All metadata, metrics, params, tags, lineage summary and the documentation of a version."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("l", "lineage", "Lineage", id="detail.lineage"),
        Binding("e", "docs", "Docs", id="detail.docs"),
        Binding("p", "promote", "Promote", id="detail.promote"),
        *search_bindings("detail"),
    ]

    def __init__(self, version_id: int):
        super().__init__()
        self.version_id = version_id

    async def body(self) -> RenderableType:
        """The version with all its metrics, params, history and documentation."""
        detail = await self.db(self.catalog.version_detail, self.version_id)
        keys = [m["key"] for m in detail["metric_summary"]]
        key = keys[0] if keys else None
        trend = await self.db(self.catalog.trend, detail["model"], key) if key else []
        return render_version_detail(detail, trend, key, limit=None, doc_lines=None)

    def action_lineage(self) -> None:
        from .lineage import LineageScreen

        self.app.push_screen(LineageScreen(self.version_id))

    def action_docs(self) -> None:
        from .docs_entry import open_docs

        self.run_worker(open_docs(self, self.version_id), group="docs", exclusive=True,
                        exit_on_error=False)

    def action_promote(self) -> None:
        from .promote import PromoteDialog

        self.app.push_screen(PromoteDialog(self.version_id))
