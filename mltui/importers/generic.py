"""Generic metrics logs of custom trainers: JSON lines and CSV (FORMATS.md §8.5).

The last resort of the walk, so detection is conservative: a ``.jsonl``/``.ndjson`` file whose
first objects all carry a step-like key with an integer value and at least one numeric value,
or a ``.csv`` whose first column is step-like and whose first rows are numeric.

Reading follows the de facto convention: the step key is the first present of ``step``,
``global_step``, ``iteration``, ``iter``, ``epoch``; nested objects are flattened with ``/``;
a split discriminator (``split``/``mode``/``phase``) prefixes the metric keys (``val/loss``);
``time``/``timestamp`` give the wall time; other non-numeric scalars become run tags (the first
value seen wins).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..core.errors import ImportFailed
from ..core.records import ImportBatch, MetricPoint, RunRecord
from . import appendlog
from .common import (ImportContext, resolved, open_log, dedupe_points, decode_log, fingerprint, flatten,
                     is_number_like, iter_jsonl, read_csv_rows, read_log_bytes, stable_uid,
                     to_float)

FORMAT = "generic"
KIND = "file"

JSONL_SUFFIXES = {".jsonl", ".ndjson"}
# Not ".tsv": DVCLive writes ``plots/metrics/**/<key>.tsv`` files with a ``step`` first column,
# which belong to the DVC reader's run.
CSV_SUFFIXES = {".csv": ","}
STEP_KEYS = ("step", "global_step", "iteration", "iter", "epoch")
_AXIS = {"step": "step", "global_step": "step", "iteration": "iteration", "iter": "iteration",
         "epoch": "epoch"}
SPLIT_KEYS = ("split", "mode", "phase")
TIME_KEYS = ("time", "timestamp", "wall_time", "_timestamp")
_SNIFF_LINES = 5
_MISSING_CELLS = {"", "na", "n/a", "nan", "null", "none"}
_MIN_WALL_TIME = 1e8  # 1973-03-03: smaller "time" values are durations, not clock readings
_HEAD_BYTES = 65536


# ---------------------------------------------------------------------------------------------
# Detection


def detect(path: Path) -> bool:
    """True for a metrics JSONL or CSV with a step-like key and numeric values."""
    try:
        suffix = path.suffix.lower()
        if suffix not in JSONL_SUFFIXES and suffix not in CSV_SUFFIXES:
            return False
        if not path.is_file():
            return False
        with open_log(path) as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return False
    if b"\x00" in head:
        return False
    text = head.decode("utf-8-sig", "replace")
    complete = text.split("\n")
    if len(head) == _HEAD_BYTES:
        complete = complete[:-1]  # the last line may be cut by the read
    lines = [line for line in complete if line.strip()][: _SNIFF_LINES + 1]
    if suffix in JSONL_SUFFIXES:
        return _detect_jsonl(lines)
    return _detect_csv(lines, CSV_SUFFIXES[suffix])


def _detect_jsonl(lines: list[str]) -> bool:
    sample = lines[:_SNIFF_LINES]
    if not sample:
        return False
    for line in sample:
        try:
            record = json.loads(line)
        except ValueError:
            return False
        if not isinstance(record, dict):
            return False
        key = _step_key(record)
        if key is None or not _integral(record[key], allow_fraction=key == "epoch"):
            return False
        if not any(is_number_like(v) and not isinstance(v, str)
                   for k, v in flatten(record, sep="/").items() if k not in STEP_KEYS):
            return False
    return True


def _detect_csv(lines: list[str], delimiter: str) -> bool:
    if len(lines) < 2:
        return False
    header = [name.strip().lower() for name in lines[0].split(delimiter)]
    if len(header) < 2 or header[0] not in STEP_KEYS:
        return False
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.split(delimiter)]
        if not _integral(cells[0], allow_fraction=header[0] == "epoch"):
            return False
        numeric = 0
        for name, cell in zip(header[1:], cells[1:], strict=False):
            if cell.lower() in _MISSING_CELLS or name in SPLIT_KEYS:
                continue
            if not is_number_like(cell):
                return False
            numeric += 1
        if numeric == 0:
            return False
    return True


def _integral(value: Any, *, allow_fraction: bool = False) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not is_number_like(value):
            return False
        try:
            value = float(value)
        except ValueError:
            return False
    if isinstance(value, int):
        return True
    if isinstance(value, float) and math.isfinite(value):
        return allow_fraction or value.is_integer()
    return False


def _step_key(record: dict) -> str | None:
    for key in STEP_KEYS:
        if key in record:
            return key
    return None


# ---------------------------------------------------------------------------------------------
# Reading


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read one metrics file into one run (inside a watch, only what it appended)."""
    path = Path(path)
    run = RunRecord(uid=stable_uid(FORMAT, path), source_format=FORMAT, source_path=str(path),
                    name=path.stem, project=path.parent.name or None)
    delimiter = CSV_SUFFIXES.get(path.suffix.lower())
    if _read_appended(path, run, ctx, delimiter):
        return _batch(path, run)
    inode = appendlog.inode_of(path)
    data = read_log_bytes(path)
    text = decode_log(path, data)
    context = None
    if delimiter is not None:
        header, rows = read_csv_rows(path, text, delimiter=delimiter)
        _check_widths(path, header, rows)
        records = rows
        context = (len(header), delimiter, header)
    else:
        records = iter_jsonl(path, text)
    _collect(path, run, ctx, records, appended=False)
    run.fingerprint = fingerprint([path])
    appendlog.keep(path, data, appendlog.whole_offset(data, context, _keeps_rest(delimiter)),
                   run.fingerprint, inode, context=context)
    return _batch(path, run)


def _check_widths(path: Path, header: list[str], rows: list[tuple[int, dict]]) -> None:
    for line, row in rows:
        if len(row) != len(header):
            raise ImportFailed(str(path), f"row has {len(row)} cells, header has {len(header)}",
                               line=line)


def _collect(path: Path, run: RunRecord, ctx: ImportContext, records, *, appended: bool) -> None:
    """Fill ``run`` with the metrics, tags and times of ``records``."""
    collector = _Collector(path, run.tags)
    for line, record in records:
        if not isinstance(record, dict):
            raise ImportFailed(str(path), "expected a JSON object per line", line=line)
        collector.add(line, record)
    run.metrics = dedupe_points(collector.points)
    if collector.skipped:
        ctx.warn(f"{path}: skipped non-scalar values of {', '.join(sorted(collector.skipped))}")
    if not run.metrics and not appended:
        ctx.warn(f"{path}: no metrics found")
    times = [p.wall_time for p in run.metrics if p.wall_time is not None]
    if times:
        run.start_time, run.end_time = min(times), max(times)
    run.warnings = list(ctx.warnings)


def _unterminated_record(rest: bytes) -> bool:
    """True when a last line without a newline parses, so a full read takes it as a record (a
    partial one does not parse and is left for the next read, as iter_jsonl does)."""
    rest = rest.strip()
    if not rest:
        return False
    try:
        json.loads(rest)
    except RecursionError:
        return True  # the full read reports it
    except ValueError:
        return False
    return True


def _read_appended(path: Path, run: RunRecord, ctx: ImportContext, delimiter: str | None) -> bool:
    """Fill ``run`` with the points of the lines appended since this process last read
    ``path``; False when the file must be read whole (see appendlog.read_grown)."""

    def parse(complete: bytes, context: tuple | None) -> tuple | None:
        text = decode_log(path, complete)
        if delimiter is None:
            records = list(iter_jsonl(path, text))
        else:
            records = read_csv_rows(path, text, delimiter=delimiter, header=context[2])[1]
            _check_widths(path, context[2], records)
        _collect(path, run, ctx, records, appended=True)
        return context

    return appendlog.read_grown(path, run, parse, _keeps_rest(delimiter))


def _keeps_rest(delimiter: str | None):
    """Whether a whole read takes an unterminated last line as a record (CSV or JSONL)."""
    if delimiter is not None:
        return appendlog.csv_row_kept
    return lambda rest, _context: _unterminated_record(rest)


def _batch(path: Path, run: RunRecord) -> ImportBatch:
    return ImportBatch(source_format=FORMAT, source_path=str(path), runs=[run],
                       consumed_paths=[resolved(path)])


class _Collector:
    """Turns one record (a JSON line or a CSV row) after another into metric points and tags."""

    def __init__(self, path: Path, tags: dict[str, str]):
        self.path = path
        self.tags = tags
        self.points: list[MetricPoint] = []
        self.skipped: set[str] = set()

    def add(self, line: int, record: dict) -> None:
        """Add the points of one record; raises ImportFailed for a bad step or time."""
        flat = flatten(record, sep="/")
        step_key = _step_key(flat)
        step = epoch = None
        axis = "step"
        if step_key is not None:
            axis = _AXIS[step_key]
            number = self._number(flat[step_key], line, step_key)
            if number is not None:
                if number.is_integer():
                    step = int(number)
                elif step_key != "epoch":
                    raise ImportFailed(str(self.path), f"expected an integer, got {flat[step_key]!r}",
                                       line=line, field=step_key)
        if "epoch" in flat:
            epoch = self._number(flat["epoch"], line, "epoch")
        wall_time = time_key = None
        for key in TIME_KEYS:
            if key in flat and flat[key] not in (None, ""):
                wall_time = self._time(flat[key], line, key)
                if wall_time is not None:
                    time_key = key
                    break
        prefix = None
        for key in SPLIT_KEYS:
            value = flat.get(key)
            if isinstance(value, str) and value.strip():
                prefix = value.strip()
                break
        for key, value in flat.items():
            if key in STEP_KEYS or key == time_key or key in SPLIT_KEYS:
                continue
            if isinstance(value, (list, dict)):
                self.skipped.add(key)
                continue
            if value is None or value == "":
                continue
            if isinstance(value, bool) or (isinstance(value, str) and not is_number_like(value)
                                           and value.strip().lower() not in ("na", "n/a", "null", "none")):
                self.tags.setdefault(key, str(value))
                continue
            number, raw = to_float(value)
            if number is None and raw is None:
                continue
            name = key
            if prefix and not key.startswith((f"{prefix}/", f"{prefix}_")):
                name = f"{prefix}/{key}"
            self.points.append(MetricPoint(key=name, value=number, step=step, epoch=epoch, axis=axis,
                                           wall_time=wall_time, raw=raw, seq=len(self.points)))

    def _number(self, value: Any, line: int, field: str) -> float | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not is_number_like(value):
            raise ImportFailed(str(self.path), f"expected a number, got {value!r}", line=line,
                               field=field)
        number = float(value)
        if not math.isfinite(number):
            raise ImportFailed(str(self.path), f"expected a finite number, got {value!r}",
                               line=line, field=field)
        return number

    def _time(self, value: Any, line: int, field: str) -> float | None:
        """Seconds since the epoch from a unix time (s or ms) or an ISO 8601 string.

        None for small numbers: many trainers log ``time`` as seconds per iteration or since
        the start, which is a metric, not a clock reading.
        """
        if isinstance(value, str) and not is_number_like(value):
            try:
                moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise ImportFailed(str(self.path), f"expected a time, got {value!r}", line=line,
                                   field=field) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.timestamp()
        number = self._number(value, line, field)
        if number is None or number < _MIN_WALL_TIME:
            return None
        return number / 1000.0 if number > 1e11 else number  # milliseconds since the epoch
