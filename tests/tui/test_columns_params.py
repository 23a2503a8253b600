"""Params in the column chooser (C): listed as ``params.<key>``, saved in the same columns block,
shown in the versions table (read for the rows on screen only) and sortable (80×24)."""

from __future__ import annotations

from mltui.core.config import load_config
from mltui.tui.screens.pickers import ColumnPicker, SortPicker
from tests.tui.conftest import make_app, screen_text, settle
from tests.tui.test_columns import header


async def press(pilot, *keys: str) -> None:
    """Press ``keys`` and let the app settle."""
    await pilot.press(*keys)
    await settle(pilot)


def row_of(app, version: str) -> str:
    """The versions table's line of ``version`` (``v3``)."""
    return next(line for line in screen_text(app).splitlines() if f" {version} " in line)


async def test_C_lists_params_and_shows_the_chosen_ones_as_columns(tui_catalog,
                                                                   tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "C")
        picker = app.screen
        assert isinstance(picker, ColumnPicker)
        text = screen_text(app)
        assert "params.lr" in text and "params.optimizer" in text
        # f1, latency_ms, loss, then params: epochs, lr, optimizer, width.  Room for one
        # param at 80 columns: drop latency_ms, take optimizer.
        await press(pilot, "down", "space", "down", "down", "down", "down", "space", "enter")
        assert "optimizer" in header(app) and "latency_ms" not in header(app)
        assert "sgd" in row_of(app, "v4") and "adam" in row_of(app, "v2")
    config = load_config(tui_catalog_path)
    assert config.columns == {"fraud": ("f1", "loss")}
    assert config.param_columns == {"fraud": ("optimizer",)}
    assert "params:\n    - optimizer" in (tui_catalog_path.parent / "config.yaml").read_text()
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:  # applied on the next open
        await settle(pilot)
        assert "optimizer" in header(app) and "sgd" in row_of(app, "v4")
        await press(pilot, "s")
        assert isinstance(app.screen, SortPicker)
        labels = [label for _, label in app.screen.choices]
        assert "params.optimizer ↑" in labels
        await press(pilot, "end", "enter")  # params.optimizer ↓: sgd first
        lines = screen_text(app).splitlines()
        order = [lines.index(row_of(app, f"v{n}")) for n in (1, 2, 3, 4)]
        assert max(order[2:]) < min(order[:2])  # v3, v4 (sgd) above v1, v2 (adam)


async def test_param_values_are_read_for_the_rows_asked_only(tui_catalog) -> None:
    ids = tui_catalog.version_ids(model="fraud")
    rows = tui_catalog.versions(ids[:2], metric_keys=["f1"], param_keys=["lr", "nosuch"])
    assert [row["params"] for row in rows] == [{"lr": "0.02"}, {"lr": "0.02"}]
    assert "params" not in tui_catalog.versions(ids[:1])[0]  # nothing read unless asked
    assert tui_catalog.param_keys(model="fraud") == ["epochs", "lr", "optimizer", "width"]
