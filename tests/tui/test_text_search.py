"""``/`` searches inside Help, a version's detail and docs (``ctrl+f`` in the editor), at 80×24.

One prompt for all of them (widgets/textsearch.py): matches highlighted case-insensitively as
typed, the query taken literally, ``n``/``N`` to step, ``match 2/7`` or ``no match for 'x'``,
and ``esc`` closing the search before it leaves the screen.
"""

from __future__ import annotations

from textual.containers import VerticalScroll

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.detail import DetailScreen
from mltui.tui.screens.docrevs import DocRevisionsScreen
from mltui.tui.screens.docs import DocsScreen
from mltui.tui.screens.help import HelpScreen
from mltui.tui.widgets.textsearch import (CURRENT_STYLE, MATCH_STYLE, SearchableStatic, SearchBar,
                                          find_matches)
from tests.tui.conftest import HOSTILE_RUN_NAME, make_app, screen_text, settle

SIZE = (80, 24)


async def press(pilot, *keys: str) -> None:
    """Press ``keys`` and let the app settle."""
    await pilot.press(*keys)
    await settle(pilot)


async def opened(pilot, *keys: str, screen: type):
    """From browse, once settled: press ``keys``; the app shows a ``screen``."""
    await settle(pilot)
    await press(pilot, *keys)
    assert isinstance(pilot.app.screen, screen)
    return pilot.app.screen


def status(app) -> str:
    """The search prompt's status as plain text."""
    return str(app.screen.query_one(SearchBar).query_one(".search-status").render())


def highlighted(widget: SearchableStatic) -> list[str]:
    """The texts shown with a match style, current or not, in the widget's content."""
    content = widget.highlighted
    if content is None:
        return []
    plain = content.plain
    return [plain[span.start:span.end] for span in content.spans
            if span.style in (MATCH_STYLE, CURRENT_STYLE)]


def test_matches_are_literal_and_ignore_case():
    lines = ["a.b A.B axb", "[b]x[/b]", "İstanbul"]
    assert [(m.line, m.start) for m in find_matches(lines, "a.b")] == [(0, 0), (0, 4)]
    assert [(m.line, m.start) for m in find_matches(lines, "[/B]")] == [(1, 4)]
    assert find_matches(lines, "(") == [] and find_matches(lines, "") == []


async def test_help_search_scrolls_to_the_match_and_steps_with_n(tui_catalog):
    app = make_app(tui_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "question_mark", screen=HelpScreen)
        scroll = app.screen.query_one(VerticalScroll)
        assert scroll.scroll_y == 0
        assert "move in lists and tables" not in screen_text(app)  # below the fold
        await press(pilot, "slash", *"LISTS AND")
        assert "match 1/1" in status(app)
        assert scroll.scroll_y > 0
        assert "move in lists and tables" in screen_text(app)
        assert highlighted(app.screen.query_one("#help-keys", SearchableStatic)) == ["lists and"]
        await press(pilot, *"x")
        assert "no match for 'LISTS ANDx'" in status(app)
        for _ in range(len("LISTS ANDx")):
            await pilot.press("backspace")
        await press(pilot, *"copy", "enter")
        assert "match 1/" in status(app)
        await press(pilot, "n")
        assert "match 2/" in status(app)
        await press(pilot, "N", "N")
        total = len(app.screen.search_bar.matches)
        assert f"match {total}/{total}" in status(app)  # wraps around
        await pilot.press("escape")  # closes the search, not the help
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert not app.screen.search_bar.active
        assert highlighted(app.screen.query_one("#help-keys", SearchableStatic)) == []
        await press(pilot, "escape")
        assert isinstance(app.screen, BrowseScreen)


async def test_detail_search_highlights_every_match(tui_catalog):
    app = make_app(tui_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "enter", screen=DetailScreen)
        await press(pilot, "slash", *"ANA")
        body = app.screen.query_one(".detail-body", SearchableStatic)
        found = highlighted(body)
        assert len(found) >= 2 and {text.lower() for text in found} == {"ana"}
        assert f"match 1/{len(found)}" in status(app)
        await press(pilot, "enter", "n")
        assert f"match 2/{len(found)}" in status(app)
        await pilot.resize_terminal(120, 40)  # laid out again: the matches follow
        await settle(pilot)
        assert body.highlighted is not None and body._lines_width > 80  # found at 120 wide
        assert len(highlighted(body)) == len(found)
        await press(pilot, "escape")
        assert isinstance(app.screen, DetailScreen) and highlighted(body) == []
        await press(pilot, "escape")
        assert isinstance(app.screen, BrowseScreen)


async def test_the_query_is_text_never_markup(tui_catalog):
    app = make_app(tui_catalog, start="vision")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "down", "enter", screen=DetailScreen)  # vision@1, run "[/]"
        await press(pilot, "slash", *HOSTILE_RUN_NAME)
        assert highlighted(app.screen.query_one(".detail-body", SearchableStatic)) == ["[/]"]
        assert "match 1/1" in status(app)


async def test_docs_ctrl_f_selects_matches_in_the_editor(tui_catalog):
    app = make_app(tui_catalog)
    async with app.run_test(size=SIZE) as pilot:
        # fraud@3: "# fraud v3 … More data from Q2."
        screen = await opened(pilot, "down", "e", screen=DocsScreen)
        await press(pilot, "ctrl+f", *"FRAUD")
        assert "match 1/1" in status(app)
        assert screen.editor.selected_text == "fraud"
        await press(pilot, "backspace", "backspace", "backspace", "backspace", "backspace", *"a")
        total = len(screen.search_bar.matches)
        assert total >= 3 and f"match 1/{total}" in status(app)
        await pilot.press("enter", "f3")  # enter gives the editor back; f3 is the next match
        await settle(pilot)
        assert f"match 2/{total}" in status(app)
        assert screen.editor.has_focus
        await pilot.press("escape")  # closes the search; the text is untouched
        await settle(pilot)
        assert isinstance(app.screen, DocsScreen) and not screen.modified
        await press(pilot, "ctrl+r")
        assert isinstance(app.screen, DocRevisionsScreen)
        await pilot.press("space", "down", "space")  # the diff of rev 1 → rev 2
        await settle(pilot)
        await press(pilot, "slash", *"q2")
        assert highlighted(app.screen.query_one("#revs-diff-body", SearchableStatic)) == ["Q2"]
        await press(pilot, "escape", "escape")
        assert app.screen is screen
