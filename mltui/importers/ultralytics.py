"""Ultralytics YOLO run dirs ``runs/<task>/<name>/`` and YOLOv5 ``runs/train/exp*/`` (FORMATS.md §8.3).

``results.csv`` has one row per epoch.  Writers up to 8.3.0 (and YOLOv5) pad header names and
values to 23 (YOLOv5: 20) characters; up to 8.0.x and in YOLOv5 ``epoch`` is 0-based, later it
is 1-based; from 8.3.x on there is no padding and a ``time`` column (seconds since the start of
training, which restarts from zero when a run is resumed).  A resume appends rows, so epochs can
repeat.  ``(B)``, ``(M)`` and ``(P)`` are part of the metric keys (box, mask, pose).

Epochs are stored as written; the run's tag ``epoch_base`` says whether the writer counted
from 0 or 1, so curves of different writer versions can be aligned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..core.errors import ImportFailed
from ..core.records import ArtifactRecord, DatasetRecord, ImportBatch, MetricPoint, RunRecord
from . import appendlog
from .common import (ImportContext, resolved, open_log, artifact_for, as_param_text, dataset_for, dedupe_points,
                     decode_log, fingerprint, flatten, load_yaml, point, read_csv_rows,
                     read_log_bytes, resolve_foreign_path, scrub_pii, stable_uid)

FORMAT = "ultralytics"
KIND = "dir"
CONSUMES_SUBTREE = True

RESULTS_FILE = "results.csv"
ARGS_FILES = ("args.yaml", "opt.yaml")  # YOLOv8+ / YOLOv5
HYP_FILE = "hyp.yaml"  # YOLOv5 hyperparameters
# Column names only an Ultralytics / YOLOv5 writer produces.
_SIGNATURE_PREFIXES = ("metrics/mAP50", "metrics/mAP_0.5", "metrics/accuracy_top1",
                       "metrics/precision", "metrics/recall")
_DATA_FILE_STEMS = {"data", "dataset"}  # Roboflow exports: the folder names the dataset


def detect(path: Path) -> bool:
    """True for a folder whose ``results.csv`` header starts with ``epoch`` and has
    Ultralytics metric columns (or ``train/`` columns next to an ``args.yaml``/``opt.yaml``)."""
    try:
        results = path / RESULTS_FILE
        if not results.is_file():
            return False
        with open_log(results) as handle:
            head = handle.read(8192)
    except OSError:
        return False
    first_line = head.split(b"\n", 1)[0].decode("utf-8-sig", "replace")
    header = [name.strip() for name in first_line.split(",")]
    if not header or header[0] != "epoch":
        return False
    if any(name.startswith(_SIGNATURE_PREFIXES) for name in header):
        return True
    has_args = any((path / name).is_file() for name in ARGS_FILES)
    return has_args and any(name.startswith("train/") for name in header)


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one run dir: per-epoch metrics, args, dataset yaml, weights and parent weights
    (inside a watch, only the rows appended to ``results.csv`` while the yaml files are
    unchanged)."""
    path = Path(path)
    results = path / RESULTS_FILE
    files_read = [results]
    run = RunRecord(uid=stable_uid(FORMAT, path), source_format=FORMAT, source_path=str(path),
                    name=path.name)
    sides = [path / name for name in (*ARGS_FILES, HYP_FILE)]
    grown = _read_appended(results, run, sides)
    if grown is not None:
        run.artifacts = _artifacts(path, grown.parent_weights, ctx)
        run.warnings = list(ctx.warnings)
        files_read += [file for file in sides if file.is_file()]
        return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                           consumed_paths=[resolved(p) for p in files_read])
    side_stat = appendlog.side_stat(sides)
    inode = appendlog.inode_of(results)
    data = read_log_bytes(results)
    text = decode_log(results, data)
    header, rows = read_csv_rows(results, text)
    if not header or header[0] != "epoch":
        raise ImportFailed(str(results), "expected a header starting with 'epoch'", line=1,
                           field=header[0] if header else None)
    context = _Context(len(header), ",", header, _is_padded(text))
    if not rows:
        ctx.warn(f"{results}: no epochs logged yet")

    args: dict[str, Any] = {}
    for name in ARGS_FILES:
        file = path / name
        if file.is_file():
            loaded = load_yaml(file)
            if loaded is None:
                loaded = {}
            if not isinstance(loaded, dict):
                raise ImportFailed(str(file), "expected a mapping of train arguments", line=1)
            args = loaded
            files_read.append(file)
            break
    else:
        ctx.warn(f"{path}: no args.yaml / opt.yaml (params, dataset and parent weights unknown)")
    hyp_file = path / HYP_FILE
    if hyp_file.is_file():
        hyp = load_yaml(hyp_file)
        if isinstance(hyp, dict):
            files_read.append(hyp_file)
            args = {**args, "hyp": {**(args.get("hyp") if isinstance(args.get("hyp"), dict) else {}),
                                    **hyp}}
    for key, value in flatten(args).items():
        text_value = as_param_text(value)
        run.params[key] = scrub_pii(text_value) or ""

    run.name = _run_name(args, path)
    project = args.get("project")
    if isinstance(project, str) and project:
        run.project = project
    if isinstance(args.get("task"), str):
        run.tags["task"] = args["task"]
    epochs = args.get("epochs")
    parent = _parent_weights(args.get("weights") or args.get("model"))
    context = replace(context, epochs=epochs if isinstance(epochs, int) else None,
                      parent_weights=parent)
    run.metrics, context = _rows_into(run, results, rows, context)

    dataset = _dataset(args.get("data"), path, ctx)
    if dataset is not None:
        run.datasets.append(dataset)
    run.artifacts = _artifacts(path, parent, ctx)
    run.fingerprint = fingerprint(files_read)
    run.warnings = list(ctx.warnings)
    # Before the first row the epoch base is not known yet: read whole until there is one.
    offset = 0 if context.first_epoch is None else appendlog.whole_offset(
        data, context, appendlog.csv_row_kept)
    appendlog.keep(results, data, offset, run.fingerprint, inode, context=context,
                   sides=side_stat)
    return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                       consumed_paths=[resolved(p) for p in files_read])


@dataclass(frozen=True)
class _Context:
    """What reading rows appended to ``results.csv`` needs from the read before (a tuple for
    appendlog.csv_row_kept: width and delimiter first)."""

    width: int
    delimiter: str
    header: list[str]
    padded: bool
    first_epoch: int | None = None
    last_epoch: int | None = None
    previous_time: float | None = None
    resumed: bool = False
    epochs: int | None = None  # args.yaml's total, for the end marker
    parent_weights: str | None = None

    def __getitem__(self, index: int) -> Any:
        return (self.width, self.delimiter)[index]


def _rows_into(run: RunRecord, results: Path, rows: list[tuple[int, dict[str, str]]],
               context: _Context) -> tuple[list[MetricPoint], _Context]:
    """The points of ``rows`` (read after ``context``), with the run's epoch tags and its end
    marker (the last epoch reached args.yaml's ``epochs``); returns the context after them."""
    points, context = _metric_points(results, context.header, rows, context)
    epoch_base = 0 if (context.padded and context.first_epoch == 0) else 1
    run.tags["epoch_base"] = str(epoch_base)
    run.tags["results_format"] = "padded" if context.padded else "plain"
    if context.resumed:
        run.tags["resumed"] = "true"
    if context.epochs is not None and context.last_epoch is not None:
        if context.last_epoch + (1 - epoch_base) >= context.epochs:
            run.status = "FINISHED"
    return points, context


def _read_appended(results: Path, run: RunRecord, sides: list[Path]) -> _Context | None:
    """``run`` from the rows appended to ``results.csv`` since the last read (see appendlog);
    the context after them, None when the file must be read whole."""
    found: list[_Context] = []

    def parse(complete: bytes, context: _Context) -> _Context:
        rows = read_csv_rows(results, decode_log(results, complete), header=context.header)[1]
        run.metrics, context = _rows_into(run, results, rows, context)
        found.append(context)
        return context

    if appendlog.read_grown(results, run, parse, appendlog.csv_row_kept, sides=sides):
        return found[0]
    return None


def _run_name(args: dict, path: Path) -> str:
    """The run's name: ``save_dir``'s last part (the auto-incremented ``train2``), else
    ``name``, else the folder name.  ``name`` alone is what was asked for, not what was made."""
    save_dir = args.get("save_dir")
    if isinstance(save_dir, str) and save_dir.strip():
        parts = [p for p in save_dir.replace("\\", "/").split("/") if p]
        if parts:
            return parts[-1]
    name = args.get("name")
    if isinstance(name, str) and name.strip():
        return name
    return path.name


def _is_padded(text: str) -> bool:
    """Writers up to 8.3.0 and YOLOv5 right-align names in fixed-width fields."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    return first_line.startswith(" ")


def _metric_points(results: Path, header: list[str], rows: list[tuple[int, dict[str, str]]],
                   context: _Context) -> tuple[list[MetricPoint], _Context]:
    """Points for every cell of every row, step = epoch; the context after them: first/last
    epoch, the last ``time`` and whether the log was resumed (an epoch that does not advance,
    or ``time`` going back to zero)."""
    points: list[MetricPoint] = []
    first_epoch, last_epoch = context.first_epoch, context.last_epoch
    resumed, previous_time = context.resumed, context.previous_time
    metric_columns = [name for name in header[1:] if name]
    for line, row in rows:
        if len(row) < len(header):
            raise ImportFailed(str(results), f"row has {len(row)} cells, header has {len(header)}",
                               line=line)
        epoch_text = row["epoch"]
        try:
            epoch_number = float(epoch_text)
            if not epoch_number.is_integer():
                raise ValueError(epoch_text)
            epoch = int(epoch_number)
        except ValueError:
            raise ImportFailed(str(results), f"expected an integer epoch, got {epoch_text!r}",
                               line=line, field="epoch") from None
        if first_epoch is None:
            first_epoch = epoch
        elif last_epoch is not None and epoch <= last_epoch:
            resumed = True
        last_epoch = epoch
        for key in metric_columns:
            cell = row.get(key, "")
            try:
                points.append(point(key, cell, step=epoch, epoch=float(epoch), axis="epoch",
                                    seq=len(points)))
            except ValueError:
                raise ImportFailed(str(results), f"not a number: {cell!r}", line=line,
                                   field=key) from None
            if key == "time" and points[-1].value is not None:
                if previous_time is not None and points[-1].value < previous_time:
                    resumed = True
                previous_time = points[-1].value
    # Cells that were empty (None value, no raw text) were never logged.
    points = [p for p in points if p.value is not None or p.raw is not None]
    return dedupe_points(points), replace(context, first_epoch=first_epoch, last_epoch=last_epoch,
                                          resumed=resumed, previous_time=previous_time)


def _parent_weights(model: Any) -> str | None:
    """``model:`` names parent weights (``yolov8n.pt``) or an architecture yaml (from scratch)."""
    if not isinstance(model, str) or not model.strip():
        return None
    if model.lower().endswith((".yaml", ".yml")):
        return None
    return model


def _dataset(raw: Any, path: Path, ctx: ImportContext) -> DatasetRecord | None:
    """The dataset yaml (or folder) named by ``data:``: hashed when it is inside the tree."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    parts = [p for p in raw.replace("\\", "/").split("/") if p]
    stem = parts[-1].rsplit(".", 1)[0] if parts else raw
    name = parts[-2] if stem.lower() in _DATA_FILE_STEMS and len(parts) > 1 else stem
    resolved = resolve_foreign_path(raw, ctx.root, near=path)
    if resolved is None:
        return DatasetRecord(name=name, uri_raw=raw)
    return dataset_for(resolved, name=name, uri_raw=raw)


def _artifacts(path: Path, base_model: str | None, ctx: ImportContext) -> list[ArtifactRecord]:
    """``weights/best.pt`` (kind best) and ``weights/last.pt`` (the final model)."""
    artifacts = []
    weights = path / "weights"
    for file_name, kind in (("best.pt", "best"), ("last.pt", "model")):
        file = weights / file_name
        if file.is_file():
            artifacts.append(artifact_for(file, kind=kind, base_model=base_model,
                                          name=f"weights/{file_name}"))
    if not artifacts:
        ctx.warn(f"{path}: no weights/best.pt or weights/last.pt")
    return artifacts
