"""The detail of one version, as a Rich renderable made only of literal Text (no markup)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ...display import fmt_number, fmt_time, safe
from .text import key_value_lines, lit, sparkline, stage_badges


def render_version_detail(detail: dict[str, Any], trend: list[dict[str, Any]],
                          trend_key: str | None, *, limit: int | None = 12,
                          doc_lines: int | None = 4, width: int | None = None) -> Group:
    """A version's detail: metadata, trend, metrics, params, tags and the doc's first lines.

    ``limit`` caps the metric and param rows (the browse pane), None shows all (the detail
    screen); ``doc_lines`` likewise for the documentation.  Below 64 columns (``width``) the
    params go under the metrics instead of beside them, so neither is squeezed to "…".
    """
    run = detail.get("run") or {}
    head = Text.assemble((safe(detail["ref"]), "bold"), "  ", lit(detail["canonical_name"], "dim"))
    if detail["stages"]:
        head.append("  ")
        head.append_text(stage_badges(detail["stages"], short=False))
    if detail.get("status") == "archived":
        head.append("  archived", style="bold italic")
    meta = key_value_lines([
        ("created", f"{fmt_time(detail['created_at'])} by {safe(detail['created_by'])}"),
        ("run", Text.assemble(lit(f"run:{(detail['run_uid'] or '—')[:12]}"), "  ",
                              lit(run.get("name") or "", "dim"))),
        ("source", f"{run.get('source_format') or '—'}  {safe(run.get('source_path') or '')}"),
        ("commit", f"{detail['git_commit']} (inferred)" if detail.get("git_commit_inferred") else detail["git_commit"]),
        ("data", ", ".join(f"data:{d['name']}@{d['version']}" for d in detail["data"]) or "—"),
        ("artifact", f"{detail['artifact_hash_algo']}:{detail['artifact_hash'][:16]}  "
                     f"{safe(detail['artifact_path_raw'] or detail['artifact_path'] or '')}"
                     if detail["artifact_hash"] else None),
        ("base", ", ".join(detail["base_versions"]) or detail["base_model"] or "—"),
    ])
    metrics = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    for name, justify in (("metric", "left"), ("last", "right"), ("min", "right"),
                          ("max", "right")):
        metrics.add_column(name, justify=justify, style="dim" if name == "metric" else "")
    for m in detail["metric_summary"][:limit]:
        metrics.add_row(lit(m["key"]), Text(fmt_number(m["last"] if m["last"] is not None
                                                       else m["last_raw"])),
                        Text(fmt_number(m["min"])), Text(fmt_number(m["max"])))
    params = Table(box=None, pad_edge=False, show_edge=False)
    params.add_column("param", style="dim")
    params.add_column("value")
    for key, value in list(detail["params"].items())[:limit]:
        params.add_row(lit(key), lit(value))
    tags = {**detail.get("run_tags", {}), **detail["tags"]}
    # Most useful first: at 80×24 the pane shows about eight lines, so the trend and the key
    # metrics come before the metadata, which is one `enter` away in full.
    parts: list[Any] = [head]
    if trend:
        line = Text.assemble((f"trend {safe(trend_key)} ", "dim"))
        line.append_text(sparkline([t["value"] for t in trend],
                                   [bool(t["held_production"]) for t in trend]))
        line.append("  green: held production · t: next metric", style="dim")
        parts.append(line)
    if width is not None and width < 64:
        parts.extend([metrics, params, meta])
    else:
        grid = Table.grid(padding=(0, 3))
        grid.add_row(metrics, params)
        parts.extend([grid, meta])
    if tags:
        parts.append(Text.assemble(("tags  ", "dim"), lit(", ".join(
            f"{k}={v}" for k, v in list(tags.items())[:10]))))
    if doc_lines is None and detail.get("history"):
        parts.append(Text("\nstage history", style="bold"))
        for entry in detail["history"]:
            line = Text.assemble((fmt_time(entry["at"]), "dim"), "  ", (entry["action"], "bold"),
                                 "  ", lit(entry["stage"]), "  ",
                                 (f"{_v(entry['from_version'])} → {_v(entry['to_version'])}", ""), "  ", lit(entry["actor"], "dim"))
            if entry["forced"]:
                line.append("  forced", style="bold red")
            if entry["reason"]:
                line.append("  ")
                line.append_text(lit(entry["reason"], "italic"))
            parts.append(line)
    doc = detail["doc"]
    preview = Text("doc  ", style="dim")
    if doc["is_template"]:
        preview.append("no documentation yet — e to write it", style="dim italic")
        parts.append(preview)
    elif doc_lines is None:
        # The whole document, rendered as Markdown (Markdown syntax, never Rich markup).
        # Imported here: rich.markdown pulls in markdown-it and Pygments (~0.1 s), and the
        # first screen shows only the first lines of a document.
        from rich.markdown import Markdown

        preview.append(f"rev {doc['rev']}", style="dim")
        parts.extend([Text(""), preview, Markdown(safe(doc["text"], keep_newlines=True))])
    else:
        first_lines = [line for line in doc["text"].splitlines() if line.strip()][:doc_lines]
        preview.append(f"rev {doc['rev']}\n", style="dim")
        preview.append_text(lit("\n".join(first_lines), multiline=True))
        parts.append(preview)
    return Group(*parts)


def _v(version: int | None) -> str:
    """``v3``, or ``—`` when no version held the stage (a first promotion, a clear)."""
    return f"v{version}" if version else "—"
