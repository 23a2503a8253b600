"""MLflow SQLite tracking store importer (``mlflow.db``).

Current MLflow defaults to ``sqlite:///mlflow.db`` (FORMATS.md §7), so new projects commit a
database instead of ``mlruns/``.  The schema is MLflow's SQLAlchemy store
(``mlflow/store/tracking/dbmodels/models.py``, ``store/model_registry/dbmodels/models.py``):
``experiments``, ``runs``, ``params``, ``tags``, ``metrics`` (``is_nan`` flag; +/-inf stored as
+/-DBL_MAX), ``datasets`` + ``inputs`` (dataset inputs and run -> LoggedModel outputs),
``logged_models``, ``registered_models``, ``model_versions``, ``*_tags`` and
``registered_model_aliases``.  Older databases lack some of these tables and columns; the reader
asks the schema and reads what is there.

The database is opened read-only and every record goes through the same builders as the file
store reader (:mod:`.mlflow_files`), so the same logical content yields the same records.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core.errors import ImportFailed
from ..core.records import ImportBatch, MetricPoint, RegistryModelRecord, RunRecord
from .common import ImportContext, checked_path, open_log
from .mlflow_files import (
    SQL_INF,
    ArtifactResolver,
    LoggedModel,
    build_run_record,
    dataset_record,
    registry_model,
    registry_version,
    run_artifacts,
    run_order,
    status_text,
    text_or_none,
)

FORMAT = "mlflow-db"
KIND = "file"
ALIASES = ("mlflow-sqlite",)

SQLITE_HEADER = b"SQLite format 3\x00"
REQUIRED_TABLES = frozenset({"runs", "metrics", "experiments", "alembic_version"})
# Only files with these suffixes are opened while walking a tree (detect runs on every file).
_SUFFIXES = {".db", ".sqlite", ".sqlite3", ".db3"}


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open a SQLite file read-only (never creates, never writes, never takes a write lock)."""
    # checked_path: SQLite must not follow a symlink out of the imported folder or open a FIFO.
    return sqlite3.connect(f"file:{quote(checked_path(path))}?mode=ro", uri=True)


def table_names(connection: sqlite3.Connection) -> set[str]:
    """The names of the tables in a database."""
    return {row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}


def detect(path: Path) -> bool:
    """True for an SQLite file holding MLflow's tracking tables (and its alembic_version)."""
    try:
        if not path.is_file() or path.suffix.lower() not in _SUFFIXES:
            return False
        with open_log(path) as handle:
            if handle.read(16) != SQLITE_HEADER:
                return False
        with closing(connect_read_only(path)) as connection:
            return REQUIRED_TABLES <= table_names(connection)
    except (OSError, sqlite3.Error):
        return False


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read every active run and the model registry of an MLflow SQLite store."""
    path = Path(path)
    try:
        with open_log(path) as handle:
            header = handle.read(16)
    except OSError as exc:
        raise ImportFailed(str(path), f"cannot read: {exc.strerror or exc}") from None
    if header != SQLITE_HEADER:
        raise ImportFailed(str(path), "not an SQLite database (bad header)")
    try:
        with closing(connect_read_only(path)) as connection:
            runs, models = _SqliteReader(path, connection, ctx).read()
    except sqlite3.Error as exc:
        raise ImportFailed(str(path), f"cannot read the MLflow database: {exc}",
                           hint="the file may be corrupt or not an MLflow store") from None
    return ImportBatch(source_format=FORMAT, source_path=str(path),
                       runs=sorted(runs, key=run_order), models=models)


class _SqliteReader:
    """One read of an MLflow database: schema probing, then one query per table."""

    def __init__(self, path: Path, connection: sqlite3.Connection, ctx: ImportContext):
        self.path = path
        self.db = connection
        self.ctx = ctx
        self.resolver = ArtifactResolver(ctx)
        self.tables = table_names(connection)
        self._columns: dict[str, set[str]] = {}

    def columns(self, table: str) -> set[str]:
        """The column names of ``table`` (empty when the table does not exist)."""
        if table not in self._columns:
            self._columns[table] = ({row[1] for row in self.db.execute(
                f'PRAGMA table_info("{table}")')} if table in self.tables else set())
        return self._columns[table]

    def select(self, table: str, wanted: list[str], tail: str = "") -> list[tuple]:
        """``SELECT wanted FROM table``; columns this schema version lacks read as NULL."""
        have = self.columns(table)
        fields = ", ".join(f'"{name}"' if name in have else "NULL" for name in wanted)
        return self.db.execute(f'SELECT {fields} FROM "{table}" {tail}').fetchall()

    def read(self) -> tuple[list[RunRecord], list[RegistryModelRecord]]:
        """All active runs and registered models."""
        missing = REQUIRED_TABLES - self.tables
        if missing:
            raise ImportFailed(str(self.path), "not an MLflow tracking database: missing table(s) "
                                               + ", ".join(sorted(missing)))
        experiments = {row[0]: (text_or_none(row[1]), row[2]) for row in self.select(
            "experiments", ["experiment_id", "name", "lifecycle_stage"])}
        run_rows = self.select("runs", ["run_uuid", "name", "status", "start_time", "end_time",
                                        "lifecycle_stage", "artifact_uri", "experiment_id",
                                        "user_id"])
        active = {}
        for row in run_rows:
            experiment = experiments.get(row[7], (None, "active"))
            if (row[5] or "active") == "deleted" or (experiment[1] or "active") == "deleted":
                continue
            active[str(row[0])] = row
        params = self._key_values("params", active)
        tags = self._key_values("tags", active)
        metrics = self._metrics(active)
        datasets = self._datasets(active)
        logged = self._logged_models(active)
        runs = []
        for run_id, row in active.items():
            warnings: list[str] = []
            run_tags = tags.get(run_id, {})
            run_params = params.get(run_id, {})
            run_metrics = metrics.get(run_id, [])
            run_datasets = datasets.get(run_id, [])
            artifacts = run_artifacts(self.resolver, run_id=run_id,
                                      artifact_uri=text_or_none(row[6]), near=None,
                                      logged_models=logged.get(run_id, []),
                                      history_tag=run_tags.get("mlflow.log-model.history"),
                                      warnings=warnings)
            for message in warnings:
                self.ctx.warn(message)
            runs.append(build_run_record(
                run_id=run_id, name=text_or_none(row[1]),
                project=experiments.get(row[7], (None, None))[0], status=status_text(row[2]),
                start_ms=self._int(row[3], "runs.start_time", run_id),
                end_ms=self._int(row[4], "runs.end_time", run_id),
                user_id=text_or_none(row[8]), params=run_params, tags=run_tags,
                metrics=run_metrics, datasets=run_datasets, artifacts=artifacts,
                source_format=FORMAT, source_path=str(self.path),
                fingerprint_value=_content_fingerprint(row, run_params, run_tags, run_metrics,
                                                       [m.model_id for m in
                                                        logged.get(run_id, [])]),
                warnings=warnings))
        return runs, self._registry()

    def _int(self, value: Any, field: str, run_id: str) -> int | None:
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ImportFailed(str(self.path), f"run {run_id}: expected integer milliseconds, "
                                               f"got {value!r}", field=field) from None

    def _key_values(self, table: str, active: dict) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for run_id, key, value in self.select(table, ["run_uuid", "key", "value"]):
            if run_id in active:
                out.setdefault(run_id, {})[str(key)] = "" if value is None else str(value)
        for values in out.values():  # same key order as the file store's sorted walk
            ordered = dict(sorted(values.items()))
            values.clear()
            values.update(ordered)
        return out

    def _metrics(self, active: dict) -> dict[str, list[MetricPoint]]:
        """Metric points per run, in insertion (rowid) order per key, like the file lines."""
        wanted = ["run_uuid", "key", "value", "timestamp", "step", "is_nan"]
        try:
            rows = self.select("metrics", wanted, "ORDER BY rowid")
        except sqlite3.OperationalError:  # a WITHOUT ROWID copy of the table
            rows = self.select("metrics", wanted, 'ORDER BY run_uuid, "key", timestamp, step')
        by_run: dict[str, dict[str, list[MetricPoint]]] = {}
        for run_id, key, value, timestamp, step, is_nan in rows:
            if run_id not in active:
                continue
            keyed = by_run.setdefault(run_id, {})
            series = keyed.get(key)
            if series is None:
                series = keyed[key] = []
            try:
                number = float(value)
                wall = int(timestamp) / 1000.0 if timestamp is not None else None
                step = int(step) if step is not None else 0
            except (TypeError, ValueError):
                raise ImportFailed(str(self.path), f"run {run_id} metric {key!r}: not a number "
                                                   f"(value {value!r}, timestamp {timestamp!r}, "
                                                   f"step {step!r})",
                                   field="metrics.value") from None
            if is_nan or number != number:
                series.append(MetricPoint(key, None, step, None, "step", wall, "nan",
                                          len(series)))
            elif number >= SQL_INF or number <= -SQL_INF:
                # MLflow stored +/-inf as +/-DBL_MAX because SQL has no infinity.
                series.append(MetricPoint(key, None, step, None, "step", wall,
                                          "inf" if number > 0 else "-inf", len(series)))
            else:
                series.append(MetricPoint(key, number, step, None, "step", wall, None,
                                          len(series)))
        return {run_id: [p for key in sorted(keyed) for p in keyed[key]]
                for run_id, keyed in by_run.items()}

    def _datasets(self, active: dict) -> dict[str, list]:
        if not {"datasets", "inputs"} <= self.tables:
            return {}
        datasets = {row[0]: row[1:] for row in self.select(
            "datasets", ["dataset_uuid", "name", "digest", "dataset_source_type",
                         "dataset_source", "dataset_schema", "dataset_profile"])}
        contexts: dict[str, str] = {}  # input_uuid -> mlflow.data.context (training, ...)
        if "input_tags" in self.tables:
            contexts = {row[0]: row[1] for row in self.select(
                "input_tags", ["input_uuid", "value"], "WHERE name = 'mlflow.data.context'")}
        out: dict[str, list] = {}
        for source_type, source_id, destination_type, run_id, input_uuid in self.select(
                "inputs", ["source_type", "source_id", "destination_type", "destination_id",
                           "input_uuid"]):
            if source_type != "DATASET" or destination_type != "RUN" or run_id not in active:
                continue
            found = datasets.get(source_id)
            if found is None:
                self.ctx.warn(f"{self.path}: run {run_id} input dataset {source_id} is missing "
                              f"from the datasets table; skipped")
                continue
            name, digest, source_kind, source, schema, profile = found
            out.setdefault(run_id, []).append(dataset_record(
                name=str(name), digest=text_or_none(digest), source_type=text_or_none(source_kind),
                source=text_or_none(source), schema=text_or_none(schema),
                profile=text_or_none(profile), resolver=self.resolver,
                context=text_or_none(contexts.get(input_uuid))))
        return out

    def _logged_models(self, active: dict) -> dict[str, list[LoggedModel]]:
        """MLflow 3 LoggedModels per run: by source_run_id, and by RUN_OUTPUT links."""
        if "logged_models" not in self.tables:
            return {}
        models = {}
        for model_id, name, location, run_id, stage in self.select(
                "logged_models", ["model_id", "name", "artifact_location", "source_run_id",
                                  "lifecycle_stage"]):
            if (stage or "active") != "deleted":
                models[model_id] = LoggedModel(model_id=str(model_id), name=text_or_none(name),
                                               artifact_location=text_or_none(location),
                                               source_run_id=text_or_none(run_id))
        links: dict[str, dict[str, LoggedModel]] = {}
        for model in models.values():
            if model.source_run_id in active:
                links.setdefault(model.source_run_id, {})[model.model_id] = model
        if "inputs" in self.tables:
            for source_type, run_id, destination_type, model_id in self.select(
                    "inputs", ["source_type", "source_id", "destination_type", "destination_id"]):
                if (source_type == "RUN_OUTPUT" and destination_type == "MODEL_OUTPUT"
                        and run_id in active and model_id in models):
                    links.setdefault(run_id, {})[model_id] = models[model_id]
        return {run_id: list(found.values()) for run_id, found in links.items()}

    def _registry(self) -> list[RegistryModelRecord]:
        if not {"registered_models", "model_versions"} <= self.tables:
            return []
        model_tags: dict[str, dict[str, str]] = {}
        if "registered_model_tags" in self.tables:
            for key, value, name in self.select("registered_model_tags",
                                                ["key", "value", "name"]):
                model_tags.setdefault(name, {})[str(key)] = "" if value is None else str(value)
        version_tags: dict[tuple, dict[str, str]] = {}
        if "model_version_tags" in self.tables:
            for key, value, name, version in self.select("model_version_tags",
                                                         ["key", "value", "name", "version"]):
                version_tags.setdefault((name, _int_or_none(version)), {})[str(key)] = (
                    "" if value is None else str(value))
        aliases: dict[str, dict[str, Any]] = {}
        if "registered_model_aliases" in self.tables:
            for alias, version, name in self.select("registered_model_aliases",
                                                    ["alias", "version", "name"]):
                aliases.setdefault(name, {})[str(alias)] = version
        versions: dict[str, list] = {}
        for row in self.select("model_versions", [
                "name", "version", "creation_time", "description", "user_id", "current_stage",
                "source", "run_id", "status", "storage_location"]):
            name, version = row[0], row[1]
            where = f"{self.path} (model_versions {name!r} v{version})"
            record = registry_version(
                self.resolver, model_name=name, version=version, source=text_or_none(row[6]),
                storage_location=text_or_none(row[9]), run_id=text_or_none(row[7]),
                description=text_or_none(row[3]),
                tags=version_tags.get((name, _int_or_none(version)), {}),
                stage=text_or_none(row[5]), status=text_or_none(row[8]),
                created_ms=_int_or_none(row[2]), user_id=text_or_none(row[4]), path=where)
            if record is not None:
                versions.setdefault(name, []).append(record)
        models = []
        for name, created, description in sorted(self.select(
                "registered_models", ["name", "creation_time", "description"]),
                key=lambda r: str(r[0])):
            models.append(registry_model(
                name=str(name), description=text_or_none(description),
                tags=dict(sorted(model_tags.get(name, {}).items())),
                created_ms=_int_or_none(created), versions=versions.get(name, []),
                aliases=aliases.get(name, {}), warn=self.ctx.warn))
        return models


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _content_fingerprint(row: tuple, params: dict, tags: dict, metrics: list[MetricPoint],
                         model_ids: list[str]) -> str:
    """What changes when a run in the database changes (one file holds every run).

    A whole-file fingerprint would mark every run changed whenever any run logs a point, so
    this hashes the run's row, its params and tags, and per metric key the count and last point.
    """
    digest = hashlib.sha256(repr((row, sorted(params.items()), sorted(tags.items()),
                                  sorted(model_ids))).encode())
    last: dict[str, tuple] = {}
    counts: dict[str, int] = {}
    for point in metrics:
        counts[point.key] = counts.get(point.key, 0) + 1
        last[point.key] = (point.step, point.value, point.raw, point.wall_time)
    digest.update(repr(sorted((key, counts[key], last[key]) for key in counts)).encode())
    return digest.hexdigest()[:32]
