"""No path out of the docs editor loses typed text: quit asks, and a crash leaves a draft."""

from __future__ import annotations

import pytest

from mltui.core.catalog import open_catalog
from mltui.tui.screens.confirm import ConfirmDialog
from mltui.tui.screens.docs import DocsScreen
from tests.conftest import FROZEN_NOW
from tests.tui.conftest import make_app, settle
from tests.tui.test_docs import open_docs


async def quit_by(pilot, how: str) -> None:
    """Ask the app to quit the way a user would: ctrl+q, or the palette's Quit command."""
    if how == "ctrl+q":
        await pilot.press("ctrl+q")
    else:  # the palette's "Quit" system command runs the app's quit action
        commands = {c.title: c for c in pilot.app.get_system_commands(pilot.app.screen)}
        await commands["Quit"].callback()
    await settle(pilot)


@pytest.mark.parametrize("how", ["ctrl+q", "palette"])
async def test_quit_with_unsaved_docs_asks_first(tui_catalog, how) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot)
        await pilot.press(*"Typed. ")
        await settle(pilot)
        draft = screen.draft_file
        assert draft is not None and draft.exists()  # kept on disk while unsaved
        await quit_by(pilot, how)
        assert isinstance(app.screen, ConfirmDialog)
        assert app.is_running
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and screen.editor.text.startswith("Typed. ")
        await quit_by(pilot, how)
        await pilot.press("y")
        await settle(pilot)
        assert not app.is_running
    assert not draft.exists()  # discarded on purpose


async def test_a_second_q_in_the_question_does_not_quit(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot)
        await pilot.press(*"Typed. ", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running and app.screen is screen
        assert screen.editor.text.startswith("Typed. ")


async def test_unsaved_text_survives_a_crash_and_is_offered_back(tui_catalog_path) -> None:
    first = open_catalog(tui_catalog_path, clock=lambda: FROZEN_NOW, actor="ana")
    app = make_app(first)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot, "down")  # fraud@3, rev 2
        await pilot.press(*"Half a thought. ")
        await settle(pilot)
        typed = screen.editor.text
        app.exit()  # no question asked, nothing saved: what a crash or a dropped SSH looks like
    first.close()
    second = open_catalog(tui_catalog_path, clock=lambda: FROZEN_NOW + 60, actor="ana")
    assert len(second.doc_revisions("fraud@3")) == 2
    app = make_app(second)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "e")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DocsScreen)
        assert screen.editor.text == typed and screen.modified
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert second.get_doc("fraud@3")["text"] == typed
        assert not screen.draft_file.exists()  # saved: the draft is gone
        assert not app.screen_stack[-1].modified
    second.close()
