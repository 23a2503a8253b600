"""The ``/`` prompt: a filter in the catalog's filter language, checked before it is applied.

One widget for every screen that filters a list: it opens over the list, checks the text with
a one-row query on a database thread, points at the column of a bad filter (keeping the prompt
open and the list unchanged), and on a good one closes and posts :class:`FilterPrompt.Applied`.
ESC closes it without applying anything.
"""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from ...core.errors import MltuiError
from ...core.query import FilterError
from ...display import safe
from .inputs import SteadyInput


class FilterInput(SteadyInput):
    """The text field of the prompt; ESC cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="filter.cancel")]

    def action_cancel(self) -> None:
        self.parent.close()  # type: ignore[union-attr]


class FilterPrompt(Vertical):
    """A hidden filter prompt; ``check(text)`` runs a one-row query that raises FilterError."""

    DEFAULT_CSS = """
    FilterPrompt { display: none; height: auto; padding: 0 1; }
    FilterPrompt.open { display: block; }
    FilterPrompt > .filter-error { display: none; height: auto; color: $text-error; }
    FilterPrompt > .filter-error.open { display: block; }
    """

    class Applied(Message):
        """A filter passed its check (``text`` is empty when the filter was cleared)."""

        def __init__(self, prompt: "FilterPrompt", text: str):
            super().__init__()
            self.prompt = prompt
            self.text = text

        @property
        def control(self) -> "FilterPrompt":
            """The prompt (lets ``@on(FilterPrompt.Applied, "#selector")`` match)."""
            return self.prompt

    def __init__(self, check: Callable[[str], Any], *, placeholder: str, id: str | None = None):
        super().__init__(id=id)
        self.check = check
        self.placeholder = placeholder
        self._return_to: Widget | None = None

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder=self.placeholder, compact=True)
        yield Static(classes="filter-error")

    def open(self, text: str) -> None:
        """Show the prompt holding ``text`` and take the focus (given back on close)."""
        self._return_to = self.screen.focused
        field = self.query_one(FilterInput)
        field.value = text
        self.add_class("open")
        field.focus()

    def close(self) -> None:
        """Hide the prompt and its error; the focus goes back where it was."""
        self.remove_class("open")
        self.query_one(".filter-error", Static).remove_class("open")
        if self._return_to is not None and self._return_to.is_attached:
            self._return_to.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.run_worker(self._apply(event.value.strip()), group="filter", exclusive=True,
                        exit_on_error=False)

    async def _apply(self, text: str) -> None:
        error = self.query_one(".filter-error", Static)
        if text:
            try:  # check first: a bad filter keeps the prompt open with a pointer
                await self.app.run_db(self.check, text)  # type: ignore[attr-defined]
            except FilterError as exc:
                pointer = Text(" " * (exc.column - 1) + "^ ", style="bold")
                pointer.append(safe(exc.reason))
                error.update(pointer)
                error.add_class("open")
                return
            except Exception as exc:  # noqa: BLE001 - one notice, never a traceback
                message = exc.one_line() if isinstance(exc, MltuiError) else \
                    f"{type(exc).__name__}: {exc}"
                self.app.notify(message, severity="error", markup=False)
                return
        self.close()
        self.post_message(self.Applied(self, text))
