"""Reports for CI and spreadsheets: comparisons and checks as Markdown/CSV, table exports.

Shared by the command line and the app's ``x`` (export the comparison).  Tabular output goes
through pandas, which already knows CSV quoting and Parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .display import comparison_cell, fmt_number, safe, short_hash

if TYPE_CHECKING:  # pragma: no cover
    from .core.catalog import Catalog


def _md(value: Any) -> str:
    """A Markdown table cell: pipes, backslashes and newlines escaped, markup kept literal."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    for ch in "*_`[]<>":
        text = text.replace(ch, "\\" + ch)
    return safe(text)  # control characters visible: a report is often printed to a terminal


def _csv_cell(value: Any) -> Any:
    """A CSV text cell: control characters made visible, formulas kept as text.

    CSV has no escape for control characters, and spreadsheets run a cell that starts with
    ``=``, ``+``, ``-`` or ``@`` as a formula; such text gets a leading ``'`` (numbers stay).
    """
    if not isinstance(value, str):
        return value
    text = safe(value)
    if text[:1] in ("=", "+", "-", "@"):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def comparison_markdown(data: dict[str, Any]) -> str:
    """A comparison as GitHub Markdown: metrics with deltas (best in bold), params, data."""
    versions = data["versions"]
    lines = ["| | " + " | ".join(_md(v) + (" (base)" if i == 0 else "") for i, v in enumerate(versions))
             + " |", "|---|" + "---:|" * len(versions)]
    for row in data["metrics"]:
        cells = []
        for index, value in enumerate(row["values"]):
            text = comparison_cell(row, index)
            cells.append(f"**{_md(text)}**" if row["best"] == index else _md(text))
        lines.append(f"| {_md('metrics.' + row['key'])} | " + " | ".join(cells) + " |")
    for row in data["params"]:
        mark = " ≠" if row["differs"] else ""
        lines.append(f"| {_md('params.' + row['key'])}{mark} | "
                     + " | ".join(_md(v if v is not None else "—") for v in row["values"]) + " |")
    lines.append("| data | " + " | ".join(_md(d or "—") for d in data["datasets"]) + " |")
    lines.append("| commit | " + " | ".join(
        _md(short_hash(c) + (" (inferred)" if inferred else ""))
        for c, inferred in zip(data["commits"], data["commits_inferred"])) + " |")
    return "\n".join(lines) + "\n"


def comparison_frame(data: dict[str, Any]):
    """A comparison as a pandas DataFrame: one row per metric/param, one column per version."""
    import pandas as pd

    records = []
    for row in data["metrics"]:
        records.append({"field": f"metrics.{row['key']}",
                        **{v: (row["values"][i] if row["values"][i] is not None else row["raw"][i])
                           for i, v in enumerate(data["versions"])}})
    for row in data["params"]:
        records.append({"field": f"params.{row['key']}",
                        **{v: row["values"][i] for i, v in enumerate(data["versions"])}})
    records.append({"field": "data", **dict(zip(data["versions"], data["datasets"]))})
    records.append({"field": "commit", **dict(zip(data["versions"], data["commits"]))})
    return pd.DataFrame.from_records(records, columns=["field", *data["versions"]])


def comparison_csv(data: dict[str, Any]) -> str:
    """A comparison as CSV (text cells and headers made safe by :func:`_csv_cell`)."""
    frame = comparison_frame(data)
    frame.columns = [_csv_cell(str(c)) for c in frame.columns]
    return frame.map(_csv_cell).to_csv(index=False)


def check_markdown(result: dict[str, Any]) -> str:
    """A gate check as a Markdown report for CI job summaries and PR comments.

    ``result`` is ``services.review.review``'s: the verdict, the gates, and (with a stage
    holder) metric deltas with the better side in bold, changed params, data and code.
    """
    icon = "✅" if result["passed"] else "❌"
    title = (f"### Gates for {_md(result['ref'])}: {icon} "
             f"{'passed' if result['passed'] else 'failed'} ({_md(result['stage'])})")
    lines = [title, "",
             _md(result.get("verdict") or ""), "",
             "| gate | result | value | expected |", "|---|---|---:|---|"]
    for item in result["results"]:
        mark = "skipped" if item.get("skipped") else ("pass" if item["passed"] else "**FAIL**")
        lines.append(f"| {_md(item['rule'])} | {mark} | {_md(fmt_number(item['actual']))} | "
                     f"{_md(item['expected'])} |")
    if not result["results"]:
        lines.append("| (no gates) | | | |")
    cmp = result.get("versus")
    if cmp is not None:
        lines += ["", *versus_markdown(cmp)]
    return "\n".join(lines) + "\n"


def versus_markdown(cmp: dict[str, Any]) -> list[str]:
    """Markdown lines for ``services.review.versus``: metrics (better side in bold), changed
    params, data and code."""
    from .services.review import delta_text

    base, ref = _md(cmp["base"]), _md(cmp["ref"])
    lines = [f"| metric | {base} | {ref} | Δ |", "|---|---:|---:|---|"]
    for row in cmp["metrics"]:
        cells = [_md(fmt_number(row["base"])), _md(fmt_number(row["value"]))]
        if row["better"] is not None:
            side = 1 if row["better"] == "candidate" else 0
            cells[side] = f"**{cells[side]}**"
        lines.append(f"| {_md(row['key'])} | {cells[0]} | {cells[1]} | {_md(delta_text(row))} |")
    if not cmp["metrics"]:
        lines.append("| (no metrics) | | | |")
    lines += ["", f"| changed | {base} | {ref} |", "|---|---|---|"]
    for row in cmp["params"]:
        lines.append(f"| params.{_md(row['key'])} | {_md(_dash(row['base']))} | "
                     f"{_md(_dash(row['value']))} |")
    for row in cmp["data"]:
        if row["changed"]:
            lines.append(f"| data {_md(row['name'])} | {_md(_dash(row['base']))} | "
                         f"{_md(_dash(row['value']))} |")
    code = cmp["code"]
    if code["changed"]:
        lines.append(f"| code {_md(code['range'])} | {_md(short_hash(code['base']))} | "
                     f"{_md(short_hash(code['value']))} |")
    if lines[-1] == "|---|---|---|":
        lines.append("| (no params, data or code changed) | | |")
    return lines


def _dash(value: Any) -> Any:
    return "—" if value is None else value


def export_tables(cat: "Catalog", out_dir: Path, tables: list[str] | None, fmt: str
                  ) -> list[tuple[Path, int]]:
    """Write each table to ``out_dir/<table>.<fmt>``; returns ``[(path, rows)]``."""
    from .core.errors import InvalidInput

    from .core.catalog import EXPORT_TABLES

    if fmt == "parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:  # checked before any file is written
            raise InvalidInput("Parquet export needs pyarrow, which a default install leaves out",
                               hint="pip install 'mltui[parquet]', or use --format csv")
    names = tables or [t for t in EXPORT_TABLES if t != "points"]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        frame = cat.export_frame(name)
        path = out_dir / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        written.append((path, len(frame)))
    return written
