"""Reading the catalog: ``ls``, ``show``, ``compare`` and ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .base import _console, _open, _text, cli, emit_json, info, out


@cli.command("ls")
@click.argument("what", required=False, default="versions",
                type=click.Choice(["models", "versions", "runs", "datasets"]))
@click.option("--model", "-m", metavar="NAME", help="Only this model's versions.")
@click.option("--filter", "-f", "filter_", metavar="EXPR", help="e.g. \"metrics.f1 > 0.8 and params.lr = '0.01'\"")
@click.option("--sort", "-s", metavar="KEY", help="e.g. metrics.loss, -metrics.f1, created")
@click.option("--limit", "-n", type=click.IntRange(1, 2**63 - 1), default=50, show_default=True)
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

    from ..display import fmt_age, fmt_number, short_hash

    with _open(ctx) as cat:
        if what == "models":
            rows = cat.models()
            if as_json:
                return emit_json(rows)
            table = Table(box=None, pad_edge=False)
            for column in ("model", "versions", "latest", "stages", "description"):
                table.add_column(_text(column))
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
                table.add_column(_text(column))
            for row in rows:
                table.add_row(_text(f"data:{row['name']}@{row['version']}"),
                              _text(f"{row['hash_algo'] or ''}:{short_hash(row['hash'])}"),
                              fmt_number(row["row_count"]), fmt_number(row["size"]), str(row["runs"]),
                              _text(row["uri_raw"] or ""))
            return _console().print(table)
        keys = [k.strip() for k in metric_keys.split(",") if k.strip()] if metric_keys else None
        if what == "runs":
            ids = cat.run_ids(filter=filter_, sort=sort, limit=limit)
            if as_json:  # every metric key: the table's three columns are a display choice
                rows = cat.runs(ids, metric_keys=keys or "all")
                return emit_json([_public_row(row) for row in rows])
            keys = keys or cat.recent_metric_keys(limit=3)
            rows = cat.runs(ids, metric_keys=keys)
            table = Table(box=None, pad_edge=False)
            for column in ("run", "name", "project", "format", "status", "age", *keys, "versions"):
                table.add_column(_text(column), justify="right" if column in keys else "left")
            for row in rows:
                table.add_row(_text(row["uid"][:12]), _text(row["name"] or ""),
                              _text(row["project"] or ""), _text(row["source_format"]),
                              _text(row["status"] or ""), fmt_age(row["start_time"], cat.now()),
                              *[fmt_number(row["metrics"].get(k)) for k in keys],
                              _text(", ".join(row["versions"])))
            return _console().print(table)
        ids = cat.version_ids(model=model, filter=filter_, sort=sort, limit=limit)
        if as_json:
            rows = cat.versions(ids, metric_keys=keys or "all")
            return emit_json([_public_row(row) for row in rows])
        keys = keys or cat.listing_metric_keys(model)
        rows = cat.versions(ids, metric_keys=keys)
        table = Table(box=None, pad_edge=False)
        for column in ("version", "name", "age", "stages", *keys, "data", "commit"):
            table.add_column(_text(column), justify="right" if column in keys else "left")
        for row in rows:
            # An archived version says so where its stages are: it can no longer be promoted.
            state = row["stages"] + (["(archived)"] if row["status"] == "archived" else [])
            table.add_row(_text(f"{row['model']}@{row['version']}"), _text(row["canonical_name"]),
                          fmt_age(row["created_at"], cat.now()), _text(" ".join(state)),
                          *[fmt_number(row["metrics"].get(k)) for k in keys],
                          _text(", ".join(row["datasets"])),
                          short_hash(row["git_commit"]) + (" inferred" if row["git_commit_inferred"] else ""))
        _console().print(table)
        if not rows:
            info("no versions match" + (f" the filter {filter_!r}" if filter_ else ""))


def _commit(commit: str | None, inferred: Any) -> str | None:
    """A run's commit as shown: an inferred one (not in the log, see services/git) says so."""
    return f"{commit} (inferred: not in the log)" if commit and inferred else commit


def _public_row(row: dict[str, Any]) -> dict[str, Any]:
    """A run or version row as ``--json`` prints it: references, never the catalog's row ids.

    ``run:<uid prefix>`` is the one way to name a run, so a numeric ``id`` next to the ``uid``
    would invite ``run:8`` meaning the wrong run (issue 8, item 5).
    """
    out = {k: v for k, v in row.items() if k not in ("id", "run_id")}
    if "uid" in row:
        out["ref"] = f"run:{row['uid']}"
    elif "model" in row:
        out["ref"] = f"{row['model']}@{row['version']}"
        out["run_ref"] = f"run:{row['run_uid']}" if row.get("run_uid") else None
    return out


@cli.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show a version (fraud@3, fraud@production), a run (run:ab12) or a dataset (data:x@2).

    \b
    mltui show fraud@production
    mltui show run:3f2a --json
    """
    from rich.table import Table

    from ..display import fmt_number, fmt_time

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
                    ("commit", _commit(data["git_commit"], data["git_commit_inferred"])),
                    ("versions", ", ".join(data["versions"]))]
            metrics, params, tags, datasets = data["metrics"], data["params"], data["tags"], data["datasets"]
        else:
            run = data.get("run") or {}
            head = [("version", data["ref"]), ("name", data["canonical_name"]),
                    ("stages", " ".join(data["stages"]) or "—"), ("status", data["status"]),
                    ("created", f"{fmt_time(data['created_at'])} by {data['created_by']}"),
                    ("run", f"run:{(data['run_uid'] or '—')[:12]} {run.get('name') or ''}"),
                    ("commit", _commit(data["git_commit"], data["git_commit_inferred"])),
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
                table.add_column(_text(column), justify="left" if column == "key" else "right")
            for m in metrics:
                table.add_row(_text(m["key"]), fmt_number(m["last"] if m["last"] is not None else m["last_raw"]),
                              fmt_number(m["last_step"]), fmt_number(m["min"]), fmt_number(m["max"]),
                              str(m["count"]))
            console.print(table)
        for title, mapping in (("params", params), ("tags", tags)):
            if mapping:
                table = Table(title=title, box=None, pad_edge=False, title_justify="left")
                table.add_column("key")
                table.add_column("value")
                for key, value in mapping.items():
                    table.add_row(_text(key), _text(value))
                console.print(table)





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
    from ..report import comparison_csv, comparison_markdown

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

    from ..display import comparison_cell, short_hash

    table = Table(box=None, pad_edge=False)
    table.add_column("")
    for index, ref in enumerate(data["versions"]):
        table.add_column(_text(ref + (" (base)" if index == 0 else "")), justify="right")
    for row in data["metrics"]:
        cells = []
        for index, value in enumerate(row["values"]):
            cell = _text(comparison_cell(row, index), "bold green" if row["best"] == index else "")
            if row["best"] == index:
                cell.append(" ★")
            cells.append(cell)
        table.add_row(_text(f"metrics.{row['key']}"), *cells)
    for row in data["params"]:
        style = "yellow" if row["differs"] else "dim"
        table.add_row(_text(f"params.{row['key']}" + (" ≠" if row["differs"] else ""), style),
                      *[_text(v if v is not None else "—", style) for v in row["values"]])
    table.add_row(_text("data"), *[_text(d or "—") for d in data["datasets"]])
    table.add_row(_text("commit"), *[short_hash(c) + (" (inferred)" if inferred else "")
                                     for c, inferred in zip(data["commits"],
                                                            data["commits_inferred"])])
    return table




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
    from ..report import export_tables

    with _open(ctx) as cat:
        written = export_tables(cat, Path(out_dir), list(tables) or None, fmt)
    for path, rows in written:
        out(f"{path}\t{rows} rows")
