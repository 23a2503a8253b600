"""The Production screen (``P`` from Browse): the metric over time with stage changes, eval vs
production, active alerts, the alert badge in Browse, and ``r`` rolling back from an alert."""

from __future__ import annotations

import json

import pytest

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.production import ProductionScreen
from mltui.tui.screens.promote import RollbackDialog
from mltui.tui.widgets.prodchart import eval_vs_production, fill_gaps, production_chart
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import make_app, screen_text, settle


def seed_production(cat) -> None:
    """fraud in production over the last 14 days: fraud@3 (f1 0.86), rolled back to fraud@2
    (0.83) 10 days ago, fraud@3 again 4 days ago and drifting to 0.70; a monitor fires on it.
    Observations every 2 hours, with latency too."""
    frozen = cat.clock
    day = 86_400.0
    cat.clock = lambda: FROZEN_NOW - 10 * day
    cat.rollback("fraud", reason="suspected leak")
    cat.clock = lambda: FROZEN_NOW - 4 * day
    cat.promote("fraud@3", reason="leak ruled out")
    cat.clock = frozen
    lines = []
    ts = FROZEN_NOW - 14 * day
    while ts < FROZEN_NOW:
        age = (FROZEN_NOW - ts) / day
        f1 = 0.83 if 4 < age <= 10 else 0.86 if age > 10 else 0.70 + 0.04 * (age / 4)
        lines.append(json.dumps({"ts": ts, "f1": round(f1, 4), "latency_ms": 14.0}))
        ts += 2 * 3600
    cat.observe("fraud", "production", lines, fmt="jsonl")
    cat.add_monitor("fraud", "mean(metrics.f1, 1d) >= 0.80")
    cat.check_monitors("fraud", at=FROZEN_NOW)


async def open_production(pilot) -> ProductionScreen:
    await settle(pilot)
    await pilot.press("P")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ProductionScreen)
    return screen


async def test_P_shows_the_metric_with_stage_changes_eval_and_alerts(tui_catalog) -> None:
    seed_production(tui_catalog)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_production(pilot)
        assert screen.model == "fraud" and screen.metric == "f1"
        text = screen_text(app)
        assert "production of fraud" in text and "1 monitor" in text
        assert "▲" in text  # the stage changes are marked on the time axis
        assert "v2" in text and "v3" in text  # which version served when
        assert "fraud@2" in text and "fraud@3" in text and "0.83" in text and "0.7" in text
        assert "mean(metrics.f1, 1d) >= 0.80" in text  # the active alert
        await pilot.press("m")
        await settle(pilot)
        assert screen.metric == "latency_ms"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_browse_badges_a_model_with_an_active_alert(tui_catalog) -> None:
    seed_production(tui_catalog)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = [line for line in screen_text(app).splitlines() if "fraud" in line]
        assert any("⚠1" in line for line in lines)
        assert not any("⚠" in line for line in screen_text(app).splitlines() if "vision" in line)


async def test_r_on_an_alert_rolls_back_with_the_alert_as_reason(tui_catalog) -> None:
    seed_production(tui_catalog)
    alert = tui_catalog.alerts("fraud", active=True)[0]
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_production(pilot)
        await pilot.press("r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RollbackDialog)
        reason = dialog.query_one("#rb-reason").value
        assert reason.startswith(f"alert {alert['id']}: mean(metrics.f1, 1d) >= 0.80")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProductionScreen)
    last = tui_catalog.history(model="fraud", stage="production")[0]
    assert last["action"] == "rollback" and last["reason"] == reason
    fraud = next(m for m in tui_catalog.models() if m["name"] == "fraud")
    assert fraud["stages"]["production"] == 2  # back to the version that served before


def test_the_chart_colours_each_version_and_marks_every_change() -> None:
    series = {"metric": "f1", "stage": "production",
              "points": [{"t": t, "mean": 0.8 if t < 50 else 0.6, "count": 2,
                          "version": "m@1" if t < 50 else "m@2"} for t in range(0, 100, 5)],
              "changes": [{"at": 0, "action": "promote"}, {"at": 50, "action": "promote"},
                          {"at": 80, "action": "rollback"}],
              "eval": {"m@1": 0.8, "m@2": 0.9}}
    chart = production_chart(series, 48, 6)
    lines = chart.plain.splitlines()
    assert len(lines) == 8  # six rows of bars, the change marks, the version names
    assert lines[6].count("▲") == 3
    assert "v1" in lines[7] and "v2" in lines[7]
    rows = eval_vs_production(series)
    assert [(r["ref"], r["count"], round(r["delta"], 3)) for r in rows] == \
        [("m@1", 20, 0.0), ("m@2", 20, -0.3)]


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40"),
         pytest.param((60, 20), id="60x20")]


@pytest.mark.parametrize("size", SIZES)
def test_production_snapshot(snap_compare, tui_catalog, size) -> None:
    """fraud's production f1: v3, rolled back to v2, v3 again and drifting; one alert."""
    seed_production(tui_catalog)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)

    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=run_before)


def test_holes_narrower_than_a_bucket_are_filled_but_not_between_versions() -> None:
    a, b = (0.5, "m@1"), (0.6, "m@2")
    assert fill_gaps([a, None, a, None, None, None, a]) == [a, a, a, None, None, None, a]
    assert fill_gaps([a, None, b]) == [a, None, b]
