"""Writing runs into the catalog: ``log_run`` for training scripts and ``write_import`` for logs.

Importers produce plain records; this module writes a whole invocation in one transaction, so
an import is all-or-nothing.  A run is identified by its ``uid``: an unchanged log (same
fingerprint) is skipped, a grown one replaces its run's points, params and tags in place.
Metric points go in packed, one row per (run, key) (the hot path: hundreds of thousands of
points; see series.py), with the per-key summary (last/min/max) computed in the same pass.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .errors import ImportFailed, InvalidInput
from .records import (ArtifactRecord, DatasetRecord, ImportBatch, MetricPoint,
                      RegistryModelRecord, RunRecord)
from .series import encode, encode_columns

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog


@dataclass
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do)."""

    runs_new: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    points: int = 0
    datasets_new: int = 0
    versions_new: int = 0
    models_new: int = 0
    stages_set: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    formats: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # one line per invalid log skipped
    # One line per source registry version or stage not taken as it was, and why (a second
    # store's fraud v1 kept as fraud@4, a stage another source's version holds).
    merged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``mltui import --json``)."""
        return dict(self.__dict__)

    def one_line(self) -> str:
        """The summary line printed at the end of an import."""
        verb = "would import" if self.dry_run else "imported"
        runs = self.runs_new + self.runs_updated
        text = (f"{verb} {runs} run{'s' * (runs != 1)} ({self.runs_new} new, {self.runs_updated} "
                f"updated, {self.runs_unchanged} unchanged), {self.points:,} points, "
                f"{self.datasets_new} dataset versions, {self.versions_new} model versions "
                f"in {self.seconds:.2f}s")
        if self.skipped:
            text += f"; skipped {len(self.skipped)} invalid"
        if self.merged:
            text += f"; {len(self.merged)} registry item(s) renumbered or kept (listed above)"
        return text


def _summarise(group: list[MetricPoint]) -> tuple:
    """One key's summary: (last, last_raw, last_step, min, min_step, max, max_step, count).

    ``last`` is the point with the highest step (ties: logged later), like MLflow's latest
    metric value; NaN points count but never become min or max.
    """
    raws = {i: p.raw for i, p in enumerate(group) if p.raw is not None}
    return _summarise_columns([p.value for p in group], [p.step for p in group], raws)


def _summarise_columns(values: list[float | None], steps: list[int | None],
                       raws: dict[int, str] | None) -> tuple:
    """The summary of one key given as columns.

    This runs for every key of every imported run, so the common case (steps already in
    order) stays in C builtins.
    """
    count = len(values)
    if None not in steps and steps == sorted(steps):
        last = count - 1
    else:
        last = max(((s if s is not None else -1), i) for i, s in enumerate(steps))[1]
    pairs = [(v, -1 if s is None else s) for v, s in zip(values, steps) if v is not None]
    last_raw = raws.get(last) if raws else None
    if not pairs:
        return (values[last], last_raw, steps[last], None, None, None, None, count)
    low, high = min(pairs), max(pairs, key=lambda pair: pair[0])
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
        for batch in batches:
            for run in batch.runs:
                run.datasets = list(run.datasets) + list(user_datasets)
                unchanged_before = summary.runs_unchanged
                run_id = self._write_run(conn, run, summary)
                uid_to_id[run.uid] = run_id
                if summary.runs_unchanged == unchanged_before:
                    new_runs.append((run, run_id))
        for batch in batches:
            for registry_model in batch.models:
                self._write_registry_model(conn, registry_model, uid_to_id, summary,
                                           store=batch.source_path)
        if model is not None:
            for run, run_id in sorted(new_runs, key=lambda item: item[0].start_time or 0):
                if conn.execute("SELECT 1 FROM model_versions v JOIN models mo ON mo.id = "
                                "v.model_id WHERE mo.name = ? AND v.run_id = ?",
                                (model, run_id)).fetchone():
                    continue  # idempotent: this run is already a version of the model
                if not conn.execute("SELECT 1 FROM models WHERE name = ?", (model,)).fetchone():
                    summary.models_new += 1
                self._register(conn, model, run_id=run_id, artifact=self.run_artifact(run_id),
                               created_at=run.end_time or run.start_time or None)
                summary.versions_new += 1
        if summary.runs_new or summary.runs_updated or summary.versions_new:
            self._event(conn, "import", "catalog", None, None,
                        after={k: v for k, v in summary.as_dict().items()
                               if k in ("runs_new", "runs_updated", "points", "versions_new",
                                        "datasets_new", "formats")})

    def _write_run(self: "Catalog", conn: sqlite3.Connection, run: RunRecord,
                   summary: ImportSummary) -> int:
        """Insert or update one run with its params, tags, points, summary and data edges."""
        if not run.uid:
            raise ImportFailed(run.source_path or "<api>", "run has no id", field="uid")
        existing = conn.execute("SELECT id, fingerprint FROM runs WHERE uid = ?",
                                (run.uid,)).fetchone()
        if existing and run.fingerprint and existing[1] == run.fingerprint:
            summary.runs_unchanged += 1
            summary.run_ids.append(existing[0])
            return existing[0]
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
            conn.executemany("INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?,?,?)",
                             [(run_id, str(k), str(v)) for k, v in run.params.items()])
        if run.tags:
            conn.executemany("INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?,?,?)",
                             [(run_id, str(k), str(v)) for k, v in run.tags.items()])
        if run.artifacts:
            conn.executemany(
                "INSERT INTO run_artifacts (run_id, seq, kind, name, path_raw, path, hash_algo, hash,"
                " size, base_model) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(run_id, i, a.kind, a.name, a.path_raw, a.path, a.hash_algo, a.hash, a.size,
                  a.base_model) for i, a in enumerate(run.artifacts)])
        points = run.metrics
        columns = run.metric_columns
        if points or columns:
            by_key: dict[str, list[MetricPoint]] = {}
            for point in points:
                by_key.setdefault(point.key, []).append(point)
            series_rows: list[tuple] = []
            summaries: list[tuple] = []
            for column in columns:
                if column.key in by_key:  # the same key read both ways: merge point by point
                    by_key[column.key].extend(column.points())
                    continue
                packed = encode_columns(column)
                series_rows.append((run_id, column.key, packed.count, packed.steps, packed.vals,
                                    None, packed.wall_times, packed.axis, None, packed.raws))
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
            conn.executemany(
                "INSERT INTO metric_series (run_id, key, count, steps, vals, epochs, wall_times, "
                "axis, axes, raws) VALUES (?,?,?,?,?,?,?,?,?,?)", series_rows)
            conn.executemany(
                "INSERT INTO metric_summary (run_id, key, last, last_raw, last_step, min, min_step,"
                " max, max_step, count) VALUES (?,?,?,?,?,?,?,?,?,?)", summaries)
        for dataset in run.datasets:
            dv_id = self._dataset_version(conn, dataset, summary)
            self._edge(conn, "dataset", dv_id, "run", run_id, dataset.role or "input")
        body = "\n".join(str(p) for p in (run.name, run.project, run.uid, *(
            f"{k} {v}" for k, v in run.tags.items())) if p)
        conn.execute("INSERT OR REPLACE INTO search_text (kind, ref_id, body) VALUES ('run', ?, ?)",
                     (run_id, body))
        if existing:
            for (vid,) in conn.execute("SELECT id FROM model_versions WHERE run_id = ?",
                                       (run_id,)).fetchall():
                self._index_version(conn, vid)
        return run_id

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
        from .lineage import VERIFIABLE, file_digest

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

    def _write_registry_model(self: "Catalog", conn: sqlite3.Connection,
                              record: RegistryModelRecord, uid_to_id: dict[str, int],
                              summary: ImportSummary, *, store: str = "") -> None:
        """Bring a source registry's model in: versions (by source identity), stages, aliases.

        A version is keyed by what identifies it in its store (name, number, creation time,
        run, artifact), so a second store (or server) with its own ``fraud`` v1..v3 does not
        collide with the first: its versions are kept, numbered on in mltui, with the source
        number in their tags and one ``summary.merged`` line each.  Stage and alias
        assignments that differ from the catalog's are recorded in the stage history as
        ``import`` actions, except that a stage held by another source's version is left alone
        (and reported).
        """
        from .refs import MODEL_NAME_RE

        name = record.name if MODEL_NAME_RE.match(record.name) else \
            _SAFE_MODEL.sub("-", record.name).strip("-.") or "model"
        if not conn.execute("SELECT 1 FROM models WHERE name = ?", (name,)).fetchone():
            summary.models_new += 1
        mid = self._ensure_model(conn, name, description=record.description,
                                 created_at=record.created_at)
        if record.description:
            conn.execute("UPDATE models SET description = ? WHERE id = ? AND description IS NULL",
                         (record.description, mid))
        for key, value in record.tags.items():
            conn.execute("INSERT OR REPLACE INTO model_tags (model_id, key, value) VALUES (?,?,?)",
                         (mid, key, value))
        where = f"{record.source} {record.name!r}" + (f" of {store}" if store else "")
        source_to_vid: dict[int, int] = {}
        for version in sorted(record.versions, key=lambda v: v.source_version):
            source_uid = _version_source_uid(record, version)
            vid = self._imported_version(conn, record, version, source_uid)
            if vid is not None:
                source_to_vid[version.source_version] = vid
                continue
            run_id = uid_to_id.get(version.run_uid or "")
            if run_id is None and version.run_uid:
                found = conn.execute("SELECT id FROM runs WHERE uid = ?", (version.run_uid,)).fetchone()
                run_id = found[0] if found else None
            taken = conn.execute("SELECT 1 FROM model_versions WHERE model_id = ? AND version >= ?",
                                 (mid, version.source_version)).fetchone()
            tags = dict(version.tags)
            if taken:  # numbered on; the source's own number stays as provenance
                tags.update({"import.source_version": str(version.source_version),
                             "import.source": store or record.source})
            vid = self._register(conn, name, run_id=run_id,
                                 artifact=_artifact_columns(version.artifact), tags=tags,
                                 created_at=version.created_at, actor=version.created_by or "import",
                                 source_uid=source_uid,
                                 status="archived" if (version.stage or "").lower() == "archived"
                                 else version.status, number=version.source_version)
            summary.versions_new += 1
            if taken:
                number = conn.execute("SELECT version FROM model_versions WHERE id = ?",
                                      (vid,)).fetchone()[0]
                summary.merged.append(
                    f"{where} v{version.source_version} kept as {name}@{number}: {name}@"
                    f"{version.source_version} already holds another version (a second store or "
                    "server with the same model name)")
            if version.description:
                self._save_doc(conn, "version", vid, version.description, author="import",
                               message=f"imported from {record.source}")
            source_to_vid[version.source_version] = vid
        self._import_stages(conn, record, mid, name, source_to_vid, summary, where)

    def _imported_version(self: "Catalog", conn: sqlite3.Connection, record: RegistryModelRecord,
                          version: Any, source_uid: str) -> int | None:
        """The catalog's version already imported as this source version, or None.

        Catalogs written before versions were keyed by identity hold ``source:name/N``; such a
        row is this version only when its run and creation time agree (then it is re-keyed).
        """
        row = conn.execute("SELECT id FROM model_versions WHERE source_uid = ?",
                           (source_uid,)).fetchone()
        if row:
            return row[0]
        legacy = f"{record.source}:{record.name}/{version.source_version}"
        row = conn.execute(
            "SELECT v.id, r.uid, v.created_at FROM model_versions v LEFT JOIN runs r "
            "ON r.id = v.run_id WHERE v.source_uid = ?", (legacy,)).fetchone()
        if row and row[1] == version.run_uid and row[2] == version.created_at:
            conn.execute("UPDATE model_versions SET source_uid = ? WHERE id = ?", (source_uid, row[0]))
            return row[0]
        return None

    def _import_stages(self: "Catalog", conn: sqlite3.Connection, record: RegistryModelRecord,
                       mid: int, name: str, source_to_vid: dict[int, int],
                       summary: ImportSummary, where: str) -> None:
        """Move stages and aliases to where the source registry has them."""
        wanted: dict[str, int] = {}
        for version in record.versions:
            stage = (version.stage or "").strip().lower()
            if stage and stage not in ("none", "archived") and version.source_version in source_to_vid:
                wanted[stage] = source_to_vid[version.source_version]
        for alias, number in record.aliases.items():
            if number in source_to_vid:
                wanted[alias.strip().lower()] = source_to_vid[number]
        ours = set(source_to_vid.values())
        for stage, vid in sorted(wanted.items()):
            current = conn.execute(
                "SELECT s.version_id, v.source_uid, v.version FROM stages s LEFT JOIN "
                "model_versions v ON v.id = s.version_id WHERE s.model_id = ? AND s.stage = ?",
                (mid, stage)).fetchone()
            current_id = current[0] if current else None
            if current_id == vid:
                continue
            if current and current_id is not None and current[1] and current_id not in ours:
                summary.merged.append(f"{where}: stage {stage!r} not moved: {name}@{current[2]} "
                                      "holds it, a version imported from another source")
                continue
            self._move_stage(conn, mid, stage, current_id, vid, "import",
                             f"imported from {record.source} registry", None, False, "import")
            summary.stages_set += 1


def _version_source_uid(record: RegistryModelRecord, version: Any) -> str:
    """What identifies a registry version across stores: name, number, creation, run, artifact.

    The same store read again (or moved, or copied) gives the same key; another store's
    version with the same name and number does not.
    """
    artifact = version.artifact.path_raw if version.artifact else ""
    created = "" if version.created_at is None else f"{version.created_at:.3f}"
    digest = hashlib.sha256(f"{created}\0{version.run_uid or ''}\0{artifact}".encode()).hexdigest()
    return f"{record.source}:{record.name}/{version.source_version}#{digest[:16]}"


class _DryRun(Exception):
    """Raised inside the import transaction to roll a dry run back."""


_SAFE_MODEL = re.compile(r"[^A-Za-z0-9_.-]+")


def _artifact_columns(artifact: ArtifactRecord | None) -> dict[str, Any]:
    if artifact is None:
        return {}
    return {"artifact_path": artifact.path, "artifact_path_raw": artifact.path_raw,
            "artifact_hash_algo": artifact.hash_algo, "artifact_hash": artifact.hash,
            "artifact_size": artifact.size, "base_model": artifact.base_model}
