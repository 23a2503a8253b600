"""Runs, driven by the real keys from browse: list, filter, detail, register; catalog asserted."""

from __future__ import annotations

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.runs import RegisterDialog, RunDetailScreen, RunsScreen
from tests.tui.conftest import make_app, screen_text, settle

SWEEP_UID = "ee" * 16


async def open_runs(pilot) -> RunsScreen:
    await settle(pilot)
    await pilot.press("R")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RunsScreen)
    return pilot.app.screen


def names(cat, ids) -> set[str]:
    return {row["name"] for row in cat.runs(ids)}


async def test_R_lists_every_run_registered_or_not(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(pilot)
        assert len(screen.grid.ids) == 7
        assert screen.grid.cursor_id == tui_catalog.resolve_run(SWEEP_UID)  # newest first
        text = screen_text(app)
        assert "runs  7" in text
        assert "unregistered-sweep" in text and "eeeeeeeeeeee" in text
        assert "more-data" in text and "fraud@3" in text and "vision@1" in text
        assert "0.8737" in text                      # f1, one of the 3 most common metrics
        assert "[/]" in text                         # the hostile run name, literally
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_slash_filters_in_the_run_scope(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("slash", *"metrics.f1 > 0.82", "enter")
        await settle(pilot)
        assert names(tui_catalog, screen.grid.ids) == {"wider", "more-data", "unregistered-sweep"}
        assert "filter: metrics.f1 > 0.82" in screen_text(app)
        await pilot.press("slash", *["backspace"] * 20, "enter")  # an empty filter shows all
        await settle(pilot)
        assert len(screen.grid.ids) == 7


async def test_bad_filter_points_at_the_column(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("slash", *"model = 'fraud'", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "^ attributes.model applies to versions, not runs" in text
        assert len(screen.grid.ids) == 7
        await pilot.press("escape")  # closes the prompt, not the screen
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen) and screen.grid.has_focus


async def test_n_registers_the_selected_run_into_an_existing_model(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, RegisterDialog)
        assert "existing models: fraud, vision" in screen_text(app)
        await pilot.press(*"fra")
        await settle(pilot)
        assert "creates the new model fra  (→ accepts the suggestion)" in screen_text(app)
        await pilot.press("right")  # accept the suggestion
        await settle(pilot)
        assert "adds the next version of fraud" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        version = tui_catalog.version_detail("fraud@5")
        assert version["run_uid"] == SWEEP_UID
        assert any(n.message == "registered fraud@5" for n in app._notifications)
        assert "fraud@5" in screen_text(app)  # the versions column refreshed
        assert app.screen.grid.cursor_id == tui_catalog.resolve_run(SWEEP_UID)  # cursor kept
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert len(app.screen.grid.ids) == 5  # browse followed


async def test_bad_name_stays_in_the_dialog_then_a_new_name_creates_the_model(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runs(pilot)
        models_before = [m["name"] for m in tui_catalog.models()]
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"bad name!", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RegisterDialog)
        assert "bad model name 'bad name!'" in screen_text(app)
        assert [m["name"] for m in tui_catalog.models()] == models_before
        await pilot.press(*["backspace"] * 9, *"sweeps", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert tui_catalog.version_detail("sweeps@1")["run_uid"] == SWEEP_UID


async def test_escape_cancels_the_register_dialog(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runs(pilot)
        versions = len(tui_catalog.version_ids())
        await pilot.press("n", *"fraud", "escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert len(tui_catalog.version_ids()) == versions


async def test_enter_shows_the_run_detail_literally_and_n_registers_from_it(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot)
        await pilot.press("down", "down", "enter")  # run "[/]" (vision@1)
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        text = screen_text(app)
        assert "[/]  run:01cdcdcd" in text
        assert "␛[31mred␛[0m" in text and "[i]not italic[/i]" in text
        assert "label=[bold red]x" in text
        assert "vision@1" in text and "mAP50" in text
        await pilot.press("n", *"vision", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert "vision@1, vision@3" in screen_text(app)  # the detail followed
        assert tui_catalog.version_detail("vision@3")["run_uid"] == "01" + "cd" * 15
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)


async def test_register_is_greyed_without_runs(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("slash", *"attributes.run_name = 'nope'", "enter")
        await settle(pilot)
        assert screen.grid.ids == [] and "no runs" in screen_text(app)
        assert screen.check_action("register", ()) is None
        assert screen.check_action("detail", ()) is None
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
