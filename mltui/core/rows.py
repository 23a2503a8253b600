"""Small helpers every part of the catalog uses to turn SQLite rows into Python values."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterator

def to_json(value: Any) -> str | None:
    """A value as stored JSON text (None stays NULL)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str)


def rows_of(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Every row of a cursor as a dict of column name to value."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """``items`` in slices of ``size`` (SQLite caps the parameters of one statement)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]



_STAGE_RANK = {"production": 0, "staging": 1}


def stage_order(item: tuple[str, Any]) -> tuple[int, str]:
    """Sort key: production, then staging, then aliases by name."""
    return (_STAGE_RANK.get(item[0], 2), item[0])


_LOWER_IS_BETTER = ("loss", "error", "err", "latency", "time", "mse", "mae", "rmse", "perplexity",
                    "ppl", "wer", "cer", "fpr", "fnr", "duration", "memory", "size", "runtime")


def metric_direction(key: str) -> str:
    """``min`` for losses, errors and latencies, ``max`` for everything else."""
    lowered = key.lower()
    parts = [p for p in lowered.replace("/", "_").replace(".", "_").replace("-", "_").split("_") if p]
    if any(p in _LOWER_IS_BETTER for p in parts) or lowered.endswith(("loss", "_ms", "_s")):
        return "min"
    return "max"
