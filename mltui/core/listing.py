"""The catalog's listings: models, ordered and filtered version and run ids, pages of rows.

The ordered id lists are what the app's virtual tables hold; rows are fetched by id a page at a
time, so 100,000 versions list as fast as 10.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .db import is_locked_error, locked_error
from .errors import InvalidInput
from .progress import ENDED_STATUSES
from .query import SortKey, base_from, compile_filter, parse_sort, sort_sql
from .rows import chunks, stage_order
from .schema import SCHEMA_VERSION

# One model's versions, newest first, when no sort is asked for (see ``version_ids``).
NEWEST_IN_MODEL = SortKey("attributes", "version", True)


class ListingMixin:
    """Models, version and run listings, metric keys (mixed into Catalog)."""

    # -- summary and listings --------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts of everything in the catalog, and its path and schema version."""
        counts = {}
        for name, table in (("models", "models"), ("versions", "model_versions"),
                            ("runs", "runs"), ("datasets", "dataset_versions"),
                            ("events", "events")):
            counts[name] = self._scalar(f"SELECT count(*) FROM {table}")
        counts["metric_points"] = self._scalar("SELECT COALESCE(SUM(count), 0) FROM metric_series")
        counts["production"] = self._scalar(
            "SELECT count(*) FROM stages WHERE stage = 'production' AND version_id IS NOT NULL")
        return {"path": str(self.path), "schema_version": SCHEMA_VERSION, **counts}

    def models(self) -> list[dict[str, Any]]:
        """Every model with its version count, latest version and stage holders."""
        rows = self._read(
            "SELECT mo.id, mo.name, mo.description, mo.project, mo.created_at, "
            "mo.version_count AS versions, "  # stored: counting scanned every version
            "(SELECT max(version) FROM model_versions v WHERE v.model_id = mo.id) AS latest "
            "FROM models mo ORDER BY mo.name")
        stages = self._read(
            "SELECT s.model_id, s.stage, v.version FROM stages s "
            "JOIN model_versions v ON v.id = s.version_id ORDER BY s.stage")
        by_model: dict[int, dict[str, int]] = {}
        for row in stages:
            by_model.setdefault(row["model_id"], {})[row["stage"]] = row["version"]
        for row in rows:
            row["stages"] = dict(sorted(by_model.get(row["id"], {}).items(), key=stage_order))
        return rows

    def version_ids(self, *, model: str | None = None, filter: str | None = None,
                    sort: str | None = None, limit: int | None = None, offset: int = 0,
                    include_archived: bool = True) -> list[int]:
        """Ordered ids of the versions matching a filter; fetch rows with :meth:`versions`.

        Default order is newest first: by version number within one model (what the
        (model_id, version) index gives without sorting — a model of 50,000 versions has its
        first page at once, where newest-by-id sorted them all: 190 ms on 1 M versions), by
        id across models.  ``limit`` gives the first page fast; without it the whole ordered
        id list comes back (what the app's virtual table scrolls over).
        """
        compiled = compile_filter(filter, "versions")
        where = [compiled.where]
        params = list(compiled.params)
        if model is not None:
            where.append("v.model_id = ?")
            params.append(self.model_id(model))
        if not include_archived:
            where.append("v.status != 'archived'")
        order = parse_sort(sort, "versions")
        if order is None and model is not None:
            order = NEWEST_IN_MODEL
        return self._ordered_ids("versions", where, params, order, limit, offset, filter)

    def _ordered_ids(self, scope: str, where: list[str], params: list[Any], sort: Any,
                     limit: int | None, offset: int, text: str | None) -> list[int]:
        """Ids of ``scope`` rows matching ``where``, in ``sort`` order, one page or all.

        A metric sort walks the (key, last) index in order and checks the filter row by row,
        so the first page of 100,000 versions costs a few hundred index steps instead of a
        sort of everything; rows without that metric follow, newest first.
        """
        ref = "v" if scope == "versions" else "r"
        run_id = "v.run_id" if scope == "versions" else "r.id"
        condition = " AND ".join(where)
        need = None if limit is None else int(offset) + int(limit)
        if sort is None or sort.entity != "metrics":
            order_params: list[Any] = []
            join, order = sort_sql(sort, scope, order_params)
            sql = f"SELECT {ref}.id FROM {base_from(scope)} {join} WHERE {condition} ORDER BY {order}"
            all_params = order_params + params
            if limit is not None:
                sql += " LIMIT ? OFFSET ?"
                all_params += [int(limit), int(offset)]
            return [row[0] for row in self._execute_filter(sql, all_params, text)]
        direction = "DESC" if sort.descending else "ASC"
        # CROSS JOIN keeps metric_summary as the outer loop: SQLite then reads it in index order.
        with_value = (f"SELECT {ref}.id FROM metric_summary so CROSS JOIN {base_from(scope)} "
                      f"WHERE so.key = ? AND so.last IS NOT NULL AND {run_id} = so.run_id AND "
                      f"{condition} ORDER BY so.last {direction}, {ref}.id DESC")
        without_value = (f"SELECT {ref}.id FROM {base_from(scope)} WHERE {condition} AND NOT EXISTS "
                         f"(SELECT 1 FROM metric_summary so WHERE so.run_id = {run_id} AND "
                         f"so.key = ? AND so.last IS NOT NULL) ORDER BY {ref}.id DESC")
        limit_sql = "" if need is None else " LIMIT ?"
        ids = [row[0] for row in self._execute_filter(
            with_value + limit_sql, [sort.key, *params] + ([] if need is None else [need]), text)]
        if need is None or len(ids) < need:
            rest = None if need is None else need - len(ids)
            ids += [row[0] for row in self._execute_filter(
                without_value + ("" if rest is None else " LIMIT ?"),
                [*params, sort.key] + ([] if rest is None else [rest]), text)]
        return ids[int(offset):need]

    def _execute_filter(self, sql: str, params: list[Any], text: str | None) -> list[tuple]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if is_locked_error(exc):
                raise locked_error(self.path) from None
            if "fts5" in str(exc).lower() or "match" in str(exc).lower():
                raise InvalidInput(f"bad full-text words in filter {text!r}: {exc}") from None
            raise

    def versions(self, ids: list[int], *, metric_keys: list[str] | str | None = None,
                 param_keys: list[str] | None = None) -> list[dict[str, Any]]:
        """Rows for versions by id, in the given order, with their stages, data and metrics
        (``metric_keys="all"``: every metric of each version's run) and, when asked, the
        values of ``param_keys`` (``row["params"]``: only these ids are read, a page at most)."""
        if not ids:
            return []
        by_id: dict[int, dict[str, Any]] = {}
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._read(
                    "SELECT v.id, mo.name AS model, v.version, v.canonical_name, v.created_at, "
                    "v.created_by, v.status, v.run_id, v.artifact_path, v.artifact_path_raw, v.artifact_hash, "
                    "v.artifact_hash_algo, v.artifact_size, v.base_model, r.uid AS run_uid, "
                    "r.name AS run_name, r.git_commit, r.git_commit_inferred, r.status AS run_status, "
                    "r.project "
                    f"FROM model_versions v JOIN models mo ON mo.id = v.model_id "
                    f"LEFT JOIN runs r ON r.id = v.run_id WHERE v.id IN ({marks})", chunk):
                row.update(stages=[], datasets=[], metrics={}, tags={})
                by_id[row["id"]] = row
            for row in self._read(f"SELECT version_id, stage FROM stages WHERE version_id IN ({marks})",
                                  chunk):
                by_id[row["version_id"]]["stages"].append(row["stage"])
            for row in self._read(f"SELECT version_id, key, value FROM version_tags "
                                  f"WHERE version_id IN ({marks})", chunk):
                by_id[row["version_id"]]["tags"][row["key"]] = row["value"]
        run_to_versions: dict[int, list[dict[str, Any]]] = {}
        for row in by_id.values():
            row["stages"].sort(key=lambda s: stage_order((s, 0)))
            if row["run_id"] is not None:
                run_to_versions.setdefault(row["run_id"], []).append(row)
        run_ids = list(run_to_versions)
        for chunk in chunks(run_ids):
            marks = ",".join("?" * len(chunk))
            for row in self._read(
                    "SELECT l.dst_id AS run_id, dv.name, dv.version FROM lineage l "
                    "JOIN dataset_versions dv ON dv.id = l.src_id WHERE l.src_kind = 'dataset' "
                    f"AND l.dst_kind = 'run' AND l.role != 'output' AND l.dst_id IN ({marks}) "
                    "ORDER BY dv.name", chunk):
                for version in run_to_versions[row["run_id"]]:
                    version["datasets"].append(f"{row['name']}@{row['version']}")
        for run_id, values in self._last_values(run_ids, metric_keys).items():
            for version in run_to_versions[run_id]:
                version["metrics"] = values
        if param_keys:
            for row in by_id.values():
                row["params"] = {}
            for run_id, values in self._param_values(run_ids, param_keys).items():
                for version in run_to_versions[run_id]:
                    version["params"] = values
        return [by_id[i] for i in ids if i in by_id]

    def _param_values(self, run_ids: list[int], keys: list[str]) -> dict[int, dict[str, Any]]:
        """``{run_id: {key: value}}`` for some param keys of some runs."""
        out: dict[int, dict[str, Any]] = {}
        key_marks = ",".join("?" * len(keys))
        for chunk in chunks(list(run_ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._read(f"SELECT run_id, key, value FROM params WHERE run_id IN "
                                  f"({marks}) AND key IN ({key_marks})", chunk + list(keys)):
                out.setdefault(row["run_id"], {})[row["key"]] = row["value"]
        return out

    def param_keys(self, *, model: str, limit: int = 200) -> list[str]:
        """A model's param keys, most common first (of its newest 500 versions, like
        :meth:`metric_keys`)."""
        return self._model_keys("params", model, limit)

    def _last_values(self, run_ids: list[int], keys: list[str] | str | None
                     ) -> dict[int, dict[str, Any]]:
        """``{run_id: {key: last value (or its raw text when NaN/inf)}}`` for some keys
        (``keys="all"``: every key each run has)."""
        out: dict[int, dict[str, Any]] = {}
        if not keys:
            return out
        every = keys == "all"
        key_where = "" if every else f" AND key IN ({','.join('?' * len(keys))})"
        for chunk in chunks(list(run_ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._read(
                    f"SELECT run_id, key, last, last_raw FROM metric_summary WHERE run_id IN "
                    f"({marks}){key_where} ORDER BY run_id, key",
                    chunk + ([] if every else list(keys))):
                out.setdefault(row["run_id"], {})[row["key"]] = \
                    row["last"] if row["last"] is not None else row["last_raw"]
        return out

    def metric_keys(self, *, model: str | None = None, limit: int = 200) -> list[str]:
        """Metric keys, most common first (of one model's versions, or of all runs)."""
        if model is None:
            return [r["key"] for r in self._read(
                "SELECT key, count(*) AS n FROM metric_summary GROUP BY key "
                "ORDER BY n DESC, key LIMIT ?", (limit,))]
        return self._model_keys("metric_summary", model, limit)

    def recent_metric_keys(self, limit: int = 3) -> list[str]:
        """Metric keys of the newest 500 runs, most common first: the columns of a listing of
        every model, sampled like :meth:`key_metrics` (counting the keys of every run is
        linear in the catalog: 0.7 s of ``mltui --all``'s start on 1,000,000 versions)."""
        return self._sampled_keys("metric_summary", "SELECT id AS run_id FROM runs "
                                  "ORDER BY id DESC LIMIT 500", (), limit)

    def _model_keys(self, table: str, model: str, limit: int) -> list[str]:
        """The keys of ``table`` (metric_summary or params) a model's runs have, most common
        first.  Sampled from the newest versions: the keys a model logs now matter more."""
        return self._sampled_keys(table, "SELECT run_id FROM model_versions WHERE model_id = ? "
                                  "AND run_id IS NOT NULL ORDER BY version DESC LIMIT 500",
                                  (self.model_id(model),), limit)

    def _sampled_keys(self, table: str, sample: str, params: tuple, limit: int) -> list[str]:
        """The keys of ``table`` the runs of ``sample`` (a query of ``run_id``) have, most
        common first."""
        assert table in ("metric_summary", "params")  # a fixed name, never user text
        return [r["key"] for r in self._read(
            f"SELECT t.key, count(*) AS n FROM ({sample}) s JOIN {table} t "
            "ON t.run_id = s.run_id GROUP BY t.key ORDER BY n DESC, t.key LIMIT ?",
            (*params, limit))]

    def listing_metric_keys(self, model: str | None) -> list[str]:
        """The metric columns a versions listing shows when none are chosen: the model's key
        metrics, or for every model the keys its newest runs log most (the app and ``ls``)."""
        return self.key_metrics(model) if model else self.recent_metric_keys(limit=3)

    def key_metrics(self, model: str, count: int = 3) -> list[str]:
        """The metrics a model's table shows: its gates' metrics first, then the most common."""
        keys: list[str] = []
        for gate in self.gates(model):
            key = gate["key"]
            if key not in keys:
                keys.append(key)
        for key in self.metric_keys(model=model, limit=50):
            if len(keys) >= count:
                break
            if key not in keys and not key.startswith(("_", "system/")):
                keys.append(key)
        return keys[:count]

    def run_ids(self, *, filter: str | None = None, sort: str | None = None,
                limit: int | None = None, offset: int = 0) -> list[int]:
        """Ordered ids of runs matching a filter (newest first by default)."""
        compiled = compile_filter(filter, "runs")
        return self._ordered_ids("runs", [compiled.where], list(compiled.params),
                                 parse_sort(sort, "runs") or parse_sort("-start_time", "runs"),
                                 limit, offset, filter)

    def live_run_ids(self, *, since: float, filter: str | None = None,
                     include: list[int] = ()) -> list[int]:
        """Ids of runs still being written, newest first: no end marker (status FINISHED,
        FAILED or KILLED), and either the writer says RUNNING, the log changed at or after
        ``since`` (see :func:`mltui.core.progress.live_state`), or the id is in ``include``
        (runs a watch follows and calls stalled)."""
        compiled = compile_filter(filter, "runs")
        ended = ",".join("?" * len(ENDED_STATUSES))
        extra = list(include)[:500]  # SQLite's bound-parameter limit
        where = [compiled.where,
                 f"UPPER(COALESCE(r.status, '')) NOT IN ({ended})",
                 "(UPPER(COALESCE(r.status, '')) = 'RUNNING' "
                 "OR COALESCE(r.updated_at, r.created_at) >= ?"
                 + (f" OR r.id IN ({','.join('?' * len(extra))}))" if extra else ")")]
        params = list(compiled.params) + sorted(ENDED_STATUSES) + [since] + extra
        return self._ordered_ids("runs", where, params, parse_sort("-start_time", "runs"),
                                 None, 0, filter)

    def runs(self, ids: list[int], *, metric_keys: list[str] | str | None = None) -> list[dict[str, Any]]:
        """Rows for runs by id, in order, with the versions registered from each
        (``metric_keys="all"``: every metric of each run)."""
        if not ids:
            return []
        by_id: dict[int, dict[str, Any]] = {}
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._read(
                    "SELECT id, uid, name, project, source_format, source_path, status, start_time,"
                    " end_time, git_commit, git_commit_inferred, git_branch, created_at, updated_at "
                    "FROM runs "
                    f"WHERE id IN ({marks})", chunk):
                row.update(versions=[], metrics={})
                by_id[row["id"]] = row
            for row in self._read(
                    "SELECT v.run_id, mo.name, v.version FROM model_versions v JOIN models mo "
                    f"ON mo.id = v.model_id WHERE v.run_id IN ({marks}) ORDER BY v.id", chunk):
                by_id[row["run_id"]]["versions"].append(f"{row['name']}@{row['version']}")
        for run_id, values in self._last_values(list(by_id), metric_keys).items():
            by_id[run_id]["metrics"] = values
        return [by_id[i] for i in ids if i in by_id]

    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset version, with how many runs consumed it."""
        rows = self._read(
            "SELECT dv.*, (SELECT count(*) FROM lineage l WHERE l.src_kind = 'dataset' AND "
            "l.src_id = dv.id AND l.dst_kind = 'run') AS runs FROM dataset_versions dv "
            "ORDER BY dv.name, dv.version")
        for row in rows:
            row["columns"] = json.loads(row["columns"]) if row["columns"] else None
        return rows

