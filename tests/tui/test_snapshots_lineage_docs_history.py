"""SVG snapshots of lineage, docs (editor, conflict, revisions) and history at 80×24 and 120×40.

The catalog is seeded with a frozen clock and every worker is awaited (``settle``) before the
screenshot, so the pictures only change when the screens do.
"""

from __future__ import annotations

import pytest

from mltui.core.catalog import open_catalog
from tests.tui.conftest import make_app, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40"),
         pytest.param((60, 20), id="60x20")]


def keys(*pressed: str):
    """A ``run_before`` that settles, presses the keys one at a time, and settles again."""
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_lineage_verified(snap_compare, tui_catalog, size) -> None:
    """fraud@4's lineage after ``v``: data ✓, artifacts without a hash –."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("l", "v"))


@pytest.mark.parametrize("size", SIZES)
def test_docs_editor(snap_compare, tui_catalog, size) -> None:
    """fraud@3's documentation at rev 2 (the preview is shown from 100 columns)."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("down", "e"))


@pytest.mark.parametrize("size", SIZES)
def test_docs_conflict(snap_compare, tui_catalog, tui_catalog_path, size) -> None:
    """A save refused because revision 3 was saved meanwhile: both texts and the diff."""
    async def run_before(pilot) -> None:
        await keys("down", "e")(pilot)
        await pilot.press(*"Mine. ")
        with open_catalog(tui_catalog_path, actor="bea") as other:
            other.set_doc("fraud@3", "# fraud v3\n\n## Rationale\nMore data from Q2 and Q3.\n",
                          base_rev=2)
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_doc_revisions_diff(snap_compare, tui_catalog, size) -> None:
    """The revision list with rev 1 and rev 2 marked and their diff."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("down", "e", "ctrl+r", "space", "down", "space"))


@pytest.mark.parametrize("size", SIZES)
def test_history(snap_compare, tui_catalog, size) -> None:
    """fraud's stage history with the second entry's gate results."""
    tui_catalog.rollback("fraud", reason="latency [alerts] [/]")
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("h", "down", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_event_log(snap_compare, tui_catalog, size) -> None:
    """The event log (``E``)."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("h", "E"))
