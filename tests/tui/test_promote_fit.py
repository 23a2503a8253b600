"""The promote dialog at small terminals: the verdict is always on screen, Tab never cancels."""

from __future__ import annotations

import pytest

from mltui.tui.screens.promote import PromoteDialog
from tests.tui.conftest import make_app, screen_text, settle


def add_many_metric_version(cat) -> None:
    """fraud@5: twelve metrics (a long diff) and an f1 that fails both production gates."""
    metrics = {f"m{i:02d}_metric": 0.5 + i / 100 for i in range(12)}
    metrics["f1"] = 0.5
    run = cat.log_run("many", uid="ff" * 16, project="payments", metrics=metrics)
    cat.register("fraud", run=run)


async def open_dialog(pilot, *keys: str) -> None:
    """Wait for browse, press ``keys`` (ending in ``p``) and wait for the dialog's verdict."""
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)
    assert isinstance(pilot.app.screen, PromoteDialog)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_failing_gate_refusal_and_buttons_visible_without_scrolling(tui_catalog, size) -> None:
    add_many_metric_version(tui_catalog)
    app = make_app(tui_catalog)
    async with app.run_test(size=size) as pilot:
        await open_dialog(pilot, "p")  # the cursor starts on the newest version, fraud@5
        await pilot.press(*"try it", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "metrics.f1 >= 0.8" in text and "0.5 is not >= 0.8" in text
        assert "metrics.f1 >= production - 0.02" in text
        assert "refused: a gate fails" in text and "ctrl+f" in text
        assert "reason try it" in text
        assert "Promote" in text and "Cancel" in text
        assert tui_catalog.ref_of(tui_catalog.stage_holder("fraud", "production")) == "fraud@3"


async def test_passing_gates_collapse_to_a_count_after_the_failing_ones(tui_catalog) -> None:
    tui_catalog.add_gate("fraud", "metrics.m00_metric <= 1")
    tui_catalog.add_gate("fraud", "metrics.m01_metric <= 1")
    add_many_metric_version(tui_catalog)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, "p")
        text = screen_text(app)
        assert "✓ 2 gates pass" in text
        assert "metrics.m01_metric <= 1" not in text  # passing rules are counted, not listed
        assert text.index("metrics.f1 >= 0.8") < text.index("✓ 2 gates pass")


async def test_force_key_promotes_past_a_failing_gate_with_a_reason(tui_catalog) -> None:
    add_many_metric_version(tui_catalog)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, "p")
        await pilot.press(*"hotfix", "ctrl+f", "enter")
        await settle(pilot)
        assert tui_catalog.ref_of(tui_catalog.stage_holder("fraud", "production")) == "fraud@5"


async def test_tab_then_enter_promotes_instead_of_silently_cancelling(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, "down", "p")  # fraud@3 → staging: no gates guard staging
        app.screen.query_one("#stage").value = "staging"
        await settle(pilot)
        await pilot.press(*"ship", "tab")
        await settle(pilot)
        focused = app.focused
        assert focused is not None and focused.id == "confirm"
        assert focused.region.intersection(app.screen.region) == focused.region  # on screen
        await pilot.press("enter")
        await settle(pilot)
        assert tui_catalog.ref_of(tui_catalog.stage_holder("fraud", "staging")) == "fraud@3"


@pytest.mark.parametrize("how", ["escape", "button"])
async def test_cancel_says_nothing_changed(tui_catalog, how) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot, "p")
        if how == "escape":
            await pilot.press("escape")
        else:
            await pilot.click("#cancel")
        await settle(pilot)
        assert not isinstance(app.screen, PromoteDialog)
        messages = [n.message for n in app._notifications]
        assert "promote cancelled, nothing changed" in messages
        assert tui_catalog.ref_of(tui_catalog.stage_holder("fraud", "production")) == "fraud@3"
