"""Small pickers: the sort order of the versions table."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.catalog import metric_direction
from ..widgets.text import lit


def sort_choices(metric_keys: list[str]) -> list[tuple[str, str]]:
    """``(sort text, label)`` pairs: newest/oldest, then each metric best-first and worst-first."""
    choices = [("", "newest first"), ("created", "oldest first"), ("-version", "version ↓"),
               ("version", "version ↑")]
    for key in metric_keys:
        quoted = f"`{key}`" if any(c in key for c in " ()[]'\"") else key
        best_desc = metric_direction(key) == "max"
        choices.append((f"{'-' if best_desc else ''}metrics.{quoted}", f"{key} best first"))
        choices.append((f"{'' if best_desc else '-'}metrics.{quoted}", f"{key} worst first"))
    return choices


class SortPicker(ModalScreen[str | None]):
    """Choose the order of the versions table (enter picks, esc cancels)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sort.cancel")]
    DEFAULT_CSS = """
    SortPicker > Vertical { width: 40; height: auto; max-height: 80%; }
    SortPicker OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, metric_keys: list[str], current: str):
        super().__init__()
        self.choices = sort_choices(metric_keys)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Sort versions by", style="bold"), classes="dialog-title")
            yield OptionList(*[Option(lit(label), id=str(index))
                               for index, (_, label) in enumerate(self.choices)])

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        values = [value for value, _ in self.choices]
        option_list.highlighted = values.index(self.current) if self.current in values else 0
        option_list.focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
