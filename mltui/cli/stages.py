"""Moving stages and guarding them: ``promote``, ``rollback``, ``check``, ``history``, ``gate``, ``archive``."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ..core.errors import GateFailed
from .deploy import history_extras, print_hook_runs, report_hooks
from .base import EXIT_FAILED, _console, _open, _text, cli, emit_json, fail, info, out


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
    from ..core.hooks import HookFailed  # the hooks machinery only when stages move

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
        except HookFailed as exc:
            print_hook_runs(exc.runs)
            raise
    if as_json:
        emit_json(result)
        return report_hooks(result, as_json)
    _print_gates(result["gates"])
    if not result["changed"]:
        info(f"{result['ref']} already holds {result['stage']}; nothing changed")
    else:
        forced = " (forced past a failing gate)" if result["forced"] else ""
        info(f"{result['stage']}: {result['from'] or 'none'} → {result['to']}{forced}")
    report_hooks(result, as_json)


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
    from ..core.hooks import HookFailed  # the hooks machinery only when stages move

    if "@" in model:
        fail(f"rollback takes a model name, not a version ({model!r})",)
    with _open(ctx) as cat:
        try:
            result = cat.rollback(model, stage, reason=reason)
        except HookFailed as exc:
            print_hook_runs(exc.runs)
            raise
    if as_json:
        emit_json(result)
    else:
        info(f"{result['stage']}: {result['from'] or 'none'} → {result['to'] or 'none'} (rolled back)")
    report_hooks(result, as_json)


@cli.command()
@click.argument("ref")
@click.option("--stage", "-s", default="production", show_default=True,
              help="The stage to check for: its gates, and its holder to compare with.")
@click.option("--format", "fmt", type=click.Choice(["table", "text", "markdown", "json"]),
              default="table", show_default=True, help="Report format (text: same as table).")
@click.option("--report", "report_file", metavar="FILE",
              help="Also write the Markdown report to FILE (e.g. a PR comment body).")
@click.pass_context
def check(ctx: click.Context, ref: str, stage: str, fmt: str, report_file: str | None) -> None:
    """Check a version against the gates of --stage and compare it with the stage's holder.

    The report has the gate results, metric deltas against the holder (better side marked),
    changed params, data and code, and a one-line verdict.  Exit 1 when a gate fails.  When
    $GITHUB_STEP_SUMMARY is set, the Markdown report is appended to that file as well.

    \b
    mltui check fraud@latest
    mltui check fraud@7 --stage staging --format json
    mltui check fraud@latest --format markdown --report pr-comment.md
    """
    from ..report import check_markdown
    from ..services.review import review

    with _open(ctx) as cat:
        result = review(cat, ref, stage=stage)
    markdown = check_markdown(result)
    for target in (report_file, os.environ.get("GITHUB_STEP_SUMMARY") or None):
        if target:
            _append(target, markdown, fresh=target == report_file)
    if fmt == "json":
        emit_json(result)
    elif fmt == "markdown":
        click.echo(markdown, nl=False)
    else:
        _print_check(result)
    if not result["passed"]:
        sys.exit(EXIT_FAILED)


def _append(path: str, text: str, *, fresh: bool) -> None:
    """Write the report: a fresh file for --report, appended for the job summary (GitHub's
    step summary collects every step's output in one file)."""
    from ..core.errors import InvalidInput

    try:
        with open(path, "w" if fresh else "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InvalidInput(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def _print_check(result: dict[str, Any]) -> None:
    from rich.table import Table

    from ..display import fmt_number
    from ..services.review import delta_text

    console = _console()
    # No header: each gate line starts with its mark, so `grep FAIL` and scripts keep working.
    gates = Table(box=None, pad_edge=False, show_header=False)
    for _ in range(4):
        gates.add_column()
    for item in result["results"]:
        mark = "skip" if item.get("skipped") else ("pass" if item["passed"] else "FAIL")
        gates.add_row(mark, _text(item["rule"]), fmt_number(item["actual"]), _text(item["detail"]))
    if result["results"]:
        console.print(gates)
    else:
        console.print(_text(f"{result['ref']} has no gates (add one: mltui gate add MODEL RULE)"))
    cmp = result["versus"]
    if cmp is not None:
        metrics = Table(box=None, pad_edge=False)
        for column in ("metric", cmp["base"], cmp["ref"], "delta"):
            metrics.add_column(_text(column))
        for row in cmp["metrics"]:
            metrics.add_row(_text(row["key"]), fmt_number(row["base"]), fmt_number(row["value"]),
                            delta_text(row))
        console.print(metrics)
        for row in cmp["params"]:
            console.print(_text(f"params.{row['key']}: {_dash(row['base'])} → {_dash(row['value'])}"))
        for row in cmp["data"]:
            if row["changed"]:
                console.print(_text(f"data {row['name']}: {_dash(row['base'])} → {_dash(row['value'])}"))
        if cmp["code"]["changed"]:
            console.print(_text(f"code: {cmp['code']['range']}"))
    console.print(_text(result["verdict"]))
    console.print(_text(f"{result['ref']}: {'passed' if result['passed'] else 'FAILED'}"))


def _dash(value: Any) -> Any:
    return "—" if value is None else value


@cli.command()
@click.option("--model", "-m", help="Only this model.")
@click.option("--action", "-a", type=click.Choice(["promote", "rollback", "clear", "import"]))
@click.option("--stage", "-s", help="Only this stage.")
@click.option("--events", "show_events", is_flag=True, help="The full audit log of every write.")
@click.option("--limit", "-n", type=click.IntRange(1, 2**63 - 1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def history(ctx: click.Context, model: str | None, action: str | None, stage: str | None,
            show_events: bool, limit: int, as_json: bool) -> None:
    """The stage history (every promotion and rollback, with reasons), newest first.

    \b
    mltui history --model fraud --action rollback
    mltui history --events -n 20
    """
    from rich.table import Table

    from ..display import fmt_time

    with _open(ctx) as cat:
        if show_events:
            rows = cat.events(limit=limit)
            if as_json:
                return emit_json(rows)
            table = Table(box=None, pad_edge=False)
            for column in ("when", "who", "action", "what", "change"):
                table.add_column(_text(column))
            for row in rows:
                change = ""
                if row["before"] or row["after"]:
                    change = f"{json.dumps(row['before'])} → {json.dumps(row['after'])}"
                table.add_row(fmt_time(row["at"]), _text(row["actor"]), row["action"],
                              _text(row["ref"] or ""), _text(change[:100]))
            return _console().print(table)
        rows = cat.history(model=model, action=action, stage=stage, limit=limit)
        extras = history_extras(cat, rows, model, stage)
    if as_json:
        return emit_json(rows)
    table = Table(box=None, pad_edge=False)
    for column in ("when", "model", "stage", "action", "from", "to", "who", "reason"):
        table.add_column(_text(column))
    for row in rows:
        action_text = row["action"] + (" (forced)" if row["forced"] else "")
        for extra in extras.pop(("before", row["id"]), []):
            table.add_row(*extra)
        table.add_row(fmt_time(row["at"]), _text(row["model"]), _text(row["stage"]), action_text,
                      f"v{row['from_version']}" if row["from_version"] else "—",
                      f"v{row['to_version']}" if row["to_version"] else "—",
                      _text(row["actor"]), _text(row["reason"] or ""))
        for extra in extras.pop(("after", row["id"]), []):
            table.add_row(*extra)
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
    """List MODEL's gates.

    \b
    mltui gate list fraud
    """
    with _open(ctx) as cat:
        rows = cat.gates(model)
    if as_json:
        return emit_json(rows)
    for row in rows:
        out(f"{row['id']:>4}  {row['guards']:<12}  {row['rule']}")
    if not rows:
        info(f"{model} has no gates")


@gate.command("add")
@click.argument("model")
@click.argument("rule")
@click.option("--stage", "-s", default="production", show_default=True,
              help="The stage whose promotions this gate guards.")
@click.pass_context
def gate_add(ctx: click.Context, model: str, rule: str, stage: str) -> None:
    """Add RULE to MODEL's gates (checked when a version is promoted to --stage).

    \b
    mltui gate add fraud "metrics.f1 >= production - 0.01"
    mltui gate add fraud "metrics.latency_ms <= 40" --stage staging
    """
    with _open(ctx) as cat:
        row = cat.add_gate(model, rule, stage=stage)
    info(f"added gate {row['id']} on {row['stage']}: {row['rule']}")


@gate.command("remove")
@click.argument("model")
@click.argument("rule")
@click.pass_context
def gate_remove(ctx: click.Context, model: str, rule: str) -> None:
    """Remove a gate by its id or its exact text.

    \b
    mltui gate remove fraud 3
    mltui gate remove fraud "metrics.f1 >= 0.8"
    """
    with _open(ctx) as cat:
        cat.remove_gate(model, rule)
    info(f"removed gate {rule}")


# --------------------------------------------------------------------------------------------
# tag, archive, export, demo




@cli.command()
@click.argument("ref")
@click.option("--reason", "-r", help="Why (recorded in the history); required.")
@click.option("--force", is_flag=True, help="Archive even a version that holds a stage.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def archive(ctx: click.Context, ref: str, reason: str | None, force: bool, as_json: bool) -> None:
    """Archive a version: kept, numbered and in the history, but no longer promotable.

    \b
    mltui archive fraud@2 --reason "trained on the leaked split"
    """
    if not (reason or "").strip():
        fail('archiving needs a reason (recorded in the history): add --reason "why"')
    with _open(ctx) as cat:
        result = cat.archive(ref, reason=reason, force=force)
    _report_status(result, as_json, "archived")


@cli.command()
@click.argument("ref")
@click.option("--reason", "-r", help="Why (recorded in the history); required.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def unarchive(ctx: click.Context, ref: str, reason: str | None, as_json: bool) -> None:
    """Make an archived version promotable again.

    \b
    mltui unarchive fraud@2 --reason "split re-checked: no leak"
    """
    if not (reason or "").strip():
        fail('unarchiving needs a reason (recorded in the history): add --reason "why"')
    with _open(ctx) as cat:
        result = cat.unarchive(ref, reason=reason)
    _report_status(result, as_json, "unarchived")


def _report_status(result: dict[str, Any], as_json: bool, verb: str) -> None:
    if as_json:
        return emit_json(result)
    if not result["changed"]:
        state = "already archived" if verb == "archived" else "not archived"
        return info(f"{result['ref']} is {state}; nothing changed")
    info(f"{verb} {result['ref']}")
    if result["stages"]:
        info(f"warning: {result['ref']} still holds {', '.join(result['stages'])}")
