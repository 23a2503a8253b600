"""MLflow file store importer (``mlruns/``), and the record building shared with ``mlflow_sqlite``.

Layout (mlflow-skinny 3.17.2 ``store/tracking/file_store.py`` and
``store/model_registry/file_store.py``; FORMATS.md §7)::

    mlruns/<experiment_id>/meta.yaml                 experiment: name, lifecycle_stage
    mlruns/<experiment_id>/<run_id>/meta.yaml        run: times (ms), status code, user_id ...
        params/<key>  tags/<key>                     raw values (a "/" in a key is a subfolder)
        metrics/<key>                         "<ts_ms> <value> <step>[ <ds_name> <ds_digest>]"
        inputs/<id>/meta.yaml  -> <exp>/datasets/<dataset_id>/meta.yaml (name, digest, source)
        outputs/<model_id>/    -> <exp>/models/<model_id>/meta.yaml (MLflow 3 LoggedModel)
        artifacts/<dir>/MLmodel                      MLflow 2 style logged model
    mlruns/.trash/                                   deleted experiments (skipped)
    mlruns/models/<name>/meta.yaml, aliases/, tags/, version-<n>/meta.yaml + tags/   registry

The reader is on the import benchmark's hot path (1,000 runs x 500 points), so the per-run
``meta.yaml`` goes through a tiny parser for MLflow's flat ``safe_dump`` output (falling back to
the lenient YAML loader for anything else) and metric lines are parsed inline.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from itertools import repeat
from pathlib import Path
from typing import Any

from ..core.errors import ImportFailed
from ..core.records import (
    ArtifactRecord,
    DatasetRecord,
    MetricColumns,
    ImportBatch,
    MetricPoint,
    RegistryModelRecord,
    RegistryVersionRecord,
    RunRecord,
)
from .common import (
    ImportContext,
    open_log,
    fingerprint,
    read_text,
    artifact_for,
    as_param_text,
    load_yaml,
    looks_like_email,
    resolve_foreign_path,
    scrub_pii,
)

FORMAT = "mlflow"
KIND = "dir"
CONSUMES_SUBTREE = True

META = "meta.yaml"
# RunStatus codes as the file store persists them (mlflow/entities/run_status.py).
RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
# Experiment subfolders that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS).
_RESERVED_EXPERIMENT_FOLDERS = {"tags", "datasets", "traces", "models"}
# MLflow's sentinel for a registry version that was deleted.
_DELETED_VERSION_STAGE = "deleted_internal"
_VERSION_STATUS = {"READY": "ready", "PENDING_REGISTRATION": "pending",
                   "FAILED_REGISTRATION": "failed"}
# SQLite cannot hold inf, so MLflow's SQL store writes +/-DBL_MAX instead (sanitize_metric_value).
SQL_INF = 1.7976931348623157e308

_EXPERIMENT_ID_LINE = re.compile(r"^experiment_id:", re.M)
_RUN_ID_LINE = re.compile(r"^(run_id|run_uuid):", re.M)
_MODEL_ID_LINE = re.compile(r"^model_id:", re.M)
_EXPERIMENT_FIELD_LINE = re.compile(r"^(artifact_location|lifecycle_stage|name):", re.M)
_RUN_FIELD_LINE = re.compile(r"^(artifact_uri|lifecycle_stage|status|start_time):", re.M)
_URI_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_PLAIN_BAD_START = tuple("\"{[&*!|>%@`")


# ---------------------------------------------------------------------------------------------
# Detection


def detect(path: Path) -> bool:
    """True for an MLflow file store root, a single experiment folder or a single run folder."""
    try:
        return path.is_dir() and _folder_kind(path) is not None
    except OSError:
        return False


def _head(path: Path, limit: int = 4096) -> str:
    try:
        with open_log(path) as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def _meta_kind(meta_path: Path) -> str | None:
    """``"experiment"``, ``"run"`` or None, from the first bytes of a meta.yaml."""
    head = _head(meta_path)
    if not _EXPERIMENT_ID_LINE.search(head) or _MODEL_ID_LINE.search(head):
        return None  # LoggedModel metas also hold experiment_id; they are not runs
    if _RUN_ID_LINE.search(head):
        return "run" if _RUN_FIELD_LINE.search(head) else None
    return "experiment" if _EXPERIMENT_FIELD_LINE.search(head) else None


def _folder_kind(path: Path) -> str | None:
    """What an MLflow-looking folder is: ``"store"``, ``"experiment"``, ``"run"`` or None."""
    meta = path / META
    if meta.is_file():
        return _meta_kind(meta)
    checked = 0
    with os.scandir(path) as entries:
        for entry in entries:
            if not entry.is_dir():
                continue
            name = entry.name
            if name == ".trash" or name.isdigit():
                checked += 1
                if name == ".trash":
                    if _trash_has_experiment(Path(entry.path)):
                        return "store"
                elif _meta_kind(Path(entry.path) / META) == "experiment":
                    return "store"
                if checked > 50:  # a data folder full of numbered subfolders is not a store
                    return None
            elif name == "models" and _looks_like_registry(Path(entry.path)):
                return "store"
    return None


def _trash_has_experiment(trash: Path) -> bool:
    with os.scandir(trash) as entries:
        for entry in entries:
            if entry.is_dir() and _meta_kind(Path(entry.path) / META) == "experiment":
                return True
    return False


def _looks_like_registry(models: Path) -> bool:
    """A registry folder holds ``<name>/meta.yaml`` next to ``<name>/version-<n>/``."""
    with os.scandir(models) as entries:
        for entry in entries:
            if not entry.is_dir():
                continue
            model = Path(entry.path)
            head = _head(model / META)
            if re.search(r"^name:", head, re.M) and re.search(r"^creation_timestamp:", head, re.M):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# meta.yaml


def parse_flat_yaml(text: str) -> dict[str, Any] | None:
    """Parse the flat ``key: value`` YAML that MLflow's ``write_yaml`` emits, or return None.

    Values come back as text (``'...'`` unquoted), None for ``null``/empty, and empty list /
    dict for ``[]`` / ``{}``.  Anything else YAML can express (nesting, block scalars, double
    quotes, continuation lines, comments) makes it return None, and the caller falls back to
    the full YAML loader: this is only a fast path, ~50x faster than PyYAML's pure loader.
    """
    out: dict[str, Any] = {}
    for line in text.splitlines():
        if not line:
            continue
        if line[0] in " \t-#?:'\"{[&*!|>%@`":
            return None
        key, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":") and ":" not in line[:-1]:
                key, value = line[:-1], ""
            else:
                return None
        elif ":" in key:
            return None
        value = value.strip()
        if not value or value in ("null", "~", "Null", "NULL"):
            out[key] = None
        elif value[0] == "'":
            if len(value) < 2 or value[-1] != "'":
                return None
            out[key] = value[1:-1].replace("''", "'")
        elif value.startswith(_PLAIN_BAD_START):
            if value == "[]":
                out[key] = []
            elif value == "{}":
                out[key] = {}
            else:
                return None
        elif ": " in value or " #" in value or value.endswith(":"):
            return None
        else:
            out[key] = value
    return out


def read_meta(path: Path | str) -> dict[str, Any]:
    """Read one MLflow meta.yaml into a dict; malformed content is an ImportFailed."""
    text = read_text(path)
    meta = parse_flat_yaml(text)
    if not meta:  # None: not the flat shape; {}: empty, let the loader say what it is
        meta = load_yaml(Path(path), text)
    if not isinstance(meta, dict):
        what = "empty file" if meta is None else f"a YAML {type(meta).__name__}"
        raise ImportFailed(str(path), f"expected a YAML mapping of MLflow metadata, got {what}")
    return meta


def text_or_none(value: Any) -> str | None:
    """A meta value as text (YAML may have typed it), None when absent or empty."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text != "" else None


def meta_int(meta: dict, key: str, path: Path | str) -> int | None:
    """An integer field of a meta.yaml (ms timestamps, codes); wrong types are ImportFailed."""
    value = meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ImportFailed(str(path), f"expected an integer, got {value!r}", field=key)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            raise ImportFailed(str(path), f"expected an integer, got {value!r}",
                               field=key) from None


def status_text(value: Any) -> str:
    """MLflow run status as text: ``3`` -> ``FINISHED``; text statuses pass through upper-cased."""
    if value is None or value == "":
        return "RUNNING"  # the file store's default when the field is absent
    try:
        return RUN_STATUS.get(int(value), str(value))
    except (TypeError, ValueError):
        return str(value).upper()


# ---------------------------------------------------------------------------------------------
# Records shared by the file store and the SQLite store


def build_run_record(*, run_id: str, name: str | None, project: str | None, status: str,
                     start_ms: int | None, end_ms: int | None, user_id: str | None,
                     params: dict[str, str], tags: dict[str, str], metrics: list[MetricPoint],
                     datasets: list[DatasetRecord], artifacts: list[ArtifactRecord],
                     source_format: str, source_path: str, fingerprint_value: str,
                     warnings: list[str],
                     metric_columns: list[MetricColumns] | None = None) -> RunRecord:
    """One RunRecord from an MLflow run, whichever store it came from.

    Personal data is dropped here: an e-mail ``mlflow.user`` (tag and user) is not imported and
    e-mail addresses inside other tags and params are redacted.
    """
    clean_tags: dict[str, str] = {}
    for key, value in tags.items():
        value = "" if value is None else str(value)
        if looks_like_email(value):
            if key == "mlflow.user":
                continue
            value = scrub_pii(value) or ""
        clean_tags[key] = value
    clean_params: dict[str, str] = {}
    for key, value in params.items():
        value = as_param_text(value)
        clean_params[key] = scrub_pii(value) if looks_like_email(value) else value
    user = tags.get("mlflow.user") or user_id
    if not user or looks_like_email(user) or user == "unknown":
        user = None  # "unknown" is what MLflow writes when it did not know the user
    return RunRecord(
        uid=run_id,
        source_format=source_format,
        source_path=source_path,
        name=name or tags.get("mlflow.runName") or None,
        project=project,
        status=status,
        start_time=start_ms / 1000.0 if start_ms is not None else None,
        end_time=end_ms / 1000.0 if end_ms is not None else None,
        user=user,
        git_commit=tags.get("mlflow.source.git.commit") or None,
        git_branch=tags.get("mlflow.source.git.branch") or None,
        params=clean_params,
        tags=clean_tags,
        metrics=metrics,
        metric_columns=metric_columns or [],
        datasets=sorted(datasets, key=lambda d: (d.name, d.hash or "", d.uri_raw or "")),
        artifacts=artifacts,
        fingerprint=fingerprint_value,
        warnings=warnings,
    )


def dataset_record(*, name: str, digest: str | None, source_type: str | None,
                   source: str | None, schema: str | None, profile: str | None,
                   resolver: ArtifactResolver) -> DatasetRecord:
    """A DatasetRecord from an MLflow dataset entity (name, digest, source JSON, schema, profile).

    The digest is MLflow's own (``mlflow-digest``), so it compares only with other MLflow
    digests; the source URI is kept raw and resolved inside the imported tree when local.
    """
    uri = source_uri(source)
    local = resolver.resolve(uri, None) if uri and source_type in (None, "local", "") else None
    rows, columns = None, None
    profile_data = _json_or_none(profile)
    if isinstance(profile_data, dict) and isinstance(profile_data.get("num_rows"), int):
        rows = profile_data["num_rows"]
    schema_data = _json_or_none(schema)
    if isinstance(schema_data, dict) and isinstance(schema_data.get("mlflow_colspec"), list):
        columns = [str(col.get("name")) for col in schema_data["mlflow_colspec"]
                   if isinstance(col, dict) and col.get("name") is not None] or None
    return DatasetRecord(name=name, hash_algo="mlflow-digest" if digest else None, hash=digest,
                         uri_raw=uri, path=str(local) if local else None, row_count=rows,
                         columns=columns)


def source_uri(source: str | None) -> str | None:
    """The location inside an MLflow dataset ``source`` JSON (``{"uri": ...}`` and friends)."""
    if not source:
        return None
    data = _json_or_none(source)
    if isinstance(data, dict):
        for key in ("uri", "url", "path", "delta_table_name", "table_name", "dataset_name"):
            if isinstance(data.get(key), str) and data[key]:
                return data[key]
        return None
    return source


def _json_or_none(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


@dataclasses.dataclass
class LoggedModel:
    """An MLflow 3 LoggedModel: what a run produced under ``<exp>/models/<model_id>/``."""

    model_id: str
    name: str | None
    artifact_location: str | None
    source_run_id: str | None
    near: Path | None = None  # its folder in a file store, to resolve artifact_location
    meta_path: Path | None = None


class ArtifactResolver:
    """Finds and hashes model folders that an MLflow store points at, inside the imported tree.

    MLflow writes absolute URIs of the machine that logged (``file:///C:/Users/...``,
    ``/home/alice/...``).  Resolution order: a known anchor (``<run_id>/artifacts`` or
    ``<model_id>/artifacts`` already found on disk), then for absolute paths the shortest tail
    of >= 2 components that exists under the log's folder or the imported root (one component,
    e.g. ``artifacts``, would match the wrong run), and :func:`resolve_foreign_path` for
    relative paths.  Non-file schemes (s3://, dbfs:/,
    gs://) are never resolved; ``mlflow-artifacts:/`` (a tracking server's proxy) is looked up
    in a committed ``mlartifacts/`` folder.  Each folder is hashed once per read.
    """

    def __init__(self, ctx: ImportContext):
        self.root = Path(ctx.root).resolve()
        self.anchors: dict[str, Path] = {}
        self._hashed: dict[Path, ArtifactRecord] = {}

    def resolve(self, raw: str | None, near: Path | None) -> Path | None:
        """The local folder/file for a raw path or URI, or None (never outside the root)."""
        if not raw:
            return None
        text = str(raw).strip()
        if text.startswith("runs:/") or text.startswith("models:/"):
            parts = [p for p in text.split(":/", 1)[1].split("/") if p]
            if parts and parts[0] in self.anchors:
                return self._existing(self.anchors[parts[0]].joinpath(*parts[1:]))
            return None
        if text.startswith("mlflow-artifacts:"):
            # Proxied by `mlflow server`, which stores them under ./mlartifacts/ by default.
            path = re.sub(r"^mlflow-artifacts:(//[^/]*)?", "", text).strip("/")
            parts = [p for p in path.split("/") if p]
            if not parts:
                return None
            for base in (self.root, near):
                if base is not None:
                    found = self._existing(base.joinpath("mlartifacts", *parts))
                    if found:
                        return found
            text = "/" + path  # then the tail search below
        elif text.startswith("file:"):
            text = re.sub(r"^file:(//)?", "", text)
            if re.match(r"^/[A-Za-z]:[\\/]", text):
                text = text[1:]  # file:///C:/Users/... -> C:/Users/...
        elif _URI_SCHEME.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text):
            return None  # s3://, gs://, dbfs:/, mlflow-artifacts:/ ...
        parts = [p for p in re.split(r"[\\/]+", text) if p not in ("", ".")]
        if not parts:
            return None
        for index, part in enumerate(parts[:-1]):
            if parts[index + 1] == "artifacts" and part in self.anchors:
                found = self._existing(self.anchors[part].joinpath(*parts[index + 2:]))
                if found:
                    return found
        absolute = text.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", text))
        if not absolute:
            return resolve_foreign_path(text, self.root, near=near)
        if not re.match(r"^[A-Za-z]:", text):  # a drive path is never this machine's
            found = self._existing(Path(text))
            if found:
                return found
        for size in range(2, len(parts)):
            tail = parts[-size:]
            for base in (near, self.root):
                if base is not None:
                    found = self._existing(base.joinpath(*tail))
                    if found:
                        return found
        return None

    def _existing(self, candidate: Path) -> Path | None:
        try:
            if not candidate.exists():
                return None
            resolved = candidate.resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        if resolved == self.root or self.root in resolved.parents:
            return resolved
        return None

    def record(self, raw: str, *, name: str | None, near: Path | None = None,
               local: Path | None = None) -> ArtifactRecord:
        """An ArtifactRecord for ``raw``: hashed when it is on disk, else the raw path only."""
        local = local or self.resolve(raw, near)
        if local is None:
            return ArtifactRecord(path_raw=raw, name=name, kind="model")
        hashed = self._hashed.get(local)
        if hashed is None:
            try:
                hashed = artifact_for(local, path_raw=raw, name=name)
            except OSError as exc:
                raise ImportFailed(str(local), f"cannot hash model artifact: "
                                               f"{exc.strerror or exc}") from None
            self._hashed[local] = hashed
        return dataclasses.replace(hashed, path_raw=raw, name=name)


def mlmodel_dirs(folder: Path, depth: int = 2) -> list[str]:
    """Relative paths (posix) of the folders under ``folder`` that hold an ``MLmodel`` file."""
    found: list[str] = []
    stack = [(folder, "", 0)]
    while stack:
        current, prefix, level = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        names = {entry.name for entry in entries}
        if "MLmodel" in names:
            found.append(prefix or ".")
            continue
        if level < depth:
            for entry in entries:
                if entry.is_dir():
                    stack.append((Path(entry.path), f"{prefix}{entry.name}/", level + 1))
    return sorted(p.rstrip("/") for p in found)


def run_artifacts(resolver: ArtifactResolver, *, run_id: str, artifact_uri: str | None,
                  near: Path | None, logged_models: list[LoggedModel],
                  history_tag: str | None, warnings: list[str]) -> list[ArtifactRecord]:
    """A run's model artifacts: MLflow 3 LoggedModels, then MLflow 2 ``artifacts/<dir>/MLmodel``.

    ``near`` is where the store keeps the run (its experiment folder), used to resolve foreign
    absolute URIs.  Models named in ``mlflow.log-model.history`` but not on disk are recorded
    by their raw path.
    """
    artifacts: list[ArtifactRecord] = []
    for model in sorted(logged_models, key=lambda m: m.model_id):
        if not model.artifact_location:
            warnings.append(f"logged model {model.model_id} has no artifact_location")
            continue
        local = resolver.resolve(model.artifact_location, model.near)
        if local is not None:
            resolver.anchors.setdefault(model.model_id, local)
        artifacts.append(resolver.record(model.artifact_location, name=model.name or
                                         model.model_id, local=local))
    if not artifact_uri:
        return artifacts
    local_root = resolver.resolve(artifact_uri, near)
    base = artifact_uri.rstrip("/\\")
    seen: set[str] = set()
    if local_root is not None and local_root.is_dir():
        resolver.anchors.setdefault(run_id, local_root)
        for rel in mlmodel_dirs(local_root):
            seen.add(rel)
            raw = base if rel == "." else f"{base}/{rel}"
            artifacts.append(resolver.record(raw, name=None if rel == "." else rel,
                                             local=local_root / rel))
    for rel in _history_paths(history_tag, warnings):
        if rel not in seen:
            seen.add(rel)
            artifacts.append(ArtifactRecord(path_raw=f"{base}/{rel}", name=rel, kind="model"))
    return artifacts


def _history_paths(history_tag: str | None, warnings: list[str]) -> list[str]:
    """Artifact paths listed in MLflow 2's ``mlflow.log-model.history`` tag (a JSON list)."""
    if not history_tag:
        return []
    data = _json_or_none(history_tag)
    if not isinstance(data, list):
        warnings.append("tag mlflow.log-model.history is not a JSON list; ignored")
        return []
    paths = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("artifact_path"), str):
            path = item["artifact_path"].strip("/")
            if path and "://" not in path and path not in paths:
                paths.append(path)
    return paths


def registry_version(resolver: ArtifactResolver, *, model_name: str, version: Any,
                     source: str | None, storage_location: str | None, run_id: str | None,
                     description: str | None, tags: dict[str, str], stage: str | None,
                     status: str | None, created_ms: int | None, user_id: str | None,
                     path: str) -> RegistryVersionRecord | None:
    """A RegistryVersionRecord, or None for a version MLflow marks deleted."""
    stage_text = text_or_none(stage)
    if stage_text and stage_text.lower() == _DELETED_VERSION_STAGE:
        return None
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise ImportFailed(path, f"registered model {model_name!r}: version is not a number: "
                                 f"{version!r}", field="version") from None
    location = text_or_none(storage_location)
    raw = location or text_or_none(source)
    artifact = None
    if raw:
        local = resolver.resolve(raw, None)
        if local is None and location and source and source != location:
            local = resolver.resolve(source, None)  # e.g. runs:/<id>/model via a known run
        artifact = resolver.record(raw, name=None, local=local)
    creator = text_or_none(user_id)
    return RegistryVersionRecord(
        source_version=number,
        run_uid=text_or_none(run_id),
        artifact=artifact,
        description=text_or_none(description),
        tags={k: str(v) for k, v in tags.items()},
        stage=stage_text if stage_text and stage_text.lower() != "none" else None,
        status=_VERSION_STATUS.get(str(status or "READY").upper(), str(status).lower()),
        created_at=created_ms / 1000.0 if created_ms is not None else None,
        created_by=None if not creator or looks_like_email(creator) else creator,
    )


def registry_model(*, name: str, description: str | None, tags: dict[str, str],
                   created_ms: int | None, versions: list[RegistryVersionRecord],
                   aliases: dict[str, Any],
                   warn: Callable[[str], None] | None = None) -> RegistryModelRecord:
    """A RegistryModelRecord; aliases pointing at a missing or deleted version are dropped."""
    versions = sorted(versions, key=lambda v: v.source_version)
    known = {v.source_version for v in versions}
    alias_map: dict[str, int] = {}
    for alias, target in sorted(aliases.items()):
        try:
            number = int(target)
        except (TypeError, ValueError):
            number = None
        if number is None or number not in known:
            if warn:
                warn(f"registered model {name!r}: alias {alias!r} points at missing version "
                     f"{target!r}; dropped")
            continue
        alias_map[str(alias)] = number
    return RegistryModelRecord(name=name, description=text_or_none(description),
                               tags={k: str(v) for k, v in tags.items()}, versions=versions,
                               aliases=alias_map,
                               created_at=created_ms / 1000.0 if created_ms is not None else None,
                               source="mlflow")


# ---------------------------------------------------------------------------------------------
# The file store reader


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read an ``mlruns/`` store (or one experiment / run folder of it) into records."""
    path = Path(path)
    if not path.is_dir():
        raise ImportFailed(str(path), "not a folder: an MLflow file store is a directory")
    try:
        kind = _folder_kind(path)
    except OSError as exc:
        raise ImportFailed(str(path), f"cannot list: {exc.strerror or exc}") from None
    reader = _FileStoreReader(path, ctx)
    try:
        runs, models = _read_kind(reader, path, kind)
    except OSError as exc:
        raise ImportFailed(getattr(exc, "filename", None) or str(path),
                           f"cannot read: {exc.strerror or exc}") from None
    return ImportBatch(source_format=FORMAT, source_path=str(path),
                       runs=sorted(runs, key=run_order), models=models)


def _read_kind(reader: _FileStoreReader, path: Path,
               kind: str | None) -> tuple[list[RunRecord], list[RegistryModelRecord]]:
    """Read a run folder, an experiment folder or a whole store."""
    if kind == "run":
        return reader.read_single_run(path), []
    if kind == "experiment":
        return reader.read_experiment(path), []
    runs = reader.read_store(path)
    models = reader.read_registry(path / "models")
    if not runs and not models and not reader.saw_experiment:
        raise ImportFailed(str(path), "no MLflow experiments or registered models found",
                           hint="point at the mlruns/ folder")
    return runs, models


def run_order(run: RunRecord) -> tuple:
    """Runs in the order they started (then by id), whichever store they came from."""
    return (run.start_time if run.start_time is not None else float("-inf"), run.uid)


class _FileStoreReader:
    """State for one read of a file store: the artifact resolver, caches and the warnings."""

    def __init__(self, path: Path, ctx: ImportContext):
        self.path = path
        self.ctx = ctx
        self.resolver = ArtifactResolver(ctx)
        self.saw_experiment = False
        self._datasets: dict[Path, dict | None] = {}

    def warn(self, message: str, run_warnings: list[str] | None = None) -> None:
        """A store-level warning, or a run-level one (reported when the run is done)."""
        if run_warnings is not None:
            run_warnings.append(message)
        else:
            self.ctx.warn(message)

    # -- experiments --------------------------------------------------------------------------

    def read_store(self, root: Path) -> list[RunRecord]:
        """Every active run of every active experiment under a store root."""
        runs: list[RunRecord] = []
        for entry in sorted(os.scandir(root), key=lambda e: e.name):
            name = entry.name
            if name.startswith(".") or name == "models" or not entry.is_dir():
                continue  # .trash holds deleted experiments; models/ is the registry
            folder = Path(entry.path)
            if not (folder / META).is_file():
                if name.isdigit():
                    self.warn(f"{folder}: experiment folder without meta.yaml; skipped")
                continue
            runs.extend(self.read_experiment(folder))
        return runs

    def read_experiment(self, folder: Path) -> list[RunRecord]:
        """Every active run of one experiment folder (none when the experiment is deleted)."""
        meta_path = folder / META
        meta = read_meta(meta_path)
        experiment_id = text_or_none(meta.get("experiment_id"))
        if experiment_id is None:
            raise ImportFailed(str(meta_path), "missing experiment_id", field="experiment_id")
        self.saw_experiment = True
        if str(meta.get("lifecycle_stage") or "active") == "deleted":
            return []
        project = text_or_none(meta.get("name")) or folder.name
        logged = self._logged_models(folder)
        runs = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if (entry.name in _RESERVED_EXPERIMENT_FOLDERS or entry.name.startswith(".")
                    or not entry.is_dir()):
                continue
            run = self._read_run(Path(entry.path), experiment_id, project, folder, logged)
            if run is not None:
                runs.append(run)
        return runs

    def read_single_run(self, run_dir: Path) -> list[RunRecord]:
        """A run folder on its own; its experiment's name comes from the parent when present."""
        experiment = run_dir.parent
        project, experiment_id = None, None
        if (experiment / META).is_file() and _meta_kind(experiment / META) == "experiment":
            meta = read_meta(experiment / META)
            project = text_or_none(meta.get("name"))
            experiment_id = text_or_none(meta.get("experiment_id"))
        run = self._read_run(run_dir, experiment_id, project, experiment,
                             self._logged_models(experiment))
        return [run] if run is not None else []

    def _logged_models(self, experiment: Path) -> dict[str, list[LoggedModel]]:
        """MLflow 3 LoggedModels of an experiment, by source run id (deleted ones left out)."""
        folder = experiment / "models"
        by_run: dict[str, list[LoggedModel]] = {}
        if not folder.is_dir():
            return by_run
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            meta_path = Path(entry.path) / META
            if not entry.is_dir() or not meta_path.is_file():
                continue
            meta = read_meta(meta_path)
            if str(meta.get("lifecycle_stage") or "active") == "deleted":
                continue
            model = LoggedModel(model_id=text_or_none(meta.get("model_id")) or entry.name,
                                name=text_or_none(meta.get("name")),
                                artifact_location=text_or_none(meta.get("artifact_location")),
                                source_run_id=text_or_none(meta.get("source_run_id")),
                                near=Path(entry.path), meta_path=meta_path)
            by_run.setdefault(model.source_run_id or "", []).append(model)
            by_run.setdefault("id:" + model.model_id, []).append(model)
        return by_run

    # -- runs ---------------------------------------------------------------------------------

    def _read_run(self, run_dir: Path, experiment_id: str | None, project: str | None,
                  experiment: Path, logged: dict[str, list[LoggedModel]]) -> RunRecord | None:
        with os.scandir(run_dir) as entries:
            children = {entry.name for entry in entries}
        meta_path = run_dir / META
        if META not in children:
            self.warn(f"{run_dir}: no meta.yaml, not an MLflow run; skipped")
            return None
        meta = read_meta(meta_path)
        run_id = text_or_none(meta.get("run_id")) or text_or_none(meta.get("run_uuid"))
        if run_id is None:
            raise ImportFailed(str(meta_path), "missing run_id", field="run_id")
        if str(meta.get("lifecycle_stage") or "active") == "deleted":
            return None
        meta_experiment = text_or_none(meta.get("experiment_id"))
        if experiment_id is not None and meta_experiment not in (None, experiment_id):
            # MLflow's own reader ignores such a run (moved by hand); so do we.
            self.warn(f"{meta_path}: run records experiment {meta_experiment} but sits in "
                      f"experiment {experiment_id}; skipped")
            return None
        warnings: list[str] = []
        files = [str(meta_path)]
        start_ms = meta_int(meta, "start_time", meta_path)
        end_ms = meta_int(meta, "end_time", meta_path)
        params = self._read_values(run_dir / "params", files) if "params" in children else {}
        tags = self._read_values(run_dir / "tags", files) if "tags" in children else {}
        metrics, metric_columns = (self._read_metrics(run_dir / "metrics", files, warnings)
                                   if "metrics" in children else ([], []))
        datasets = (self._read_inputs(run_dir / "inputs", experiment, files, warnings)
                    if "inputs" in children else [])
        models: dict[str, LoggedModel] = {m.model_id: m for m in logged.get(run_id, ())}
        if "outputs" in children:
            for entry in os.scandir(run_dir / "outputs"):
                if entry.is_dir() and entry.name not in models:
                    found = logged.get("id:" + entry.name)
                    if found:
                        models[entry.name] = found[0]
                    else:
                        self.warn(f"{run_dir}: output model {entry.name} has no "
                                  f"{experiment.name}/models/{entry.name}/meta.yaml", warnings)
        files.extend(str(m.meta_path) for m in models.values() if m.meta_path)
        artifacts = run_artifacts(self.resolver, run_id=run_id,
                                  artifact_uri=text_or_none(meta.get("artifact_uri")),
                                  near=experiment, logged_models=list(models.values()),
                                  history_tag=tags.get("mlflow.log-model.history"),
                                  warnings=warnings)
        for message in warnings:
            self.ctx.warn(message)
        return build_run_record(
            run_id=run_id, name=text_or_none(meta.get("run_name")), project=project,
            status=status_text(meta.get("status")), start_ms=start_ms, end_ms=end_ms,
            user_id=text_or_none(meta.get("user_id")), params=params, tags=tags,
            metrics=metrics, metric_columns=metric_columns, datasets=datasets,
            artifacts=artifacts, source_format=FORMAT,
            source_path=str(run_dir), fingerprint_value=fingerprint(files), warnings=warnings)

    @staticmethod
    def _walk_values(folder: Path | str) -> list[tuple[str, str]]:
        """``(key, file)`` for every file under ``folder``; subfolders are ``/`` in the key."""
        found: list[tuple[str, str]] = []
        stack = [(os.fspath(folder), "")]
        while stack:
            current, prefix = stack.pop()
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):  # no symlink loops
                        stack.append((entry.path, prefix + entry.name + "/"))
                    else:
                        found.append((prefix + entry.name, entry.path))
        found.sort()
        return found

    def _read_values(self, folder: Path, files: list[str]) -> dict[str, str]:
        values = {}
        for key, path in self._walk_values(folder):
            values[key] = read_text(path)
            files.append(path)
        return values

    def _read_metrics(self, folder: Path, files: list[str], warnings: list[str]
                      ) -> tuple[list[MetricPoint], list[MetricColumns]]:
        points: list[MetricPoint] = []
        columns: list[MetricColumns] = []
        for key, path in self._walk_values(folder):
            files.append(path)
            read = read_metric_file(path, key, warnings)
            if isinstance(read, MetricColumns):
                columns.append(read)
            else:
                points.extend(read)
        return points, columns

    def _read_inputs(self, folder: Path, experiment: Path, files: list[str],
                     warnings: list[str]) -> list[DatasetRecord]:
        datasets = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            meta_path = Path(entry.path) / META
            if not entry.is_dir():
                continue
            if not meta_path.is_file():
                self.warn(f"{entry.path}: input without meta.yaml; skipped", warnings)
                continue
            files.append(str(meta_path))
            link = read_meta(meta_path)
            if str(link.get("source_type") or "DATASET").upper() != "DATASET":
                continue  # MODEL inputs: a run that consumed a logged model
            dataset_id = text_or_none(link.get("source_id"))
            dataset_meta_path = experiment / "datasets" / (dataset_id or "?") / META
            if dataset_meta_path not in self._datasets:
                self._datasets[dataset_meta_path] = (read_meta(dataset_meta_path)
                                                     if dataset_meta_path.is_file() else None)
            meta = self._datasets[dataset_meta_path]
            if meta is None:
                self.warn(f"{meta_path}: dataset {dataset_id} has no "
                          f"{experiment.name}/datasets/{dataset_id}/meta.yaml; skipped", warnings)
                continue
            files.append(str(dataset_meta_path))
            name = text_or_none(meta.get("name"))
            if name is None:
                raise ImportFailed(str(dataset_meta_path), "dataset without a name", field="name")
            datasets.append(dataset_record(
                name=name, digest=text_or_none(meta.get("digest")),
                source_type=text_or_none(meta.get("source_type")),
                source=text_or_none(meta.get("source")), schema=text_or_none(meta.get("schema")),
                profile=text_or_none(meta.get("profile")), resolver=self.resolver))
        return datasets

    # -- registry -----------------------------------------------------------------------------

    def read_registry(self, folder: Path) -> list[RegistryModelRecord]:
        """Registered models under ``mlruns/models/`` with their live versions and aliases."""
        if not folder.is_dir():
            return []
        models = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            model_dir = Path(entry.path)
            meta_path = model_dir / META
            if not entry.is_dir() or not meta_path.is_file():
                continue
            meta = read_meta(meta_path)
            name = text_or_none(meta.get("name")) or entry.name
            versions = []
            for version_entry in sorted(os.scandir(model_dir), key=lambda e: e.name):
                if not (version_entry.is_dir() and version_entry.name.startswith("version-")):
                    continue
                version_meta_path = Path(version_entry.path) / META
                if not version_meta_path.is_file():
                    self.warn(f"{version_entry.path}: version without meta.yaml; skipped")
                    continue
                vmeta = read_meta(version_meta_path)
                tags = (self._read_values(Path(version_entry.path) / "tags", [])
                        if (Path(version_entry.path) / "tags").is_dir() else {})
                record = registry_version(
                    self.resolver, model_name=name,
                    version=vmeta.get("version", version_entry.name[len("version-"):]),
                    source=text_or_none(vmeta.get("source")),
                    storage_location=text_or_none(vmeta.get("storage_location")),
                    run_id=text_or_none(vmeta.get("run_id")),
                    description=text_or_none(vmeta.get("description")), tags=tags,
                    stage=text_or_none(vmeta.get("current_stage")),
                    status=text_or_none(vmeta.get("status")),
                    created_ms=meta_int(vmeta, "creation_timestamp", version_meta_path),
                    user_id=text_or_none(vmeta.get("user_id")), path=str(version_meta_path))
                if record is not None:
                    versions.append(record)
            aliases: dict[str, Any] = {}
            if isinstance(meta.get("aliases"), dict):
                aliases.update(meta["aliases"])
            if (model_dir / "aliases").is_dir():
                # The aliases/ folder is what MLflow reads; the meta.yaml map is a copy.
                aliases.update({k: v.strip() for k, v in
                                self._read_values(model_dir / "aliases", []).items()})
            tags = (self._read_values(model_dir / "tags", [])
                    if (model_dir / "tags").is_dir() else {})
            models.append(registry_model(
                name=name, description=text_or_none(meta.get("description")), tags=tags,
                created_ms=meta_int(meta, "creation_timestamp", meta_path), versions=versions,
                aliases=aliases, warn=self.ctx.warn))
        return sorted(models, key=lambda m: m.name)


# ---------------------------------------------------------------------------------------------
# Metric files (the hot loop)


def read_metric_file(path: Path | str, key: str, warnings: list[str]
                     ) -> list[MetricPoint] | MetricColumns:
    """Parse one ``metrics/<key>`` file (identical repeated lines dropped): columns when the
    file has MLflow's usual shape (the fast path), else points.

    Lines are ``<ts_ms> <value> <step>``; legacy 2-field lines have step 0, and MLflow 3 adds
    ``<dataset_name> <dataset_digest>`` (5 fields), where field 3 is still the step (MLflow's own
    reader then reports step 0, a bug we do not copy).  ``nan``/``inf`` values are kept as raw
    text.  A line that cannot be parsed is an ImportFailed naming the line and field, except a
    torn last line without a newline (a writer killed mid-append), which is skipped.
    """
    text = read_text(path)
    fast = _parse_canonical_metric_text(text, key)
    if fast is not None:
        return fast
    points: list[MetricPoint] = []
    append = points.append
    seen: set[str] = set()
    lines = text.split("\n")
    last = len(lines) - 1
    seq = 0
    for index, line in enumerate(lines):
        parts = line.split()
        count = len(parts)
        if count == 3:
            signature = line
        elif count == 0:
            continue
        else:
            signature = " ".join(parts[:3])
        if signature in seen:
            continue  # an identical duplicate point (MLflow appends, never rewrites)
        try:
            wall = int(parts[0]) / 1000.0
            value = float(parts[1])
            step = int(parts[2]) if count >= 3 else 0
        except (ValueError, IndexError):
            if index == last:
                warnings.append(f"{path}:{index + 1}: torn last line {line!r} skipped")
                break
            raise _metric_line_error(path, index + 1, parts) from None
        seen.add(signature)
        if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
            append(MetricPoint(key, value, step, None, "step", wall, None, seq))
        else:
            raw = "nan" if value != value else ("inf" if value > 0 else "-inf")
            append(MetricPoint(key, None, step, None, "step", wall, raw, seq))
        seq += 1
    return points


def _parse_canonical_metric_text(text: str, key: str) -> MetricColumns | None:
    """Points of a metric file in MLflow's usual shape, as columns; None otherwise.

    The usual shape: every line ``<int> <float> <int>`` with single spaces, a final newline and
    no repeated line.  Checking that costs a few C-level passes; converting whole columns with
    ``map`` then avoids a Python-level loop per line, which is most of the import time for big
    stores.  Any other shape (legacy 2-field or 5-field lines, duplicates, a torn last line,
    garbage) returns None and the line-by-line parser handles it, with exact error positions.
    """
    if not text.endswith("\n"):
        return None
    lines = text[:-1].split("\n")
    count = len(lines)
    if set(map(str.count, lines, repeat(" ", count))) != {2} or len(set(lines)) != count:
        return None
    tokens = text.split()
    if len(tokens) != 3 * count:
        return None
    try:
        walls = [stamp / 1000.0 for stamp in map(int, tokens[0::3])]
        values = list(map(float, tokens[1::3]))
        steps = list(map(int, tokens[2::3]))
    except ValueError:
        return None
    total = sum(values)
    if total - total == 0.0:  # every value finite (a nan/inf anywhere makes the sum non-finite)
        return MetricColumns(key, values, steps, walls)
    raws: dict[int, str] = {}
    for index, value in enumerate(values):
        if value - value != 0.0:
            raws[index] = "nan" if value != value else ("inf" if value > 0 else "-inf")
            values[index] = None
    return MetricColumns(key, values, steps, walls, raws)


def _metric_line_error(path: Path | str, line: int, parts: list[str]) -> ImportFailed:
    if len(parts) < 2:
        return ImportFailed(str(path), f"expected '<timestamp> <value> [<step>]', got {len(parts)}"
                                       f" field(s)", line=line, field="value")
    try:
        int(parts[0])
    except ValueError:
        try:
            float(parts[0])
            # A float timestamp: MLflow never writes one, and int() below would lose it.
            return ImportFailed(str(path), f"timestamp {parts[0]!r} is not integer milliseconds",
                                line=line, field="timestamp")
        except ValueError:
            return ImportFailed(str(path), f"timestamp {parts[0]!r} is not a number", line=line,
                                field="timestamp")
    try:
        float(parts[1])
    except ValueError:
        return ImportFailed(str(path), f"value {parts[1]!r} is not a number", line=line,
                            field="value")
    return ImportFailed(str(path), f"step {parts[2]!r} is not an integer", line=line,
                        field="step")
