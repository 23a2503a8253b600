"""Small pickers: the sort order and the metric and param columns of the versions table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from ...core.catalog import metric_direction
from ..columns import save_columns
from ..widgets.text import lit


def _quoted(key: str) -> str:
    """``key`` as the filter language reads it after ``metrics.``/``params.``."""
    return f"`{key}`" if any(c in key for c in " ()[]'\"") else key


def sort_choices(metric_keys: list[str], param_keys: list[str] = ()) -> list[tuple[str, str]]:
    """``(sort text, label)`` pairs: newest/oldest, each metric best-first and worst-first,
    then each chosen param column ascending and descending."""
    choices = [("", "newest first"), ("created", "oldest first"), ("-version", "version ↓"),
               ("version", "version ↑")]
    for key in metric_keys:
        quoted = _quoted(key)
        best_desc = metric_direction(key) == "max"
        choices.append((f"{'-' if best_desc else ''}metrics.{quoted}", f"{key} best first"))
        choices.append((f"{'' if best_desc else '-'}metrics.{quoted}", f"{key} worst first"))
    for key in param_keys:
        choices.append((f"params.{_quoted(key)}", f"params.{key} ↑"))
        choices.append((f"-params.{_quoted(key)}", f"params.{key} ↓"))
    return choices


class SortPicker(ModalScreen[str | None]):
    """Choose the order of the versions table (enter picks, esc cancels)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sort.cancel")]
    DEFAULT_CSS = """
    SortPicker > Vertical { width: 40; height: auto; max-height: 80%; }
    SortPicker OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, metric_keys: list[str], current: str, param_keys: list[str] = ()):
        super().__init__()
        self.choices = sort_choices(metric_keys, list(param_keys))
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


class ColumnPicker(ModalScreen[tuple[list[str], list[str]] | None]):
    """Choose the metric and param columns of a model's table (space toggles, enter saves,
    esc cancels); answers ``(metrics, params)``."""

    BINDINGS = [Binding("enter", "save", "Save", id="columns.save", priority=True),
                Binding("escape", "cancel", "Cancel", id="columns.cancel")]
    DEFAULT_CSS = """
    ColumnPicker > Vertical { width: 44; height: auto; max-height: 80%; }
    ColumnPicker SelectionList { height: auto; max-height: 16; border: none; }
    """

    def __init__(self, model: str, metric_keys: list[str], current: list[str],
                 param_keys: list[str] = (), current_params: list[str] = ()):
        super().__init__()
        self.model = model
        # The current columns first, in their order, then every other metric of the model;
        # then the params the same way (``params.lr``).
        current_params = list(current_params)
        self.items: list[tuple[str, str, bool]] = [
            *[("metrics", key, True) for key in current],
            *[("metrics", key, False) for key in metric_keys if key not in current],
            *[("params", key, True) for key in current_params],
            *[("params", key, False) for key in param_keys if key not in current_params]]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text.assemble(("Columns of ", "bold"), lit(self.model, "bold")),
                         classes="dialog-title")
            yield SelectionList[int](*[
                (Text.assemble(("params.", "dim"), lit(key)) if kind == "params" else lit(key),
                 index, checked) for index, (kind, key, checked) in enumerate(self.items)])
            yield Static(Text("space toggles · enter saves · esc cancels", style="dim"))

    def on_mount(self) -> None:
        selection = self.query_one(SelectionList)
        selection.highlighted = 0
        selection.focus()

    def action_save(self) -> None:
        """``enter``: the checked metrics and params, each in the list's order."""
        checked = set(self.query_one(SelectionList).selected)
        chosen = [item for index, item in enumerate(self.items) if index in checked]
        self.dismiss(([key for kind, key, _ in chosen if kind == "metrics"],
                      [key for kind, key, _ in chosen if kind == "params"]))

    def action_cancel(self) -> None:
        self.dismiss(None)


async def choose_columns(screen: Any) -> None:
    """Browse's ``C``: pick the selected model's metric and param columns, save them, reload
    the table.

    The dialog answers through a callback, not ``push_screen_wait``: no worker stays pending
    while it is open.
    """
    model = screen.model
    if model is None:
        screen.app.notify("choose a model first: columns are kept per model", markup=False)
        return
    every = await screen.db(screen.catalog.metric_keys, model=model)
    every_param = await screen.db(screen.catalog.param_keys, model=model)

    async def save(metrics: list[str], params: list[str]) -> None:
        path = await screen.db(save_columns, screen.catalog.path, model, metrics, params)
        screen.app.notify(f"columns of {model} saved in {path}", markup=False)
        screen.load_versions(keep=True)

    def answered(chosen: tuple[list[str], list[str]] | None) -> None:
        if chosen is not None:
            screen.run_worker(save(*chosen), group="columns", exit_on_error=False)

    screen.app.push_screen(ColumnPicker(model, every, screen.metric_keys, every_param,
                                        screen.param_keys), answered)
