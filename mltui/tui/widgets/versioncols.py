"""The versions table's columns: version, name, age, stages, metrics, chosen params, data.

Browse builds its VirtualGrid from :func:`version_columns` for the width it has; a row is the
dict :meth:`Catalog.versions` returns (``params`` holds only the chosen param keys).
"""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text

from ...display import fmt_age, safe
from .grid import Column
from .text import commit, lit, number, stage_label, stage_width


def version_columns(metric_keys: list[str], width: int, now: Callable[[], float], *,
                    all_models: bool = False, stage_sets: list[list[str]] | None = None,
                    param_keys: list[str] | None = None) -> list[Column]:
    """The versions table's columns for a screen ``width`` (narrow screens drop some).

    Chosen ``param_keys`` follow the metrics (the table scrolls sideways if they do not fit).

    Under "all versions" the first column names the model too (``fraud@3``).  The stages
    column is as wide as the widest set of stages one version holds (never a cut name); metric
    headers take their key's length when the name column can give the room.  Ages are
    computed when a row is drawn, from ``now()``, so they tick.
    """
    first = Column("version", "version", lambda r: lit(f"{r['model']}@{r['version']}"), width=12) \
        if all_models else Column("version", "ver", lambda r: Text(f"v{r['version']}"), width=4)
    stages = max(8, stage_width(stage_sets or []))  # 8: "archived"
    columns = [
        # Plain cells (no per-cell styles) keep each repainted row to one escape sequence.
        first,
        Column("name", "name", lambda r: lit(r["canonical_name"]), width=0, min_width=12),
        Column("age", "age", lambda r: Text(fmt_age(r["created_at"], now())), width=3,
               justify="right"),
        Column("stages", "stages", stages_cell, width=stages),
    ]
    shown = metric_keys if width >= 58 else metric_keys[:2]
    extras = (16 + 1 if width >= 100 else 0) + (7 + 1 if width >= 90 else 0)
    # Chosen params come after the metrics, always (the table scrolls sideways when they do
    # not fit); their room is taken before the metric headers grow.
    params = [(key, safe(key)) for key in param_keys or ()]
    param_widths = [min(max(6, len(label)), 12) for _, label in params]
    # What the name column can give: everything above its minimum, shared by the metrics.
    fixed = sum(c.width + 1 for c in columns if c.width) + 1 + extras
    spare = width - 1 - fixed - (12 + 1) - 8 * len(shown) - sum(w + 1 for w in param_widths)
    for key in shown:
        label = safe(key)
        grow = min(max(0, len(label) - 7), max(0, spare), 9)
        spare -= grow
        columns.append(Column(f"m:{key}", label, (lambda k: lambda r: number(
            r["metrics"].get(k)))(key), width=7 + grow, justify="right"))
    for (key, label), size in zip(params, param_widths):
        columns.append(Column(f"p:{key}", label, (lambda k: lambda r: lit(
            r.get("params", {}).get(k, "—")))(key), width=size))
    if width >= 100:
        columns.append(Column("data", "data", lambda r: lit(", ".join(r["datasets"])), width=16))
    if width >= 90:
        columns.append(Column("commit", "commit", lambda r: commit(r["git_commit"]), width=7))
    return columns


def stages_cell(row: dict[str, Any]) -> Text:
    """The stages a version holds, then ``archived`` when it is (it may still hold a stage)."""
    cell = stage_label(row["stages"])
    if row.get("status") == "archived":
        cell.append(" " if cell else "")
        cell.append("archived", style="italic")
    return cell


def stage_sets_of(models: list[dict[str, Any]], model: str | None) -> list[list[str]]:
    """The stages each version holds (``{version: [stages]}``), for one model or all."""
    sets: dict[tuple[str, int], list[str]] = {}
    for item in models:
        if model is None or item["name"] == model:
            for stage, version in item["stages"].items():
                sets.setdefault((item["name"], version), []).append(stage)
    return list(sets.values())
