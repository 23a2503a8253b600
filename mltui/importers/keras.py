"""Keras ``CSVLogger`` files and ``History`` JSON/CSV dumps (FORMATS.md §3).

CSVLogger writes ``epoch`` + the sorted metric names; ``epoch`` is the 0-based index that ``fit``
passes (it respects ``initial_epoch``), ``NA`` marks a value that was not computed that epoch
(validation every n epochs), a non-scalar value is written as a quoted ``"[a, b]"`` cell, and
``append=True`` appends rows without a new header, so a restarted fit repeats epoch numbers.

``History.history`` is never persisted by Keras; users dump it as column-oriented JSON
(``{"loss": [..], "val_loss": [..]}``, the list index being the epoch) or through pandas
(``{"loss": {"0": ..}}`` from ``to_json``, or a CSV whose first column is the unnamed index).

The file names are generic (``training.log``, ``history.csv``, ``training_history.json``), so
detection sniffs the content and refuses DVC-style metric objects and unrelated CSVs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from ..core.errors import ImportFailed
from ..core.records import ArtifactRecord, ImportBatch, MetricPoint, RunRecord
from . import appendlog
from .common import (ImportContext, resolved, open_log, artifact_for, dedupe_points, decode_log,
                     fingerprint, load_json, read_csv_rows, read_log_bytes, stable_uid, to_float)

FORMAT = "keras"
KIND = "file"

CSV_SUFFIXES = {".csv", ".log", ".txt", ".tsv"}
JSON_SUFFIXES = {".json"}
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
INDEX_COLUMNS = {"epoch", "", "Unnamed: 0"}  # CSVLogger / pandas' unnamed index column
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_CHECKPOINT_NAME_RE = re.compile(r"(epoch|weights)[._-]?\d", re.IGNORECASE)
_MAX_JSON_BYTES = 64 << 20
_HEAD_BYTES = 16384


# ---------------------------------------------------------------------------------------------
# Detection


def detect(path: Path) -> bool:
    """True for a Keras CSVLogger file / History CSV, or a History JSON dump."""
    try:
        if not path.is_file():
            return False
        suffix = path.suffix.lower()
        if suffix in CSV_SUFFIXES:
            return _detect_csv(path)
        if suffix in JSON_SUFFIXES:
            return _detect_json(path)
    except (OSError, ValueError):
        return False
    return False


def _delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    if "\t" in first_line:
        return "\t"
    if ";" in first_line:
        return ";"
    return ","


def _keras_header(header: list[str]) -> bool:
    """``epoch`` (or pandas' unnamed index) first, then Keras-style metric names: ``loss`` is
    always there (fit requires a loss), no ``step`` column, no ``/`` in names."""
    if len(header) < 2 or header[0] not in INDEX_COLUMNS:
        return False
    names = header[1:]
    if "loss" not in names or "step" in names:
        return False
    return all(_NAME_RE.match(name) for name in names)


def _detect_csv(path: Path) -> bool:
    with open_log(path) as handle:
        head = handle.read(_HEAD_BYTES)
    if b"\x00" in head:
        return False
    lines = head.decode("utf-8-sig", "replace").splitlines()
    if len(lines) < 2:
        return False
    delimiter = _delimiter(lines[0])
    header = [name.strip() for name in lines[0].split(delimiter)]
    if not _keras_header(header):
        return False
    first_cell = lines[1].split(delimiter, 1)[0].strip()
    return first_cell.isdigit()


def _detect_json(path: Path) -> bool:
    if path.stat().st_size > _MAX_JSON_BYTES:
        return False
    with open_log(path) as handle:
        if not handle.read(_HEAD_BYTES).lstrip().startswith(b"{"):
            return False
    try:
        data = load_json(path)
    except ImportFailed:
        return False
    return _history_columns(data) is not None


def _history_columns(data: Any) -> dict[str, list[tuple[int, Any]]] | None:
    """``{metric: [(epoch, value)]}`` when ``data`` is a History dump, else None.

    Every value must be a list (index = epoch) or a pandas ``{"0": v}`` mapping, all of one
    length, holding numbers (or None); at least one name must be Keras-like (``loss``,
    ``val_*``) so that arbitrary column JSON is not claimed.
    """
    if not isinstance(data, dict) or not data:
        return None
    columns: dict[str, list[tuple[int, Any]]] = {}
    length = None
    for key, values in data.items():
        if isinstance(values, list):
            pairs = list(enumerate(values))
        elif isinstance(values, dict) and all(str(k).lstrip("-").isdigit() for k in values):
            pairs = sorted((int(k), v) for k, v in values.items())
        else:
            return None
        if not pairs or (length is not None and len(pairs) != length):
            return None
        length = len(pairs)
        if not all(_is_number_or_none(v) for _, v in pairs):
            return None
        columns[str(key)] = pairs
    if "loss" not in columns and not any(key.startswith("val_") for key in columns):
        return None
    return columns


def _is_number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


# ---------------------------------------------------------------------------------------------
# Reading


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one CSVLogger file or History dump into one run with per-epoch metrics."""
    path = Path(path)
    run = RunRecord(uid=stable_uid(FORMAT, path), source_format=FORMAT, source_path=str(path),
                    name=path.name, project=path.parent.name or None)
    remember = None
    if path.suffix.lower() in JSON_SUFFIXES:
        run.metrics = _json_points(path)
        run.tags["layout"] = "history-json"
    elif _read_appended(path, run, ctx):
        run.artifacts = _sibling_models(path)
        return _batch(path, run)
    else:
        remember = _read_csv(path, run, ctx)
    run.tags["epoch_base"] = "0"
    if not run.metrics:
        ctx.warn(f"{path}: no epochs logged")
    run.artifacts = _sibling_models(path)
    run.fingerprint = fingerprint([path])
    run.warnings = list(ctx.warnings)
    if remember is not None:
        remember(run.fingerprint)
    return _batch(path, run)


def _read_csv(path: Path, run: RunRecord, ctx: ImportContext) -> Callable[[str], None]:
    """Fill ``run`` from a whole CSV read; returns what remembers the read (for a watch) once
    the run's fingerprint is known."""
    inode = appendlog.inode_of(path)
    data = read_log_bytes(path)
    text = decode_log(path, data)
    delimiter = _delimiter(text.split("\n", 1)[0])
    header, rows = read_csv_rows(path, text, delimiter=delimiter)
    run.metrics, resumed, context = _csv_points(path, ctx, rows,
                                                (len(header), delimiter, header, None))
    run.tags["layout"] = _layout(header)
    if resumed:
        run.tags["resumed"] = "true"
    offset = appendlog.whole_offset(data, context, appendlog.csv_row_kept)
    return lambda fingerprint: appendlog.keep(path, data, offset, fingerprint, inode,
                                              context=context)


def _batch(path: Path, run: RunRecord) -> ImportBatch:
    return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                       consumed_paths=[resolved(path)])


def _read_appended(path: Path, run: RunRecord, ctx: ImportContext) -> bool:
    """``run`` from the rows a CSVLogger appended since the last read (see appendlog)."""

    def parse(complete: bytes, context: tuple) -> tuple:
        header = context[2]
        rows = read_csv_rows(path, decode_log(path, complete), delimiter=context[1],
                             header=header)[1]
        run.metrics, resumed, context = _csv_points(path, ctx, rows, context)
        run.tags["layout"] = _layout(header)
        if resumed:
            run.tags["resumed"] = "true"
        run.tags["epoch_base"] = "0"
        run.warnings = list(ctx.warnings)
        return context

    return appendlog.read_grown(path, run, parse, appendlog.csv_row_kept)


def _layout(header: list[str]) -> str:
    return "csvlogger" if header and header[0] == "epoch" else "history-csv"


def _csv_points(path: Path, ctx: ImportContext, rows: list[tuple[int, dict[str, str]]],
                context: tuple) -> tuple[list[MetricPoint], bool, tuple]:
    """Points from the rows of a CSVLogger file or a pandas History CSV; also whether epochs
    repeat.  ``context``: (width, delimiter, header, the epoch of the row before ``rows``),
    returned with the last epoch of ``rows``."""
    header = context[2]
    if not header or header[0] not in INDEX_COLUMNS:
        raise ImportFailed(str(path), "expected a first column 'epoch' (or a pandas index)",
                           line=1, field=header[0] if header else None)
    index_column = header[0]
    points: list[MetricPoint] = []
    skipped: dict[str, int] = {}
    previous_epoch = context[3]
    resumed = False
    for line, row in rows:
        if len(row) != len(header):
            raise ImportFailed(str(path), f"row has {len(row)} cells, header has {len(header)}",
                               line=line)
        epoch_text = row[index_column]
        if not epoch_text.isdigit():
            raise ImportFailed(str(path), f"expected an integer epoch, got {epoch_text!r}",
                               line=line, field=index_column or "index")
        epoch = int(epoch_text)
        if previous_epoch is not None and epoch <= previous_epoch:
            resumed = True  # append=True after a restart: epoch numbers repeat
        previous_epoch = epoch
        for key in header[1:]:
            cell = row[key]
            if cell.startswith(("[", '"[')):
                skipped[key] = skipped.get(key, 0) + 1  # a vector metric, e.g. per-class F1
                continue
            try:
                value, raw = to_float(cell)
            except ValueError:
                raise ImportFailed(str(path), f"not a number: {cell!r}", line=line,
                                   field=key) from None
            if value is None and raw is None:
                continue  # "NA": not computed this epoch (validation_freq > 1)
            points.append(MetricPoint(key=key, value=value, step=epoch, epoch=float(epoch),
                                      axis="epoch", raw=raw, seq=len(points)))
    for key, count in skipped.items():
        ctx.warn(f"{path}: skipped {count} non-scalar value(s) of {key!r}")
    return dedupe_points(points), resumed, (*context[:3], previous_epoch)


def _json_points(path: Path) -> list[MetricPoint]:
    """Points from a History JSON dump: the list index (or pandas index key) is the epoch."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise ImportFailed(str(path), "expected a JSON object of metric lists", line=1)
    points: list[MetricPoint] = []
    length = None
    for key, values in data.items():
        if isinstance(values, list):
            pairs = list(enumerate(values))
        elif isinstance(values, dict):
            try:
                pairs = sorted((int(k), v) for k, v in values.items())
            except ValueError:
                raise ImportFailed(str(path), "expected epoch numbers as keys", field=key) from None
        else:
            raise ImportFailed(str(path), f"expected a list of values, got {type(values).__name__}",
                               field=key)
        if length is not None and len(pairs) != length:
            raise ImportFailed(str(path), f"{len(pairs)} values where other metrics have {length}",
                               field=key)
        length = len(pairs)
        for epoch, value in pairs:
            if not _is_number_or_none(value):
                raise ImportFailed(str(path), f"not a number: {value!r}", field=f"{key}[{epoch}]")
            number, raw = to_float(value)
            if number is None and raw is None:
                continue
            points.append(MetricPoint(key=str(key), value=number, step=epoch, epoch=float(epoch),
                                      axis="epoch", raw=raw, seq=len(points)))
    # Order by epoch, like a log would be, keeping the per-key order inside an epoch.
    points.sort(key=lambda p: (p.step, p.seq))
    for seq, metric in enumerate(points):
        metric.seq = seq
    return points


def _sibling_models(path: Path) -> list[ArtifactRecord]:
    """Saved models next to the log: ``*.keras`` / ``*.h5`` / ``*.hdf5``."""
    artifacts = []
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return []
    for file in siblings:
        if not file.is_file() or not file.name.lower().endswith(MODEL_SUFFIXES):
            continue
        lowered = file.name.lower()
        if "best" in lowered:
            kind = "best"
        elif _CHECKPOINT_NAME_RE.search(lowered):
            kind = "checkpoint"  # ModelCheckpoint('weights.{epoch:02d}-{val_loss:.2f}.keras')
        else:
            kind = "model"
        artifacts.append(artifact_for(file, kind=kind, name=file.name))
    return artifacts
