"""Writing runs into the catalog: ``log_run`` for training scripts and ``write_import`` for logs.

Importers produce plain records; this module writes a whole invocation in one transaction, so
an import is all-or-nothing.  A run is identified by its ``uid``: an unchanged log (same
fingerprint) is skipped, a grown one replaces its run's points, params and tags in place.
Metric points go in packed, one row per (run, key) (the hot path: hundreds of thousands of
points; see series.py), with the per-key summary (last/min/max) computed in the same pass.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import uuid
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .errors import ImportFailed, InvalidInput
from .ingest_rows import ARTIFACT_INSERT, PendingRows  # noqa: F401 - series_append's
from .schema import fault_point

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog
    from .records import DatasetRecord, ImportBatch, ImportSummary, MetricPoint, RunRecord


def artifact_rows(run_id: int, run: RunRecord) -> list[tuple]:
    """The ``run_artifacts`` rows of ``run``'s artifacts, in the reader's order."""
    return [(run_id, i, a.kind, a.name, a.path_raw, a.path, a.hash_algo, a.hash, a.size,
             a.base_model) for i, a in enumerate(run.artifacts)]


def _summarise(group: list[MetricPoint]) -> tuple:
    """One key's summary: (last, last_raw, last_step, min, min_step, max, max_step, count).

    ``last`` is the point with the highest step (ties: logged later), like MLflow's latest
    metric value; NaN points count but never become min or max.
    """
    raws = {i: p.raw for i, p in enumerate(group) if p.raw is not None}
    return _summarise_columns([p.value for p in group], [p.step for p in group], raws)


def _summarise_columns(values: list[float | None], steps: Sequence[int | None],
                       raws: dict[int, str] | None) -> tuple:
    """The summary of one key given as columns.

    This runs for every key of every imported run, so the common case (steps already in
    order) stays in C builtins.
    """
    count = len(values)
    if type(steps) is range:  # MLflow's 0, 1, 2 ...: in order, and `None in` would walk it
        ordered = steps.step > 0 or count < 2
    else:
        ordered = None not in steps and steps == sorted(steps)
    if ordered:
        last = count - 1
    else:
        last = max(((s if s is not None else -1), i) for i, s in enumerate(steps))[1]
    last_raw = raws.get(last) if raws else None
    total = sum(values) if count and None not in values else None
    if total is not None and total - total == 0.0:
        # Every value a finite number (the usual case): min and max found in C, and their steps by
        # position, the same points the pairs below pick (ties: lowest step for min, first
        # logged for max).
        low, high = min(values), max(values)
        if values.count(low) == 1:
            low_step = steps[values.index(low)]
            high_step = steps[values.index(high)]
            return (values[last], last_raw, steps[last], low,
                    None if low_step is None or low_step == -1 else low_step,
                    high, None if high_step is None or high_step == -1 else high_step, count)
    pairs = [(v, -1 if s is None else s) for v, s in zip(values, steps) if v is not None]
    if not pairs:
        return (values[last], last_raw, steps[last], None, None, None, None, count)
    low, high = min(pairs), max(pairs, key=itemgetter(0))
    return (values[last], last_raw, steps[last], low[0], None if low[1] == -1 else low[1],
            high[0], None if high[1] == -1 else high[1], count)


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    number = float(value)
    return number if math.isfinite(number) else None


class IngestMixin:
    """``log_run`` and the batch writer of imports (mixed into Catalog)."""

    # -- the Python API for training scripts ------------------------------------------------

    def log_run(self: "Catalog", name: str | None = None, *, params: dict[str, Any] | None = None,
                metrics: dict[str, Any] | None = None, tags: dict[str, Any] | None = None,
                project: str | None = None, datasets: Iterable[str | Path] = (),
                artifact: str | Path | None = None, git_commit: str | None = None,
                status: str = "FINISHED", uid: str | None = None,
                start_time: float | None = None, end_time: float | None = None) -> dict[str, Any]:
        """Record a run from a training script; returns ``{"id", "uid", "name"}``.

        ``metrics`` maps a key to a value, a list of values (steps 0, 1, …) or a list of
        ``(step, value)`` pairs.  ``datasets`` are files or folders, hashed and linked as
        inputs; ``artifact`` is the model file or folder the run produced.
        """
        from .hashing import artifact_for, dataset_for
        from .records import ImportSummary, MetricPoint, RunRecord

        points: list[MetricPoint] = []
        for key, value in (metrics or {}).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for index, item in enumerate(values):
                step, raw_value = (item if isinstance(item, (list, tuple)) and len(item) == 2
                                   else (index, item))
                number = _finite(raw_value)
                raw = None if number is not None or raw_value is None else str(raw_value)
                points.append(MetricPoint(str(key), number, step=int(step), raw=raw, seq=len(points)))
        record = RunRecord(
            uid=uid or uuid.uuid4().hex, source_format="api", source_path="", name=name,
            project=project, status=status, start_time=start_time or self.now(),
            end_time=end_time or self.now(), user=self.actor, git_commit=git_commit,
            params={str(k): v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list))
                    else str(v) for k, v in (params or {}).items()},
            tags={str(k): str(v) for k, v in (tags or {}).items()}, metrics=points)
        for path in datasets:
            if not Path(path).exists():
                raise InvalidInput(f"dataset {path} does not exist")
            record.datasets.append(dataset_for(Path(path)))
        if artifact is not None:
            if not Path(artifact).exists():
                raise InvalidInput(f"artifact {artifact} does not exist")
            record.artifacts.append(artifact_for(Path(artifact)))
        summary = ImportSummary()
        with self._write() as conn:
            run_id = self._write_run(conn, record, summary)
        return {"id": run_id, "uid": record.uid, "name": name}

    # -- import -----------------------------------------------------------------------------

    def write_import(self: "Catalog", batches: list[ImportBatch], summary: ImportSummary, *,
                     datasets: list[DatasetRecord] = (), model: str | None = None,
                     dry_run: bool = False) -> ImportSummary:
        """Write what importers read, in one transaction: all of it, or (on any error) nothing.

        ``datasets`` are linked as inputs of every imported run; ``model`` registers each
        imported run's model artifact as the next version.  With ``dry_run`` everything is
        computed and counted in ``summary``, then rolled back.  Finding and reading the logs is
        :func:`mltui.services.ingest.import_paths`'s job.
        """
        try:
            with self._write() as conn:
                self._write_batches(conn, batches, summary, list(datasets), model)
                if dry_run:
                    raise _DryRun  # everything computed, the transaction rolled back
        except _DryRun:
            pass
        return summary

    def _write_batches(self: "Catalog", conn: sqlite3.Connection, batches: list[ImportBatch],
                       summary: ImportSummary, user_datasets: list[DatasetRecord],
                       model: str | None) -> None:
        uid_to_id: dict[str, int] = {}
        new_runs: list[tuple[RunRecord, int]] = []
        written = 0
        import_uids = {run.uid for batch in batches for run in batch.runs}
        pending = PendingRows()  # every new run's rows, a table at a time (ingest_rows.py)
        for batch in batches:
            self._replace_leftovers(conn, batch, import_uids, summary, pending)
            for run in batch.runs:
                run.datasets = list(run.datasets) + list(user_datasets)
                unchanged_before = summary.runs_unchanged
                run_id = self._write_run(conn, run, summary, pending)
                written += 1
                fault_point(f"import-row:{written}")  # crash tests: kill after the Nth run
                uid_to_id[run.uid] = run_id
                if summary.runs_unchanged == unchanged_before:
                    new_runs.append((run, run_id))
        pending.flush(conn)  # the registry below reads the runs' artifacts
        for batch in batches:
            for registry_model in batch.models:
                self._write_registry_model(conn, registry_model, uid_to_id, summary,
                                           store=batch.source_path)
        if model is not None:
            for run, run_id in sorted(new_runs, key=lambda item: item[0].start_time or 0):
                self._register_run_once(conn, model, run_id, run.end_time or run.start_time,
                                        summary)
        if summary.runs_new or summary.runs_updated or summary.versions_new:
            self._event(conn, "import", "catalog", None, None,
                        after={k: v for k, v in summary.as_dict().items()
                               if k in ("runs_new", "runs_updated", "runs_replaced", "points",
                                        "versions_new", "datasets_new", "formats")})

    def register_run_once(self: "Catalog", model: str, run_id: int) -> int | None:
        """Register run ``run_id``'s artifact as the next version of ``model``, unless the run
        already is a version of it; returns the new version id, or None when it already was.

        ``mltui watch --model`` calls this when a run finishes, however often it sees it; the
        check and the insert share one write transaction, so two watchers register it once.
        """
        from .records import ImportSummary  # with the records: not with the Catalog class

        summary = ImportSummary()
        with self._write() as conn:
            row = conn.execute("SELECT end_time, start_time FROM runs WHERE id = ?",
                               (run_id,)).fetchone()
            if row is None:
                raise InvalidInput(f"no run with id {run_id}")
            return self._register_run_once(conn, model, run_id, row[0] or row[1], summary)

    def _register_run_once(self: "Catalog", conn: sqlite3.Connection, model: str, run_id: int,
                           created_at: float | None, summary: ImportSummary) -> int | None:
        if conn.execute("SELECT 1 FROM model_versions v JOIN models mo ON mo.id = "
                        "v.model_id WHERE mo.name = ? AND v.run_id = ?",
                        (model, run_id)).fetchone():
            return None  # idempotent: this run is already a version of the model
        if not conn.execute("SELECT 1 FROM models WHERE name = ?", (model,)).fetchone():
            summary.models_new += 1
        summary.versions_new += 1
        return self._register(conn, model, run_id=run_id, artifact=self.run_artifact(run_id),
                              created_at=created_at or None)

    def _replace_leftovers(self: "Catalog", conn: sqlite3.Connection, batch: ImportBatch,
                           import_uids: set[str], summary: ImportSummary,
                           pending: PendingRows) -> None:
        """Merge runs another reader made from inside a folder this batch now reads whole.

        A writer's folder can change kind as it fills: an HF output dir holds only its
        ``runs/`` TensorBoard files before the first checkpoint, a Lightning version dir only a
        tfevents file before ``metrics.csv``.  Once the richer reader claims the folder, the
        earlier run is a leftover: it becomes the new run (same id, so model versions, docs and
        lineage stay attached; the write that follows replaces its contents) or, when the new
        run already exists, is merged into it and deleted.  Each is recorded as an event.
        """
        if not batch.claims_folder or not batch.runs:
            return
        found: dict[int, tuple[str, str, str]] = {}
        for folder in {batch.source_path, os.path.abspath(batch.source_path)}:
            prefix = folder.rstrip(os.sep) + os.sep
            for run_id, uid, fmt, source in conn.execute(
                    "SELECT id, uid, source_format, source_path FROM runs WHERE source_format != ?"
                    " AND (source_path = ? OR substr(source_path, 1, ?) = ?) ORDER BY id",
                    (batch.source_format, folder, len(prefix), prefix)):
                if uid not in import_uids:
                    found[run_id] = (uid, fmt, source)
        if found:
            pending.flush(conn)  # merging moves and deletes rows: all of them in the tables
        for run_id, (uid, fmt, source) in sorted(found.items()):
            target = _owner(batch.runs, source)
            if target is None:
                continue  # several runs and none holds it: not ours to decide
            new = conn.execute("SELECT id FROM runs WHERE uid = ?", (target.uid,)).fetchone()
            if new is None:
                conn.execute("UPDATE runs SET uid = ?, fingerprint = NULL WHERE id = ?",
                             (target.uid, run_id))
            else:
                self._merge_run(conn, run_id, new[0])
            summary.runs_replaced += 1
            self._event(conn, "replace_run", "run", run_id, f"run:{uid}",
                        before={"uid": uid, "source_format": fmt, "source_path": source},
                        after={"uid": target.uid, "source_format": target.source_format,
                               "source_path": target.source_path,
                               "run_id": run_id if new is None else new[0]})

    def _merge_run(self: "Catalog", conn: sqlite3.Connection, old_id: int, new_id: int) -> None:
        """Delete run ``old_id``; model versions made from it now point at ``new_id``."""
        conn.execute("UPDATE model_versions SET run_id = ? WHERE run_id = ?", (new_id, old_id))
        for table in ("metric_series", "metric_summary", "params", "run_tags", "run_artifacts"):
            conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (old_id,))
        conn.execute("DELETE FROM lineage WHERE (src_kind = 'run' AND src_id = ?) OR "
                     "(dst_kind = 'run' AND dst_id = ?)", (old_id, old_id))
        conn.execute("DELETE FROM search_text WHERE kind = 'run' AND ref_id = ?", (old_id,))
        conn.execute("DELETE FROM runs WHERE id = ?", (old_id,))

    def _write_run(self: "Catalog", conn: sqlite3.Connection, run: RunRecord,
                   summary: ImportSummary, pending: PendingRows | None = None) -> int:
        """Insert or update one run with its params, tags, points, summary and data edges.

        A new run's rows wait in ``pending`` (the caller flushes it); without one, or for a run
        already in the catalog, they are written before this returns.
        """
        if not run.uid:
            raise ImportFailed(run.source_path or "<api>", "run has no id", field="uid")
        existing = conn.execute("SELECT id, fingerprint FROM runs WHERE uid = ?",
                                (run.uid,)).fetchone()
        if existing and pending is not None:
            pending.flush(conn)  # its rows may be waiting (a run read twice): in place first
        if run.appends_to is not None:  # only the points of appended bytes: series_append.py
            return self._append_run(conn, run, existing, summary)
        if existing and run.fingerprint and existing[1] == run.fingerprint:
            summary.runs_unchanged += 1
            summary.run_ids.append(existing[0])
            return existing[0]
        rows = PendingRows() if existing or pending is None else pending
        now = self.now()
        env = json.dumps(run.environment, sort_keys=True, default=str) if run.environment else None
        columns = (run.name, run.project, run.source_format, run.source_path, run.status,
                   run.start_time, run.end_time, run.user, run.host, run.git_commit,
                   run.git_branch, None if run.git_dirty is None else int(run.git_dirty), env,
                   run.fingerprint, 1 if run.git_commit_inferred else None)
        if existing:
            run_id = existing[0]
            conn.execute(
                "UPDATE runs SET name=?, project=?, source_format=?, source_path=?, status=?, "
                "start_time=?, end_time=?, user=?, host=?, git_commit=?, git_branch=?, git_dirty=?,"
                " environment=?, fingerprint=?, git_commit_inferred=?, updated_at=? WHERE id = ?", (*columns, now, run_id))
            for table in ("metric_series", "metric_summary", "params", "run_tags",
                          "run_artifacts"):
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            summary.runs_updated += 1
        else:
            run_id = conn.execute(
                "INSERT INTO runs (name, project, source_format, source_path, status, start_time, "
                "end_time, user, host, git_commit, git_branch, git_dirty, environment, fingerprint,"
                " git_commit_inferred, uid, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*columns, run.uid, now, now)).lastrowid
            summary.runs_new += 1
        summary.run_ids.append(run_id)
        if run.params:
            rows.params.extend([(run_id, str(k), str(v)) for k, v in run.params.items()])
        if run.tags:
            rows.tags.extend([(run_id, str(k), str(v)) for k, v in run.tags.items()])
        if run.artifacts:
            rows.artifacts.extend(artifact_rows(run_id, run))
        if run.metrics or run.metric_columns:
            self._series_rows(run, run_id, rows, summary)
        for dataset in run.datasets:
            dv_id = self._dataset_version(conn, dataset, summary)
            self._edge(conn, "dataset", dv_id, "run", run_id, dataset.role or "input")
        body = "\n".join(str(p) for p in (run.name, run.project, run.uid, *(
            f"{k} {v}" for k, v in run.tags.items())) if p)
        rows.search.append((run_id, body))
        if rows is pending:
            pending.run_added(conn)
            return run_id
        rows.flush(conn)
        if existing:
            for (vid,) in conn.execute("SELECT id FROM model_versions WHERE run_id = ?",
                                       (run_id,)).fetchall():
                self._index_version(conn, vid)
        return run_id

    @staticmethod
    def _series_rows(run: RunRecord, run_id: int, rows: PendingRows,
                     summary: ImportSummary) -> None:
        """One packed series row and one summary row per metric key of ``run``."""
        from .series import encode, encode_columns  # with the records: imports only, not at start

        by_key: dict[str, list[MetricPoint]] = {}
        for point in run.metrics:
            by_key.setdefault(point.key, []).append(point)
        series_rows, summaries = rows.series, rows.summaries
        for column in run.metric_columns:
            if column.key in by_key:  # the same key read both ways: merge point by point
                by_key[column.key].extend(column.points())
                continue
            packed = encode_columns(column)
            series_rows.append((run_id, column.key, packed.count, packed.steps, packed.vals,
                                packed.epochs, packed.wall_times, packed.axis, None, packed.raws))
            summaries.append((run_id, column.key,
                              *_summarise_columns(column.values, column.steps, column.raws)))
            summary.points += packed.count
        for key, group in by_key.items():
            packed = encode(group)
            series_rows.append((run_id, key, packed.count, packed.steps, packed.vals,
                                packed.epochs, packed.wall_times, packed.axis, packed.axes,
                                packed.raws))
            summaries.append((run_id, key, *_summarise(group)))
            summary.points += packed.count

    def _dataset_version(self: "Catalog", conn: sqlite3.Connection, record: DatasetRecord,
                         summary: ImportSummary) -> int:
        """The id of a dataset version: found by (name, hash), else numbered next for its name."""
        if record.hash is None:
            row = conn.execute("SELECT id FROM dataset_versions WHERE name = ? AND hash IS NULL",
                               (record.name,)).fetchone()
        else:
            row = conn.execute("SELECT id FROM dataset_versions WHERE name = ? AND hash = ? AND "
                               "COALESCE(hash_algo, '') = COALESCE(?, '')",
                               (record.name, record.hash, record.hash_algo)).fetchone()
        if row is None and record.hash is not None:
            row = self._same_content_other_algo(conn, record)
        if row:
            dv_id = row[0]
        else:
            number = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM dataset_versions "
                                  "WHERE name = ?", (record.name,)).fetchone()[0]
            dv_id = conn.execute(
                "INSERT INTO dataset_versions (name, version, hash_algo, hash, uri_raw, path, size, "
                "file_count, row_count, columns, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (record.name, number, record.hash_algo, record.hash, record.uri_raw, record.path,
                 record.size, record.file_count, record.row_count,
                 json.dumps(record.columns) if record.columns else None, self.now())).lastrowid
            summary.datasets_new += 1
            self._event(conn, "dataset", "dataset", dv_id, f"data:{record.name}@{number}",
                        after={"hash": record.hash, "hash_algo": record.hash_algo})
        for parent in record.derived_from:
            parent_id = self._dataset_version(conn, parent, summary)
            self._edge(conn, "dataset", parent_id, "dataset", dv_id, "derived")
        return dv_id

    def _same_content_other_algo(self: "Catalog", conn: sqlite3.Connection,
                                 record: DatasetRecord) -> tuple[int] | None:
        """An existing version of the same dataset with the same bytes under another hash.

        DVC records md5, ``--dataset`` records sha256: the same file must stay one dataset
        version.  Only same-name, same-size candidates are hashed, so this costs nothing for
        new data and one hash of the file otherwise.
        """
        from .verify import VERIFIABLE, file_digest

        if not record.path or record.size is None or not Path(record.path).is_file():
            return None
        candidates = conn.execute(
            "SELECT id, hash_algo, hash FROM dataset_versions WHERE name = ? AND size = ? AND "
            "hash_algo != ?", (record.name, record.size, record.hash_algo or "")).fetchall()
        for dv_id, algo, digest in candidates:
            if algo in VERIFIABLE:
                try:
                    if file_digest(Path(record.path), algo) == digest:
                        return (dv_id,)
                except OSError:
                    return None
        return None


def _owner(runs: list[RunRecord], source: str) -> RunRecord | None:
    """The run whose folder holds ``source`` most closely; the only run when none does."""
    holders = [run for run in runs if source == run.source_path
               or source.startswith(run.source_path.rstrip(os.sep) + os.sep)]
    if holders:
        return max(holders, key=lambda run: len(run.source_path))
    return runs[0] if len(runs) == 1 else None


class _DryRun(Exception):
    """Raised inside the import transaction to roll a dry run back."""
