"""From promotion to production: hook reports, ``checkout``, ``observe`` and ``monitor``.

``promote`` and ``rollback`` (cli/stages.py) print their hooks through :func:`report_hooks`:
a failed ``after`` hook leaves the change in place and exits 1.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .base import EXIT_FAILED, _open, cli, emit_json, info, out


def print_hook_runs(runs: list[dict[str, Any]]) -> None:
    """One line per hook run (ok/FAIL, phase, command, exit, duration), a failure's last lines."""
    for run in runs:
        mark = "ok" if run["ok"] else "FAIL"
        how = "timed out" if run["timed_out"] else f"exit {run['exit_code']}"
        info(f"  hook {mark:4} {run['phase']:6} {' '.join(run['command'])}  ({how}, "
             f"{run['duration']:.2f} s)")
        if not run["ok"]:
            for line in run["tail"][-5:]:
                info(f"      | {line}")


def report_hooks(result: dict[str, Any], as_json: bool) -> None:
    """Print a stage change's hook runs; exit 1 when one failed (the change stays)."""
    if not as_json:
        print_hook_runs(result.get("hooks", []))
    if result.get("hooks_failed"):
        info(f"warning: the change is in place but {result['hooks_failed'][0]}; roll back "
             "with: mltui rollback MODEL --stage STAGE")
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("ref")
@click.option("--to", "to", required=True, metavar="DIR",
              help="Folder to hold the artifact and its manifest (e.g. the serving folder).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def checkout(ctx: click.Context, ref: str, to: str, as_json: bool) -> None:
    """Copy a version's artifact to DIR, atomically, with its hash verified and a manifest.

    Does nothing when DIR already holds that exact version. In an after hook:

    \b
    mltui checkout "$MLTUI_MODEL@$MLTUI_VERSION" --to /srv/models/fraud
    """
    with _open(ctx) as cat:
        result = cat.checkout(ref, to)
    if as_json:
        return emit_json(result)
    if result["changed"]:
        info(f"checked out {result['ref']} to {result['path']} (hash verified)")
    else:
        info(f"{to} already holds {result['ref']}; nothing changed")


@cli.command()
@click.argument("target", metavar="MODEL[@STAGE]")
@click.argument("source", metavar="FILE|-")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]),
              help="Input format (default: from the file name, else from its first line).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def observe(ctx: click.Context, target: str, source: str, fmt: str | None, as_json: bool) -> None:
    """Ingest production observations (timestamp, metric, value) for a model's stage.

    Each observation is attributed to the version that held the stage at its timestamp.
    Ingesting the same log again adds nothing.

    \b
    tail -n 10000 serving.jsonl | mltui observe fraud@production -
    mltui observe fraud batch_eval.csv
    """
    from ..core.observe import detect_format

    model, _, stage = target.partition("@")
    with _open(ctx) as cat:
        cat.model_id(model)  # an unknown model fails before any input is read
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        lines = text.splitlines(keepends=True)
        chosen = fmt or detect_format(source, text[:200])
        result = cat.observe(model, stage or "production", lines, fmt=chosen,
                             source="<stdin>" if source == "-" else source)
    if as_json:
        return emit_json(result)
    split = ", ".join(f"{ref}: {n}" for ref, n in result["versions"].items()) or "none"
    info(f"{result['added']} new of {result['observations']} observations for "
         f"{result['model']}@{result['stage']} ({split})"
         + (f"; {result['unattributed']} before any version held {result['stage']}, not kept"
            if result["unattributed"] else ""))


@cli.group()
def monitor() -> None:
    """Rules over production observations: add, list, remove, check.

    \b
    mltui monitor add fraud "mean(metrics.f1, 1h) >= 0.80"
    mltui monitor add fraud "metrics.f1 >= eval.f1 - 0.05" --auto-rollback
    mltui monitor add fraud "count(1h) >= 100"
    mltui monitor check --format markdown      # exit 1 when one fires
    """


@monitor.command("add")
@click.argument("model")
@click.argument("rule")
@click.option("--stage", "-s", default="production", show_default=True)
@click.option("--auto-rollback", is_flag=True,
              help="Roll the stage back when the rule fires (once per alert).")
@click.pass_context
def monitor_add(ctx: click.Context, model: str, rule: str, stage: str, auto_rollback: bool) -> None:
    """Add a monitor RULE on MODEL's stage.

    \b
    mltui monitor add fraud "mean(metrics.f1, 1h) >= 0.80"
    mltui monitor add fraud "metrics.f1 >= eval.f1 - 0.05" --auto-rollback
    """
    with _open(ctx) as cat:
        row = cat.add_monitor(model, rule, stage=stage, auto_rollback=auto_rollback)
    info(f"added monitor {row['id']} on {model}@{row['stage']}: {row['rule']}"
         + (" (auto-rollback)" if auto_rollback else ""))


@monitor.command("list")
@click.argument("model", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def monitor_list(ctx: click.Context, model: str | None, as_json: bool) -> None:
    """List monitors (of MODEL, or all) and the alerts open on them.

    \b
    mltui monitor list fraud
    """
    with _open(ctx) as cat:
        rows = cat.monitors(model)
        open_alerts = {a["monitor_id"]: a for a in cat.alerts(model, active=True)}
    for row in rows:
        row["alert"] = open_alerts.get(row["id"])
    if as_json:
        return emit_json(rows)
    for row in rows:
        flag = "  auto-rollback" if row["auto_rollback"] else ""
        alert = f"  ALERT {row['alert']['id']}" if row["alert"] else ""
        out(f"{row['id']:>4}  {row['model']}@{row['stage']}  {row['rule']}{flag}{alert}")
    if not rows:
        info("no monitors")


@monitor.command("remove")
@click.argument("model")
@click.argument("monitor_ref", metavar="ID|RULE")
@click.pass_context
def monitor_remove(ctx: click.Context, model: str, monitor_ref: str) -> None:
    """Remove a monitor by its id or its exact rule.

    \b
    mltui monitor remove fraud 3
    """
    with _open(ctx) as cat:
        cat.remove_monitor(model, monitor_ref)
    info(f"removed monitor {monitor_ref}")


@monitor.command("check")
@click.argument("model", required=False)
@click.option("--at", "at", type=float, metavar="EPOCH",
              help="Evaluate windows ending at this time (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.pass_context
def monitor_check(ctx: click.Context, model: str | None, at: float | None, fmt: str) -> None:
    """Evaluate every monitor; exit 1 when one fires (for cron and CI).

    A new alert is recorded, runs the on_alert hooks and, on an --auto-rollback monitor,
    rolls the stage back, each once; while it keeps firing nothing more happens.

    \b
    mltui monitor check --format markdown >> "$GITHUB_STEP_SUMMARY"
    """
    with _open(ctx) as cat:
        results = cat.check_monitors(model, at=at)
    if fmt == "json":
        emit_json(results)
    elif fmt == "markdown":
        click.echo(_check_markdown(results), nl=False)
    else:
        for row in results:
            out(f"{row['status']:8}  {row['model']}@{row['stage']}  {row['rule']}  ({row['detail']})")
            if row["rolled_back"]:
                rb = row["rolled_back"]
                out(f"          rolled back {rb['stage']}: {rb['from']} → {rb['to']}")
            print_hook_runs(row["hooks"])
        if not results:
            info("no monitors (add one: mltui monitor add MODEL RULE)")
    if any(row["status"] in ("fired", "firing") for row in results):
        sys.exit(EXIT_FAILED)


def _check_markdown(results: list[dict[str, Any]]) -> str:
    from ..report import _md  # one Markdown cell escaper; imported here, off the app's start path

    lines = ["| status | model | rule | value | detail |", "|---|---|---|---|---|"]
    for row in results:
        value = "" if row["value"] is None else f"{row['value']:.6g}"
        lines.append(f"| {row['status']} | {_md(row['model'])}@{_md(row['stage'])} | "
                     f"{_md(row['rule'])} | {value} | {_md(row['detail'])} |")
    return "\n".join(lines) + "\n"


def history_extras(cat, rows: list[dict[str, Any]], model: str | None, stage: str | None
                   ) -> dict[tuple[str, int], list[tuple]]:
    """Table rows to show beside stage history rows (newest first): each entry's hook runs
    under it, and each alert above the entry that came after it.

    Also adds ``hooks`` to every row (for ``--json``).  Keys are ``("after", id)`` for rows
    printed below history entry ``id`` and ``("before", id)`` for rows printed above it.
    """
    from ..display import fmt_time
    from .base import _text

    extras: dict[tuple[str, int], list[tuple]] = {}
    runs = cat.hook_runs("stage_history", [row["id"] for row in rows])
    for row in rows:
        row["hooks"] = runs.get(row["id"], [])
        for run in row["hooks"]:
            how = "ok" if run["ok"] else ("timed out" if run["timed_out"] else f"exit {run['exit_code']}")
            extras.setdefault(("after", row["id"]), []).append((
                fmt_time(run["at"]), "", "", _text(f"  hook {run['phase']}", "red" if not run["ok"] else ""),
                "", "", "", _text(f"{how}: {' '.join(run['command'])}"[:100])))
    if not rows:
        return extras
    oldest = rows[-1]["at"]
    for alert in cat.alerts(model):
        if alert["opened_at"] < oldest or (stage and alert["stage"] != stage):
            continue
        # Newest first: the alert goes above the first entry older than it.
        anchor = next((r for r in rows if r["at"] <= alert["opened_at"]), rows[-1])
        state = "open" if alert["active"] else "resolved"
        extras.setdefault(("before", anchor["id"]), []).append((
            fmt_time(alert["opened_at"]), _text(alert["model"]), _text(alert["stage"]),
            _text(f"alert ({state})", "red" if alert["active"] else ""), _text(alert["version"] or "—"),
            "", "", _text(f"{alert['rule']}: {alert['detail'] or ''}"[:100])))
    return extras
