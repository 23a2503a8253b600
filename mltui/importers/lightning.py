"""PyTorch Lightning ``CSVLogger`` version dirs ``<root>/<name>/version_N/`` (FORMATS.md §2).

``metrics.csv`` holds one row per ``log_metrics`` call; rows are sparse (an empty cell means
"not logged", not 0), ``step`` is always there and ``epoch`` usually.  The header is the union
of all keys, sorted since 2.2.0 and in insertion order before; when a new key appears the writer
rewrites the file with a new header, but a file that was appended to (a restarted process, a
hand-merged log) can carry a second header line mid-file, which switches the columns from there.
``hparams.yaml`` may be empty, ``{}``, nested, or carry ``!!python/object`` tags.
"""

from __future__ import annotations

import csv
import io
import re
from itertools import compress
from pathlib import Path

from ..core.errors import ImportFailed
from ..core.records import ArtifactRecord, ImportBatch, MetricColumns, MetricPoint, RunRecord
from . import appendlog
from .common import (ImportContext, resolved, open_log, NotReady, artifact_for, as_param_text,
                     decode_log, fingerprint, flatten, is_number_like, load_yaml, read_log_bytes,
                     stable_uid, to_float, without_partial_row)
from .readstate import row_width

FORMAT = "lightning"
KIND = "dir"
CONSUMES_SUBTREE = True

METRICS_FILE = "metrics.csv"
HPARAMS_FILE = "hparams.yaml"
_VERSION_RE = re.compile(r"^version_\d+$")
_CHECKPOINT_RE = re.compile(r"epoch=(\d+)-step=(\d+)")
_INF = float("inf")
_EXACT = 2 ** 53  # integers up to here survive float() exactly
_SPACE_NOT_NEWLINE = re.compile(r"[^\S\n]")


def detect(path: Path) -> bool:
    """True for a folder with ``metrics.csv`` whose header has a ``step`` column, and either an
    ``hparams.yaml`` beside it or a ``version_N`` folder name."""
    try:
        metrics = path / METRICS_FILE
        if not metrics.is_file():
            return False
        if not ((path / HPARAMS_FILE).is_file() or _VERSION_RE.match(path.name)):
            return False
        with open_log(metrics) as handle:
            first_line = handle.readline(65536).decode("utf-8-sig", "replace")
    except OSError:
        return False
    if not first_line.endswith("\n") and first_line.isprintable():
        # Empty or a partial header: the logger is rewriting the whole file for a new column
        # (it truncates first).  Still this run's folder; read() says it is not ready yet.
        return True
    header = [name.strip() for name in first_line.strip().split(",")]
    return "step" in header


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one version dir: sparse stepped metrics, flattened hparams, checkpoints (inside a
    watch, only the rows appended to ``metrics.csv`` while ``hparams.yaml`` is unchanged)."""
    path = Path(path)
    metrics_file = path / METRICS_FILE
    files_read = [metrics_file]
    run = RunRecord(uid=stable_uid(FORMAT, path), source_format=FORMAT, source_path=str(path),
                    name=path.name, project=path.parent.name or None)
    sides = [path / HPARAMS_FILE]
    if _read_appended(metrics_file, run, sides):
        run.artifacts = _checkpoints(path)
        files_read += [file for file in sides if file.is_file()]
        return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                           consumed_paths=[resolved(p) for p in files_read])
    side_stat = appendlog.side_stat(sides)
    inode = appendlog.inode_of(metrics_file)
    data = read_log_bytes(metrics_file)
    text = decode_log(metrics_file, data)
    if not text.strip():
        raise NotReady(str(metrics_file), "empty (being rewritten with a new column?)")
    kept = without_partial_row(metrics_file, text)
    columns = _metric_columns(metrics_file, kept)
    if columns is None:
        run.metrics, header = _metric_points(metrics_file, kept)
    else:
        run.metric_columns, header = columns
    if not run.metrics and not run.metric_columns:
        ctx.warn(f"{metrics_file}: no metrics logged (rows are flushed every 100 steps)")
    context = (row_width(kept[:kept.find("\n")]), ",", header)

    hparams_file = path / HPARAMS_FILE
    if hparams_file.is_file():
        files_read.append(hparams_file)
        hparams = load_yaml(hparams_file)
        if hparams is None:
            hparams = {}
        if not isinstance(hparams, dict):
            raise ImportFailed(str(hparams_file), "expected a mapping of hyperparameters", line=1)
        for key, value in flatten(hparams).items():
            run.params[key] = as_param_text(value)
    else:
        ctx.warn(f"{path}: no {HPARAMS_FILE} (the module saved no hyperparameters)")
    run.artifacts = _checkpoints(path)
    run.fingerprint = fingerprint(files_read)
    run.warnings = list(ctx.warnings)
    appendlog.keep(metrics_file, data, appendlog.whole_offset(data, context, appendlog.csv_row_kept),
                   run.fingerprint, inode, context=context,
                   sides=side_stat)
    return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                       consumed_paths=[resolved(p) for p in files_read])


def _read_appended(file: Path, run: RunRecord, sides: list[Path]) -> bool:
    """``run.metrics`` from the rows appended to ``metrics.csv`` since the last read; False
    when it must be read whole (a rewrite for a new column is one, see appendlog.read_grown)."""

    def parse(complete: bytes, context: tuple) -> tuple:
        run.metrics, header = _metric_points(file, decode_log(file, complete), context[2])
        return (*context[:2], header)

    return appendlog.read_grown(file, run, parse, appendlog.csv_row_kept, sides=sides)


def _is_header(cells: list[str]) -> bool:
    """A header line: has a ``step`` column and no cell that reads as a number."""
    return "step" in cells and not any(is_number_like(cell) for cell in cells if cell)


def _metric_columns(file: Path, text: str) -> tuple[list[MetricColumns], list[str]] | None:
    """The metrics of a CSVLogger file in its usual shape, a column at a time, with its header;
    None otherwise.

    The usual shape: one header (with ``step``), then rows as wide as it, no quotes or spaces,
    integer steps and epochs, every logged cell a finite number, no point repeated.  Cells are
    picked and parsed a column at a time in C (``compress``, ``map``), not cell by cell.  Any
    other file (a mid-file header, NaN or ``NA`` cells, repeats, bad rows) returns None and
    :func:`_metric_points` reads it, with its exact errors: both give the same points.
    """
    if '"' in text or _SPACE_NOT_NEWLINE.search(text) is not None:
        return None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        return None
    if len(rows) < 2 or not _is_header(rows[0]):
        return None
    header = rows[0]
    width = len(header)
    if set(map(len, rows)) != {width} or len(set(header)) != width:
        return None  # blank lines, ragged rows, a column name twice
    cells = list(zip(*rows[1:]))
    if any("step" in column for column in cells):
        return None  # a header again mid-file: the columns switch there
    step_index = header.index("step")
    epoch_index = header.index("epoch") if "epoch" in header else None
    steps = _integers(cells[step_index], allow_empty=False)
    epochs = None if epoch_index is None else _integers(cells[epoch_index], allow_empty=True)
    if steps is None or (epoch_index is not None and epochs is None):
        return None  # a mid-file header, an empty or fractional step: _metric_points says
    if epochs is not None:
        epochs = [None if epoch is None else float(epoch) for epoch in epochs]
    columns = []
    for index, key in enumerate(header):
        if index == step_index or index == epoch_index:
            continue
        column = cells[index]
        try:
            values = list(map(float, compress(column, column)))
        except ValueError:
            return None
        total = sum(values)
        if total - total != 0.0:
            return None  # NaN or inf cells: raw texts, point by point
        if not values:
            continue
        logged_steps = list(compress(steps, column))
        logged_epochs = None if epochs is None else list(compress(epochs, column))
        if len(set(logged_steps)) != len(values) and len(set(zip(
                logged_steps, logged_epochs or [None] * len(values), values))) != len(values):
            return None  # a repeated point, dropped point by point
        columns.append(MetricColumns(key, values, logged_steps, None, None, "step",
                                     logged_epochs))
    return columns, header


def _integers(cells: tuple[str, ...], *, allow_empty: bool) -> list[int | None] | None:
    """Steps or epochs of a column (each distinct text parsed once); None when one is not an
    integer (or empty, unless allowed), as ``_step`` reads them."""
    try:
        numbers = list(map(int, cells))  # plain integers, in C
    except ValueError:
        pass
    else:
        if numbers and -_EXACT <= min(numbers) and max(numbers) <= _EXACT:
            return numbers  # what float() then int() gives, below 2^53
    parsed: dict[str, int | None] = {}
    for cell in set(cells):
        if not cell and allow_empty:
            parsed[cell] = None
            continue
        try:
            number = float(cell)
        except ValueError:
            return None
        if not number.is_integer():
            return None
        parsed[cell] = int(number)
    return list(map(parsed.__getitem__, cells))


def _metric_points(file: Path, text: str, header: list[str] | None = None
                   ) -> tuple[list[MetricPoint], list[str] | None]:
    """One point per non-empty cell outside ``step``/``epoch``; a mid-file header switches the
    columns for the rows after it.  Exact repeats are dropped as ``dedupe_points`` does.
    ``header``: the columns of rows appended after it (``text`` has no header of its own);
    also returns the columns in force at the end."""
    reader = csv.reader(io.StringIO(text))
    points: list[MetricPoint] = []
    seen: set[tuple] = set()  # dedupe_points inline: this loop runs once per cell of the file
    seq = 0
    integers: dict[str, int] = {}
    # Cells are stripped only when the text has whitespace besides line ends, or quotes (a
    # quoted cell may start or end with a newline): CSVLogger writes neither.
    strip = '"' in text or _SPACE_NOT_NEWLINE.search(text) is not None
    step_index = epoch_index = None
    value_columns: list[tuple[int, str]] = []
    if header is not None:
        step_index, epoch_index, value_columns = _columns(header)
    try:
        for cells in reader:
            line = reader.line_num
            if strip:
                cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if header is None or _is_header(cells):
                if not _is_header(cells):
                    raise ImportFailed(str(file), "expected a header with a 'step' column",
                                       line=line)
                header = cells
                step_index, epoch_index, value_columns = _columns(header)
                continue
            if len(cells) != len(header):
                raise ImportFailed(str(file), f"row has {len(cells)} cells, header has {len(header)}",
                                   line=line)
            # Steps and epochs repeat from row to row: parse each distinct text once.
            cell = cells[step_index]
            step = integers.get(cell)
            if step is None:
                step = integers[cell] = _step(cell, file, line, "step")
            epoch = None
            if epoch_index is not None and cells[epoch_index]:
                cell = cells[epoch_index]
                epoch = integers.get(cell)
                if epoch is None:
                    epoch = integers[cell] = _step(cell, file, line, "epoch")
                epoch = float(epoch)
            for index, key in value_columns:
                cell = cells[index]
                if not cell:
                    continue
                # Fast path for the common finite number; anything else (NaN, inf, "NA", not a
                # number) goes through to_float, which gives the same answer for finite ones.
                try:
                    value = float(cell)
                except ValueError:
                    value = _INF
                raw = None
                if value - value != 0.0:  # not finite, or not parsed
                    try:
                        value, raw = to_float(cell)
                    except ValueError:
                        raise ImportFailed(str(file), f"not a number: {cell!r}", line=line,
                                           field=key) from None
                    if value is None and raw is None:
                        continue
                signature = (key, step, epoch, value, raw)
                if signature not in seen:
                    seen.add(signature)
                    points.append(MetricPoint(key, value, step, epoch, "step", None, raw, seq))
                seq += 1
    except csv.Error as exc:
        raise ImportFailed(str(file), f"invalid CSV: {exc}", line=reader.line_num) from None
    return points, header


def _columns(header: list[str]) -> tuple[int, int | None, list[tuple[int, str]]]:
    """The step column, the epoch column and the (index, key) of every value column."""
    step_index = header.index("step")
    epoch_index = header.index("epoch") if "epoch" in header else None
    return step_index, epoch_index, [(index, name) for index, name in enumerate(header)
                                     if index != step_index and index != epoch_index]


def _step(cell: str, file: Path, line: int, field: str) -> int:
    try:
        number = float(cell)
    except ValueError:
        number = float("nan")
    if not number.is_integer():
        raise ImportFailed(str(file), f"expected an integer, got {cell!r}", line=line, field=field)
    return int(number)


def _checkpoints(path: Path) -> list[ArtifactRecord]:
    """``checkpoints/epoch=E-step=S.ckpt`` (kind checkpoint) and ``last.ckpt`` (the model)."""
    folder = path / "checkpoints"
    if not folder.is_dir():
        return []
    found = []
    for file in sorted(folder.glob("*.ckpt")):
        if not file.is_file():
            continue
        if file.name == "last.ckpt" or file.name.startswith("last-"):
            found.append((0, 0, artifact_for(file, kind="model", name=file.name)))
            continue
        match = _CHECKPOINT_RE.search(file.name)
        step = int(match.group(2)) if match else -1
        found.append((1, step, artifact_for(file, kind="checkpoint", name=file.name)))
    # last.ckpt first, then checkpoints by step: stable whatever the file system order.
    return [artifact for _, _, artifact in sorted(found, key=lambda item: (item[0], item[1]))]
