"""The key bar: every key of the current screen, wrapped onto a second line when narrow.

Textual's Footer is one line and cuts keys off at 80 columns; here every action stays visible
at 80×24 (the spec: every action has a key shown in the footer).  Keys that do not apply now
are dimmed.  The bar repaints only when its text changes, so a cursor move costs nothing here.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget

from ...display import safe

class KeyBar(Widget):
    """The keys of the screen, in binding order, wrapped to the width."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        max-height: 3;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[tuple[str, str, bool]] = []
        self._note = ""  # why a key is greyed out now (the screen's ``key_note()``)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._rebuild()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._rebuild()

    def _rebuild(self) -> None:
        seen: set[str] = set()
        entries: list[tuple[str, str, bool]] = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            entries.append((self.app.get_key_display(binding), binding.description, active.enabled))
        entries.append(("^p", "palette", True))
        note_of = getattr(self.screen, "key_note", None)
        note = (note_of() if callable(note_of) else "") or ""
        if entries != self._entries or note != self._note:
            self._entries, self._note = entries, note
            self.refresh(layout=True)

    def render(self) -> Text:
        """Entries laid out left to right, starting a new line rather than splitting one."""
        width = max(10, self.size.width)
        text = Text(no_wrap=True, overflow="ellipsis")
        column = 0
        for key, description, enabled in self._entries:
            length = len(key) + 1 + len(description)
            if column and column + 2 + length > width:
                text.append("\n")
                column = 0
            elif column:
                text.append("  ")
                column += 2
            text.append(key, style="bold cyan" if enabled else "dim")
            text.append(" " + description, style="" if enabled else "dim")
            column += length
        if self._note:
            text.append("\n")
            text.append(safe(self._note), style="italic")
        return text

    def get_content_height(self, container, viewport, width: int) -> int:
        """As many lines as the entries need at this width."""
        lines, column = 1, 0
        for key, description, _ in self._entries:
            length = len(key) + 1 + len(description)
            if column and column + 2 + length > width:
                lines, column = lines + 1, length
            else:
                column += length + (2 if column else 0)
        return lines + (1 if self._note else 0)
