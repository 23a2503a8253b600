"""How far each run has got: what ``mltui watch`` and a live run view follow.

Only existing columns are read: ``runs.status`` and ``end_time`` (set by the importers from
the writer's own end markers: MLflow's run status, the HF Trainer's final summary entry,
Ultralytics reaching its last epoch), the log ``fingerprint`` (changes whenever the log
changed), and the per-key metric summary for the latest step and the number of points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from .rows import chunks

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

#: Run statuses that mean the writer said it is done (MLflow's terminal states).
ENDED_STATUSES = frozenset({"FINISHED", "FAILED", "KILLED"})


def run_progress(cat: "Catalog", run_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{run_id: row}`` with name, source, status, end_time, fingerprint, ``ended`` (the
    writer's end marker was seen), ``last_step`` (highest step of any key) and ``points``."""
    ids = sorted(set(run_ids))
    rows: dict[int, dict[str, Any]] = {}
    for chunk in chunks(ids):  # SQLite's bound-parameter limit
        marks = ",".join("?" * len(chunk))
        for row in cat._read(
                "SELECT r.id, r.uid, r.name, r.source_format, r.source_path, r.status, "
                "r.end_time, r.fingerprint, MAX(ms.last_step) AS last_step, "
                "COALESCE(SUM(ms.count), 0) AS points FROM runs r LEFT JOIN metric_summary ms "
                f"ON ms.run_id = r.id WHERE r.id IN ({marks}) GROUP BY r.id", chunk):
            row["ended"] = str(row["status"] or "").upper() in ENDED_STATUSES
            rows[row["id"]] = row
    return rows


#: Params that state a run's planned length, by the unit they count: the HF Trainer's
#: ``max_steps``, Lightning's ``max_epochs``, Ultralytics' and Keras scripts' ``epochs``.  Only
#: these are read: a total that was not recorded is unknown, never guessed.
STEP_TOTALS = ("max_steps", "total_steps")
EPOCH_TOTALS = ("max_epochs", "num_train_epochs", "epochs")
RATE_WINDOW = 50  # the last points a rate is measured over: the current speed, not the average
MIN_RATE_SPAN = 1.0  # seconds of wall time a rate needs


def live_state(row: dict[str, Any], now: float, stall_after: float) -> str | None:
    """``"live"``, ``"stalled"`` or None for a run row with ``status``, ``updated_at`` and
    ``created_at``: a run without an end marker is live while its log changed in the last
    ``stall_after`` seconds; one whose writer says RUNNING and went quiet is stalled; an old
    log without an end marker (a generic CSV imported last month) is neither."""
    status = str(row.get("status") or "").upper()
    if status in ENDED_STATUSES:
        return None
    changed = row.get("updated_at") or row.get("created_at")
    if changed is not None and now - changed <= stall_after:
        return "live"
    return "stalled" if status == "RUNNING" else None


def run_speed(cat: "Catalog", run_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{run_id: {"unit", "at", "total", "rate", "eta"}}`` for each run with points.

    ``unit`` is "epoch" when the run recorded an epoch total (else "step"); ``at`` is the
    latest position in that unit; ``total`` the recorded total or None; ``rate`` units per
    second measured from the log's own wall times over the last points (None without wall
    times); ``eta`` seconds left, only when both ``total`` and ``rate`` are known."""
    out: dict[int, dict[str, Any]] = {}
    from .series import decode

    for run_id in sorted(set(run_ids)):
        params = {r["key"]: r["value"] for r in cat._read(
            "SELECT key, value FROM params WHERE run_id = ? AND key IN (?,?,?,?,?)",
            (run_id, *STEP_TOTALS, *EPOCH_TOTALS))}
        unit, total = "step", _first_number(params, STEP_TOTALS)
        if total is None and _first_number(params, EPOCH_TOTALS) is not None:
            unit, total = "epoch", _first_number(params, EPOCH_TOTALS)
        # The longest series says the most about progress (the training loss, usually).
        row = cat._conn().execute(
            "SELECT key, count, steps, vals, epochs, wall_times, axis, axes, raws FROM "
            "metric_series WHERE run_id = ? ORDER BY count DESC, key LIMIT 1",
            (run_id,)).fetchone()
        if row is None:
            continue
        points = decode(*row)
        positions = [(p.epoch if unit == "epoch" else p.step, p.wall_time) for p in points]
        known = [(at, wall) for at, wall in positions if at is not None]
        if not known:
            continue
        at = max(a for a, _ in known)
        timed = [(a, w) for a, w in known if w is not None][-RATE_WINDOW:]
        rate = None
        # Points logged within a second of each other (a burst, a replayed log) say nothing
        # about the speed of training.
        if len(timed) >= 2 and timed[-1][1] - timed[0][1] >= MIN_RATE_SPAN \
                and timed[-1][0] > timed[0][0]:
            rate = (timed[-1][0] - timed[0][0]) / (timed[-1][1] - timed[0][1])
        eta = (max(0.0, total - at) / rate) if (total is not None and rate) else None
        out[run_id] = {"unit": unit, "at": at, "total": total, "rate": rate, "eta": eta}
    return out


def _first_number(params: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        try:
            value = float(params[key])
        except (KeyError, TypeError, ValueError):
            continue
        if value > 0:
            return value
    return None
