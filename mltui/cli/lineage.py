"""Where a version came from: ``lineage`` and ``verify``."""

from __future__ import annotations

import sys
from typing import Any

import click

from .base import EXIT_FAILED, _console, _open, _text, cli, emit_json, info


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
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(ctx: click.Context, ref: str | None, as_json: bool) -> None:
    """Recompute dataset and artifact hashes on disk; exit 1 when one changed or is missing."""
    with _open(ctx) as cat:
        results = cat.verify(ref)
    bad = [r for r in results if r["status"] in ("changed", "missing")]
    checked = [r for r in results if r["status"] != "unverifiable"]
    if as_json:
        emit_json(results)
    else:
        for item in results:
            click.echo(f"{item['status']:12}  {item['label']}  {item['detail']}")
        info(f"{len(checked)} checked, {len(bad)} changed or missing, "
             f"{len(results) - len(checked)} unverifiable")
        if results and not checked:
            info("nothing could be verified: no item has a hash and a local file to check")
    if bad or (results and not checked):  # passing with nothing checked would vouch for nothing
        sys.exit(EXIT_FAILED)
