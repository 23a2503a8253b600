"""GridTable draws every cell of a comparison as DataTable draws it: same characters, styles.

Compare opened on the seeded catalog (ordinary and hostile strings: control characters, wide
characters, markup, cells cut with an ellipsis), then every cell rendered both ways — the
direct path and ``DataTable._render_cell`` — with and without the cursor on its row.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.widgets import DataTable

from mltui.tui.screens.compare import CompareScreen
from mltui.tui.widgets.gridtable import GridTable
from tests.tui.conftest import make_app, settle


def chars(lines: list[list[Segment]]) -> list[list[tuple[str, object]]]:
    return [[(char, segment.style) for segment in line for char in segment.text]
            for line in lines]


async def compare_cells_both_ways(catalog, keys: tuple[str, ...]) -> int:
    app = make_app(catalog)
    checked = direct = 0
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        table = screen.table
        assert isinstance(table, GridTable)
        base = table.rich_style
        for row in range(table.row_count):
            for column, key in enumerate(table.columns):
                width = table.columns[key].get_render_width(table)
                cell = table._get_row_renderables(row).cells[column]
                direct += table._plain_line(cell, table._row_locations.get_key(row),
                                            width - 2 * table.cell_padding)
                for cursor in (False, True):
                    table._cell_render_cache.clear()
                    fast = table._render_cell(row, column, base, width, cursor)
                    table._cell_render_cache.clear()
                    slow = DataTable._render_cell(table, row, column, base, width, cursor)
                    assert chars(fast) == chars(slow), (row, column, cursor)
                    checked += 1
    assert direct * 10 >= checked * 9 // 2  # nearly every cell takes the direct path
    return checked


async def test_every_compare_cell_is_drawn_as_datatable_draws_it(tui_catalog) -> None:
    assert await compare_cells_both_ways(tui_catalog, ("space", "space", "space", "c")) > 100


async def test_hostile_strings_are_drawn_as_datatable_draws_them(tui_catalog) -> None:
    assert await compare_cells_both_ways(
        tui_catalog, ("tab", "down", "tab", "space", "space", "c")) > 50
