"""The model card: one Markdown file about one version, for an audit or a release note.

``model_card(cat, ref)`` gathers the version's facts; ``card_markdown`` renders them:
the version's documentation (its Rationale/Changes/Impact… sections), metrics with their
deltas to the previous production version, data and code lineage, the production gates and
the stage history.  ``card_html`` renders that Markdown to a standalone HTML page with Rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..display import fmt_number, fmt_time, short_hash
from ..report import _md, versus_markdown
from .review import versus

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog

CARD_STAGE = "production"


def previous_production(cat: Catalog, ref: str) -> str | None:
    """The version to compare a card with: the one that held production before this version
    first took it, else (never promoted) today's production holder; None when there is none."""
    model, version = ref.split("@", 1)
    rows = cat.history(model=model, stage=CARD_STAGE, limit=10_000)
    for row in reversed(rows):  # oldest first: the first time this version took production
        if row["action"] == "promote" and str(row["to_version"]) == version:
            return f"{model}@{row['from_version']}" if row["from_version"] else None
    holder = next((m["stages"].get(CARD_STAGE) for m in cat.models() if m["name"] == model), None)
    return f"{model}@{holder}" if holder is not None and str(holder) != version else None


def model_card(cat: Catalog, ref: str) -> dict[str, Any]:
    """Everything the card shows about ``ref``, as plain data."""
    detail = cat.version_detail(ref)
    ref = detail["ref"]
    previous = previous_production(cat, ref)
    graph = cat.lineage(ref)
    derived: dict[int, list[str]] = {}
    for edge in graph["edges"]:  # dataset → dataset edges: what each input was derived from
        if edge["role"] == "derived" and edge["dst"].startswith("dataset:"):
            derived.setdefault(int(edge["dst"].split(":", 1)[1]), []).append(
                graph["nodes"][edge["src"]]["label"])
    return {"ref": ref, "detail": detail, "previous": previous, "derived_from": derived,
            "versus": versus(cat, previous, ref) if previous else None,
            "gates": cat.check(ref, stage=CARD_STAGE),
            "history": list(reversed(detail["history"]))}


def _demote(text: str) -> list[str]:
    """The documentation's lines with every heading one level lower (the card owns ``#``)."""
    lines, fenced = [], False
    for line in text.rstrip("\n").splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        lines.append("#" + line if not fenced and line.startswith("#") else line)
    return lines


def card_markdown(card: dict[str, Any]) -> str:
    """The card as one Markdown document."""
    d = card["detail"]
    run = d["run"] or {}
    facts = [("model", d["model"]), ("version", f"{d['version']} ({d['canonical_name']})"),
             ("status", d["status"]), ("stages", ", ".join(d["stages"]) or "—"),
             ("created", f"{fmt_time(d['created_at'])} by {d['created_by']}"),
             ("run", (f"{run.get('name') or '—'} ({short_hash(d['run_uid'])}, "
                     f"{run.get('source_format') or '—'})")),
             ("artifact", f"{d['artifact_hash_algo'] or ''} {short_hash(d['artifact_hash'])}".strip()),
             ("tags", ", ".join(f"{k}={v}" for k, v in d["tags"].items()) or "—")]
    out = [f"# Model card: {_md(card['ref'])}", "", "| | |", "|---|---|"]
    out += [f"| {key} | {_md(value)} |" for key, value in facts]
    out += ["", "## Documentation", ""]
    if d["doc"]["is_template"]:
        out.append("*No documentation yet (`mltui doc REF --edit`).*")
    else:
        out += _demote(d["doc"]["text"])
        out += ["", (f"*Documentation revision {d['doc']['rev']} by {_md(d['doc']['author'])}, "
                    f"{fmt_time(d['doc']['at'])}.*")]
    out += ["", "## Metrics", ""]
    if card["versus"] is not None:
        out += [(f"Against the previous production version, {_md(card['previous'])}; the better "
                "side in bold."), "", *versus_markdown(card["versus"])]
    else:
        out += ["No earlier production version to compare with.", "",
                "| metric | value |", "|---|---:|"]
        out += [f"| {_md(m['key'])} | {_md(fmt_number(m['last']))} |" for m in d["metric_summary"]]
    out += ["", "## Data and code lineage", "", "| input | version | hash | role | derived from |",
            "|---|---|---|---|---|"]
    for row in d["data"]:
        sources = ", ".join(card["derived_from"].get(row["id"], [])) or "—"
        out.append(f"| {_md(row['name'])} | {row['version']} | "
                   f"{_md(row['hash_algo'] or '')} {_md(short_hash(row['hash']))} | {_md(row['role'])} | "
                   f"{_md(sources)} |")
    dirty = " (uncommitted changes)" if run.get("git_dirty") else ""
    out.append(f"| code | {_md(run.get('git_branch') or '—')} | commit "
               f"{_md(short_hash(run.get('git_commit')))}{dirty} | source | — |")
    out += [f"| base model | {_md(base)} | | fine-tuned from | — |" for base in d["base_versions"]]
    gates = card["gates"]
    out += ["", f"## Gates ({CARD_STAGE})", "", "| gate | result | expected |", "|---|---|---|"]
    for item in gates["results"]:
        mark = "skipped" if item.get("skipped") else ("pass" if item["passed"] else "**FAIL**")
        out.append(f"| {_md(item['rule'])} | {mark} | {_md(item['expected'])} |")
    if not gates["results"]:
        out.append("| (no gates) | | |")
    out += ["", "## Stage history", "", "| when | stage | action | from | to | who | reason |",
            "|---|---|---|---|---|---|---|"]
    for row in card["history"]:
        action = row["action"] + (" (forced)" if row["forced"] else "")
        out.append(f"| {fmt_time(row['at'])} | {_md(row['stage'])} | {action} | "
                   f"{_version(row['from_version'])} | {_version(row['to_version'])} | "
                   f"{_md(row['actor'])} | {_md(row['reason'] or '')} |")
    if not card["history"]:
        out.append("| (never staged) | | | | | | |")
    return "\n".join(out) + "\n"


def _version(number: int | None) -> str:
    return f"v{number}" if number else "—"


def card_html(markdown: str, title: str) -> str:
    """The card's Markdown as a standalone HTML page (Rich's export; no browser needed)."""
    import html
    import io

    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(record=True, width=100, file=io.StringIO(), color_system="truecolor")
    console.print(Markdown(markdown))
    return console.export_html(inline_styles=True).replace(
        "<head>", f"<head>\n<title>{html.escape(title)}</title>", 1)
