"""Search inside a long view, as in ``less`` or k9s: one prompt, highlighted matches, ``n``/``N``.

One widget for every screen that shows long text (Help, a version's detail, docs and their
revisions).  ``/`` opens a one-line prompt under the view; each keystroke highlights every
match (case-insensitive, the query taken literally: never markup, never a regular expression)
and scrolls to the first one; ``enter`` gives the focus back to the view, where ``n``/``N`` go
to the next/previous match; the prompt says ``match 2/7`` or ``no match for 'x'``; ``esc``
closes the search and takes the highlights away.

What is searched is a :class:`SearchTarget`: :class:`SearchableStatic` (a Static whose content
is rendered to lines at its width, so a match is found where the user sees it) or
:class:`EditorSearchTarget` (a TextArea: the current match is selected, so the editor scrolls
to it and typing replaces it, as in any editor's find).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Selection

from ...display import safe
from .inputs import SteadyInput

# Underlined as well as coloured, so matches still show with NO_COLOR; the current one bold.
MATCH_STYLE = Style(color="black", bgcolor="yellow", underline=True)
CURRENT_STYLE = Style(color="black", bgcolor="bright_cyan", bold=True, underline=True)


@dataclass(frozen=True)
class Match:
    """One match: its line and the characters ``start:end`` of that line."""

    line: int
    start: int
    end: int


def find_matches(lines: list[str], query: str) -> list[Match]:
    """Every case-insensitive occurrence of ``query`` (literal text) in ``lines``, in order."""
    if not query:
        return []
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    return [Match(index, found.start(), found.end())
            for index, line in enumerate(lines) for found in pattern.finditer(line)]


class SearchTarget(Protocol):
    """What a search bar searches: lines of text, shown with their matches."""

    def search_lines(self) -> list[str]:
        """The text as the user sees it, one string per line."""

    def show_matches(self, matches: list[Match], current: Match | None) -> None:
        """Highlight ``matches`` and bring ``current`` into view."""

    def clear_matches(self) -> None:
        """Show the text without highlights."""


class SearchableStatic(Static):
    """A Static that can be searched; set its content with :meth:`show`, not ``update``."""

    def __init__(self, content: RenderableType = "", **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._content: RenderableType = content
        self._lines: list[list[Segment]] | None = None
        self._lines_width = 0
        self.highlighted: Text | None = None  # the content with its matches, while shown

    def show(self, content: RenderableType) -> None:
        """Show ``content``; an open search follows it (matches found again)."""
        self._content = content
        self._lines = None
        self.highlighted = None
        self.update(content)
        if self.is_attached:
            for bar in self.screen.query(SearchBar):
                bar.content_changed()

    def on_resize(self) -> None:
        """A new width lays the content out again: an open search finds its matches again."""
        if self.highlighted is not None and self._lines_width != self._width():
            for bar in self.screen.query(SearchBar):
                bar.content_changed()

    def _width(self) -> int:
        width = self.content_region.width or self.size.width
        if not width and self.parent is not None:
            width = self.parent.size.width  # type: ignore[union-attr]
        return max(10, width)

    def _rendered(self) -> list[list[Segment]]:
        width = self._width()
        if self._lines is None or self._lines_width != width:
            console = self.app.console
            options = console.options.update_width(width)
            self._lines = console.render_lines(self._content, options, pad=False)
            self._lines_width = width
        return self._lines

    def search_lines(self) -> list[str]:
        """The content laid out at the widget's width, one string per screen line."""
        return ["".join(segment.text for segment in line if not segment.control)
                for line in self._rendered()]

    def show_matches(self, matches: list[Match], current: Match | None) -> None:
        """The laid-out content with each match highlighted; scrolls to ``current``."""
        lines = self._rendered()
        text = Text(no_wrap=True, overflow="ignore", end="")
        starts: list[int] = []
        for index, line in enumerate(lines):
            if index:
                text.append("\n")
            starts.append(len(text))
            for segment in line:
                if not segment.control:
                    text.append(segment.text, segment.style)
        for match in matches:
            style = CURRENT_STYLE if match == current else MATCH_STYLE
            text.stylize(style, starts[match.line] + match.start, starts[match.line] + match.end)
        self.highlighted = text
        self.update(text)
        if current is not None:
            self.call_after_refresh(self._scroll_to, current)

    def _scroll_to(self, match: Match) -> None:
        container = self.parent
        if not isinstance(container, Widget) or not self.is_attached:
            return
        top = self.virtual_region.y + self.styles.padding.top + match.line
        container.scroll_to_region(Region(0, top, 1, 1), animate=False, center=True,
                                   force=True, x_axis=False)

    def clear_matches(self) -> None:
        """The content as given, without highlights (laid out again by the widget)."""
        if self.highlighted is not None:
            self.highlighted = None
            self.update(self._content)


class EditorSearchTarget:
    """A TextArea as a search target: the current match is selected (and scrolled to)."""

    def __init__(self, editor: TextArea) -> None:
        self.editor = editor

    def search_lines(self) -> list[str]:
        """The document's lines (the editor's own columns, so a match selects exactly)."""
        return list(self.editor.document.lines)

    def show_matches(self, matches: list[Match], current: Match | None) -> None:
        """Select the current match; the editor scrolls to its cursor."""
        if current is not None:
            self.editor.selection = Selection((current.line, current.start),
                                              (current.line, current.end))
            self.editor.scroll_cursor_visible(center=True, animate=False)

    def clear_matches(self) -> None:
        """Nothing to take away: the selection stays where the user was taken."""


class SearchInput(SteadyInput):
    """The search prompt's text field: ``esc`` closes, ``↓``/``↑`` step through matches."""

    BINDINGS = [
        Binding("escape", "close", "Close search", id="search.close"),
        Binding("down", "next_match", "Next match", id="search.next"),
        Binding("up", "previous_match", "Previous match", id="search.previous"),
    ]

    @property
    def bar(self) -> "SearchBar":
        """The search bar this field belongs to."""
        return self.parent  # type: ignore[return-value]

    def action_close(self) -> None:
        """``esc``: close the search."""
        self.bar.close()

    def action_next_match(self) -> None:
        """``↓``: the next match, the prompt keeping the focus."""
        self.bar.step(1)

    def action_previous_match(self) -> None:
        """``↑``: the previous match."""
        self.bar.step(-1)


class SearchBar(Horizontal):
    """A hidden one-line search prompt over ``target()`` (a :class:`SearchTarget`)."""

    DEFAULT_CSS = """
    SearchBar { display: none; height: 1; padding: 0 1; background: $boost; }
    SearchBar.open { display: block; }
    SearchBar > .search-slash { width: 2; color: $text-accent; text-style: bold; }
    SearchBar > SearchInput { width: 1fr; min-width: 12; }
    SearchBar > .search-status { width: auto; max-width: 60%; padding-left: 1; }
    """

    def __init__(self, target: Callable[[], SearchTarget], *, next_keys: str = "n/N",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.target = target
        self.next_keys = next_keys  # how the status names the keys of the view
        self.matches: list[Match] = []
        self.current: int | None = None
        self._return_to: Widget | None = None
        self._typing = False  # the prompt has the focus (else the view, after enter)

    def compose(self) -> ComposeResult:
        # Nothing until first opened (see open): every screen carries a bar, and an Input
        # mounted and styled for nothing cost each screen's first paint (in Docs' first-open
        # benchmark it undid what importing the screen ahead of time saved).
        return []

    @property
    def active(self) -> bool:
        """A search is open (the prompt or its matches are shown)."""
        return self.has_class("open")

    @property
    def query_text(self) -> str:
        """What is searched for."""
        fields = self.query(SearchInput)
        return fields.first().value if fields else ""

    async def open(self) -> None:
        """Show the prompt (with the last query, selected) and take the focus."""
        focused = self.screen.focused
        if not isinstance(focused, SearchInput):
            self._return_to = focused
        if not self.query(SearchInput):
            await self.mount_all([
                Static("/", classes="search-slash"),
                SearchInput(placeholder="search (text, any case)", compact=True),
                Static("", classes="search-status")])
        self.add_class("open")
        self._typing = True
        field = self.query_one(SearchInput)
        field.focus()
        field.select_all()
        self._search(keep_current=True)

    def close(self) -> bool:
        """Close the search and take the highlights away; False when it was not open."""
        if not self.active:
            return False
        self.remove_class("open")
        self.matches, self.current = [], None
        self.target().clear_matches()
        self._give_back_focus()
        return True

    def _give_back_focus(self) -> None:
        if self._return_to is not None and self._return_to.is_attached:
            self._return_to.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.active:
            self._search(keep_current=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """``enter``: back to the view, matches kept, ``n``/``N`` step through them."""
        event.stop()
        self._typing = False
        self._give_back_focus()
        self._update_status()

    def content_changed(self) -> None:
        """The view's text changed (a reload): find the matches again."""
        if self.active:
            self._search(keep_current=True)

    def step(self, by: int) -> None:
        """Go ``by`` matches forward (1) or back (-1), wrapping around."""
        if not self.active:
            return
        # Found again first: the text may have changed since (typing in an editor).
        self.matches = find_matches(self.target().search_lines(), self.query_text)
        if not self.matches:
            self.current = None
            self._update_status()
            return
        if self.current is not None:
            self.current = min(self.current, len(self.matches) - 1)
        self.current = ((self.current or 0) + by) % len(self.matches) \
            if self.current is not None else 0
        self._show()

    def _search(self, *, keep_current: bool) -> None:
        previous = self.current if keep_current else None
        self.matches = find_matches(self.target().search_lines(), self.query_text)
        if not self.matches:
            self.current = None
            self.target().clear_matches()
            self._update_status()
            return
        self.current = min(previous, len(self.matches) - 1) if previous is not None else 0
        self._show()

    def _show(self) -> None:
        current = self.matches[self.current] if self.current is not None else None
        self.target().show_matches(self.matches, current)
        self._update_status()

    def status_text(self) -> str:
        """``match 2/7``, ``no match for 'x'`` or what to type (plain text)."""
        query = self.query_text
        if not query:
            return "type to search · esc closes"
        if not self.matches:
            return f"no match for {safe(query)!r}"
        where = f"match {(self.current or 0) + 1}/{len(self.matches)}"
        if self._typing:
            return f"{where} · ↓↑ · enter · esc"
        return f"{where} · {self.next_keys} next/prev · esc closes"

    def _update_status(self) -> None:
        style = "bold red" if self.query_text and not self.matches else ""
        self.query_one(".search-status", Static).update(Text(self.status_text(), style=style,
                                                             no_wrap=True,
                                                             overflow="ellipsis"))


def search_bindings(screen: str, *, key: str = "/", next_key: str = "n",
                    previous_key: str = "N") -> list[Binding]:
    """A screen's three search keys, with ids ``<screen>.search`` (and ``_next``, ``_previous``)."""
    return [
        Binding(key, "search", "Search", id=f"{screen}.search"),
        Binding(next_key, "search_next", "Next match", show=False, id=f"{screen}.search_next"),
        Binding(previous_key, "search_previous", "Previous match", show=False,
                id=f"{screen}.search_previous"),
    ]


class TextSearchMixin:
    """The actions behind :func:`search_bindings`, for a screen that composes one SearchBar."""

    query_one: Callable[..., Any]

    @property
    def search_bar(self) -> SearchBar:
        """The screen's search bar."""
        return self.query_one(SearchBar)

    async def action_search(self) -> None:
        """Open the search prompt."""
        await self.search_bar.open()

    def action_search_next(self) -> None:
        """The next match of the open search."""
        self.search_bar.step(1)

    def action_search_previous(self) -> None:
        """The previous match of the open search."""
        self.search_bar.step(-1)

    def close_search(self) -> bool:
        """``esc`` closes an open search before it leaves the screen; True when it did."""
        return self.search_bar.close()
