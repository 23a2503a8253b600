"""The versions table at 80×24: every stage shown whole, metric headers whole, ages that tick,
and the trend and key metrics on screen without scrolling."""

from __future__ import annotations

from mltui.core.catalog import open_catalog
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import make_app, screen_text, settle


def table_lines(app) -> list[str]:
    """The screen's lines of the versions table (right of the model list)."""
    return [line[20:] for line in screen_text(app).splitlines()]


async def test_every_stage_of_a_version_is_shown_uncut(tui_catalog) -> None:
    tui_catalog.promote("fraud@3", "champion", reason="best f1")
    tui_catalog.promote("fraud@3", "canary-eu", reason="rollout")
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = next(line for line in table_lines(app) if line.startswith(" v3 "))
        assert "prod+canary-eu+champion" in row
        assert "…" not in row.split("prod")[1]


async def test_metric_headers_are_not_cut_when_the_name_column_can_give_room(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = table_lines(app)[1]
        assert "latency_ms" in header and "latency…" not in header


async def test_trend_and_key_metrics_are_visible_at_80x24(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)  # the detail pane follows the cursor after a short rest
        await settle(pilot)
        text = screen_text(app)
        assert "trend f1" in text
        assert "latency_ms" in text.split("trend f1")[1]  # the metric table under it
        assert "loss" in text.split("trend f1")[1]


async def test_ages_tick_while_the_app_is_open(tui_catalog_path) -> None:
    clock = [FROZEN_NOW]
    cat = open_catalog(tui_catalog_path, clock=lambda: clock[0], actor="ana")
    run = cat.log_run("late", uid="99" * 16, project="payments", metrics={"f1": 0.9})
    cat.register("fraud", run=run)  # fraud@5, registered "now"
    app = make_app(cat)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = next(line for line in table_lines(app) if line.startswith(" v5 "))
        assert " 0s " in row
        clock[0] += 60
        app.screen.tick_ages()  # what the screen's timer does every AGE_TICK seconds
        await settle(pilot)
        row = next(line for line in table_lines(app) if line.startswith(" v5 "))
        assert " 1m " in row
    cat.close()


async def test_first_promotion_reads_dash_to_version_in_the_detail(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # fraud@2: its first promotion had no holder
        await settle(pilot)
        text = screen_text(app)
        assert "— → v2" in text and "v— → v2" not in text
