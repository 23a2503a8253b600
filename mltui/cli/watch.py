"""``mltui watch``: follow training runs as their logs grow (a loop of ordinary imports)."""

from __future__ import annotations

import sys
import time

import click

from .base import _console, _open, _text, cli, out


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", metavar="NAME",
              help="Register each run as the next version of NAME when it finishes, then check "
                   "its gates and compare it with production.")
@click.option("--metric", "metrics", multiple=True, metavar="KEY",
              help="Metric for the verdict against production (default: the gates' metrics).")
@click.option("--stall-after", type=click.FloatRange(min=0, min_open=True), default=300.0,
              show_default=True, metavar="SECONDS",
              help="A run whose log has not grown for this long shows as stalled.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              metavar="SECONDS", help="How often to look for new data.")
@click.option("--format", "fmt", metavar="NAME", help="Force a format (see import --list-formats).")
@click.option("--once", is_flag=True, help="One pass: import, print what changed, exit.")
@click.pass_context
def watch(ctx: click.Context, paths: tuple[str, ...], model: str | None,
          metrics: tuple[str, ...], stall_after: float, interval: float, fmt: str | None,
          once: bool) -> None:
    """Follow run logs under PATHS as training writes them; Ctrl-C stops.

    New runs appear, growing logs are imported again (only changed logs are read), a run whose
    log stops growing shows as stalled, and the writer's own end marker marks it finished.
    On a terminal a status table updates in place; otherwise one line per change.

    \b
    mltui watch runs/
    mltui watch mlruns/ --model fraud --metric val/f1 --stall-after 600
    """
    from ..services.watch import WatchState

    with _open(ctx, create="on-write") as cat:
        state = WatchState(cat, list(paths), model=model, stall_after=stall_after,
                           format=fmt, metrics=list(metrics))
        live = sys.stdout.isatty() and not once
        try:
            if live:
                _live_loop(state, interval)
            else:
                _line_loop(state, interval, once)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a watch ends: not an error


def _line_loop(state, interval: float, once: bool) -> None:
    """One line per change (pipes, logs, CI): nothing is printed while nothing changes."""
    while True:
        for change in state.poll():
            out(change.text)
        sys.stdout.flush()
        if once:
            return
        time.sleep(interval)  # the poll interval itself, not a timing assumption


def _live_loop(state, interval: float) -> None:
    """A status table redrawn only when something changed, with the last changes under it."""
    from rich.console import Group
    from rich.live import Live

    recent: list[str] = []
    console = _console()
    # auto_refresh off: an unchanged screen costs no bytes to the terminal (SSH, tmux).
    with Live(console=console, auto_refresh=False, transient=False) as live:
        while True:
            changes = state.poll()
            if changes or not recent:
                recent = (recent + [c.text for c in changes])[-5:]
                live.update(Group(status_table(state), *(_text(line, "dim") for line in recent)),
                            refresh=True)
            time.sleep(interval)


_STATE_STYLE = {"running": "green", "stalled": "yellow", "finished": "blue"}


def status_table(state):
    """The compact table: one row per run, running first, then stalled, then finished."""
    from rich.table import Table

    from ..display import fmt_number

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("state", "run", "format", "step", "points", "steps/s", "version"):
        table.add_column(name, no_wrap=True, justify="right" if name in (
            "step", "points", "steps/s") else "left")
    order = {"running": 0, "stalled": 1, "finished": 2}
    for run in sorted(state.runs.values(), key=lambda r: (order[r.state], r.name)):
        rate = run.steps_per_second()
        table.add_row(_text(run.state, _STATE_STYLE[run.state]), _text(run.name),
                      _text(run.format), _text("" if run.last_step is None else run.last_step),
                      _text(f"{run.points:,}"), _text("" if rate is None else fmt_number(rate, 3)),
                      _text(run.version or ""))
    if not state.runs:
        table.add_row(_text("waiting", "dim"), _text("no run logs yet"), *[_text("")] * 5)
    return table
