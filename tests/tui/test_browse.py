"""Browse, promote and rollback, driven by the real keys; assertions on the catalog."""

from __future__ import annotations

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.promote import PromoteDialog, RollbackDialog
from tests.tui.conftest import make_app, screen_text, settle


def holder(cat, model="fraud", stage="production"):
    vid = cat.stage_holder(model, stage)
    return cat.ref_of(vid) if vid else None


async def test_browse_shows_models_versions_and_detail(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        text = screen_text(app)
        assert "fraud" in text and "vision" in text
        assert "payments_fraud_v4_" in text and "v1" in text
        assert "fraud@4" in text  # the detail pane follows the cursor (newest first)
        assert "prod" in text and "stg" in text


async def test_cursor_moves_and_detail_follows(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        await settle(pilot)
        grid = app.screen.grid
        assert tui_catalog.ref_of(grid.cursor_id) == "fraud@2"
        assert "fraud@2" in screen_text(app)
        await pilot.press("end")
        await settle(pilot)
        assert tui_catalog.ref_of(grid.cursor_id) == "fraud@1"


async def test_filter_with_slash(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"metrics.f1 > 0.83")
        await pilot.press("enter")
        await settle(pilot)
        grid = app.screen.grid
        assert sorted(tui_catalog.ref_of(i) for i in grid.ids) == ["fraud@2", "fraud@3"]
        assert "filter: metrics.f1 > 0.83" in screen_text(app)


async def test_bad_filter_points_at_the_column_and_keeps_the_list(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = list(app.screen.grid.ids)
        await pilot.press("slash")
        await pilot.press(*"metrics.f1 >> 1")
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "^ expected a number or a quoted string" in text
        assert app.screen.grid.ids == before
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.grid.has_focus


async def test_sort_by_metric(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        # newest, oldest, version ↓, version ↑, f1 best first
        await pilot.press("down", "down", "down", "down", "enter")
        await settle(pilot)
        order = [tui_catalog.ref_of(i) for i in app.screen.grid.ids]
        assert order == ["fraud@3", "fraud@2", "fraud@4", "fraud@1"]


async def test_promote_with_a_passing_gate(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # fraud@3 holds production; promote it to a new alias
        await pilot.press("down")  # fraud@2
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PromoteDialog)
        stage = app.screen.query_one("#stage")
        stage.value = "canary"
        await settle(pilot)
        await pilot.press(*"shadow traffic", "enter")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert holder(tui_catalog, stage="canary") == "fraud@2"
        entry = tui_catalog.history(model="fraud")[0]
        assert (entry["action"], entry["reason"], entry["stage"]) == ("promote", "shadow traffic", "canary")


async def test_blocked_promote_writes_nothing(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("end")  # fraud@1: f1 0.78 fails 'metrics.f1 >= 0.8'
        await settle(pilot)
        before = len(tui_catalog.history())
        await pilot.press("p")
        await settle(pilot)
        assert "✗" in screen_text(app)
        await pilot.press(*"try it", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromoteDialog)
        assert "refused" in screen_text(app)
        assert holder(tui_catalog) == "fraud@3" and len(tui_catalog.history()) == before
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_forced_promote_with_reason(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press(*"incident 42 hotfix")
        await pilot.press("tab")  # to the force checkbox
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert holder(tui_catalog) == "fraud@1"
        entry = tui_catalog.history(model="fraud")[0]
        assert entry["forced"] and entry["reason"] == "incident 42 hotfix"


async def test_rollback_by_key(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RollbackDialog)
        assert "fraud@3 → fraud@2" in screen_text(app)
        await pilot.press(*"latency alerts", "enter")
        await settle(pilot)
        assert holder(tui_catalog) == "fraud@2"
        assert tui_catalog.history()[0]["action"] == "rollback"


async def test_rollback_is_greyed_without_history(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down")  # the vision model: never promoted
        await settle(pilot)
        screen = app.screen
        assert screen.model == "vision"
        assert screen.check_action("rollback", ()) is None
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)  # nothing opened
        assert screen.check_action("compare", ()) is None  # nothing marked


async def test_marks_enable_compare(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        await settle(pilot)
        screen = app.screen
        assert len(screen.grid.marked) == 2
        assert screen.check_action("compare", ()) is True
        assert "marked 2" in screen_text(app)


async def test_user_strings_render_literally_in_browse(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down", "tab")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        text = screen_text(app)
        assert "[/]" in text                     # the run name
        assert "[bold red]x" in text             # a tag
        assert "␛[31mred␛[0m" in text            # an ANSI escape in a param, made visible
        assert "[i]not italic[/i]" in text


async def test_help_lists_the_keys(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        for action in ("Filter", "Promote", "Rollback", "Compare", "Lineage", "Docs", "History"):
            assert action in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_keymap_rebinds_by_id(tui_catalog) -> None:
    app = make_app(tui_catalog, keymap={"browse.promote": "W"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        await pilot.press("W")
        await settle(pilot)
        assert isinstance(app.screen, PromoteDialog)


async def test_all_versions_view_follows_the_cursor_model(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "home", "tab")  # "all versions" is the first entry
        await settle(pilot)
        screen = app.screen
        assert screen.model is None
        refs = [tui_catalog.ref_of(i) for i in screen.grid.ids]
        assert refs[:2] == ["vision@2", "vision@1"] and len(refs) == 6
        assert "versions of all models" in screen_text(app)
        assert screen.check_action("rollback", ()) is None  # vision was never promoted
        await pilot.press("down", "down")  # fraud@4: fraud's production has a history
        await settle(pilot)
        assert screen.current_model() == "fraud"
        assert screen.check_action("rollback", ()) is True


async def test_app_can_open_on_a_model(tui_catalog) -> None:
    app = make_app(tui_catalog, start="vision")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.model == "vision"


async def test_cursor_highlight_follows_after_the_table_scrolled(tmp_path) -> None:
    """After the table has scrolled, each step repaints the right lines (the cursor row is
    highlighted on screen, the row it left is not)."""
    from mltui.core.catalog import open_catalog

    cat = open_catalog(tmp_path / "many.db", create=True)
    for index in range(60):
        cat.register("m", run=cat.log_run(f"run{index}", metrics={"f1": index / 100}))
    app = make_app(cat)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        grid = app.screen.grid
        cursor_bg = grid.get_component_rich_style("grid--cursor").bgcolor
        for step in range(25):
            await pilot.press("down")
            await pilot.pause()
            strips = app.screen._compositor.render_strips()
            top = int(grid.scroll_offset.y)
            row_y = grid.region.y + (grid.cursor_index - top) + 1
            x = grid.region.x + 2
            def background(y: int):
                cells = 0
                for segment in strips[y]:
                    cells += len(segment.text)
                    if cells > x:
                        return segment.style.bgcolor if segment.style else None
            assert background(row_y) == cursor_bg, f"step {step}: cursor row not highlighted"
            if grid.cursor_index - 1 >= top:
                assert background(row_y - 1) != cursor_bg, f"step {step}: old row still highlighted"
    cat.close()


async def test_every_key_is_also_a_palette_command(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for action in ("Filter", "Sort", "Mark", "Lineage", "Docs", "Promote", "Rollback",
                       "History", "Runs", "Detail", "Keys", "Quit"):
            assert action in titles, action
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Lineage", "enter")
        await settle(pilot)
        from mltui.tui.screens.lineage import LineageScreen

        assert isinstance(app.screen, LineageScreen)


async def test_keymap_from_the_config_file(tui_catalog, tmp_path, monkeypatch) -> None:
    from mltui.tui.app import MltuiApp
    from mltui.tui.screens.promote import PromoteDialog

    config = tmp_path / "config.yaml"
    config.write_text("keymap:\n  browse.promote: W\n")
    monkeypatch.setenv("MLTUI_CONFIG", str(config))
    app = MltuiApp(tui_catalog, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("W")
        await settle(pilot)
        assert isinstance(app.screen, PromoteDialog)


async def test_a_broken_config_is_a_notice_not_a_crash(tui_catalog, tmp_path, monkeypatch) -> None:
    from mltui.tui.app import MltuiApp

    config = tmp_path / "config.yaml"
    config.write_text("keymap: [this is: not: valid\n")
    monkeypatch.setenv("MLTUI_CONFIG", str(config))
    app = MltuiApp(tui_catalog, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert any("using the default keys" in str(n.message) for n in app._notifications)
