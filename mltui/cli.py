"""The ``mltui`` command line: parse, call the catalog, print.

Data goes to stdout, messages to stderr; every read command has ``--json``.  Exit codes: 0
success, 1 a check or gate failed, 2 bad input or usage.  Errors are one line, never a
traceback (``MLTUI_DEBUG=1`` shows it).  Only ``mltui`` (no command) and ``mltui demo`` import
Textual; everything else starts fast.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from .core.errors import GateFailed, MltuiError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


# --------------------------------------------------------------------------------------------
# Output helpers (Rich is imported lazily: `mltui --help` must stay fast)


def _console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    is_tty = stream.isatty()
    width = None if is_tty else int(os.environ.get("COLUMNS", "0") or 0) or 160
    return Console(file=stream, width=width, highlight=False, soft_wrap=False,
                   no_color=bool(os.environ.get("NO_COLOR")) or None)


def _text(value: Any, style: str = ""):
    """User text as a Rich Text: never parsed as markup, control characters made visible."""
    from rich.text import Text

    from .display import safe

    return Text(safe(value), style=style)


def info(message: str) -> None:
    """A message for the human on stderr (plain text, never markup)."""
    from rich.text import Text

    _console(stderr=True).print(Text(message))


def emit_json(data: Any) -> None:
    """Machine output on stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one error line on stderr and exit."""
    click.echo(f"mltui: error: {message}", err=True)
    sys.exit(code)


def _open(ctx: click.Context, *, create: bool = False):
    from .core.catalog import open_catalog

    cat = open_catalog(ctx.obj.get("catalog"), create=create)
    for warning in cat.warnings:
        info(f"warning: {warning}")
    return cat


# --------------------------------------------------------------------------------------------
# The group: error handling in one place


class MltuiGroup(click.Group):
    """A click group that turns every error into one line and an exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102 - click entry point
        kwargs.setdefault("standalone_mode", False)
        try:
            result = super().main(*args, **kwargs)
            if isinstance(result, int):
                sys.exit(result)
            return result
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"mltui: error: {exc.format_message()}", err=True)
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                click.echo(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
            sys.exit(EXIT_USAGE)
        except click.Abort:
            click.echo("mltui: aborted", err=True)
            sys.exit(130)
        except MltuiError as exc:
            if os.environ.get("MLTUI_DEBUG"):
                raise
            click.echo(f"mltui: error: {exc.one_line()}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("mltui: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(0)
        except sqlite3.DatabaseError as exc:
            if os.environ.get("MLTUI_DEBUG"):
                raise
            from .core.db import is_locked_error

            if is_locked_error(exc):
                click.echo("mltui: error: the catalog is locked by another process; wait for it "
                           "to finish and try again, or raise MLTUI_BUSY_TIMEOUT", err=True)
            else:
                click.echo(f"mltui: error: the catalog could not be read ({exc}); check the file "
                           "with `mltui --catalog PATH ls`, or restore its backup", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
            if os.environ.get("MLTUI_DEBUG"):
                raise
            click.echo(f"mltui: internal error: {type(exc).__name__}: {exc} (run with "
                       "MLTUI_DEBUG=1 for the traceback and report it)", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=MltuiGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--catalog", "catalog", metavar="PATH", envvar="MLTUI_CATALOG",
              help="Catalog file or folder (default: nearest .mltui/catalog.db upwards).")
@click.option("--model", "start_model", metavar="NAME", help="Open the app on this model.")
@click.option("--all", "start_all", is_flag=True, help="Open the app on all versions of all models.")
@click.version_option(package_name="mltui", prog_name="mltui")
@click.pass_context
def cli(ctx: click.Context, catalog: str | None, start_model: str | None, start_all: bool) -> None:
    """Version, compare, document, promote and roll back ML models.

    Run without a command to open the app on the nearest catalog.
    """
    ctx.ensure_object(dict)
    ctx.obj["catalog"] = catalog
    if ctx.invoked_subcommand is None:
        cat = _open(ctx)
        if start_model:
            cat.model_id(start_model)  # an unknown model is a clear error before the app opens
        _run_app(cat, "*" if start_all else start_model)


def _run_app(cat, start: str | None = None) -> None:
    from .tui.app import run_app  # Textual is imported only here

    run_app(cat, start)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="mltui")


# --------------------------------------------------------------------------------------------
# init, import


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.pass_context
def init(ctx: click.Context, folder: str | None) -> None:
    """Create a catalog in FOLDER/.mltui/catalog.db (default: here)."""
    from .core.catalog import init_catalog

    target = ctx.obj.get("catalog") or folder
    cat, created = init_catalog(target)
    with cat:
        info(f"{'created' if created else 'already exists:'} catalog {cat.path}")
        click.echo(str(cat.path))


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", metavar="NAME", help="Force a format (see --list-formats).")
@click.option("--dataset", "datasets", multiple=True, type=click.Path(),
              help="Hash this file/folder and link it as an input of every imported run.")
@click.option("--model", metavar="NAME", help="Register each imported run's artifact as the next version of NAME.")
@click.option("--skip-invalid", is_flag=True, help="Import the good logs, list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def import_(ctx: click.Context, paths: tuple[str, ...], fmt: str | None, datasets: tuple[str, ...],
            model: str | None, skip_invalid: bool, dry_run: bool, as_json: bool) -> None:
    """Import run logs (MLflow, HF Trainer, Ultralytics, DVC, Lightning, TensorBoard, Keras,
    detectron2, JSONL/CSV) from PATHS, all or nothing.

    \b
    mltui import mlruns/ --model fraud
    mltui import runs/detect/train --dataset data/coco.yaml
    """
    with _open(ctx, create=True) as cat:
        progress = None
        show_progress = sys.stderr.isatty() and not as_json
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
            summary = cat.import_path(list(paths), format=fmt, datasets=list(datasets),
                                      model=model, skip_invalid=skip_invalid, dry_run=dry_run,
                                      on_progress=progress)
        finally:
            if show_progress:
                bar.stop()
        if as_json:
            emit_json(summary.as_dict())
        else:
            for line in summary.skipped:
                info(f"skipped: {line}")
            for line in summary.warnings[:20]:
                info(f"warning: {line}")
            info(summary.one_line())


def _short(path: str, width: int = 50) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1):]


# --------------------------------------------------------------------------------------------
# ls, show


@cli.command("ls")
@click.argument("what", required=False, default="versions",
                type=click.Choice(["models", "versions", "runs", "datasets"]))
@click.option("--model", "-m", metavar="NAME", help="Only this model's versions.")
@click.option("--filter", "-f", "filter_", metavar="EXPR", help="e.g. \"metrics.f1 > 0.8 and params.lr = '0.01'\"")
@click.option("--sort", "-s", metavar="KEY", help="e.g. metrics.loss, -metrics.f1, created")
@click.option("--limit", "-n", type=click.IntRange(1), default=50, show_default=True)
@click.option("--metrics", "metric_keys", metavar="K1,K2", help="Metric columns to show.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ls(ctx: click.Context, what: str, model: str | None, filter_: str | None, sort: str | None,
       limit: int, metric_keys: str | None, as_json: bool) -> None:
    """List models, versions (default), runs or datasets.

    \b
    mltui ls models
    mltui ls -m fraud -f "metrics.f1 > 0.8" -s -metrics.f1
    mltui ls runs -f "attributes.status = 'FINISHED' and tags.team = 'vision'"
    """
    from rich.table import Table

    from .display import fmt_age, fmt_number, short_hash

    with _open(ctx) as cat:
        if what == "models":
            rows = cat.models()
            if as_json:
                return emit_json(rows)
            table = Table(box=None, pad_edge=False)
            for column in ("model", "versions", "latest", "stages", "description"):
                table.add_column(column)
            for row in rows:
                stages = " ".join(f"{s}=v{v}" for s, v in row["stages"].items())
                table.add_row(_text(row["name"]), str(row["versions"]), f"v{row['latest'] or '—'}",
                              _text(stages), _text((row["description"] or "").split("\n")[0][:60]))
            return _console().print(table)
        if what == "datasets":
            rows = cat.datasets()
            if as_json:
                return emit_json(rows)
            table = Table(box=None, pad_edge=False)
            for column in ("dataset", "hash", "rows", "size", "runs", "path"):
                table.add_column(column)
            for row in rows:
                table.add_row(_text(f"data:{row['name']}@{row['version']}"),
                              _text(f"{row['hash_algo'] or ''}:{short_hash(row['hash'])}"),
                              fmt_number(row["row_count"]), fmt_number(row["size"]), str(row["runs"]),
                              _text(row["uri_raw"] or ""))
            return _console().print(table)
        keys = [k.strip() for k in metric_keys.split(",") if k.strip()] if metric_keys else None
        if what == "runs":
            ids = cat.run_ids(filter=filter_, sort=sort, limit=limit)
            keys = keys or cat.metric_keys(limit=3)
            rows = cat.runs(ids, metric_keys=keys)
            if as_json:
                return emit_json(rows)
            table = Table(box=None, pad_edge=False)
            for column in ("run", "name", "project", "format", "status", "age", *keys, "versions"):
                table.add_column(column, justify="right" if column in keys else "left")
            for row in rows:
                table.add_row(_text(row["uid"][:12]), _text(row["name"] or ""),
                              _text(row["project"] or ""), _text(row["source_format"]),
                              _text(row["status"] or ""), fmt_age(row["start_time"], cat.now()),
                              *[fmt_number(row["metrics"].get(k)) for k in keys],
                              _text(", ".join(row["versions"])))
            return _console().print(table)
        ids = cat.version_ids(model=model, filter=filter_, sort=sort, limit=limit)
        keys = keys or (cat.key_metrics(model) if model else cat.metric_keys(limit=3))
        rows = cat.versions(ids, metric_keys=keys)
        if as_json:
            return emit_json(rows)
        table = Table(box=None, pad_edge=False)
        for column in ("version", "name", "age", "stages", *keys, "data", "commit"):
            table.add_column(column, justify="right" if column in keys else "left")
        for row in rows:
            table.add_row(_text(f"{row['model']}@{row['version']}"), _text(row["canonical_name"]),
                          fmt_age(row["created_at"], cat.now()), _text(" ".join(row["stages"])),
                          *[fmt_number(row["metrics"].get(k)) for k in keys],
                          _text(", ".join(row["datasets"])), short_hash(row["git_commit"]))
        _console().print(table)
        if not rows:
            info("no versions match" + (f" the filter {filter_!r}" if filter_ else ""))


@cli.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show a version (fraud@3, fraud@production), a run (run:ab12) or a dataset (data:x@2)."""
    from rich.table import Table

    from .display import fmt_number, fmt_time

    with _open(ctx) as cat:
        if ref.startswith("run:"):
            data = cat.run_detail(cat.resolve_run(ref))
        elif ref.startswith("data:"):
            graph = cat.lineage(ref, depth=1)
            data = dict(graph["nodes"][graph["root"]])
            data["derived_from"] = [graph["nodes"][b["key"]]["label"] for b in graph["upstream"]]
            data["used_by"] = [graph["nodes"][b["key"]]["label"] for b in graph["downstream"]]
        else:
            data = cat.version_detail(ref)
        if as_json:
            return emit_json(data)
        console = _console()
        if ref.startswith("data:"):
            for key in ("label", "hash_algo", "hash", "detail", "path", "size", "rows"):
                console.print(_text(f"{key:>10}  {data.get(key) if data.get(key) is not None else '—'}"))
            for key, label in (("derived_from", "from"), ("used_by", "used by")):
                console.print(_text(f"{label:>10}  {', '.join(data[key]) or '—'}"))
            return
        if ref.startswith("run:"):
            head = [("run", data["uid"]), ("name", data["name"]), ("project", data["project"]),
                    ("format", data["source_format"]), ("source", data["source_path"]),
                    ("status", data["status"]), ("started", fmt_time(data["start_time"])),
                    ("commit", data["git_commit"]), ("versions", ", ".join(data["versions"]))]
            metrics, params, tags, datasets = data["metrics"], data["params"], data["tags"], data["datasets"]
        else:
            run = data.get("run") or {}
            head = [("version", data["ref"]), ("name", data["canonical_name"]),
                    ("stages", " ".join(data["stages"]) or "—"), ("status", data["status"]),
                    ("created", f"{fmt_time(data['created_at'])} by {data['created_by']}"),
                    ("run", f"run:{(data['run_uid'] or '—')[:12]} {run.get('name') or ''}"),
                    ("commit", data["git_commit"]),
                    ("artifact", data["artifact_path_raw"] or data["artifact_path"]),
                    ("hash", f"{data['artifact_hash_algo'] or ''}:{data['artifact_hash'] or '—'}"),
                    ("base", ", ".join(data["base_versions"]) or data["base_model"] or "—")]
            metrics, params, tags, datasets = (data["metric_summary"], data["params"],
                                               {**data["run_tags"], **data["tags"]}, data["data"])
        for key, value in head:
            console.print(_text(f"{key:>9}  {value if value not in (None, '') else '—'}"))
        if datasets:
            console.print(_text("     data  " + ", ".join(
                f"data:{d['name']}@{d['version']} ({d['hash_algo']}:{(d['hash'] or '')[:10]})"
                for d in datasets)))
        if metrics:
            table = Table(title="metrics", box=None, pad_edge=False, title_justify="left")
            for column in ("key", "last", "step", "min", "max", "points"):
                table.add_column(column, justify="left" if column == "key" else "right")
            for m in metrics:
                table.add_row(_text(m["key"]), fmt_number(m["last"] if m["last"] is not None else m["last_raw"]),
                              fmt_number(m["last_step"]), fmt_number(m["min"]), fmt_number(m["max"]),
                              str(m["count"]))
            console.print(table)
        if params:
            table = Table(title="params", box=None, pad_edge=False, title_justify="left")
            table.add_column("key")
            table.add_column("value")
            for key, value in params.items():
                table.add_row(_text(key), _text(value))
            console.print(table)
        if tags:
            table = Table(title="tags", box=None, pad_edge=False, title_justify="left")
            table.add_column("key")
            table.add_column("value")
            for key, value in tags.items():
                table.add_row(_text(key), _text(value))
            console.print(table)


# --------------------------------------------------------------------------------------------
# compare


@cli.command()
@click.argument("refs", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]),
              default="table", show_default=True)
@click.option("--metrics", "metric_keys", metavar="K1,K2", help="Only these metrics.")
@click.option("--only-diff", is_flag=True, help="Only params that differ.")
@click.pass_context
def compare(ctx: click.Context, refs: tuple[str, ...], fmt: str, metric_keys: str | None,
            only_diff: bool) -> None:
    """Compare 2–8 versions side by side: metric deltas against the first, params, data.

    \b
    mltui compare fraud@production fraud@7 --format markdown >> $GITHUB_STEP_SUMMARY
    """
    from .report import comparison_csv, comparison_markdown

    keys = [k.strip() for k in metric_keys.split(",") if k.strip()] if metric_keys else None
    with _open(ctx) as cat:
        data = cat.compare(list(refs), metrics=keys)
    if only_diff:
        data["params"] = [row for row in data["params"] if row["differs"]]
    if fmt == "json":
        return emit_json(data)
    if fmt == "markdown":
        return click.echo(comparison_markdown(data), nl=False)
    if fmt == "csv":
        return click.echo(comparison_csv(data), nl=False)
    _console().print(_comparison_table(data))


def _comparison_table(data: dict[str, Any]):
    from rich.table import Table

    from .display import fmt_delta, fmt_number, short_hash

    table = Table(box=None, pad_edge=False)
    table.add_column("")
    for index, ref in enumerate(data["versions"]):
        table.add_column(_text(ref + (" (base)" if index == 0 else "")), justify="right")
    for row in data["metrics"]:
        cells = []
        for index, value in enumerate(row["values"]):
            text = fmt_number(value if value is not None else row["raw"][index])
            if index and row["deltas"][index] is not None:
                text += f" ({fmt_delta(row['deltas'][index])})"
            cell = _text(text, "bold green" if row["best"] == index else "")
            if row["best"] == index:
                cell.append(" ★")
            cells.append(cell)
        table.add_row(_text(f"metrics.{row['key']}"), *cells)
    for row in data["params"]:
        style = "yellow" if row["differs"] else "dim"
        table.add_row(_text(f"params.{row['key']}" + (" ≠" if row["differs"] else ""), style),
                      *[_text(v if v is not None else "—", style) for v in row["values"]])
    table.add_row(_text("data"), *[_text(d or "—") for d in data["datasets"]])
    table.add_row(_text("commit"), *[short_hash(c) for c in data["commits"]])
    return table


# --------------------------------------------------------------------------------------------
# promote, rollback, check, register


def _print_gates(results: list[dict[str, Any]]) -> None:
    for result in results:
        mark = "skip" if result.get("skipped") else ("pass" if result["passed"] else "FAIL")
        info(f"  {mark:4}  {result['rule']}  ({result['detail']})")


@cli.command()
@click.argument("ref")
@click.option("--stage", "-s", default="production", show_default=True, help="Stage or alias.")
@click.option("--reason", "-r", help="Why (recorded in the history).")
@click.option("--force", is_flag=True, help="Promote even when a gate fails (needs --reason).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def promote(ctx: click.Context, ref: str, stage: str, reason: str | None, force: bool,
            as_json: bool) -> None:
    """Point a stage at a version after its gates pass.

    \b
    mltui promote fraud@7 --stage production --reason "better recall on Q3 data"
    mltui promote fraud@8 --force --reason "hotfix, gate re-baselined next sprint"
    """
    with _open(ctx) as cat:
        try:
            result = cat.promote(ref, stage, reason=reason, force=force)
        except GateFailed as exc:
            if as_json:
                emit_json({"ref": ref, "stage": stage, "changed": False, "gates": exc.results,
                           "error": exc.one_line()})
            else:
                _print_gates(exc.results)
            raise
    if as_json:
        return emit_json(result)
    _print_gates(result["gates"])
    if not result["changed"]:
        info(f"{result['ref']} already holds {result['stage']}; nothing changed")
    else:
        forced = " (forced past a failing gate)" if result["forced"] else ""
        info(f"{result['stage']}: {result['from'] or 'none'} → {result['to']}{forced}")


@cli.command()
@click.argument("model")
@click.option("--stage", "-s", default="production", show_default=True)
@click.option("--reason", "-r", help="Why (recorded in the history).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rollback(ctx: click.Context, model: str, stage: str, reason: str | None, as_json: bool) -> None:
    """Move a stage back to the version it held before.

    \b
    mltui rollback fraud --stage production --reason "p99 latency regression"
    """
    if "@" in model:
        fail(f"rollback takes a model name, not a version ({model!r})",)
    with _open(ctx) as cat:
        result = cat.rollback(model, stage, reason=reason)
    if as_json:
        return emit_json(result)
    info(f"{result['stage']}: {result['from'] or 'none'} → {result['to'] or 'none'} (rolled back)")


@cli.command()
@click.argument("ref")
@click.option("--stage", "-s", default="production", show_default=True,
              help="Stage whose holder regression rules compare against.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.pass_context
def check(ctx: click.Context, ref: str, stage: str, fmt: str) -> None:
    """Check a version against its model's gates; exit 1 when one fails.

    \b
    mltui check fraud@latest --format markdown >> $GITHUB_STEP_SUMMARY
    """
    from .report import check_markdown

    with _open(ctx) as cat:
        result = cat.check(ref, stage=stage)
    if fmt == "json":
        emit_json(result)
    elif fmt == "markdown":
        click.echo(check_markdown(result), nl=False)
    else:
        for item in result["results"]:
            mark = "skip" if item.get("skipped") else ("pass" if item["passed"] else "FAIL")
            click.echo(f"{mark:4}  {item['rule']}  ({item['detail']})")
        if not result["results"]:
            click.echo(f"{result['ref']} has no gates (add one: mltui gate add MODEL RULE)")
        click.echo(f"{result['ref']}: {'passed' if result['passed'] else 'FAILED'}")
    if not result["passed"]:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("model")
@click.option("--run", "run_ref", help="The run that made it (run:<id>).")
@click.option("--artifact", type=click.Path(exists=True), help="Model file or folder to hash.")
@click.option("--base", help="The version it was fine-tuned from.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def register(ctx: click.Context, model: str, run_ref: str | None, artifact: str | None,
             base: str | None, tags: tuple[str, ...], as_json: bool) -> None:
    """Register a new version of MODEL from a run and/or an artifact.

    \b
    mltui register fraud --run run:3f2a --artifact model.pkl
    """
    parsed = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"bad --tag {item!r}: write KEY=VALUE")
        parsed[key] = value
    with _open(ctx) as cat:
        row = cat.register(model, run=run_ref, artifact=artifact, base=base, tags=parsed)
    if as_json:
        return emit_json(row)
    info(f"registered {row['model']}@{row['version']} ({row['canonical_name']})")
    click.echo(f"{row['model']}@{row['version']}")


# --------------------------------------------------------------------------------------------
# lineage, verify


@cli.command()
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["tree", "mermaid", "dot", "json"]),
              default="tree", show_default=True)
@click.option("--depth", type=click.IntRange(1, 20), default=3, show_default=True)
@click.pass_context
def lineage(ctx: click.Context, ref: str, fmt: str, depth: int) -> None:
    """Show where a version came from (data → run → version) and where it went.

    \b
    mltui lineage fraud@production
    mltui lineage fraud@3 --format mermaid > lineage.mmd
    """
    from .core.lineage import to_dot, to_json, to_mermaid

    with _open(ctx) as cat:
        graph = cat.lineage(ref, depth=depth)
    if fmt == "json":
        return click.echo(to_json(graph), nl=False)
    if fmt == "mermaid":
        return click.echo(to_mermaid(graph), nl=False)
    if fmt == "dot":
        return click.echo(to_dot(graph), nl=False)
    _console().print(lineage_tree(graph))


def lineage_tree(graph: dict[str, Any]):
    """The lineage graph as a Rich tree: upstream branches, the root, downstream branches."""
    from rich.tree import Tree

    nodes = graph["nodes"]

    def label(key: str, role: str | None = None):
        node = nodes[key]
        text = _text(node["label"], "bold" if key == graph["root"] else "")
        if node.get("detail"):
            text.append("  ")
            text.append_text(_text(node["detail"], "dim"))
        if role:
            text.append(f"  [{role}]", style="cyan")
        return text

    def add(tree, branches):
        for branch in branches:
            add(tree.add(label(branch["key"], branch["role"])), branch["children"])

    root = Tree(label(graph["root"]))
    if graph["upstream"]:
        add(root.add(_text("▲ upstream (where it came from)", "magenta")), graph["upstream"])
    if graph["downstream"]:
        add(root.add(_text("▼ downstream (what came of it)", "magenta")), graph["downstream"])
    return root


@cli.command()
@click.argument("ref", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(ctx: click.Context, ref: str | None, as_json: bool) -> None:
    """Recompute dataset and artifact hashes on disk; exit 1 when one changed or is missing."""
    with _open(ctx) as cat:
        results = cat.verify(ref)
    bad = [r for r in results if r["status"] in ("changed", "missing")]
    if as_json:
        emit_json(results)
    else:
        for item in results:
            click.echo(f"{item['status']:12}  {item['label']}  {item['detail']}")
        info(f"{len(results)} checked, {len(bad)} changed or missing")
    if bad:
        sys.exit(EXIT_FAILED)


# --------------------------------------------------------------------------------------------
# doc


@cli.command()
@click.argument("ref")
@click.option("--set", "set_file", metavar="FILE", help="Save FILE ('-' for stdin) as a new revision.")
@click.option("--edit", is_flag=True, help="Edit in $EDITOR and save a revision.")
@click.option("--model", "is_model", is_flag=True, help="REF is a model: its own documentation.")
@click.option("--rev", type=int, help="Print this revision.")
@click.option("--revisions", is_flag=True, help="List the revisions.")
@click.option("--diff", nargs=2, type=int, metavar="A B", help="Diff two revisions.")
@click.option("--message", "-m", help="A note for the revision.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def doc(ctx: click.Context, ref: str, set_file: str | None, edit: bool, is_model: bool,
        rev: int | None, revisions: bool, diff: tuple[int, int] | None, message: str | None,
        as_json: bool) -> None:
    """Print, set or edit the documentation of a version (or, with --model, a model).

    \b
    mltui doc fraud@3
    mltui doc fraud@3 --set notes.md -m "after the Q3 review"
    mltui doc fraud@3 --diff 1 2
    """
    kind = "model" if is_model else "version"
    with _open(ctx) as cat:
        if set_file is not None:
            text = sys.stdin.read() if set_file == "-" else _read_doc_file(set_file)
            result = cat.set_doc(ref, text, base_rev=None, kind=kind, message=message)
            return emit_json(result) if as_json else info(
                f"saved {result['target']} documentation revision {result['rev']}"
                if result["changed"] else f"{result['target']}: unchanged (revision {result['rev']})")
        if edit:
            current = cat.get_doc(ref, kind=kind)
            edited = click.edit(current["text"], extension=".md")
            if edited is None or edited == current["text"]:
                return info("no change; nothing saved")
            result = cat.set_doc(ref, edited, base_rev=current["rev"], kind=kind, message=message)
            return info(f"saved {result['target']} documentation revision {result['rev']}")
        if revisions:
            rows = cat.doc_revisions(ref, kind=kind)
            if as_json:
                return emit_json(rows)
            from .display import fmt_time

            for row in rows:
                click.echo(f"rev {row['rev']:>3}  {fmt_time(row['at'])}  {row['author']}  "
                           f"{row['chars']} chars  {row['message'] or ''}")
            return
        if diff:
            return click.echo(cat.doc_diff(ref, diff[0], diff[1], kind=kind), nl=False)
        current = cat.get_doc(ref, kind=kind, rev=rev)
    if as_json:
        return emit_json(current)
    text = current["text"]
    click.echo(text if text.endswith("\n") else text + "\n", nl=False)
    if current["is_template"]:
        info("(no documentation yet: this is the template; save one with --set or --edit)")


def _read_doc_file(path: str) -> str:
    from .core.errors import InvalidInput

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text", hint="documentation is Markdown text") from None


# --------------------------------------------------------------------------------------------
# history, gate


@cli.command()
@click.option("--model", "-m", help="Only this model.")
@click.option("--action", "-a", type=click.Choice(["promote", "rollback", "clear", "import"]))
@click.option("--stage", "-s", help="Only this stage.")
@click.option("--events", "show_events", is_flag=True, help="The full audit log of every write.")
@click.option("--limit", "-n", type=click.IntRange(1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def history(ctx: click.Context, model: str | None, action: str | None, stage: str | None,
            show_events: bool, limit: int, as_json: bool) -> None:
    """The stage history (every promotion and rollback, with reasons), newest first."""
    from rich.table import Table

    from .display import fmt_time

    with _open(ctx) as cat:
        if show_events:
            rows = cat.events(limit=limit)
            if as_json:
                return emit_json(rows)
            table = Table(box=None, pad_edge=False)
            for column in ("when", "who", "action", "what", "change"):
                table.add_column(column)
            for row in rows:
                change = ""
                if row["before"] or row["after"]:
                    change = f"{json.dumps(row['before'])} → {json.dumps(row['after'])}"
                table.add_row(fmt_time(row["at"]), _text(row["actor"]), row["action"],
                              _text(row["ref"] or ""), _text(change[:100]))
            return _console().print(table)
        rows = cat.history(model=model, action=action, stage=stage, limit=limit)
    if as_json:
        return emit_json(rows)
    table = Table(box=None, pad_edge=False)
    for column in ("when", "model", "stage", "action", "from", "to", "who", "reason"):
        table.add_column(column)
    for row in rows:
        action_text = row["action"] + (" (forced)" if row["forced"] else "")
        table.add_row(fmt_time(row["at"]), _text(row["model"]), _text(row["stage"]), action_text,
                      f"v{row['from_version']}" if row["from_version"] else "—",
                      f"v{row['to_version']}" if row["to_version"] else "—",
                      _text(row["actor"]), _text(row["reason"] or ""))
    _console().print(table)
    if not rows:
        info("no stage changes recorded yet")


@cli.group()
def gate() -> None:
    """List, add and remove a model's quality gates.

    \b
    mltui gate add fraud "metrics.f1 >= 0.85"
    mltui gate add fraud "metrics.f1 >= production - 0.01"
    """


@gate.command("list")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def gate_list(ctx: click.Context, model: str, as_json: bool) -> None:
    """List MODEL's gates."""
    with _open(ctx) as cat:
        rows = cat.gates(model)
    if as_json:
        return emit_json(rows)
    for row in rows:
        click.echo(f"{row['id']:>4}  {row['guards']:<12}  {row['rule']}")
    if not rows:
        info(f"{model} has no gates")


@gate.command("add")
@click.argument("model")
@click.argument("rule")
@click.option("--stage", "-s", default="production", show_default=True,
              help="The stage whose promotions this gate guards.")
@click.pass_context
def gate_add(ctx: click.Context, model: str, rule: str, stage: str) -> None:
    """Add RULE to MODEL's gates (checked when a version is promoted to --stage)."""
    with _open(ctx) as cat:
        row = cat.add_gate(model, rule, stage=stage)
    info(f"added gate {row['id']} on {row['stage']}: {row['rule']}")


@gate.command("remove")
@click.argument("model")
@click.argument("rule")
@click.pass_context
def gate_remove(ctx: click.Context, model: str, rule: str) -> None:
    """Remove a gate by its id or its exact text."""
    with _open(ctx) as cat:
        cat.remove_gate(model, rule)
    info(f"removed gate {rule}")


# --------------------------------------------------------------------------------------------
# tag, archive, export, demo


@cli.command()
@click.argument("ref")
@click.argument("key")
@click.argument("value", required=False)
@click.option("--remove", is_flag=True, help="Remove the tag.")
@click.pass_context
def tag(ctx: click.Context, ref: str, key: str, value: str | None, remove: bool) -> None:
    """Set (or --remove) a tag on a version."""
    if value is None and not remove:
        fail("give a VALUE, or --remove to delete the tag")
    with _open(ctx) as cat:
        cat.set_tag(ref, key, None if remove else value)
    info(f"{'removed' if remove else 'set'} tag {key} on {ref}")


@cli.command()
@click.argument("ref")
@click.option("--reason", "-r")
@click.pass_context
def archive(ctx: click.Context, ref: str, reason: str | None) -> None:
    """Archive a version (kept, numbered, but no longer promotable)."""
    with _open(ctx) as cat:
        cat.archive(ref, reason=reason)
    info(f"archived {ref}")


@cli.command()
@click.option("--table", "tables", multiple=True,
              type=click.Choice(["versions", "runs", "metrics", "points", "params", "datasets",
                                 "history", "events"]),
              help="Tables to export (default: all but points).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder to write <table>.<format> files into.")
@click.pass_context
def export(ctx: click.Context, tables: tuple[str, ...], fmt: str, out_dir: str) -> None:
    """Export catalog tables to CSV or Parquet (via pandas).

    \b
    mltui export --out exports/ --format parquet
    """
    from .report import export_tables

    with _open(ctx) as cat:
        written = export_tables(cat, Path(out_dir), list(tables) or None, fmt)
    for path, rows in written:
        click.echo(f"{path}\t{rows} rows")


@cli.command()
@click.option("--rebuild", is_flag=True, help="Build the demo catalog again from scratch.")
@click.option("--no-app", is_flag=True, help="Build it and print its path and summary only.")
@click.pass_context
def demo(ctx: click.Context, rebuild: bool, no_app: bool) -> None:
    """Build the sample project's catalog (outside the repo, once) and open it in the app."""
    from .demo import build_demo_catalog

    path = build_demo_catalog(rebuild=rebuild, progress=info)
    from .core.catalog import open_catalog

    cat = open_catalog(path)
    if no_app:
        with cat:
            summary = cat.summary()
        click.echo(str(path))
        info(", ".join(f"{k}: {v}" for k, v in summary.items() if k not in ("path", "schema_version")))
        return
    _run_app(cat)


if __name__ == "__main__":  # pragma: no cover
    main()
