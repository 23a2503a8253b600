"""Where a version came from: ``lineage`` and ``verify``."""

from __future__ import annotations

import sys
from typing import Any

import click

from .base import EXIT_FAILED, _console, _open, _text, cli, emit_json, info, out


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
    from ..core.lineage import to_dot, to_json, to_mermaid

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
@click.option("--history", "audit", is_flag=True,
              help="Check the audit trail's hash chain instead (stage history, events, docs).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(ctx: click.Context, ref: str | None, audit: bool, as_json: bool) -> None:
    """Recompute dataset and artifact hashes on disk; exit 1 when one changed or is missing.

    Without REF, also compares each model's stored version count with a fresh count.

    \b
    mltui verify fraud@production
    mltui verify --history      # exit 1 at the first rewritten or removed audit row
    """
    if audit:
        return _verify_history(ctx, as_json)
    with _open(ctx) as cat:
        results = cat.verify(ref)
    bad = [r for r in results if r["status"] in ("changed", "missing")]
    checked = [r for r in results if r["status"] != "unverifiable"]
    if as_json:
        emit_json(results)
    else:
        for item in results:
            out(f"{item['status']:12}  {item['label']}  {item['detail']}")
        info(f"{len(checked)} checked, {len(bad)} changed or missing, "
             f"{len(results) - len(checked)} unverifiable")
        if results and not checked:
            info("nothing could be verified: no item has a hash and a local file to check")
    if bad or (results and not checked):  # passing with nothing checked would vouch for nothing
        sys.exit(EXIT_FAILED)


def _verify_history(ctx: click.Context, as_json: bool) -> None:
    with _open(ctx) as cat:
        result = cat.verify_history()
    if as_json:
        emit_json(result)
    else:
        for table, count in result["rows"].items():
            _console().print(_text(f"{table:16}  {count} rows  "
                              + next((f"BROKEN: {b['reason']}" for b in result["broken"]
                                      if b["table"] == table), "ok")))
        info("audit trail intact" if result["ok"] else
             f"audit trail broken: {result['first']['reason']}")
    if not result["ok"]:
        sys.exit(EXIT_FAILED)
