"""A team's MLflow tracking server: ``remote add``, ``remote ls``, ``pull``.

Promotions and rollbacks of pulled models write through to the server by themselves (the
catalog ``_open`` gives is wired to :mod:`mltui.services.remote`); see docs/remote.md.
"""

from __future__ import annotations

import sys

import click

from .base import _console, _open, cli, emit_json, info, out


@cli.group()
def remote() -> None:
    """MLflow tracking servers this project pulls from and writes through to.

    \b
    mltui remote add team https://mlflow.example.com
    mltui remote ls
    """


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.pass_context
def remote_add(ctx: click.Context, name: str, url: str) -> None:
    """Add (or re-point) a remote in the project config; credentials never go there.

    \b
    mltui remote add team https://mlflow.example.com
    (then: export MLFLOW_TRACKING_TOKEN=... ; mltui pull team)
    """
    from ..core.config import save_remote

    with _open(ctx, create="on-write") as cat:  # a remote can come before the first import
        path = save_remote(cat.path, name, url)
    info(f"remote {name} → {url.rstrip('/')} (saved in {path}; credentials come from "
         "MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD)")


@remote.command("ls")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def remote_ls(ctx: click.Context, as_json: bool) -> None:
    """List the remotes, when each was last pulled and the models synced with it.

    \b
    mltui remote ls
    """
    from ..core.config import load_config
    from ..display import fmt_age

    with _open(ctx, create="on-write") as cat:
        remotes = load_config(cat.path).remotes
        links = cat.remote_links()
        rows = []
        for name, url in sorted(remotes.items()):
            state = cat.remote_state(name) or {}
            rows.append({"name": name, "url": url, "pulled_at": state.get("pulled_at"),
                         "models": [link["model"] for link in links if link["remote"] == name]})
        now = cat.now()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        info("no remotes; add one: mltui remote add NAME URL")
    for row in rows:
        pulled = f"pulled {fmt_age(row['pulled_at'], now)} ago" if row["pulled_at"] \
            else "never pulled"
        models = ", ".join(row["models"]) or "no models synced"
        out(f"{row['name']}\t{row['url']}\t{pulled}\t{models}")


@cli.command()
@click.argument("remote_name", metavar="[REMOTE]", required=False)
@click.option("--experiment", "-e", help="Only this experiment's runs (name or id).")
@click.option("--model", "-m", help="Only this registered model (its versions and aliases).")
@click.option("--full", is_flag=True, help="List every run again, not only the new ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def pull(ctx: click.Context, remote_name: str | None, experiment: str | None,
         model: str | None, full: bool, as_json: bool) -> None:
    """Bring what changed on an MLflow tracking server into the catalog, all or nothing.

    \b
    mltui pull team
    mltui pull team --model fraud --json
    """
    from ..services.remote import pull as pull_remote

    with _open(ctx, create="on-write") as cat:
        show_progress = sys.stderr.isatty() and not as_json
        progress = None
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            bar = Progress(TextColumn("pulling"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.description}"), console=_console(stderr=True),
                           transient=True)
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label)

            bar.start()
        try:
            summary = pull_remote(cat, remote_name, experiment=experiment, model=model,
                                  full=full, on_progress=progress)
        finally:
            if show_progress:
                bar.stop()
    if as_json:
        emit_json(summary.as_dict())
        return
    for line in summary.merged:
        info(f"merged: {line}")
    for line in summary.warnings[:20]:
        info(f"warning: {line}")
    line = summary.one_line()
    if summary.stages_set:
        line += f"; {summary.stages_set} stage change(s) from the server"
    info(line)


@cli.command()
@click.argument("remote_name", metavar="[REMOTE]", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def push(ctx: click.Context, remote_name: str | None, as_json: bool) -> None:
    """Send stage moves made without write-through (Python API) to the server as aliases.

    \b
    mltui push team
    """
    from ..services.remote import push as push_remote

    with _open(ctx) as cat:
        done = push_remote(cat, remote_name)
    if as_json:
        emit_json(done)
        return
    for item in done:
        before = f"v{item['from']}" if item["from"] is not None else "unset"
        info(f"{item['stage']}: server alias {before} → v{item['to']}")
    info(f"pushed {len(done)} stage change(s)" if done else "nothing to push")
