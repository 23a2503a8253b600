"""How far each run has got: what ``mltui watch`` and a live run view follow.

Only existing columns are read: ``runs.status`` and ``end_time`` (set by the importers from
the writer's own end markers: MLflow's run status, the HF Trainer's final summary entry,
Ultralytics reaching its last epoch), the log ``fingerprint`` (changes whenever the log
changed), and the per-key metric summary for the latest step and the number of points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

#: Run statuses that mean the writer said it is done (MLflow's terminal states).
ENDED_STATUSES = frozenset({"FINISHED", "FAILED", "KILLED"})


def run_progress(cat: "Catalog", run_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{run_id: row}`` with name, source, status, end_time, fingerprint, ``ended`` (the
    writer's end marker was seen), ``last_step`` (highest step of any key) and ``points``."""
    ids = sorted(set(run_ids))
    rows: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in cat._read(
                "SELECT r.id, r.uid, r.name, r.source_format, r.source_path, r.status, "
                "r.end_time, r.fingerprint, MAX(ms.last_step) AS last_step, "
                "COALESCE(SUM(ms.count), 0) AS points FROM runs r LEFT JOIN metric_summary ms "
                f"ON ms.run_id = r.id WHERE r.id IN ({marks}) GROUP BY r.id", chunk):
            row["ended"] = str(row["status"] or "").upper() in ENDED_STATUSES
            rows[row["id"]] = row
    return rows
