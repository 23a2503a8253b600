"""The revisions of a document, with a diff between any two (or one and the editor's text).

``R`` restores the revision under the cursor as a new revision: history is never rewritten, the
old text is saved again on top of the current revision, conflict-safe like every save.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from ...core.errors import Conflict
from ...display import fmt_time, safe
from ..base import CatalogScreen
from .confirm import ConfirmDialog
from ..widgets.text import lit
from ..widgets.doctext import diff_text, unified_diff
from ..widgets.keybar import KeyBar
from ..widgets.textsearch import SearchableStatic, SearchBar, TextSearchMixin, search_bindings


class DocRevisionsScreen(TextSearchMixin, CatalogScreen):
    """Every revision of a document; the diff between two marked ones, or one vs the editor.

    ``/`` searches the diff (``n``/``N`` step through the matches).
    """

    BINDINGS = [
        Binding("space", "mark", "Mark", id="docrevs.mark"),
        Binding("R", "restore", "Restore", id="docrevs.restore"),
        Binding("escape", "back", "Back", id="docrevs.back"),
        *search_bindings("docrevs"),
    ]

    DEFAULT_CSS = """
    DocRevisionsScreen #revs-table { height: auto; max-height: 40%; }
    DocRevisionsScreen #revs-diff-title { height: 1; padding: 0 1; background: $boost; }
    DocRevisionsScreen #revs-diff { height: 1fr; padding: 0 1; }
    """

    def __init__(self, ref: int | str, *, kind: str = "version", target: str = "",
                 editor_text: str = "", editor_modified: bool = False):
        super().__init__()
        self.ref = ref
        self.kind = kind
        self.target = target
        self.editor_text = editor_text
        self.editor_modified = editor_modified  # restoring then leaves the editor's text alone
        self.revisions: list[dict[str, Any]] = []
        self.marked: list[int] = []  # revs, in the order they were marked (at most two)

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("revisions of ", "dim"), (safe(self.target), "bold"),
                                   ("   space marks two · otherwise: this rev vs your text",
                                    "dim")),
                     id="revs-title", classes="screen-title")
        yield DataTable(id="revs-table", cursor_type="row", zebra_stripes=False)
        yield Static(id="revs-diff-title")
        with VerticalScroll(id="revs-diff"):
            yield SearchableStatic(Text("…", style="dim"), id="revs-diff-body")
        yield SearchBar(lambda: self.query_one("#revs-diff-body", SearchableStatic))
        yield KeyBar()

    @property
    def table(self) -> DataTable:
        """The revision table."""
        return self.query_one("#revs-table", DataTable)

    def on_mount(self) -> None:
        table = self.table
        table.add_column(Text(" "), key="mark", width=1)
        table.add_column(Text("rev"), key="rev", width=4)
        table.add_column(Text("author"), key="author", width=12)
        table.add_column(Text("saved"), key="at", width=16)
        table.add_column(Text("chars"), key="chars", width=7)
        table.add_column(Text("message"), key="message")
        table.focus()
        self.load()

    async def reload(self) -> None:
        """The catalog changed: re-read the revisions, keeping the cursor."""
        self.load()

    @work(exclusive=True, group="revs", exit_on_error=False)
    async def load(self) -> None:
        """Load the latest revision (or the template, as rev 0) into the editor."""
        revisions = await self.db(self.catalog.doc_revisions, self.ref, kind=self.kind)
        # rev 0 is the template every document started from (doc_diff accepts it).
        self.revisions = revisions + [{"rev": 0, "author": None, "at": None, "chars": None,
                                       "message": "the template"}]
        table = self.table
        keep = self._cursor_rev()
        table.clear()
        for item in self.revisions:
            table.add_row(
                Text("●" if item["rev"] in self.marked else "", style="bold yellow"),
                Text(str(item["rev"]), style="bold"),
                lit(item["author"] or "—"),
                Text(fmt_time(item["at"]) if item["at"] else "—", style="dim"),
                Text("" if item["chars"] is None else f"{item['chars']:,}", justify="right"),
                lit(item["message"] or "", "dim"),
                key=str(item["rev"]))
        revs = [item["rev"] for item in self.revisions]
        if keep in revs:
            table.move_cursor(row=revs.index(keep))
        self.show_diff()

    def _cursor_rev(self) -> int | None:
        table = self.table
        if not self.revisions or table.row_count == 0:
            return None
        index = min(table.cursor_row, len(self.revisions) - 1)
        return int(self.revisions[index]["rev"])

    @on(DataTable.RowHighlighted, "#revs-table")
    def row_highlighted(self) -> None:
        """Without two marks, the diff follows the cursor."""
        if len(self.marked) < 2:
            self.show_diff()

    def action_mark(self) -> None:
        """``space``: mark or unmark a revision (a third mark replaces the oldest)."""
        rev = self._cursor_rev()
        if rev is None:
            return
        if rev in self.marked:
            self.marked.remove(rev)
        else:
            self.marked.append(rev)
            if len(self.marked) > 2:  # a third mark replaces the oldest
                self.marked.pop(0)
        for item in self.revisions:
            self.table.update_cell(str(item["rev"]), "mark", Text(
                "●" if item["rev"] in self.marked else "", style="bold yellow"))
        self.show_diff()

    @work(exclusive=True, group="diff", exit_on_error=False)
    async def show_diff(self) -> None:
        """The diff between the two marked revisions, or one revision and the editor's text."""
        title = self.query_one("#revs-diff-title", Static)
        body = self.query_one("#revs-diff-body", SearchableStatic)
        if len(self.marked) == 2:
            old, new = sorted(self.marked)
            diff = await self.db(self.catalog.doc_diff, self.ref, old, new, kind=self.kind)
            heading = f"rev {old} → rev {new}"
        else:
            rev = self.marked[0] if self.marked else self._cursor_rev()
            if rev is None:
                return
            doc = await self.db(self.catalog.get_doc, self.ref, kind=self.kind, rev=rev)
            diff = await asyncio.to_thread(unified_diff, doc["text"], self.editor_text,
                                           f"rev {rev}", "your text")
            heading = f"rev {rev} → your text (the editor)"
        title.update(Text.assemble(("diff  ", "dim"), (heading, "bold"),
                                   ("   + added  ", "green"), ("- removed", "red")))
        body.show(diff_text(diff))

    # -- restoring ------------------------------------------------------------------------------

    def action_restore(self) -> None:
        """``R``: once confirmed, save the cursor's revision again as a new revision."""
        rev = self._cursor_rev()
        if rev is None:
            return
        current = self.revisions[0]["rev"]  # newest first; the template (rev 0) comes last
        if rev == current:
            self.app.notify(f"rev {rev} is the current revision: nothing to restore",
                            markup=False)
            return
        detail = f"saves the text of rev {rev} on top of rev {current}; every revision is kept"
        if self.editor_modified:
            detail += (" · your unsaved text stays in the editor (saving it then shows the "
                       "conflict view)")

        def answered(restore: bool | None) -> None:
            if restore:
                self.restore(rev, current)

        self.app.push_screen(ConfirmDialog(f"Restore rev {rev} as a new revision?", detail),
                             answered)

    @work(exclusive=True, group="restore", exit_on_error=False)
    async def restore(self, rev: int, current: int) -> None:
        """Save the text of ``rev`` on top of ``current``; refused if someone saved meanwhile."""
        try:
            old = await self.db(self.catalog.get_doc, self.ref, kind=self.kind, rev=rev)
            result = await self.db(self.catalog.set_doc, self.ref, old["text"], base_rev=current,
                                   kind=self.kind, message=f"restored rev {rev}")
        except Conflict as exc:
            self.app.notify(f"rev {exc.current_rev} was saved meanwhile: nothing restored",
                            title=self.target, severity="warning", markup=False)
            self.load()
            return
        if not result["changed"]:
            self.app.notify(f"rev {rev} has the current text: nothing restored",
                            title=self.target, markup=False)
            return
        self.app.notify(f"restored rev {rev} as rev {result['rev']}", title=self.target,
                        markup=False)
        # Our own commit does not trigger the catalog watch: reload the screens below (the
        # editor follows the new revision unless it holds unsaved text), then show it.
        await self.app.reload_screens()
        self.app.pop_screen()

    def action_back(self) -> None:
        """``escape``: close an open search, else back to the editor."""
        if not self.close_search():
            self.app.pop_screen()
