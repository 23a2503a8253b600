"""Following MLflow runs while they train: only the lines appended to their metric files.

MLflow appends ``<ts_ms> <value> <step>`` lines to ``metrics/<key>``, one file per metric, and
rewrites nothing else of a run while it trains but for a new param or tag file and, at the end,
``meta.yaml`` (status, ``end_time``).  Inside a watch (importers/appendlog.py) a run read whole
is remembered as a group: each metric file's offset, the content of its other files (``sides``:
``meta.yaml``, params, tags, inputs, outputs) and its id and artifacts.  The next pass reads only
the appended lines of each metric file and a new metric file whole; a changed side file (the
run finished, a tag was set), a metric file gone, truncated or rewritten means a whole read of
the run, which is how ``meta.yaml``'s end marker still comes through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import ImportFailed
from ...core.records import ArtifactRecord, MetricColumns, MetricPoint, RunRecord
from .. import appendlog
from ..common import decode_log, read_log_bytes
from .meta import FORMAT, META
from .metrics import line_parses, parse_metric_text, walk_values

active = appendlog.active


@dataclass(frozen=True)
class _Run:
    """What an appended read of a run needs from its last whole read."""

    run_id: str
    artifacts: tuple[ArtifactRecord, ...]


def _sides(run_dir: Path, children: set[str]) -> list[str]:
    """The run's files other than its metrics and artifacts (whose change means a whole
    read), and the entries of ``outputs/`` (a logged model)."""
    files = [str(run_dir / META)]
    for folder in ("params", "tags", "inputs"):
        if folder in children:
            files += [path for _, path in walk_values(run_dir / folder)]
    if "outputs" in children:
        files += sorted(entry.path for entry in os.scandir(run_dir / "outputs"))
    return files


def side_stat(run_dir: Path, children: set[str]) -> appendlog.SideStat:
    """The content of the run's side files now (taken before a whole read of the run)."""
    return appendlog.side_stat(_sides(run_dir, children))


def read_whole(path: str, key: str, warnings: list[str],
               reads: list[tuple[str, bytes, int, int | None]] | None
               ) -> list[MetricPoint] | MetricColumns:
    """One metric file read whole; with ``reads``, what to remember of it is added there."""
    inode = appendlog.inode_of(path) if reads is not None else None
    data = read_log_bytes(path)
    parsed = parse_metric_text(path, decode_log(path, data), key, warnings)
    if reads is not None:
        reads.append((path, data, appendlog.whole_offset(data, None, line_parses), inode))
    return parsed


def remember(run_dir: Path, record: RunRecord, reads: list[tuple[str, bytes, int, int | None]],
             sides: appendlog.SideStat | None) -> None:
    """After a whole read of the run (``sides`` taken before it): remember each metric file
    and the run."""
    for path, data, offset, inode in reads:
        appendlog.keep(path, data, offset, record.fingerprint, inode)
    appendlog.keep_group(run_dir, record.fingerprint, sides, [path for path, *_ in reads],
                         _Run(record.uid, tuple(record.artifacts)))


def read_appended(run_dir: Path, children: set[str]) -> RunRecord | None:
    """The run with only the points appended to its metric files since the last read (a new
    metric file read whole); None when it must be read whole (see the module doc)."""
    files = walk_values(run_dir / "metrics") if "metrics" in children else []
    growth = appendlog.grown_group(run_dir, [path for _, path in files],
                                   sides=_sides(run_dir, children), keeps_rest=line_parses)
    if growth is None:
        return None
    keys = {os.path.abspath(path): key for key, path in files}
    warnings: list[str] = []
    points: list[MetricPoint] = []
    fresh: list[tuple[str, bytes, int, int | None]] = []
    try:
        for found in growth.grown:
            points += _points(parse_metric_text(found.path, decode_log(found.path, found.complete),
                                                keys[found.path], warnings))
        for path in growth.new:
            points += _points(read_whole(path, keys[path], warnings, fresh))
    except ImportFailed:
        appendlog.forget(run_dir)
        return None  # the whole read reports it, with its line
    context: _Run = growth.context
    run = RunRecord(uid=context.run_id, source_format=FORMAT, source_path=str(run_dir),
                    metrics=points, artifacts=list(context.artifacts), warnings=warnings)
    growth.accept(run, fresh)
    return run


def _points(parsed: list[MetricPoint] | MetricColumns) -> list[MetricPoint]:
    return parsed.points() if isinstance(parsed, MetricColumns) else parsed
