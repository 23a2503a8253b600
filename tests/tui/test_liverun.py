"""The live run view: the curve follows the log, production's curve and verdict beside it,
the gates on today's values; it redraws only when the data changed."""

from __future__ import annotations

from mltui.services.liverun import live_run_view
from mltui.tui.screens.liverun import LiveRunScreen
from tests.tui.conftest import make_app, screen_text, settle
from tests.tui.live_helpers import press_and_read, write_live_run


async def test_enter_on_a_live_run_opens_the_live_view_against_production(tui_catalog) -> None:
    write_live_run(tui_catalog, steps=40)
    app = make_app(tui_catalog, start="fraud")
    async with app.run_test(size=(80, 24)) as pilot:
        text = "\n".join(await press_and_read(pilot, "R", "enter"))
        assert isinstance(app.screen, LiveRunScreen)
        assert "▶ LIVE" in text and "40/100 0.5/s eta 2m" in text
        assert "curve f1 over steps" in text and "fraud@3 (production)" in text
        assert "f1 0.8781 at step 40; production (fraud@3) reached 0.8737 by step 40 (ahead)" \
            in text
        assert "would pass today (2 of 2)" in text
        text = "\n".join(await press_and_read(pilot, "m"))
        assert "curve loss over steps" in text and "lower is better" in text


async def test_the_view_follows_the_log_and_redraws_only_on_change(tui_catalog) -> None:
    run_id = write_live_run(tui_catalog, steps=20)
    app = make_app(tui_catalog, start="fraud")
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(LiveRunScreen(run_id, "fraud"))
        await settle(pilot)
        screen = app.screen
        assert "last 0.8063 at step 20" in screen_text(app) and screen.redraws == 1
        await screen.reload()  # the catalog changed elsewhere, this run did not
        await settle(pilot)
        assert screen.redraws == 1
        write_live_run(tui_catalog, steps=30)  # the log grew
        await screen.reload()
        await settle(pilot)
        assert screen.redraws == 2
        assert "last 0.8547 at step 30" in screen_text(app)


async def test_failing_gates_show_actual_and_required(tui_catalog) -> None:
    tui_catalog.add_gate("fraud", "metrics.f1 >= 0.95")
    run_id = write_live_run(tui_catalog, steps=40)
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(LiveRunScreen(run_id, "fraud"))
        await settle(pilot)
        text = screen_text(app)
        assert "✗ would fail today: 1 of 3" in text
        assert "metrics.f1 >= 0.95  actual 0.8781, required >= 0.95" in text


def test_without_a_model_there_is_no_production_to_compare_with(tui_catalog) -> None:
    run_id = write_live_run(tui_catalog, steps=5)
    view = live_run_view(tui_catalog, run_id)
    assert view["production"] is None and view["gates"] is None
    assert "no model to compare with" in view["verdict"]
    registered = live_run_view(tui_catalog, tui_catalog.run_ids(
        filter="attributes.name = 'wider'")[0])
    assert registered["model"] == "fraud" and registered["production"] == "fraud@3"


def test_check_run_is_the_promotion_gate_evaluation_on_a_runs_values(tui_catalog) -> None:
    run_id = write_live_run(tui_catalog, steps=2)  # f1 0.5 + a little: below 0.8
    result = tui_catalog.check_run("fraud", run_id)
    assert not result["passed"]
    assert [r["passed"] for r in result["results"]] == [False, False]


def test_the_model_to_compare_with_is_the_apps_then_the_watchs(tui_catalog) -> None:
    class Watch:
        model = "vision"

    app = make_app(tui_catalog, start="fraud")
    app.follow = Watch()
    assert app.comparison_model() == "fraud"
    app = make_app(tui_catalog, start="*")
    app.follow = Watch()
    assert app.comparison_model() == "vision"
    assert make_app(tui_catalog).comparison_model() is None
