"""The catalog's detail views: one run or version in full, curves, trends, comparisons,
the stage history, the event log and table exports."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import refs as refs_mod
from .errors import InvalidInput, NotFound
from .rows import metric_direction

if TYPE_CHECKING:  # pragma: no cover
    from .records import MetricPoint


class DetailsMixin:
    """Details, curves, comparison, history, events, export (mixed into Catalog)."""

    # -- details ---------------------------------------------------------------------------

    def run_detail(self, run_id: int) -> dict[str, Any]:
        """Everything about one run: metadata, params, tags, metric summary, data, versions."""
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise NotFound(f"no run with id {run_id}")
        run = rows[0]
        run["environment"] = json.loads(run["environment"]) if run["environment"] else {}
        run["params"] = {r["key"]: r["value"] for r in self._read(
            "SELECT key, value FROM params WHERE run_id = ? ORDER BY key", (run_id,))}
        run["tags"] = {r["key"]: r["value"] for r in self._read(
            "SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key", (run_id,))}
        run["metrics"] = self._read(
            "SELECT key, last, last_raw, last_step, min, min_step, max, max_step, count "
            "FROM metric_summary WHERE run_id = ? ORDER BY key", (run_id,))
        run["datasets"] = self._read(
            "SELECT dv.id, dv.name, dv.version, dv.hash_algo, dv.hash, dv.uri_raw, dv.path, l.role "
            "FROM lineage l JOIN dataset_versions dv ON dv.id = l.src_id WHERE l.src_kind = "
            "'dataset' AND l.dst_kind = 'run' AND l.dst_id = ? ORDER BY dv.name", (run_id,))
        run["artifacts"] = self._read(
            "SELECT kind, name, path_raw, path, hash_algo, hash, size, base_model FROM run_artifacts "
            "WHERE run_id = ? ORDER BY seq", (run_id,))
        run["versions"] = [f"{r['name']}@{r['version']}" for r in self._read(
            "SELECT mo.name, v.version FROM model_versions v JOIN models mo ON mo.id = v.model_id "
            "WHERE v.run_id = ? ORDER BY v.id", (run_id,))]
        return run

    def version_detail(self, ref: str | int) -> dict[str, Any]:
        """Everything about one version: the row, its run's params and metrics, tags, stages,
        datasets, lineage summary, documentation and stage history."""
        vid = self.resolve(ref)
        row = self.versions([vid])[0]
        row["ref"] = f"{row['model']}@{row['version']}"
        row["tags"] = {r["key"]: r["value"] for r in self._read(
            "SELECT key, value FROM version_tags WHERE version_id = ? ORDER BY key", (vid,))}
        if row["run_id"] is not None:
            run = self.run_detail(row["run_id"])
            row["run"] = {k: run[k] for k in ("uid", "name", "project", "source_format",
                                               "source_path", "status", "start_time", "end_time",
                                               "git_commit", "git_commit_inferred", "git_branch",
                                               "git_dirty", "user")}
            row["params"], row["run_tags"] = run["params"], run["tags"]
            row["metric_summary"], row["data"] = run["metrics"], run["datasets"]
        else:
            row.update(run=None, params={}, run_tags={}, metric_summary=[], data=[])
        row["base_versions"] = [self.ref_of(r["src_id"]) for r in self._read(
            "SELECT src_id FROM lineage WHERE dst_kind = 'version' AND dst_id = ? AND "
            "src_kind = 'version' AND role = 'base'", (vid,))]
        row["derived_versions"] = [self.ref_of(r["dst_id"]) for r in self._read(
            "SELECT dst_id FROM lineage WHERE src_kind = 'version' AND src_id = ? AND "
            "dst_kind = 'version' AND role = 'base'", (vid,))]
        doc = self.get_doc(vid)
        row["doc"] = {"rev": doc["rev"], "text": doc["text"], "is_template": doc["is_template"],
                      "author": doc["author"], "at": doc["at"]}
        row["history"] = self.history(version_id=vid, limit=50)
        return row

    def metric_history(self, run_id: int, key: str, *, max_points: int | None = None
                       ) -> list[tuple[int | None, float | None]]:
        """``(step, value)`` points of one metric of one run, ordered by step then log order.

        ``max_points`` thins long curves evenly (keeping the last point) for drawing.
        """
        from .series import curve  # series decoding loads with the first curve drawn

        row = self._conn().execute(
            "SELECT steps, vals, count FROM metric_series WHERE run_id = ? AND key = ?",
            (run_id, key)).fetchone()
        rows = curve(row[0], row[1], row[2]) if row else []
        if max_points and len(rows) > max_points:
            stride = len(rows) / max_points
            thinned = [rows[int(i * stride)] for i in range(max_points - 1)]
            rows = thinned + [rows[-1]]
        return rows

    def metric_points(self, run_id: int, key: str | None = None) -> list[MetricPoint]:
        """Every logged point of a run (one key, or all), in log order per key."""
        from .series import decode

        where, params = "run_id = ?", [run_id]
        if key is not None:
            where, params = where + " AND key = ?", params + [key]
        points: list[MetricPoint] = []
        for row in self._conn().execute(
                "SELECT key, count, steps, vals, epochs, wall_times, axis, axes, raws "
                f"FROM metric_series WHERE {where} ORDER BY key", params):
            points.extend(decode(*row))
        return points

    def trend(self, model: str, key: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """One metric across a model's versions (oldest first) and whether each held production."""
        mid = self.model_id(model)
        rows = self._read(
            "SELECT v.id, v.version, ms.last AS value, "
            "EXISTS (SELECT 1 FROM stage_history h WHERE h.model_id = v.model_id AND h.stage = "
            "'production' AND h.to_version_id = v.id) AS held_production "
            "FROM model_versions v LEFT JOIN metric_summary ms ON ms.run_id = v.run_id AND ms.key = ? "
            "WHERE v.model_id = ? ORDER BY v.version DESC LIMIT ?", (key, mid, limit))
        rows.reverse()
        return rows

    # -- comparison ------------------------------------------------------------------------

    def compare(self, refs: list[str | int], *, metrics: list[str] | None = None) -> dict[str, Any]:
        """Side by side for 2–8 versions: metrics with deltas against the first and the best
        per row, params with differing rows marked, data versions and commits."""
        if not 2 <= len(refs) <= 8:
            raise InvalidInput(f"compare takes 2 to 8 versions, not {len(refs)}")
        ids = [self.resolve(r) for r in refs]
        details = [self.version_detail(i) for i in ids]
        columns = [d["ref"] for d in details]
        summaries = [{m["key"]: m for m in d["metric_summary"]} for d in details]
        keys = metrics or sorted({k for s in summaries for k in s})
        metric_rows = []
        for key in keys:
            values = [s[key]["last"] if key in s else None for s in summaries]
            raws = [s[key]["last_raw"] if key in s else None for s in summaries]
            base = values[0]
            deltas = [None if (v is None or base is None) else v - base for v in values]
            present = [(v, i) for i, v in enumerate(values) if v is not None]
            better = metric_direction(key)
            best = None
            if len(present) > 1:
                best = (max(present) if better == "max" else min(present))[1]
            metric_rows.append({"key": key, "values": values, "raw": raws, "deltas": deltas,
                                "best": best, "direction": better})
        param_keys = sorted({k for d in details for k in d["params"]})
        param_rows = []
        for key in param_keys:
            values = [d["params"].get(key) for d in details]
            param_rows.append({"key": key, "values": values, "differs": len(set(values)) > 1})
        return {
            "versions": columns,
            "ids": ids,
            "metrics": metric_rows,
            "params": param_rows,
            "datasets": [", ".join(f"{x['name']}@{x['version']}" for x in d["data"]) or None
                         for d in details],
            "commits": [d["git_commit"] for d in details],
            # True where the commit was not in the log but inferred at import (services/git)
            "commits_inferred": [bool(d["git_commit_inferred"]) for d in details],
            "runs": [d["run_uid"] for d in details],
            "run_ids": [d["run_id"] for d in details],
            "created": [d["created_at"] for d in details],
            "stages": [d["stages"] for d in details],
        }

    # -- history ---------------------------------------------------------------------------

    def history(self, *, model: str | None = None, action: str | None = None,
                stage: str | None = None, version_id: int | None = None, limit: int = 200,
                offset: int = 0) -> list[dict[str, Any]]:
        """Stage history, newest first, filterable by model, action, stage and version."""
        where, params = ["1"], []
        if model is not None:
            where.append("h.model_id = ?")
            params.append(self.model_id(model))
        if action is not None:
            where.append("h.action = ?")
            params.append(action)
        if stage is not None:
            where.append("h.stage = ?")
            params.append(refs_mod.normalize_stage(stage))
        if version_id is not None:
            where.append("(h.to_version_id = ? OR h.from_version_id = ?)")
            params += [version_id, version_id]
        rows = self._read(
            "SELECT h.id, mo.name AS model, h.stage, h.action, fv.version AS from_version, "
            "tv.version AS to_version, h.reason, h.actor, h.at, h.gate_results, h.forced "
            "FROM stage_history h JOIN models mo ON mo.id = h.model_id "
            "LEFT JOIN model_versions fv ON fv.id = h.from_version_id "
            "LEFT JOIN model_versions tv ON tv.id = h.to_version_id "
            f"WHERE {' AND '.join(where)} ORDER BY h.id DESC LIMIT ? OFFSET ?",
            params + [limit, offset])
        for row in rows:
            row["gate_results"] = json.loads(row["gate_results"]) if row["gate_results"] else []
            row["forced"] = bool(row["forced"])
        return rows

    def export_frame(self, table: str):
        """One catalog table as a pandas DataFrame (for ``mltui export``)."""
        import pandas as pd

        from .series import decode

        if table == "points":  # unpacked from the series, one row per logged point
            records = []
            for row in self._conn().execute(
                    "SELECT r.uid, s.key, s.count, s.steps, s.vals, s.epochs, s.wall_times, "
                    "s.axis, s.axes, s.raws FROM metric_series s JOIN runs r ON r.id = s.run_id "
                    "ORDER BY s.run_id, s.key"):
                for p in decode(*row[1:]):
                    records.append((row[0], p.key, p.step, p.epoch, p.value, p.raw, p.wall_time))
            return pd.DataFrame.from_records(records, columns=[
                "run_uid", "key", "step", "epoch", "value", "value_raw", "wall_time"])
        if table not in EXPORT_TABLES:
            raise InvalidInput(f"unknown table {table!r}", hint=f"use one of {', '.join(EXPORT_TABLES)}")
        return pd.read_sql_query(EXPORT_TABLES[table], self._conn())

    def events(self, *, action: str | None = None, limit: int = 200, offset: int = 0
               ) -> list[dict[str, Any]]:
        """The audit log of every write, newest first."""
        where, params = "1", []
        if action:
            where, params = "action = ?", [action]
        rows = self._read(f"SELECT * FROM events WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                          params + [limit, offset])
        for row in rows:
            for key in ("before", "after"):
                row[key] = json.loads(row[key]) if row[key] else None
        return rows




EXPORT_TABLES = {
    "versions": "SELECT mo.name AS model, v.version, v.canonical_name, v.status, v.created_at, "
                "v.created_by, r.uid AS run_uid, r.git_commit, v.artifact_path, v.artifact_hash_algo,"
                " v.artifact_hash, v.artifact_size, v.base_model FROM model_versions v JOIN models mo "
                "ON mo.id = v.model_id LEFT JOIN runs r ON r.id = v.run_id ORDER BY mo.name, v.version",
    "runs": "SELECT uid, name, project, source_format, source_path, status, start_time, end_time, "
            "git_commit, git_branch, git_dirty FROM runs ORDER BY id",
    "metrics": "SELECT r.uid AS run_uid, ms.key, ms.last, ms.last_step, ms.min, ms.max, ms.count "
               "FROM metric_summary ms JOIN runs r ON r.id = ms.run_id ORDER BY r.id, ms.key",
    "points": None,  # unpacked from metric_series by Catalog.export_frame
    "params": "SELECT r.uid AS run_uid, p.key, p.value FROM params p JOIN runs r ON r.id = p.run_id "
              "ORDER BY r.id, p.key",
    "datasets": "SELECT name, version, hash_algo, hash, uri_raw, path, size, file_count, row_count "
                "FROM dataset_versions ORDER BY name, version",
    "history": "SELECT h.at, mo.name AS model, h.stage, h.action, fv.version AS from_version, "
               "tv.version AS to_version, h.reason, h.actor, h.forced FROM stage_history h "
               "JOIN models mo ON mo.id = h.model_id LEFT JOIN model_versions fv ON "
               "fv.id = h.from_version_id LEFT JOIN model_versions tv ON tv.id = h.to_version_id "
               "ORDER BY h.id",
    "events": "SELECT at, actor, action, entity_kind, ref, before, after, detail FROM events ORDER BY id",
}


