"""Browse's column chooser (C): metric columns per model, kept in .mltui/config.yaml."""

from __future__ import annotations

from mltui.core.config import load_config
from mltui.tui.screens.pickers import ColumnPicker
from tests.tui.conftest import make_app, screen_text, settle

HOOKS = "# project hooks\nhooks:\n  timeout: 30   # seconds\n"


def header(app) -> str:
    """The versions table's header line."""
    return screen_text(app).splitlines()[1]


async def test_C_picks_the_metric_columns_saved_per_model_and_applied_on_next_open(
        tui_catalog, tui_catalog_path) -> None:
    config = tui_catalog_path.parent / "config.yaml"
    config.write_text(HOOKS)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "latency_ms" in header(app)  # the default key metrics: f1, loss, latency_ms
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, ColumnPicker)
        # The current columns come first, checked: f1, latency_ms, loss; uncheck latency_ms.
        await pilot.press("down", "space", "enter")
        await settle(pilot)
        assert "latency_ms" not in header(app) and "f1" in header(app)
    # Saved per model; the hooks section and its comments are kept as they were.
    text = config.read_text()
    assert text.startswith(HOOKS)
    assert load_config(tui_catalog_path).columns == {"fraud": ("f1", "loss")}
    assert load_config(tui_catalog_path).stage_hooks == {}  # hooks: still valid
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "latency_ms" not in header(app) and "loss" in header(app)


async def test_escape_keeps_the_columns_and_writes_nothing(tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, ColumnPicker)
        await pilot.press("space", "escape")
        await settle(pilot)
        assert "latency_ms" in header(app)
    assert not (tui_catalog_path.parent / "config.yaml").exists()


async def test_a_bad_config_file_is_said_once_and_never_rewritten(tui_catalog,
                                                                   tui_catalog_path) -> None:
    config = tui_catalog_path.parent / "config.yaml"
    config.write_text("columns:\n  fraud:\n    metrics: f1\n")
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "latency_ms" in header(app)  # the table still opens, with its key metrics
        messages = [n.message for n in app._notifications]
        assert any("columns.fraud.metrics: must be a list" in m for m in messages)
        await pilot.press("C")
        await settle(pilot)
        await pilot.press("down", "space", "enter")
        await settle(pilot)
    assert config.read_text() == "columns:\n  fraud:\n    metrics: f1\n"


async def test_a_config_broken_outside_columns_is_said_once_after_the_first_rows(
        tui_catalog, tui_catalog_path) -> None:
    # No columns: the start does not parse the file (core.config.load_config's sections);
    # it is validated once the first rows show, and said in one notice.
    (tui_catalog_path.parent / "config.yaml").write_text("hooks:\n  timeout: -1\n")
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "latency_ms" in header(app)

        def said() -> list[str]:
            return [n.message for n in app._notifications if "hooks.timeout" in n.message]

        for _ in range(200):  # the check runs on a thread after the warm-up's delay
            if said():
                break
            await pilot.pause(0.05)
        assert said() == ["config.yaml: hooks.timeout: must be a positive number of seconds; "
                          f"fix {tui_catalog_path.parent / 'config.yaml'}"]
