"""``/`` filters as you type (after a pause), ESC restores or clears the filter before leaving."""

from __future__ import annotations

import pytest

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.runs import RunsScreen
from mltui.tui.widgets import filterbar
from mltui.tui.widgets.inputs import FilterInput
from tests.tui.conftest import make_app, screen_text, settle


@pytest.fixture(autouse=True)
def _no_typing_pause(monkeypatch) -> None:
    """The pause before the list follows is a timer; a millisecond lets ``settle`` see its effect."""
    monkeypatch.setattr(filterbar, "TYPE_DELAY", 0.001)


def refs(cat, app) -> list[str]:
    return sorted(cat.ref_of(i) for i in app.screen.grid.ids)


async def test_the_list_follows_the_prompt_while_typing(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"metrics.f1 > 0.83")
        await settle(pilot)
        assert refs(tui_catalog, app) == ["fraud@2", "fraud@3"]  # no Enter pressed
        assert "filter: metrics.f1 > 0.83" in screen_text(app)
        field = app.screen.query_one(FilterInput)
        field.value = "metrics.f1 > 0.83 and"  # half-typed (set at once, like a paste)
        await settle(pilot)
        assert refs(tui_catalog, app) == ["fraud@2", "fraud@3"]  # half-typed: kept, unflagged
        assert "expected a condition" not in screen_text(app)
        await pilot.press("escape")  # closes the prompt and puts back the filter it opened with
        await settle(pilot)
        assert len(app.screen.grid.ids) == 4 and app.screen.filter_text == ""


async def test_escape_clears_an_active_filter_first(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"metrics.f1 > 0.83", "enter")
        await settle(pilot)
        assert refs(tui_catalog, app) == ["fraud@2", "fraud@3"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen) and app.screen.filter_text == ""
        assert len(app.screen.grid.ids) == 4
        await pilot.press("R", "slash", *"metrics.f1 > 0.83", "enter")
        await settle(pilot)
        runs = app.screen
        assert isinstance(runs, RunsScreen) and runs.filter_text
        shown = len(runs.grid.ids)
        await pilot.press("escape")  # clears the filter, stays
        await settle(pilot)
        assert app.screen is runs and runs.filter_text == "" and len(runs.grid.ids) > shown
        await pilot.press("escape")  # now leaves
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
