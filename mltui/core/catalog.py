"""The Catalog: the one API the command line, the app and training scripts use.

``open_catalog()`` finds the catalog like git finds ``.git`` (the nearest ``.mltui/catalog.db``
from the working directory upwards; ``--catalog`` / ``MLTUI_CATALOG`` override), migrates it
when it is older, and returns a :class:`Catalog`.  Writes are one transaction per user action
and every write is recorded in the append-only event log.

The methods are grouped by concern in mixins (registry, ingest, lineage, docs); this module
holds opening, the shared write/event plumbing and the read side (listings, details, compare).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import lifecycle
from .audit import AuditMixin
from . import refs as refs_mod
from .db import ConnectionPool, is_locked_error, locked_error, network_filesystem_warning, \
    write_transaction
from .docs import DocsMixin
from .errors import InvalidInput, NotFound
from .checkout import CheckoutMixin
from .hooks import HooksMixin
from .monitors import MonitorMixin
from .observe import ObserveMixin
from .ingest import IngestMixin
from .registry_import import RegistryImportMixin
from .lineage import LineageMixin
from .query import base_from, compile_filter, parse_sort, sort_sql
from .registry import RegistryMixin
from .records import MetricPoint
from .schema import SCHEMA_VERSION
from .series import curve, decode

CATALOG_DIR = ".mltui"
CATALOG_FILE = "catalog.db"
ENV_CATALOG = "MLTUI_CATALOG"


def find_catalog(start: Path | None = None) -> Path | None:
    """The nearest ``.mltui/catalog.db`` from ``start`` (default: cwd) upwards, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CATALOG_DIR / CATALOG_FILE
        if candidate.is_file():
            return candidate
    return None


def catalog_path(path: str | os.PathLike | None = None, *, start: Path | None = None) -> Path:
    """Where the catalog is: ``path``, else ``$MLTUI_CATALOG``, else discovery upwards.

    A directory argument means its ``.mltui/catalog.db`` (or the directory's own
    ``catalog.db`` when it is itself a ``.mltui`` folder).
    """
    explicit = path if path is not None else os.environ.get(ENV_CATALOG) or None
    if explicit is not None:
        target = Path(explicit).expanduser().absolute()
        if target.is_dir():
            target = target / CATALOG_FILE if target.name == CATALOG_DIR else \
                target / CATALOG_DIR / CATALOG_FILE
        return target
    found = find_catalog(start)
    if found is None:
        where = (start or Path.cwd()).resolve()
        raise NotFound(f"no mltui catalog in {where} or any parent folder",
                       hint="run `mltui init` here, or pass --catalog PATH (or set MLTUI_CATALOG)")
    return found


def open_catalog(path: str | os.PathLike | None = None, *, create: bool | str = False,
                 readonly: bool = False, clock: Callable[[], float] | None = None,
                 actor: str | None = None, force: bool = False) -> "Catalog":
    """Open (and migrate) the catalog.

    ``create=True`` makes a new one now where it is missing; ``create="on-write"`` makes it on
    the first write that commits (reads see an empty catalog, and a command that fails before
    writing leaves no file behind).  An empty (0-byte) file is refused unless ``force=True``,
    which starts it over.  ``clock`` and ``actor`` are for tests: rows written under them
    record the real user and time beside them.

    Usable as a context manager: ``with open_catalog() as cat: ...``.
    """
    target = catalog_path(path)
    lifecycle.check_target(target, create=create, force=force)
    if not target.exists():
        if create == "on-write":
            return Catalog(target, clock=clock, actor=actor, readonly=readonly, unborn=True)
        target.parent.mkdir(parents=True, exist_ok=True)
    return Catalog(target, clock=clock, actor=actor, readonly=readonly)


def init_catalog(folder: str | os.PathLike | None = None, *, force: bool = False
                 ) -> tuple["Catalog", bool]:
    """Create ``FOLDER/.mltui/catalog.db`` (default: cwd); returns (catalog, created).

    ``force`` starts over an empty (0-byte) catalog file; a catalog with content is never
    replaced.
    """
    base = Path(folder) if folder is not None else Path.cwd()
    target = base if base.suffix == ".db" else base / CATALOG_DIR / CATALOG_FILE
    created = not target.exists() or (force and lifecycle.is_empty_file(target))
    return open_catalog(target, create=True, force=force), created


def default_actor() -> str:
    """Who is acting: ``$MLTUI_USER``, else the login name."""
    name = os.environ.get("MLTUI_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str)


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Catalog(AuditMixin, RegistryMixin, IngestMixin, RegistryImportMixin, LineageMixin, DocsMixin,
              HooksMixin, CheckoutMixin, ObserveMixin, MonitorMixin):
    """A handle on one catalog file; safe to use from several threads (one connection each)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] | None = None,
                 actor: str | None = None, readonly: bool = False, unborn: bool = False):
        self.path = Path(path)
        self.clock = clock or time.time
        self.clock_overridden = clock is not None
        self.actor = actor or default_actor()
        self.readonly = readonly
        self._unborn = lifecycle.Unborn(self.path) if unborn else None
        self._pool = self._unborn.pool(readonly) if self._unborn else \
            ConnectionPool(self.path, readonly=readonly)
        self.warnings: list[str] = self._prepare()
        warning = None if unborn else network_filesystem_warning(self.path)
        self.warnings += [warning] if warning else []

    # -- plumbing --------------------------------------------------------------------------

    def _prepare(self) -> list[str]:
        """Refuse, migrate and check the catalog (see core/lifecycle.py); returns warnings."""
        return lifecycle.prepare(self._pool, self.path, readonly=self.readonly, clock=self.clock)

    def _materialize(self) -> bool:
        """Create the file of a catalog opened with ``create="on-write"``; True if it did."""
        if self._unborn is None or self._pool.memory is None:
            return False
        self._pool.close()
        self._pool = ConnectionPool(self.path, readonly=self.readonly)
        if self.path.exists():  # another process created it meanwhile: write to theirs
            self._unborn = None
            self._prepare()
            return False
        self._unborn.materialize()
        try:
            self._prepare()
        except BaseException:
            self._unmaterialize()
            raise
        return True

    def _unmaterialize(self) -> None:
        """Undo :meth:`_materialize` after the first write failed: back to memory only."""
        self._pool.close()
        self._unborn.discard()
        self._pool = self._unborn.pool(self.readonly)
        self._prepare()

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self._pool.get()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction on this thread's connection."""
        if self.readonly:
            raise InvalidInput(f"catalog {self.path} is open read-only")
        born_now = self._materialize()
        try:
            with write_transaction(self._conn(), self.path) as conn:
                yield conn
        except BaseException:
            if born_now:  # the first write failed: leave nothing behind
                self._unmaterialize()
            raise
        if born_now:
            self._unborn = None

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        try:
            return _rows(self._conn().execute(sql, tuple(params)))
        except sqlite3.OperationalError as exc:
            if is_locked_error(exc):
                raise locked_error(self.path) from None
            raise

    def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = self._conn().execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def now(self) -> float:
        """The catalog's clock (frozen in tests and snapshots)."""
        return self.clock()

    def close(self) -> None:
        """Close every connection."""
        self._pool.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``)."""
        return int(self._conn().execute("PRAGMA data_version").fetchone()[0])

    # -- references ------------------------------------------------------------------------

    def resolve(self, ref: str | int) -> int:
        """The model_versions id a reference names (an int is taken as an id)."""
        if isinstance(ref, int):
            if self._scalar("SELECT 1 FROM model_versions WHERE id = ?", (ref,)):
                return ref
            raise NotFound(f"no model version with id {ref}")
        return refs_mod.resolve_version(self._conn(), refs_mod.parse_ref(ref))

    def resolve_run(self, ref: str | int | dict) -> int:
        """The runs id of ``run:<id>``, a bare run id/prefix, a run dict or an int id."""
        if isinstance(ref, dict):
            ref = ref["id"]
        if isinstance(ref, int):
            if self._scalar("SELECT 1 FROM runs WHERE id = ?", (ref,)):
                return ref
            raise NotFound(f"no run with id {ref}")
        text = ref if ref.startswith("run:") else f"run:{ref}"
        return refs_mod.resolve_run(self._conn(), refs_mod.parse_ref(text))

    def resolve_dataset(self, ref: str) -> int:
        """The dataset_versions id of ``data:<name>[@N]``."""
        text = ref if ref.startswith("data:") else f"data:{ref}"
        return refs_mod.resolve_dataset(self._conn(), refs_mod.parse_ref(text))

    def model_id(self, name: str) -> int:
        """The id of a model by name (NotFound with suggestions)."""
        return refs_mod.model_id(self._conn(), name)

    def ref_of(self, version_id: int) -> str:
        """The short reference of a version: ``model@N``."""
        row = self._conn().execute(
            "SELECT mo.name, v.version FROM model_versions v JOIN models mo ON mo.id = v.model_id "
            "WHERE v.id = ?", (version_id,)).fetchone()
        if not row:
            raise NotFound(f"no model version with id {version_id}")
        return f"{row[0]}@{row[1]}"

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
            "(SELECT count(*) FROM model_versions v WHERE v.model_id = mo.id) AS versions, "
            "(SELECT max(version) FROM model_versions v WHERE v.model_id = mo.id) AS latest "
            "FROM models mo ORDER BY mo.name")
        stages = self._read(
            "SELECT s.model_id, s.stage, v.version FROM stages s "
            "JOIN model_versions v ON v.id = s.version_id ORDER BY s.stage")
        by_model: dict[int, dict[str, int]] = {}
        for row in stages:
            by_model.setdefault(row["model_id"], {})[row["stage"]] = row["version"]
        for row in rows:
            row["stages"] = dict(sorted(by_model.get(row["id"], {}).items(), key=_stage_order))
        return rows

    def version_ids(self, *, model: str | None = None, filter: str | None = None,
                    sort: str | None = None, limit: int | None = None, offset: int = 0,
                    include_archived: bool = True) -> list[int]:
        """Ordered ids of the versions matching a filter; fetch rows with :meth:`versions`.

        Default order is newest first.  ``limit`` gives the first page fast; without it the
        whole ordered id list comes back (what the app's virtual table scrolls over).
        """
        compiled = compile_filter(filter, "versions")
        where = [compiled.where]
        params = list(compiled.params)
        if model is not None:
            where.append("v.model_id = ?")
            params.append(self.model_id(model))
        if not include_archived:
            where.append("v.status != 'archived'")
        return self._ordered_ids("versions", where, params, parse_sort(sort, "versions"),
                                 limit, offset, filter)

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

    def versions(self, ids: list[int], *, metric_keys: list[str] | str | None = None) -> list[dict[str, Any]]:
        """Rows for versions by id, in the given order, with their stages, data and metrics
        (``metric_keys="all"``: every metric of each version's run)."""
        if not ids:
            return []
        by_id: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(list(ids)):
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
            row["stages"].sort(key=lambda s: _stage_order((s, 0)))
            if row["run_id"] is not None:
                run_to_versions.setdefault(row["run_id"], []).append(row)
        run_ids = list(run_to_versions)
        for chunk in _chunks(run_ids):
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
        return [by_id[i] for i in ids if i in by_id]

    def _last_values(self, run_ids: list[int], keys: list[str] | str | None
                     ) -> dict[int, dict[str, Any]]:
        """``{run_id: {key: last value (or its raw text when NaN/inf)}}`` for some keys
        (``keys="all"``: every key each run has)."""
        out: dict[int, dict[str, Any]] = {}
        if not keys:
            return out
        every = keys == "all"
        key_where = "" if every else f" AND key IN ({','.join('?' * len(keys))})"
        for chunk in _chunks(list(run_ids)):
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
        mid = self.model_id(model)
        # Sample the newest versions: the keys a model logs now matter more than old ones.
        return [r["key"] for r in self._read(
            "SELECT ms.key, count(*) AS n FROM (SELECT run_id FROM model_versions WHERE model_id = ?"
            " AND run_id IS NOT NULL ORDER BY version DESC LIMIT 500) s "
            "JOIN metric_summary ms ON ms.run_id = s.run_id GROUP BY ms.key "
            "ORDER BY n DESC, ms.key LIMIT ?", (mid, limit))]

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

    def runs(self, ids: list[int], *, metric_keys: list[str] | str | None = None) -> list[dict[str, Any]]:
        """Rows for runs by id, in order, with the versions registered from each
        (``metric_keys="all"``: every metric of each run)."""
        if not ids:
            return []
        by_id: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._read(
                    "SELECT id, uid, name, project, source_format, source_path, status, start_time,"
                    " end_time, git_commit, git_commit_inferred, git_branch, created_at FROM runs "
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


_STAGE_RANK = {"production": 0, "staging": 1}


def _stage_order(item: tuple[str, Any]) -> tuple[int, str]:
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
