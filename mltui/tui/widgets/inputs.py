"""Text inputs with a steady cursor.

A blinking cursor redraws its line twice a second: bytes over SSH for nothing, and screenshots
that depend on when they were taken.  Every input of the app uses this one.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Input


class SteadyInput(Input):
    """An Input whose cursor does not blink."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_blink = False


class FilterInput(SteadyInput):
    """The text field of the ``/`` prompt (``widgets/filterbar.py``); ESC cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="filter.cancel")]

    def action_cancel(self) -> None:
        self.parent.cancel()  # type: ignore[union-attr]
