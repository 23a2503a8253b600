"""Getting runs in: ``init``, ``import`` and ``demo``."""

from __future__ import annotations

import sys

import click

from .base import _console, _open, _run_app, cli, emit_json, info, out


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True,
              help="Start over an empty (0-byte) catalog file; one with content is never replaced.")
@click.pass_context
def init(ctx: click.Context, folder: str | None, force: bool) -> None:
    """Create a catalog in FOLDER/.mltui/catalog.db (default: here).

    \b
    mltui init
    mltui init ~/projects/fraud
    """
    from ..core.catalog import init_catalog

    target = ctx.obj.get("catalog") or folder
    cat, created = init_catalog(target, force=force)
    with cat:
        info(f"{'created' if created else 'already exists:'} catalog {cat.path}")
        out(str(cat.path))


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", metavar="NAME", help="Force a format (see --list-formats).")
@click.option("--dataset", "datasets", multiple=True, type=click.Path(),
              help="Hash this file/folder and link it as an input of every imported run.")
@click.option("--model", metavar="NAME", help="Register each imported run's artifact as the next version of NAME.")
@click.option("--skip-invalid", is_flag=True, help="Import the good logs, list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors (for cron).")
@click.option("--wait", type=click.FloatRange(min=0), default=300.0, show_default=True,
              metavar="SECONDS",
              help="How long to wait for another import of the same folder to finish.")
@click.pass_context
def import_(ctx: click.Context, paths: tuple[str, ...], fmt: str | None, datasets: tuple[str, ...],
            model: str | None, skip_invalid: bool, dry_run: bool, as_json: bool, quiet: bool,
            wait: float) -> None:
    """Import run logs (MLflow, HF Trainer, Ultralytics, DVC, Lightning, TensorBoard, Keras,
    detectron2, JSONL/CSV) from PATHS, all or nothing.

    \b
    mltui import mlruns/ --model fraud
    mltui import runs/detect/train --dataset data/coco.yaml
    """
    from ..services.ingest import import_paths  # readers and YAML only when importing

    # The file is made on the first write: an import that fails leaves no empty catalog behind.
    with _open(ctx, create="on-write") as cat:
        progress = None
        show_progress = sys.stderr.isatty() and not as_json and not quiet
        say = (lambda line: None) if quiet else info
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            bar = Progress(TextColumn("reading logs"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.description}"), console=_console(stderr=True),
                           transient=True)
            task = bar.add_task("", total=None)

            def progress(done: int, total: int, path: str) -> None:
                bar.update(task, completed=done, total=total, description=_short(path))

            bar.start()
        try:
            summary = import_paths(cat, list(paths), format=fmt, datasets=list(datasets),
                                   model=model, skip_invalid=skip_invalid, dry_run=dry_run,
                                   on_progress=progress, wait=wait, on_wait=say)
        finally:
            if show_progress:
                bar.stop()
        if as_json:
            emit_json(summary.as_dict())
        else:
            for line in summary.skipped:
                say(f"skipped: {line}")
            for line in summary.merged:
                say(f"merged: {line}")
            for line in summary.warnings[:20]:
                say(f"warning: {line}")
            for line in summary.not_ready:
                say(f"not ready yet: {line}")
            say(summary.one_line())



def _short(path: str, width: int = 50) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1):]




@cli.command()
@click.option("--rebuild", is_flag=True, help="Build the demo catalog again from scratch.")
@click.option("--no-app", is_flag=True, help="Build it and print its path and summary only.")
@click.pass_context
def demo(ctx: click.Context, rebuild: bool, no_app: bool) -> None:
    """Build the sample project's catalog (outside the repo, once) and open it in the app.

    \b
    mltui demo
    mltui demo --no-app --rebuild
    """
    from ..demo import build_demo_catalog

    path = build_demo_catalog(rebuild=rebuild, progress=info)
    from ..core.catalog import open_catalog

    cat = open_catalog(path, notice=info)
    if no_app:
        with cat:
            summary = cat.summary()
        out(str(path))
        info(", ".join(f"{k}: {v}" for k, v in summary.items() if k not in ("path", "schema_version")))
        return
    _run_app(cat)
