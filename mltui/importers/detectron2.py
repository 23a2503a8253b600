"""detectron2 output dirs: ``metrics.json`` (JSON lines), ``config.yaml``, ``last_checkpoint``
(FORMATS.md §8.1).

``JSONWriter`` appends one ``json.dumps(..., sort_keys=True)`` object per line with an integer
0-based ``iteration``; re-runs in the same ``OUTPUT_DIR`` append, so iterations can repeat.
Evaluation results land on the line of their iteration (``bbox/AP``, ``bbox/AP-<class name>``
where class names may hold spaces or dots, ``segm/...``); ``NaN`` is written bare.  A DVC
``metrics.json`` is one JSON object (often pretty-printed), not lines with ``iteration``.

Every line is imported as written, repeated iterations of an appended or aborted launch
included.  The default trainer's ``TensorboardXWriter`` writes the same scalars, as float32, to
an ``events.out.tfevents.*`` file in the same folder: ``metrics.json`` is the exact source and
wins the folder; the events file only adds the run's start and end time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.errors import ImportFailed
from ..core.records import ArtifactRecord, DatasetRecord, ImportBatch, MetricPoint, RunRecord
from . import tensorboard
from .common import (ImportContext, resolved, open_log, artifact_for, as_param_text, fingerprint, flatten,
                     iter_jsonl, load_yaml, point, read_text, redact_secret, resolve_foreign_path,
                     stable_uid)

FORMAT = "detectron2"
KIND = "dir"
CONSUMES_SUBTREE = True

METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.yaml"
LAST_CHECKPOINT_FILE = "last_checkpoint"
FINAL_MODEL = "model_final.pth"
_HEAD_BYTES = 65536


def detect(path: Path) -> bool:
    """True for a folder whose ``metrics.json`` is JSON lines starting with an object that has
    an integer ``iteration``, followed by more lines or next to ``config.yaml``/``last_checkpoint``."""
    try:
        metrics = path / METRICS_FILE
        if not metrics.is_file():
            return False
        with open_log(metrics) as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return False
    lines = [line for line in head.split(b"\n") if line.strip()]
    if not lines:
        return False
    try:
        first = json.loads(lines[0].decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(first, dict) or not _is_int(first.get("iteration")):
        return False
    companions = (path / CONFIG_FILE).is_file() or (path / LAST_CHECKPOINT_FILE).is_file()
    return len(lines) > 1 or companions


def owns(file: Path) -> bool:
    """True for the files of an output dir: named on the command line, the dir is read."""
    return Path(file).name in (METRICS_FILE, CONFIG_FILE, LAST_CHECKPOINT_FILE)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one output dir: iteration metrics, flattened config, train datasets, final model."""
    path = Path(path)
    metrics_file = path / METRICS_FILE
    files_read = [metrics_file]
    run = RunRecord(uid=stable_uid(FORMAT, path), source_format=FORMAT, source_path=str(path),
                    name=path.name)
    run.metrics, restarts = _metric_points(metrics_file, ctx)
    if restarts:
        run.tags["appended_runs"] = str(restarts + 1)
        ctx.warn(f"{metrics_file}: {restarts + 1} runs appended to one file (iterations repeat)")

    base_model = None
    config_file = path / CONFIG_FILE
    if config_file.is_file():
        files_read.append(config_file)
        config = load_yaml(config_file)
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise ImportFailed(str(config_file), "expected a mapping (a CfgNode dump)", line=1)
        for key, value in flatten(config).items():
            run.params[key] = as_param_text(redact_secret(key, value))
        datasets = config.get("DATASETS") if isinstance(config.get("DATASETS"), dict) else {}
        for name in _names(datasets.get("TRAIN")):
            run.datasets.append(DatasetRecord(name=name))
        model = config.get("MODEL") if isinstance(config.get("MODEL"), dict) else {}
        weights = model.get("WEIGHTS")
        if isinstance(weights, str) and weights.strip():
            base_model = weights
        solver = config.get("SOLVER") if isinstance(config.get("SOLVER"), dict) else {}
        max_iter = solver.get("MAX_ITER")
        if _is_int(max_iter) and run.metrics and max(
                (p.step or 0) for p in run.metrics) >= max_iter - 1:
            run.status = "FINISHED"
    else:
        ctx.warn(f"{path}: no {CONFIG_FILE} (params, datasets and base model unknown)")
    artifact, checkpoint_files = _final_model(path, base_model, ctx)
    files_read += checkpoint_files
    if artifact is not None:
        run.artifacts.append(artifact)
    merged, event_files = _event_times(path, run, ctx)
    files_read += event_files
    run.fingerprint = fingerprint(files_read)
    run.warnings = list(ctx.warnings)
    return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                       consumed_paths=[resolved(p) for p in files_read], merged=merged)


def _event_times(path: Path, run: RunRecord, ctx: ImportContext
                 ) -> tuple[list[str], list[Path]]:
    """Start and end time from the TensorBoard copy of the run (metrics.json has no clock)."""
    files = sorted(tensorboard.event_files(path))
    if not files:
        return [], []
    notes = [f"{file}: merged into the {FORMAT} run of {path}: start/end time taken; its "
             f"scalars are float32 copies of {METRICS_FILE}, which is imported instead"
             for file in files]
    try:
        events_run, _ = tensorboard.read_run(path, path, ctx)
    except ImportFailed as exc:
        ctx.warn(f"{path}: events file unreadable ({exc.reason}); run times unknown")
        return notes, files
    if events_run is not None:
        run.start_time, run.end_time = events_run.start_time, events_run.end_time
    return notes, files


def _names(value: Any) -> list[str]:
    """DATASETS.TRAIN is a tuple (a list in YAML) of registered names, or one string."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str) and item.strip()]
    return []


def _metric_points(file: Path, ctx: ImportContext) -> tuple[list[MetricPoint], int]:
    """Points with step = iteration; also how often the iteration went backwards (re-runs)."""
    points: list[MetricPoint] = []
    restarts = 0
    previous = None
    skipped: set[str] = set()
    for line, record in iter_jsonl(file, read_text(file)):
        if not isinstance(record, dict):
            raise ImportFailed(str(file), "expected a JSON object per line", line=line)
        iteration = record.get("iteration")
        if not _is_int(iteration):
            raise ImportFailed(str(file), f"expected an integer iteration, got {iteration!r}",
                               line=line, field="iteration")
        if previous is not None and iteration < previous:
            restarts += 1
        previous = iteration
        for key, value in record.items():
            if key == "iteration":
                continue
            if isinstance(value, dict):
                # Not written by JSONWriter, but custom hooks put nested results in storage.
                for sub_key, sub_value in flatten(value, key, "/").items():
                    _add(points, sub_key, sub_value, iteration, file, line, skipped)
                continue
            _add(points, key, value, iteration, file, line, skipped)
    for key in sorted(skipped):
        ctx.warn(f"{file}: skipped non-numeric values of {key!r}")
    return points, restarts


def _add(points: list[MetricPoint], key: str, value: Any, iteration: int, file: Path, line: int,
         skipped: set[str]) -> None:
    if value is None or isinstance(value, (str, list, bool)):
        skipped.add(key)
        return
    try:
        points.append(point(key, value, step=iteration, axis="iteration", seq=len(points)))
    except (TypeError, ValueError):
        raise ImportFailed(str(file), f"not a number: {value!r}", line=line, field=key) from None


def _final_model(path: Path, base_model: str | None, ctx: ImportContext
                 ) -> tuple[ArtifactRecord | None, list[Path]]:
    """The checkpoint ``last_checkpoint`` names (else ``model_final.pth``), hashed."""
    pointer = path / LAST_CHECKPOINT_FILE
    files: list[Path] = []
    target = None
    raw = None
    if pointer.is_file():
        files.append(pointer)
        raw = read_text(pointer).strip()
        if raw:
            # The name is relative to OUTPUT_DIR; never follow it outside the imported tree.
            target = resolve_foreign_path(raw, ctx.root, near=path)
            if target is None or not target.is_file():
                ctx.warn(f"{pointer}: names {raw!r}, which is not in the imported folder")
                target = None
    if target is None and (path / FINAL_MODEL).is_file():
        target = path / FINAL_MODEL
        raw = FINAL_MODEL
    if target is None:
        ctx.warn(f"{path}: no final checkpoint (last_checkpoint / {FINAL_MODEL})")
        return None, files
    return artifact_for(target, path_raw=raw, kind="model", base_model=base_model,
                        name=target.name), files
