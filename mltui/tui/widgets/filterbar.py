"""The ``/`` prompt: a filter in the catalog's filter language, checked before it is applied.

One widget for every screen that filters a list: it opens over the list, checks the text with
a one-row query on a database thread, points at the column of a bad filter (keeping the prompt
open and the list unchanged), and on a good one closes and posts :class:`FilterPrompt.Applied`.
The list follows as you type: a pause of ``TYPE_DELAY`` applies a text that checks (a half-typed
one waits quietly).  ESC closes the prompt and puts back the filter it was opened with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from ...core.errors import MltuiError
from ...core.query import FilterError
from ...display import safe

if TYPE_CHECKING:  # pragma: no cover - imported at the first open (see ``open``)
    from textual.widgets import Input

    from .inputs import FilterInput

TYPE_DELAY = 0.25  # seconds of no typing before the list follows the prompt


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
        self._opened_with = ""  # the filter in force when the prompt opened (ESC restores it)
        self._shown = ""  # the filter the list shows now (typing applies as it goes)
        self._typing: Timer | None = None
        self._field: FilterInput | None = None  # made at the first open

    def compose(self) -> ComposeResult:
        yield Static(classes="filter-error")

    async def open(self, text: str) -> None:
        """Show the prompt holding ``text`` and take the focus (given back on close)."""
        if self._field is None:
            # The text field is made when first needed: an Input (its CSS, its mount and its
            # cursor) costs every start, and most starts never filter.
            from .inputs import FilterInput

            self._field = FilterInput(placeholder=self.placeholder, compact=True)
            await self.mount(self._field, before=0)
        self._return_to = self.screen.focused
        field = self._field
        self._opened_with = self._shown = text
        with field.prevent(field.Changed):
            field.value = text
        self.add_class("open")
        field.focus()

    def cancel(self) -> None:
        """ESC: close, and put back the filter the prompt was opened with."""
        self._stop_typing()
        self.close()
        if self._shown != self._opened_with:
            self._shown = self._opened_with
            self.post_message(self.Applied(self, self._opened_with))

    def _stop_typing(self) -> None:
        if self._typing is not None:
            self._typing.stop()
            self._typing = None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if not self.has_class("open"):
            return
        self._stop_typing()
        self._typing = self.set_timer(TYPE_DELAY, self._typed)

    def _typed(self) -> None:
        self._typing = None
        text = self._field.value.strip() if self._field is not None else ""
        self.run_worker(self._apply(text, live=True), group="filter", exclusive=True,
                        exit_on_error=False)

    def close(self) -> None:
        """Hide the prompt and its error; the focus goes back where it was."""
        self.remove_class("open")
        self.query_one(".filter-error", Static).remove_class("open")
        if self._return_to is not None and self._return_to.is_attached:
            self._return_to.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._stop_typing()
        self.run_worker(self._apply(event.value.strip()), group="filter", exclusive=True,
                        exit_on_error=False)

    async def _apply(self, text: str, live: bool = False) -> None:
        """Check ``text`` and apply it; ``live`` (while typing) keeps the prompt open and
        leaves a half-typed filter unflagged."""
        error = self.query_one(".filter-error", Static)
        if text:
            try:  # check first: a bad filter keeps the prompt open with a pointer
                await self.app.run_db(self.check, text)  # type: ignore[attr-defined]
            except FilterError as exc:
                if live:
                    return
                pointer = Text(" " * (exc.column - 1) + "^ ", style="bold")
                pointer.append(safe(exc.reason))
                error.update(pointer)
                error.add_class("open")
                return
            except Exception as exc:  # noqa: BLE001 - one notice, never a traceback
                if live:
                    return
                message = exc.one_line() if isinstance(exc, MltuiError) else \
                    f"{type(exc).__name__}: {exc}"
                self.app.notify(message, severity="error", markup=False)
                return
        error.remove_class("open")
        if not live:
            self.close()
        if text != self._shown:
            self._shown = text
            self.post_message(self.Applied(self, text))
