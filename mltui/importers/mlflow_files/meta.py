"""MLflow file store: detection of stores, experiments and runs, and ``meta.yaml`` parsing."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ...core.errors import ImportFailed
from ..common import load_yaml, open_log, read_text

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



def _json_or_none(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
