"""``mltui keys``: the app's effective keymap (defaults, with the user's config applied)."""

from __future__ import annotations

import click

from .base import _console, _text, cli, emit_json, info


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def keys(as_json: bool) -> None:
    """Every key of the app with its binding id, after the keymap in your config.

    \b
    mltui keys
    Rebind in ~/.config/mltui/config.yaml (or $MLTUI_CONFIG):  keymap: {browse.promote: P}
    """
    from rich.table import Table

    from ..tui.app import config_path  # Textual is imported: only this command needs the app's keys
    from ..tui.keymap import display_key, effective_keymap, load_keymap

    path = config_path()
    keymap, problems = load_keymap(path)
    rows = effective_keymap(keymap)
    if as_json:
        return emit_json(rows)
    table = Table(box=None, pad_edge=False)
    for column in ("binding id", "keys", "action", ""):
        table.add_column(column)
    for row in rows:
        shown = ", ".join(display_key(k.strip()) for k in row["keys"].split(","))
        table.add_row(_text(row["id"]), _text(shown), _text(row["action"]),
                      _text("(remapped)" if row["keys"] != row["default"] else "", "dim"))
    _console().print(table)
    for problem in problems:
        info(f"warning: {problem}")
    if keymap:
        info(f"keymap from {path}")
