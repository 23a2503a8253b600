"""Moving stages and guarding them: ``promote``, ``rollback``, ``check``, ``history``, ``gate``, ``archive``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..core.errors import GateFailed
from ..core.hooks import HookFailed
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
              help="Stage whose holder regression rules compare against.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.pass_context
def check(ctx: click.Context, ref: str, stage: str, fmt: str) -> None:
    """Check a version against its model's gates; exit 1 when one fails.

    \b
    mltui check fraud@latest --format markdown >> $GITHUB_STEP_SUMMARY
    """
    from ..report import check_markdown

    with _open(ctx) as cat:
        result = cat.check(ref, stage=stage)
    if fmt == "json":
        emit_json(result)
    elif fmt == "markdown":
        click.echo(check_markdown(result), nl=False)  # Markdown escapes its own cells
    else:
        for item in result["results"]:
            mark = "skip" if item.get("skipped") else ("pass" if item["passed"] else "FAIL")
            out(f"{mark:4}  {item['rule']}  ({item['detail']})")
        if not result["results"]:
            out(f"{result['ref']} has no gates (add one: mltui gate add MODEL RULE)")
        out(f"{result['ref']}: {'passed' if result['passed'] else 'FAILED'}")
    if not result["passed"]:
        sys.exit(EXIT_FAILED)




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
    """The stage history (every promotion and rollback, with reasons), newest first."""
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
    """List MODEL's gates."""
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
