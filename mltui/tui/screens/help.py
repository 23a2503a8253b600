"""``?``: every key of the screen it was opened from, generated from the live bindings.

Because it reads the bindings (after the user's keymap), it can never disagree with the keys.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..widgets.text import lit
from ..widgets.textsearch import SearchableStatic, SearchBar, TextSearchMixin, search_bindings

GENERAL = [
    ("ctrl+p", "command palette: every action by name"),
    ("esc", "cancel / close this screen"),
    ("tab", "next pane"),
    ("↑ ↓ pgup pgdn home end", "move in lists and tables"),
    ("shift+drag", "select text while the app has the mouse (most terminals); f2 or "
                   "`mltui --no-mouse` leaves the mouse to the terminal"),
]


class HelpScreen(TextSearchMixin, ModalScreen[None]):
    """The keys of the screen below (``/`` searches them)."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close"),
                *search_bindings("help")]
    DEFAULT_CSS = """
    HelpScreen > VerticalScroll { width: 72; max-width: 100%; height: auto; max-height: 90%; }
    HelpScreen SearchBar { dock: bottom; }
    """

    def __init__(self, screen: Screen):
        super().__init__()
        self.target = screen

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Static(Text.assemble(("Keys", "bold"), ("   / searches · esc closes", "dim")),
                         classes="dialog-title")
            yield SearchableStatic(self.keys_table(), id="help-keys")
            yield SearchBar(lambda: self.query_one("#help-keys", SearchableStatic))

    def keys_table(self) -> Table:
        """Key → action for the screen below: its own actions first, then moving around in
        the focused widget, then what works everywhere."""
        from textual.app import App

        table = Table(box=None, pad_edge=False, show_header=False)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("action")
        table.add_column("", style="dim")
        groups: dict[str, list[tuple[str, str, bool]]] = {"this screen": [], "moving": [],
                                                         "everywhere": []}
        seen: set[tuple[str, str]] = set()
        for active in self.target.active_bindings.values():
            binding = active.binding
            if not binding.description:
                continue
            display = self.app.get_key_display(binding)
            if (display, binding.description) in seen:
                continue
            seen.add((display, binding.description))
            # The screen's own actions carry ids (so the keymap can rebind them); Textual's
            # built-in screen keys (focus next, copy) do not and belong with the general ones.
            if active.node is self.target:
                group = "this screen" if binding.id else "everywhere"
            else:
                group = "everywhere" if isinstance(active.node, App) else "moving"
            groups[group].append((display, binding.description, active.enabled))
        # Keys the screen hides where they do not apply (unarchive on a ready version) are
        # still its keys: listed, marked "(not now)", so ? always lists every binding.
        for binding in type(self.target).BINDINGS:
            if isinstance(binding, Binding) and binding.id and binding.description:
                display = self.app.get_key_display(binding)
                if (display, binding.description) not in seen:
                    seen.add((display, binding.description))
                    groups["this screen"].append((display, binding.description, False))
        for name, rows in groups.items():
            if not rows:
                continue
            table.add_row(Text(name, style="bold"), Text(""), Text(""))
            for display, description, enabled in rows:
                table.add_row(lit(display), Text(description),
                              Text("" if enabled else "(not now)"))
            table.add_row(Text(""), Text(""), Text(""))
        for key, what in GENERAL:
            table.add_row(Text(key), Text(what), Text(""))
        return table

    def action_close(self) -> None:
        """Close an open search first, then the help."""
        if not self.close_search():
            self.dismiss(None)
