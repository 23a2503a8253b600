"""A ``DataTable`` whose one-line ``Text`` cells are drawn without Rich's layout machinery.

``DataTable`` draws each cell through ``Styled(Padding(cell))`` and ``Console.render_lines``:
wrapping, justifying, splitting and cropping lines, five generators deep: 15–19 ms of CPU for
the 216 cells of an 8-version comparison on the shared benchmark machine (the direct path:
8–9 ms), in the frame that shows it.  A cell that is one line of ``Text`` narrower than its column (every cell of
Compare) comes out of that as: the padding, the text's own segments, spaces to the column's
width, the padding — each with the cell's base style before and the cursor's style after.
:class:`GridTable` builds exactly those segments directly and leaves every other cell (header,
several lines, too wide, tabs, justified) to ``DataTable``; ``tests/tui/test_gridtable.py``
checks both ways give the same characters and styles for every cell of a comparison.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

NULL_STYLE = Style()
NEWLINE = Text("\n")


class GridTable(DataTable):
    """``DataTable`` with a direct path for one-line ``Text`` cells that fit their column."""

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        """The cell's lines, as ``DataTable._render_cell`` gives them (same cache, same key)."""
        if row_index < 0 or column_index < 0:  # header and row labels: DataTable's way
            return super()._render_cell(row_index, column_index, base_style, width, cursor,
                                        hover)
        row_key = self._row_locations.get_key(row_index)
        cache_key = (row_key, self._column_locations.get_key(column_index), base_style, cursor,
                     hover, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state)
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cell = self._get_row_renderables(row_index).cells[column_index]
        inner = width - 2 * self.cell_padding
        if not self._plain_line(cell, row_key, inner):
            return super()._render_cell(row_index, column_index, base_style, width, cursor,
                                        hover)
        assert isinstance(cell, Text)
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, column_index < self.fixed_columns, hover, cursor, self.show_cursor,
            self._show_hover_cursor, self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css")
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) \
            + component_style
        padding = Segment(" " * self.cell_padding, NULL_STYLE) if self.cell_padding else None
        # Joined as Rich joins a cell's lines: the text's own style becomes its first span
        # (``Text.render`` alone leaves out the base style of a text without spans).
        joined = NEWLINE.join([cell])
        segments = [segment for segment in joined.render(self.app.console) if segment.text]
        fill = inner - cell.cell_len
        line = ([padding] if padding else []) + segments \
            + ([Segment(" " * fill, NULL_STYLE)] if fill else []) + ([padding] if padding else [])
        lines = [list(Segment.apply_style(line, pre_style, post_style))]
        self._cell_render_cache[cache_key] = lines
        return lines

    def _plain_line(self, cell: object, row_key: object, inner: int) -> bool:
        """Whether ``cell`` takes the direct path: one line of ``Text``, no tabs, not justified,
        no wider than ``inner``, in a one-line row.  (``App.console_options``, which DataTable
        renders with, never sets a justify: a fresh object per call, so it is not asked.)"""
        if not isinstance(cell, Text) or inner <= 0:
            return False
        row = self.rows.get(row_key)  # type: ignore[call-overload]
        if row is None or row.height != 1:
            return False
        plain = cell.plain
        return ("\n" not in plain and "\t" not in plain and cell.justify in (None, "default")
                and cell.cell_len <= inner)
