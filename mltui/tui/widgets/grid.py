"""A virtual table over an ordered list of ids, drawn with Textual's Line API.

The grid holds only the ordered ids (100,000 ints are nothing) and a cache of the rows it has
been given; :meth:`render_line` draws the visible lines.  Rows it does not have yet are fetched
by id with its ``loader`` (a catalog call, run on the app's database threads in a worker), or,
without a loader, asked for with a :class:`VirtualGrid.RowsNeeded` message.  A cursor move repaints two lines, so it
costs a few hundred bytes of terminal output, not a screenful.

Cells are ``rich.text.Text`` built by each column's ``render`` function from the row: user
text is never parsed as markup.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

ROW_CACHE_SIZE = 4000
PAGE = 200  # rows asked for at once around the visible window


@dataclass
class Column:
    """A grid column: ``render(row)`` gives the cell; ``width`` 0 means take what is left."""

    key: str
    title: str
    render: Callable[[dict[str, Any]], Text]
    width: int = 10
    justify: str = "left"
    min_width: int = 8


class VirtualGrid(ScrollView, can_focus=True):
    """A keyboard-driven table over ordered ids, rows fetched on demand."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="grid.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="grid.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="grid.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="grid.page_down"),
        Binding("home,g", "jump(0)", "First", show=False, id="grid.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="grid.last"),
    ]

    COMPONENT_CLASSES = {"grid--header", "grid--cursor", "grid--marked", "grid--loading",
                         "grid--cursor-unfocused"}

    DEFAULT_CSS = """
    VirtualGrid {
        height: 1fr;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 0;
    }
    VirtualGrid > .grid--header { text-style: bold; color: $text-accent; background: $boost; }
    VirtualGrid > .grid--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    VirtualGrid > .grid--cursor-unfocused { background: $block-cursor-blurred-background; }
    VirtualGrid > .grid--marked { color: $text-warning; }
    VirtualGrid > .grid--loading { color: $text-muted; }
    """

    cursor_index: reactive[int] = reactive(0, always_update=True, repaint=False)

    class RowsNeeded(Message):
        """The grid is about to show rows it does not have."""

        def __init__(self, grid: "VirtualGrid", ids: list[int]):
            super().__init__()
            self.grid = grid
            self.ids = ids

        @property
        def control(self) -> "VirtualGrid":
            """The grid (lets ``@on(..., "#selector")`` match)."""
            return self.grid

    class CursorMoved(Message):
        """The cursor is on another row (``row_id`` None when the grid is empty)."""

        def __init__(self, grid: "VirtualGrid", row_id: int | None):
            super().__init__()
            self.grid = grid
            self.row_id = row_id

        @property
        def control(self) -> "VirtualGrid":
            """The grid (lets ``@on(..., "#selector")`` match)."""
            return self.grid

    def __init__(self, columns: list[Column], *, empty_text: str = "nothing here",
                 loader: Callable[[list[int]], list[dict[str, Any]]] | None = None,
                 name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.columns = columns
        self.loader = loader  # ids -> rows (each with an "id"); called off the UI thread
        self.empty_text = empty_text
        self.ids: list[int] = []
        self._index_of: dict[int, int] = {}
        self.marked: set[int] = set()
        self._rows: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._lines: dict[int, Text] = {}
        self._pending: set[int] = set()
        self._widths: list[int] = []

    # -- data ----------------------------------------------------------------------------------

    def set_ids(self, ids: list[int], *, keep: int | None = None, clear_rows: bool = False,
                reset: bool = False) -> None:
        """Show these ids in this order; the cursor stays on ``keep`` (or the same row), or
        goes to the top with ``reset``."""
        current = None if reset else keep if keep is not None else self.cursor_id
        if reset:
            self.cursor_index = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        self.ids = list(ids)
        self._index_of = {row_id: index for index, row_id in enumerate(self.ids)}
        self.marked &= set(self._index_of)
        if clear_rows:
            self._rows.clear()
            self._lines.clear()
            self._pending.clear()
        self.virtual_size = Size(self._total_width(), len(self.ids) + 1)
        index = self._index_of.get(current, min(self.cursor_index, max(0, len(self.ids) - 1)))
        self.cursor_index = index if self.ids else 0
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.cursor_id))

    def add_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        """Rows fetched for ``RowsNeeded`` (or refreshed); repaints what is visible."""
        for row in rows:
            self._rows[row["id"]] = row
            self._rows.move_to_end(row["id"])
            self._lines.pop(row["id"], None)
            self._pending.discard(row["id"])
        while len(self._rows) > ROW_CACHE_SIZE:
            old, _ = self._rows.popitem(last=False)
            self._lines.pop(old, None)
        self.refresh()

    def forget_rows(self) -> None:
        """Drop cached rows (the catalog changed); visible ones are asked for again."""
        self._rows.clear()
        self._lines.clear()
        self._pending.clear()
        self.refresh()

    def redraw(self) -> None:
        """Draw the cached rows again (cells that depend on the time, such as ages)."""
        self._lines.clear()
        self.refresh()

    def row(self, row_id: int | None) -> dict[str, Any] | None:
        """A cached row, or None."""
        return self._rows.get(row_id) if row_id is not None else None

    @property
    def cursor_id(self) -> int | None:
        """The id under the cursor."""
        if 0 <= self.cursor_index < len(self.ids):
            return self.ids[self.cursor_index]
        return None

    def set_columns(self, columns: list[Column]) -> None:
        """Replace the columns (e.g. another model's key metrics)."""
        self.columns = columns
        self._lines.clear()
        # Before its first layout the grid has no width yet: widths computed now would be the
        # minimums, drawn in the first frame and redrawn at once; the first draw computes them.
        if self.size.width:
            self._compute_widths()
        else:
            self._widths = []
        self.refresh()

    def toggle_mark(self) -> int | None:
        """Mark or unmark the row under the cursor; returns its id."""
        row_id = self.cursor_id
        if row_id is None:
            return None
        self.marked ^= {row_id}
        self._refresh_index(self.cursor_index)
        return row_id

    def marked_in_order(self) -> list[int]:
        """The marked ids in the grid's order."""
        return [i for i in self.ids if i in self.marked]

    # -- cursor --------------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        """Put the cursor on row ``index`` (clamped) and scroll it into view."""
        if not self.ids:
            return
        index = max(0, min(len(self.ids) - 1, index))
        if index == self.cursor_index:
            return
        old = self.cursor_index
        self.cursor_index = index
        if not self._scroll_cursor_into_view():
            self._refresh_index(old)
            self._refresh_index(index)
        self.post_message(self.CursorMoved(self, self.cursor_id))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor_index + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor_index + direction * max(1, self.size.height - 2))

    def action_jump(self, index: int) -> None:
        self.move_to(len(self.ids) - 1 if index < 0 else index)

    def on_click(self, event) -> None:  # mouse is optional, never required
        index = int(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.ids):
            self.move_to(index)

    def _scroll_cursor_into_view(self) -> bool:
        """Scroll so the cursor row is visible; True when it scrolled (a full repaint).

        When the cursor leaves the window it lands in the middle of the new one (a half-page
        jump, as terminal pagers do over slow links): stepping through rows then repaints the
        whole table once per half page instead of on every step, which keeps the bytes sent
        per cursor move small over SSH.
        """
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if top <= self.cursor_index < top + visible:
            return False
        highest = max(0, len(self.ids) - visible)
        target = max(0, min(highest, self.cursor_index - visible // 2))
        if target != top:
            self.scroll_to(y=target, animate=False, immediate=True)
            return True
        return False

    def _refresh_index(self, index: int) -> None:
        """Repaint the line of row ``index`` if it is on screen."""
        y = index - int(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            # ScrollView.refresh_line takes the *virtual* line (it subtracts the scroll
            # offset itself): row ``index`` is virtual line index + 1, below the header.
            self.refresh_line(index + 1)

    # -- drawing -------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._compute_widths()
        self._lines.clear()
        self.virtual_size = Size(self._total_width(), len(self.ids) + 1)
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self._refresh_index(self.cursor_index)

    def on_blur(self) -> None:
        self._refresh_index(self.cursor_index)

    def _compute_widths(self) -> None:
        available = max(10, self.size.width - 1)
        fixed = sum(c.width + 1 for c in self.columns if c.width)
        flexible = [c for c in self.columns if not c.width]
        leftover = max(0, available - fixed)
        widths = []
        for column in self.columns:
            if column.width:
                widths.append(column.width)
            else:
                widths.append(max(column.min_width, leftover // max(1, len(flexible)) - 1))
        self._widths = widths

    def _total_width(self) -> int:
        return max(self.size.width, sum(w + 1 for w in self._widths) or self.size.width)

    def _cell(self, text: Text, width: int, justify: str) -> Text:
        cell = text.copy()
        cell.no_wrap = True
        cell.truncate(width, overflow="ellipsis")
        cell.align(justify, width)  # type: ignore[arg-type]
        return cell

    def _header_text(self) -> Text:
        line = Text(" ")
        for column, width in zip(self.columns, self._widths):
            line.append_text(self._cell(Text(column.title), width, column.justify))
            line.append(" ")
        return line

    def _row_text(self, row_id: int) -> Text | None:
        cached = self._lines.get(row_id)
        if cached is not None:
            return cached
        row = self._rows.get(row_id)
        if row is None:
            return None
        line = Text(" ")
        for column, width in zip(self.columns, self._widths):
            try:
                cell = column.render(row)
            except Exception:  # noqa: BLE001 - one odd row must not break drawing
                cell = Text("?")
            line.append_text(self._cell(cell, width, column.justify))
            line.append(" ")
        self._lines[row_id] = line
        return line

    def render_line(self, y: int) -> Strip:
        if not self._widths:
            self._compute_widths()
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            style = self.get_component_rich_style("grid--header")
            return self._strip(self._header_text(), style, scroll_x, width)
        index = int(scroll_y) + y - 1
        if not self.ids:
            if y == 1:
                muted = self.get_component_rich_style("grid--loading")
                return self._strip(Text(f" {self.empty_text}"), muted, 0, width)
            return Strip.blank(width, self.rich_style)
        if index >= len(self.ids):
            return Strip.blank(width, self.rich_style)
        row_id = self.ids[index]
        text = self._row_text(row_id)
        if text is None:
            self._request_around(index)
            loading = self.get_component_rich_style("grid--loading")
            return self._strip(Text(" …"), loading, 0, width)
        style = self.rich_style
        if row_id in self.marked:
            style = style + self.get_component_rich_style("grid--marked")
            text = Text("●") + text[1:]
        if index == self.cursor_index:
            style = style + self.get_component_rich_style(
                "grid--cursor" if self.has_focus else "grid--cursor-unfocused")
        return self._strip(text, style, scroll_x, width)

    def _strip(self, text: Text, style: Style, scroll_x: int, width: int) -> Strip:
        """One line: the text's segments under ``style``, cropped/padded to the width."""
        strip = Strip(list(text.render(self.app.console))).apply_style(style).simplify()
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _request_around(self, index: int) -> None:
        start = max(0, index - PAGE // 4)
        wanted = [i for i in self.ids[start:start + PAGE]
                  if i not in self._rows and i not in self._pending]
        if wanted:
            self._pending.update(wanted)
            if self.loader is not None:
                self.run_worker(self._load(wanted), group="grid-rows", exit_on_error=False)
            else:
                self.post_message(self.RowsNeeded(self, wanted))

    async def _load(self, ids: list[int]) -> None:
        """Fetch rows with the loader on a database thread; a failure is one notice."""
        try:
            rows = await self.app.run_db(self.loader, ids)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - shown as one line, never a traceback
            self._pending.difference_update(ids)
            message = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
            self.app.notify(message, severity="error", markup=False)
            return
        self.add_rows(rows)
