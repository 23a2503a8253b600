"""The shell's view of the commands: ``completion SHELL`` and ``help COMMAND``.

Completion is click's own mechanism (the script calls ``mltui`` back with
``_MLTUI_COMPLETE=<shell>_complete``); this module adds completers for model names, stages and
references.  They read the nearest catalog with a read-only ``sqlite3`` connection and import
nothing else: a Tab must answer in well under 100 ms, never create or migrate a catalog, and
say nothing at all when there is no catalog (or it cannot be read).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem, get_completion_class

from .base import cli, fail, registered

SHELLS = ("bash", "zsh", "fish")
DEFAULT_STAGES = ("production", "staging")
MAX_ITEMS = 500  # a Tab on a catalog of 100k versions lists the newest ones, not all of them


# --------------------------------------------------------------------------------------------
# Reading the catalog for a Tab


def _catalog_file(ctx: click.Context) -> Path | None:
    """The catalog a completed command would use, without importing the catalog module."""
    root = ctx.find_root()
    explicit = (root.obj or {}).get("catalog") or root.params.get("catalog") \
        or os.environ.get("MLTUI_CATALOG")
    if explicit:
        target = Path(explicit).expanduser()
        if target.is_dir():
            target = target / "catalog.db" if target.name == ".mltui" else \
                target / ".mltui" / "catalog.db"
        return target if target.is_file() else None
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / ".mltui" / "catalog.db"
        if candidate.is_file():
            return candidate
    return None


def _rows(ctx: click.Context, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on the nearest catalog; none when there is no readable one."""
    path = _catalog_file(ctx)
    if path is None:
        return []
    try:
        uri = Path(path).absolute().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=0.05)) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.Error:  # locked, corrupt, an older schema: a Tab stays silent
        return []


def complete_model(ctx: click.Context, _param: click.Parameter, incomplete: str
                   ) -> list[CompletionItem]:
    """Model names starting with what was typed."""
    return [CompletionItem(name) for (name,) in _rows(
        ctx, "SELECT name FROM models WHERE substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
        (len(incomplete), incomplete, MAX_ITEMS))]


def complete_stage(ctx: click.Context, _param: click.Parameter, incomplete: str
                   ) -> list[CompletionItem]:
    """Stages and aliases in use, plus production and staging."""
    stages = {s for (s,) in _rows(ctx, "SELECT DISTINCT stage FROM stages")} | set(DEFAULT_STAGES)
    return [CompletionItem(s) for s in sorted(stages) if s.startswith(incomplete)]


def complete_ref(ctx: click.Context, _param: click.Parameter, incomplete: str
                 ) -> list[CompletionItem]:
    """References: ``model``, ``model@N``, ``model@latest``, ``model@stage``, ``run:``, ``data:``."""
    if incomplete.startswith("run:"):
        return [CompletionItem(f"run:{uid}") for (uid,) in _rows(
            ctx, "SELECT uid FROM runs WHERE substr(uid, 1, ?) = ? ORDER BY id DESC LIMIT ?",
            (len(incomplete) - 4, incomplete[4:], MAX_ITEMS))]
    if incomplete.startswith("data:"):
        return [CompletionItem(f"data:{name}@{version}") for name, version in _rows(
            ctx, "SELECT name, version FROM dataset_versions ORDER BY name, version DESC LIMIT ?",
            (MAX_ITEMS,)) if f"data:{name}@{version}".startswith(incomplete)]
    model, at, _ = incomplete.partition("@")
    if not at:
        models = complete_model(ctx, _param, incomplete)
        if len(models) != 1:  # several models: let the shell narrow the name first
            return models
        model = models[0].value
    refs = [f"{model}@latest"]
    refs += [f"{model}@{stage}" for (stage,) in _rows(
        ctx, "SELECT s.stage FROM stages s JOIN models m ON m.id = s.model_id WHERE m.name = ? "
             "AND s.version_id IS NOT NULL ORDER BY s.stage", (model,))]
    refs += [f"{model}@{version}" for (version,) in _rows(
        ctx, "SELECT v.version FROM model_versions v JOIN models m ON m.id = v.model_id "
             "WHERE m.name = ? ORDER BY v.version DESC LIMIT ?", (model, MAX_ITEMS))]
    if len(refs) == 1 and not _rows(ctx, "SELECT 1 FROM models WHERE name = ?", (model,)):
        return []
    return [CompletionItem(r) for r in refs if r.startswith(incomplete)]


def complete_path(_ctx: click.Context, _param: click.Parameter, incomplete: str
                  ) -> list[CompletionItem]:
    """Let the shell complete a file or folder name (``--catalog PATH``)."""
    return [CompletionItem(incomplete, type="file")]


# Which completer a parameter gets, by its name: the commands stay free of completion details.
COMPLETERS: dict[str, Callable[..., list[CompletionItem]]] = {
    "ref": complete_ref, "refs": complete_ref, "model": complete_model,
    "start_model": complete_model, "stage": complete_stage, "catalog": complete_path,
    "catalog_anywhere": complete_path,
}


def attach_completers(group: click.Group) -> None:
    """Give every ``REF``/``MODEL`` argument and ``--model``/``--stage`` option its completer."""
    for command in registered(group).values():
        if isinstance(command, click.Group):
            attach_completers(command)
        for param in command.params:
            completer = COMPLETERS.get(param.name or "")
            if completer is not None and getattr(param, "_custom_shell_complete", None) is None \
                    and not getattr(param, "is_flag", False):
                param._custom_shell_complete = completer  # click's own hook for shell_complete=
    for param in group.params:
        if param.name in COMPLETERS:
            param._custom_shell_complete = COMPLETERS[param.name]


# --------------------------------------------------------------------------------------------
# The commands


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    Completes commands, options, model names, stages and references from the nearest catalog.

    \b
    eval "$(mltui completion bash)"                     # in ~/.bashrc
    eval "$(mltui completion zsh)"                      # in ~/.zshrc
    mltui completion fish > ~/.config/fish/completions/mltui.fish
    """
    cls = get_completion_class(shell)
    assert cls is not None  # every choice is one of click's shells
    click.echo(cls(cli, {}, "mltui", "_MLTUI_COMPLETE").source())


@cli.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Show the help of COMMAND (a command group's subcommand too).

    \b
    mltui help check
    mltui help gate add
    """
    target: click.Command = cli
    parent = ctx.find_root()
    sub = parent
    for name in command:
        if not isinstance(target, click.Group) or target.get_command(ctx, name) is None:
            fail(f"no such command: {' '.join(command)} (the commands: mltui --help)")
        target = target.get_command(ctx, name)
        sub = click.Context(target, info_name=name, parent=sub)
    click.echo(target.get_help(sub))
