"""Docs opens in one paint: the text is read before the screen is built, and the screen's code
is imported in the background once Browse shows its rows (figures: benchmarks/docs_open.py)."""

from __future__ import annotations

import importlib

from mltui.tui.screens.docs import DocsScreen
from tests.tui.conftest import make_app, settle


async def test_docs_are_built_with_their_text_no_second_load(tui_catalog, monkeypatch) -> None:
    loads: list[DocsScreen] = []
    monkeypatch.setattr(DocsScreen, "load", lambda self: loads.append(self))
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "e")  # fraud@3, revision 2
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DocsScreen)
        assert loads == []  # nothing read after the screen was shown
        assert screen.editor.text == tui_catalog.get_doc("fraud@3")["text"]
        assert screen.base_rev == 2 and not screen.modified


async def test_docs_code_is_imported_once_browse_shows_its_rows(tui_catalog, monkeypatch) -> None:
    imported: list[str] = []
    real = importlib.import_module

    def spy(name: str, *args, **kwargs):
        imported.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", spy)
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)  # waits for the short warm-up timer too
    assert "mltui.tui.screens.docs" in imported
