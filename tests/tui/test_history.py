"""History, driven by the real keys from browse: filters, paging, the event log."""

from __future__ import annotations

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.history import PAGE, HistoryScreen, ModelPicker, change_text
from tests.tui.conftest import make_app, screen_text, settle

HOSTILE_REASON = "[bold red]x[/] latency [link=https://example.com]alerts[/link]"


async def open_history(pilot) -> HistoryScreen:
    await settle(pilot)
    await pilot.press("h")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


def shown(screen: HistoryScreen) -> list[dict]:
    return [screen.rows[i] for i in screen.grid.ids]


def seed(cat, entries: int) -> None:
    """``entries`` promote/rollback entries on fraud's canary stage, through the API."""
    cat.promote("fraud@2", "canary", reason="seed")
    for index in range(entries - 1):
        if index % 2 == 0:
            cat.promote("fraud@3", "canary", reason=f"seed {index}")
        else:
            cat.rollback("fraud", "canary", reason=f"seed {index}")


async def test_h_opens_the_model_history_newest_first_and_escape_returns(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        assert screen.model == "fraud"  # the model browse had selected
        rows = shown(screen)
        assert [r["reason"] for r in rows] == ["distillation candidate", "more data, better f1",
                                               "first production model"]
        assert rows == tui_catalog.history(model="fraud")
        text = screen_text(app)
        assert "stage history" in text and "model: fraud" in text and "action: all" in text
        assert "v2 → v3" in text and "staging" in text
        assert "gates  none recorded" in text  # the staging promotion: no gate guards staging
        await pilot.press("down")  # fraud@3 to production: two gates passed
        await settle(pilot)
        text = screen_text(app)
        assert "✓ metrics.f1 >= 0.8" in text
        assert "✓ metrics.f1 >= production - 0.02" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_a_cycles_the_action_and_shows_only_rollbacks(tui_catalog) -> None:
    tui_catalog.rollback("fraud", reason=HOSTILE_REASON)
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        assert len(shown(screen)) == 4
        await pilot.press("a")  # promote
        await settle(pilot)
        assert screen.action == "promote"
        assert {r["action"] for r in shown(screen)} == {"promote"} and len(shown(screen)) == 3
        await pilot.press("a")  # rollback
        await settle(pilot)
        assert screen.action == "rollback"
        rows = shown(screen)
        assert len(rows) == 1 and rows[0]["action"] == "rollback"
        assert rows == tui_catalog.history(model="fraud", action="rollback")
        text = screen_text(app)
        assert "action: rollback" in text
        assert HOSTILE_REASON in text  # in the detail pane, literally
        assert "[bold red]x[/] latency" in text.split("\n")[2]  # and in the list
        for _ in range(3):  # clear, import, all
            await pilot.press("a")
        await settle(pilot)
        assert screen.action is None and len(shown(screen)) == 4


async def test_f_chooses_the_model(tui_catalog) -> None:
    tui_catalog.promote("vision@2", "staging", reason="first look")
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        assert {r["model"] for r in shown(screen)} == {"fraud"}
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ModelPicker)
        await pilot.press("down", "enter")  # all models, fraud (highlighted), vision
        await settle(pilot)
        assert app.screen is screen and screen.model == "vision"
        rows = shown(screen)
        assert [(r["model"], r["reason"]) for r in rows] == [("vision", "first look")]
        assert "model: vision" in screen_text(app)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("home", "enter")  # all models
        await settle(pilot)
        assert screen.model is None
        assert {r["model"] for r in shown(screen)} == {"fraud", "vision"}
        assert "model: all" in screen_text(app)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("escape")  # cancel: nothing changes
        await settle(pilot)
        assert app.screen is screen and screen.model is None


async def test_paging_loads_the_next_200_when_the_cursor_reaches_the_end(tui_catalog) -> None:
    seed(tui_catalog, 450)
    total = len(tui_catalog.history(model="fraud", limit=10_000))
    assert total == 453
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        assert len(screen.grid.ids) == PAGE and not screen.exhausted
        assert f"{PAGE}+ entries" in screen_text(app)
        await pilot.press("end")  # the last loaded entry: the next page is read
        await settle(pilot)
        assert len(screen.grid.ids) == 2 * PAGE
        assert screen.grid.cursor_index == PAGE - 1  # the cursor stays where it was
        await pilot.press("end")
        await settle(pilot)
        assert len(screen.grid.ids) == total and screen.exhausted
        assert f"{total} entries" in screen_text(app)
        everything = tui_catalog.history(model="fraud", limit=10_000)
        assert screen.grid.ids == [r["id"] for r in everything]  # newest first, no repeats
        await pilot.press("end")
        await settle(pilot)
        assert len(screen.grid.ids) == total
        assert "first production model" in screen_text(app)  # the oldest, at the bottom


async def test_entries_saved_while_paging_are_not_shown_twice(tui_catalog) -> None:
    seed(tui_catalog, 250)
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        tui_catalog.rollback("fraud", "canary", reason="meanwhile")  # shifts every offset by one
        await pilot.press("end")
        await settle(pilot)
        ids = screen.grid.ids
        assert len(ids) == len(set(ids)) == 253


async def test_E_switches_to_the_event_log_with_its_own_actions(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert screen.events_mode
        rows = shown(screen)
        assert rows == tui_catalog.events()
        text = screen_text(app)
        assert "event log" in text and "production: fraud@2 → fraud@3" in text
        assert screen.check_action("choose_model", ()) is None  # events() has no model filter
        await pilot.press("f")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("a")  # import
        await settle(pilot)
        assert screen.action == "import"
        await pilot.press("a", "a", "a")  # dataset, create-model, register
        await settle(pilot)
        assert screen.action == "register"
        rows = shown(screen)
        assert rows and {r["action"] for r in rows} == {"register"}
        assert len(rows) == 6  # fraud@1..4, vision@1..2
        await pilot.press("E")
        await settle(pilot)
        assert not screen.events_mode and screen.action is None
        assert {r["action"] for r in shown(screen)} == {"promote"}


async def test_event_log_pages_like_the_history(tui_catalog) -> None:
    seed(tui_catalog, 300)
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert len(screen.grid.ids) == PAGE
        await pilot.press("end")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert screen.grid.ids == [e["id"] for e in tui_catalog.events(limit=10_000)]


async def test_reload_keeps_the_cursor_on_its_entry(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        await pilot.press("down")
        await settle(pilot)
        entry = screen.grid.cursor_id
        tui_catalog.rollback("fraud", reason="new on top")
        await screen.reload()
        await settle(pilot)
        assert shown(screen)[0]["reason"] == "new on top"
        assert screen.grid.cursor_id == entry


async def test_history_reasons_render_literally_at_80_columns(tui_catalog) -> None:
    tui_catalog.promote("vision@1", "staging", reason=HOSTILE_REASON)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down", "tab")  # the vision model
        await settle(pilot)
        screen = await open_history(pilot)
        assert screen.model == "vision"
        text = screen_text(app)
        assert "[bold red]x[/] latency [link=https://example.com]alerts[/link]" in text
        assert "[bold red]" in text.split("\n")[2]  # the list row, cut but literal


def test_change_text_is_literal() -> None:
    text = change_text({"production": "[b]a"}, {"production": None})
    assert text.plain == "production: [b]a → none"
    assert change_text(None, {"rule": "[x]"}).plain == '{"rule": "[x]"}'
