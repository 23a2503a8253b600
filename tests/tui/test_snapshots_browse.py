"""SVG snapshots of browse and its dialogs, at 80×24 and 120×40, seeded data, frozen clock.

Regenerate with ``pytest tests/tui --snapshot-update`` and look at the SVGs before committing.
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app, settle

SIZES = [(80, 24), (120, 40)]
# The screens a user acts on are also taken at 60×20 (a split pane over SSH).
SMALL = [(80, 24), (120, 40), (60, 20)]


def keys(*presses: str):
    """A run_before that waits for the data, presses keys and waits again."""
    async def run(pilot) -> None:
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
            await settle(pilot)
        await pilot.pause(0.3)  # the detail pane follows the cursor after a short pause
        await settle(pilot)
    return run


@pytest.mark.parametrize("size", SMALL, ids=["80x24", "120x40", "60x20"])
def test_browse(snap_compare, tui_catalog, size) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_browse_all_versions_marked(snap_compare, tui_catalog, size) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("tab", "home", "tab", "space", "space"))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_browse_filter_error(snap_compare, tui_catalog, size) -> None:
    async def run(pilot) -> None:  # typed at speed: no half-typed filter is applied on the way
        await keys("slash")(pilot)
        await pilot.press(*"metrics.f1 >> 1", "enter")
        await settle(pilot)

    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_detail_screen(snap_compare, tui_catalog, size) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("down", "enter"))


@pytest.mark.parametrize("size", SMALL, ids=["80x24", "120x40", "60x20"])
def test_promote_dialog_passing(snap_compare, tui_catalog, size) -> None:
    tui_catalog.add_gate("fraud", "metrics.f1 >= 0.8", stage="staging")
    tui_catalog.add_gate("fraud", "metrics.latency_ms <= 20", stage="staging")

    async def run(pilot) -> None:
        await keys("down", "down", "p")(pilot)
        pilot.app.screen.query_one("#stage").value = "staging"  # fraud@2 → staging passes
        await settle(pilot)

    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SMALL, ids=["80x24", "120x40", "60x20"])
def test_promote_dialog_blocked(snap_compare, tui_catalog, size) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("end", "p"))


@pytest.mark.parametrize("size", SMALL, ids=["80x24", "120x40", "60x20"])
def test_rollback_dialog(snap_compare, tui_catalog, size) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("r"))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_help(snap_compare, tui_catalog, size) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("question_mark"))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_sort_picker(snap_compare, tui_catalog, size) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("s"))
