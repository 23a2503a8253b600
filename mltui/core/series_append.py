"""Appending the points of a grown log to its run's series (``mltui watch``'s fast path).

A reader that read only the bytes appended to a log (importers/appendlog.py) hands over a run
with just the new points and ``appends_to``, the fingerprint the catalog's run must still hold:
then the catalog holds exactly the points of the bytes before the append, and adding the new
ones (with the full read's de-duplication: an exact repeat of a point already stored is
dropped) gives what a full read of the whole file would.  The reader lists the run's artifacts
and its status whole on every read (a checkpoint saved, the last epoch reached): they replace
the stored ones; tags only add (the first value seen wins).  If the run holds anything else
(another import rewrote it, a write was rolled back) nothing is merged: :class:`StaleAppend`
makes the import read every file whole again.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from .errors import ImportFailed
from .records import MetricPoint, RunRecord
from .series import decode, encode

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog
    from .ingest import ImportSummary


class StaleAppend(ImportFailed):
    """Appended points whose run no longer holds the state they were read against."""


def _signature(point: MetricPoint) -> tuple:
    # The same signature as importers.common.dedupe_points.
    return (point.key, point.step, point.epoch, point.value, point.raw, point.wall_time)


class SeriesAppendMixin:
    """Writing a run read as appended bytes: new points added to its stored series."""

    def _append_run(self: "Catalog", conn: sqlite3.Connection, run: RunRecord,
                    existing: tuple | None, summary: "ImportSummary") -> int:
        """Append ``run.metrics`` to the stored run ``existing`` (id, fingerprint)."""
        from .ingest import _summarise  # ingest imports this module's mixin
        if existing is None or existing[1] != run.appends_to:
            raise StaleAppend(run.source_path, "the catalog's run changed since the log was "
                              "last read; read it whole")
        run_id = existing[0]
        summary.run_ids.append(run_id)
        if run.fingerprint == existing[1]:
            summary.runs_unchanged += 1
            return run_id
        by_key: dict[str, list[MetricPoint]] = {}
        for point in run.metrics:
            by_key.setdefault(point.key, []).append(point)
        for key, fresh in by_key.items():
            row = conn.execute("SELECT count, steps, vals, epochs, wall_times, axis, axes, raws "
                               "FROM metric_series WHERE run_id = ? AND key = ?",
                               (run_id, key)).fetchone()
            stored = decode(key, *row) if row else []
            seen = {_signature(p) for p in stored}
            added = [p for p in fresh if _signature(p) not in seen]
            if not added:
                continue
            group = stored + added
            packed = encode(group)
            conn.execute("INSERT OR REPLACE INTO metric_series (run_id, key, count, steps, vals, "
                         "epochs, wall_times, axis, axes, raws) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (run_id, key, packed.count, packed.steps, packed.vals, packed.epochs,
                          packed.wall_times, packed.axis, packed.axes, packed.raws))
            conn.execute("INSERT OR REPLACE INTO metric_summary (run_id, key, last, last_raw, "
                         "last_step, min, min_step, max, max_step, count) VALUES "
                         "(?,?,?,?,?,?,?,?,?,?)", (run_id, key, *_summarise(group)))
            summary.points += len(added)
        if run.tags:  # the first value seen wins: the stored one came from earlier lines
            conn.executemany("INSERT OR IGNORE INTO run_tags (run_id, key, value) VALUES (?,?,?)",
                             [(run_id, str(k), str(v)) for k, v in run.tags.items()])
            # The search body as _write_run builds it, with any tag the new lines brought.
            name, project, uid = conn.execute("SELECT name, project, uid FROM runs WHERE id = ?",
                                              (run_id,)).fetchone()
            tags = conn.execute("SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY rowid",
                                (run_id,)).fetchall()
            body = "\n".join(str(p) for p in (name, project, uid, *(f"{k} {v}" for k, v in tags))
                             if p)
            conn.execute("INSERT OR REPLACE INTO search_text (kind, ref_id, body) VALUES "
                         "('run', ?, ?)", (run_id, body))
        self._replace_artifacts(conn, run_id, run)
        conn.execute("UPDATE runs SET fingerprint = ?, updated_at = ?, status = coalesce(?, status), "
                     "start_time = CASE WHEN start_time IS NULL OR ? < start_time THEN "
                     "coalesce(?, start_time) ELSE start_time END, "
                     "end_time = CASE WHEN end_time IS NULL OR ? > end_time THEN "
                     "coalesce(?, end_time) ELSE end_time END WHERE id = ?",
                     (run.fingerprint, self.now(), run.status, run.start_time, run.start_time,
                      run.end_time, run.end_time, run_id))
        summary.runs_updated += 1
        return run_id

    def _replace_artifacts(self: "Catalog", conn: sqlite3.Connection, run_id: int,
                           run: RunRecord) -> None:
        """The run's artifacts as the reader found them now (a reader lists them whole on every
        read: a checkpoint saved since the last pass appears), rewritten only when changed."""
        from .ingest import ARTIFACT_INSERT, artifact_rows
        rows = artifact_rows(run_id, run)
        stored = conn.execute("SELECT run_id, seq, kind, name, path_raw, path, hash_algo, hash, "
                              "size, base_model FROM run_artifacts WHERE run_id = ? ORDER BY seq",
                              (run_id,)).fetchall()
        if [tuple(row) for row in stored] == rows:
            return
        conn.execute("DELETE FROM run_artifacts WHERE run_id = ?", (run_id,))
        conn.executemany(ARTIFACT_INSERT, rows)
