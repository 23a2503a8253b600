"""Appending the points of a grown log to its run's series (``mltui watch``'s fast path).

A reader that read only the bytes appended to a log (importers/appendlog.py) hands over a run
with just the new points and ``appends_to``, the fingerprint the catalog's run must still hold:
then the catalog holds exactly the points of the bytes before the append, and adding the new
ones (with the full read's de-duplication: an exact repeat of a point already stored is
dropped, unless the format ``keeps_repeats``) gives what a full read of the whole file would.
When every new point has a step the series has not logged (the usual growth), none can be a
repeat: the new points are packed and appended to the stored blobs and the summary merged,
without decoding the stored series (byte for byte what a re-encode gives); otherwise the
series is decoded and re-encoded.  The reader lists the run's artifacts
and its status whole on every read (a checkpoint saved, the last epoch reached): they replace
the stored ones; tags only add (the first value seen wins).  If the run holds anything else
(another import rewrote it, a write was rolled back) nothing is merged: :class:`StaleAppend`
makes the import read every file whole again.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from .errors import ImportFailed

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog
    from .records import ImportSummary, MetricPoint, RunRecord
    from .series import Encoded


class StaleAppend(ImportFailed):
    """Appended points whose run no longer holds the state they were read against."""


def _signature(point: MetricPoint) -> tuple:
    # The same signature as importers.common.dedupe_points.
    return (point.key, point.step, point.epoch, point.value, point.raw, point.wall_time)


def _append_in_place(conn: sqlite3.Connection, run_id: int, key: str, row: tuple,
                     fresh: list[MetricPoint]) -> int | None:
    """Append ``fresh`` to the packed row and its summary without decoding the stored points:
    only when every fresh point has a step the series has not logged yet (so none can be an
    exact repeat of a stored one).  How many were appended; None: the decoded path decides."""
    from .series import Encoded, append_encoded, encode, step_set  # loaded by imports only

    stored = Encoded(*row)
    if stored.steps is None:
        return None
    steps = step_set(stored.steps, stored.count)
    if any(point.step is None or point.step in steps for point in fresh):
        return None
    old_summary = conn.execute("SELECT last, last_raw, last_step, min, min_step, max, max_step, "
                               "count FROM metric_summary WHERE run_id = ? AND key = ?",
                               (run_id, key)).fetchone()
    if old_summary is None:
        return None
    _store(conn, run_id, key, append_encoded(stored, encode(fresh)),
           _merged_summary(tuple(old_summary), _summary_of(fresh)))
    return len(fresh)


def _append_decoded(conn: sqlite3.Connection, run_id: int, key: str, row: tuple | None,
                    fresh: list[MetricPoint], keeps_repeats: bool) -> int:
    """Append the points of ``fresh`` that are no exact repeat of a stored point (all of them
    when the format ``keeps_repeats``), decoding the stored series; how many were appended."""
    from .series import decode, encode

    stored = decode(key, *row) if row else []
    seen = set() if keeps_repeats else {_signature(p) for p in stored}
    added = [p for p in fresh if _signature(p) not in seen]
    if added:
        group = stored + added
        _store(conn, run_id, key, encode(group), _summary_of(group))
    return len(added)


def _store(conn: sqlite3.Connection, run_id: int, key: str, packed: Encoded,
           summary: tuple) -> None:
    conn.execute("INSERT OR REPLACE INTO metric_series (run_id, key, count, steps, vals, "
                 "epochs, wall_times, axis, axes, raws) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (run_id, key, packed.count, packed.steps, packed.vals, packed.epochs,
                  packed.wall_times, packed.axis, packed.axes, packed.raws))
    conn.execute("INSERT OR REPLACE INTO metric_summary (run_id, key, last, last_raw, "
                 "last_step, min, min_step, max, max_step, count) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?)", (run_id, key, *summary))


def _merged_summary(old: tuple, new: tuple) -> tuple:
    """The summary (ingest._summarise) of a series' points followed by more, from the two
    parts' summaries: last = highest step (a tie: the later point), min = lowest value (a tie:
    the lowest step), max = highest value (a tie: the first logged); no step counts as -1."""
    last = new[:3] if _step(new[2]) >= _step(old[2]) else old[:3]
    lows = [(part[3], _step(part[4])) for part in (old, new) if part[3] is not None]
    low = min(lows) if lows else (None, -1)
    highs = [(part[5], part[6]) for part in (old, new) if part[5] is not None]
    high = max(highs, key=lambda item: item[0]) if highs else (None, None)
    return (*last, low[0], None if low[1] == -1 else low[1], *high, old[7] + new[7])


def _summary_of(points: list[MetricPoint]) -> tuple:
    from .ingest import _summarise  # ingest imports this module's mixin
    return _summarise(points)


def _step(step: int | None) -> int:
    return -1 if step is None else step


class SeriesAppendMixin:
    """Writing a run read as appended bytes: new points added to its stored series."""

    def _append_run(self: "Catalog", conn: sqlite3.Connection, run: RunRecord,
                    existing: tuple | None, summary: "ImportSummary") -> int:
        """Append ``run.metrics`` to the stored run ``existing`` (id, fingerprint)."""
        if existing is None or existing[1] != run.appends_to:
            raise StaleAppend(run.source_path, "the catalog's run changed since the log was "
                              "last read; read it whole")
        run_id = existing[0]
        summary.run_ids.append(run_id)
        if run.fingerprint == existing[1]:
            # No line appended, but a checkpoint may have been rewritten (a weights file
            # caught mid-write last pass, an optimizer stripped at the end): listed again.
            if self._replace_artifacts(conn, run_id, run):
                summary.runs_updated += 1
            else:
                summary.runs_unchanged += 1
            return run_id
        by_key: dict[str, list[MetricPoint]] = {}
        for point in run.metrics:
            by_key.setdefault(point.key, []).append(point)
        for key, fresh in by_key.items():
            row = conn.execute("SELECT count, steps, vals, epochs, wall_times, axis, axes, raws "
                               "FROM metric_series WHERE run_id = ? AND key = ?",
                               (run_id, key)).fetchone()
            appended = _append_in_place(conn, run_id, key, row, fresh) if row else None
            if appended is None:
                appended = _append_decoded(conn, run_id, key, row, fresh, run.keeps_repeats)
            summary.points += appended
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
                           run: RunRecord) -> bool:
        """The run's artifacts as the reader found them now (a reader lists them whole on every
        read: a checkpoint saved since the last pass appears), rewritten only when changed
        (True then)."""
        from .ingest import ARTIFACT_INSERT, artifact_rows
        rows = artifact_rows(run_id, run)
        stored = conn.execute("SELECT run_id, seq, kind, name, path_raw, path, hash_algo, hash, "
                              "size, base_model FROM run_artifacts WHERE run_id = ? ORDER BY seq",
                              (run_id,)).fetchall()
        if [tuple(row) for row in stored] == rows:
            return False
        conn.execute("DELETE FROM run_artifacts WHERE run_id = ?", (run_id,))
        conn.executemany(ARTIFACT_INSERT, rows)
        return True
