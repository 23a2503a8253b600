"""A yes/no question (the one dialog every "are you sure" in the app uses) and a one-line prompt."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..widgets.text import lit


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question: ``y`` confirms, ``n`` or esc keeps things as they are.

    ``q`` is bound too (as "no"), so a second ``q`` while the app asks whether to quit never
    reaches the app's quit binding and skips the question.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape,q", "answer(False)", "No", id="confirm.no"),
    ]
    DEFAULT_CSS = """
    ConfirmDialog > Vertical { width: 60; }
    """

    def __init__(self, question: str, detail: str = ""):
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(lit(self.question, "bold", multiline=True), classes="dialog-title")
            if self.detail:
                yield Static(lit(self.detail, multiline=True))
            yield Static(Text.assemble(("y", "bold"), (" yes   ", "dim"), ("n", "bold"),
                                       (" no", "dim")))

    def action_answer(self, answer: bool) -> None:
        """Close the dialog with the answer."""
        self.dismiss(answer)


class TextPrompt(ModalScreen[str | None]):
    """One line of text: ``enter`` answers with it (empty allowed), esc answers None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]
    DEFAULT_CSS = """
    TextPrompt > Vertical { width: 60; }
    TextPrompt SteadyInput { margin-bottom: 1; }
    """

    def __init__(self, question: str, *, placeholder: str = "", hint: str = ""):
        super().__init__()
        self.question = question
        self.placeholder = placeholder
        self.hint = hint

    def compose(self) -> ComposeResult:
        from ..widgets.inputs import SteadyInput

        with Vertical(classes="dialog"):
            yield Static(lit(self.question, "bold", multiline=True), classes="dialog-title")
            yield SteadyInput(placeholder=self.placeholder, compact=True)
            if self.hint:
                yield Static(Text(self.hint, style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """``enter``: the text typed (stripped; empty is an answer too)."""
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """``esc``: no answer."""
        self.dismiss(None)
