"""An optional message on a docs save: ctrl+s stays one key, ctrl+n asks "why" first (80×24)."""

from __future__ import annotations

from mltui.tui.screens.confirm import TextPrompt
from mltui.tui.screens.docrevs import DocRevisionsScreen
from tests.tui.conftest import make_app, screen_text, settle
from tests.tui.test_docs import open_docs


async def press(pilot, *keys: str) -> None:
    """Press ``keys`` and let the app settle."""
    await pilot.press(*keys)
    await settle(pilot)


async def test_ctrl_n_saves_with_a_message_shown_in_the_revisions(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot, "down")  # fraud@3: revision 2
        await press(pilot, *"Reviewed. ", "ctrl+n")
        assert isinstance(app.screen, TextPrompt)
        assert "esc goes back without saving" in screen_text(app)
        await press(pilot, *"after the [b]Q3[/b] review", "enter")
        assert app.screen is screen and not screen.modified
        latest = tui_catalog.doc_revisions("fraud@3")[0]
        assert latest["rev"] == 3 and latest["message"] == "after the [b]Q3[/b] review"
        await press(pilot, "ctrl+r")
        assert isinstance(app.screen, DocRevisionsScreen)
        assert "after the [b]Q3[/b] review" in screen_text(app)  # literal, in the list


async def test_esc_in_the_message_prompt_saves_nothing_and_empty_is_fine(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot, "down")
        await press(pilot, *"Mine. ", "ctrl+n", *"half", "escape")
        assert app.screen is screen and screen.modified
        assert tui_catalog.doc_revisions("fraud@3")[0]["rev"] == 2
        await press(pilot, "ctrl+n", "enter")  # no message: saved all the same
        latest = tui_catalog.doc_revisions("fraud@3")[0]
        assert latest["rev"] == 3 and latest["message"] is None and not screen.modified
        await press(pilot, *"More. ", "ctrl+s")  # one key, no prompt
        assert app.screen is screen
        assert tui_catalog.doc_revisions("fraud@3")[0]["rev"] == 4
