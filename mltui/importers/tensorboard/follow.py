"""Following TensorBoard runs while they train: only the records appended to event files.

TFRecord files only grow: a writer appends length-framed, CRC-checked records.  Inside a watch
(importers/appendlog.py) a run read whole is remembered as a group of event files, each with
the byte offset after its last whole record, and with what mapping its events needs from the
read before: each writer's purge state, the scalar tags each writer logged.  The next pass
decodes only the records after each offset (a new events file, a restarted writer, is read
whole).  Anything an append cannot add to the stored run means a whole read of the run, as
before: a file truncated, rewritten or replaced, a record that fails its CRC, a restart that
TensorBoard's reader purges points for (``SessionLog`` START, a step going back in an old
file), a tag two writers now share (its stored points would be renamed), params or text
tags, or records appended to any but a writer's last file.
"""

from __future__ import annotations

import os
from copy import copy
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import ImportFailed
from ...core.records import MetricPoint, RunRecord
from .. import appendlog
from ..common import ImportContext, stable_uid
from .events import Metadata, decode_events, read_event_file, record_end
from .runs import (FORMAT, WholeRead, _maybe_purge, _run_groups, _RunAccumulator, _take_value,
                   _Writer, read_run)


@dataclass(frozen=True)
class _Run:
    """What an appended read of a run needs from the read before."""

    writers: dict[str, _Writer]
    tags: dict[str, frozenset[str]]
    metadata: dict[str, dict[str, Metadata]]  # a tag's metadata comes with its first value


class _Refused(Exception):
    """The appended records need a whole read of the run."""


def read_followed(log_dir: Path, top: Path, ctx: ImportContext
                  ) -> tuple[RunRecord | None, list[Path]]:
    """:func:`runs.read_run`, but inside a watch only the records appended since the last
    read when it can (see the module doc); the run is remembered after a whole read."""
    if not appendlog.active():
        return read_run(log_dir, top, ctx)
    groups = _run_groups(log_dir)
    files = [file for _, group_files in groups for file in group_files]
    run = _read_appended(log_dir, groups, ctx)
    if run is not None:
        return run, files
    whole = WholeRead()
    run, files = read_run(log_dir, top, ctx, whole)
    if run is not None:
        for path, data, offset, inode in whole.files:
            appendlog.keep(path, data, offset, run.fingerprint, inode)
        appendlog.keep_group(log_dir, run.fingerprint, None, [path for path, *_ in whole.files],
                             _Run({g: copy(w) for g, w in whole.writers.items()}, whole.tags,
                                  whole.metadata))
    return run, files


def _never(_rest: bytes, _context: object) -> bool:
    return False  # a whole read never takes a partial record either


def _read_appended(log_dir: Path, groups: list[tuple[str, list[Path]]],
                   ctx: ImportContext) -> RunRecord | None:
    growth = appendlog.grown_group(log_dir, [f for _, files in groups for f in files], sides=(),
                                   keeps_rest=_never, cut=record_end)
    if growth is None:
        return None
    context: _Run = growth.context
    grown = {found.path: found for found in growth.grown}
    writers = {group: copy(writer) for group, writer in context.writers.items()}
    metadata = {path: dict(by_tag) for path, by_tag in context.metadata.items()}
    acc = _RunAccumulator(by_group={g: {tag: [] for tag in tags}
                                    for g, tags in context.tags.items()})
    fresh: list[tuple[str, bytes, int, int | None]] = []
    try:
        for group, files in groups:
            writer = writers.setdefault(group, _Writer())
            paths = [os.path.abspath(f) for f in files]
            first_new = next((i for i, p in enumerate(paths) if p not in grown), len(paths))
            if any(p in grown for p in paths[first_new:]) or any(
                    grown[p].complete for p in paths[:max(0, first_new - 1)]):
                raise _Refused  # a new file before a read one, or an earlier file grew
            first_time = last_time = None
            for path in paths:
                if path in grown:
                    events = decode_events(Path(path), grown[path].complete, ctx)
                else:
                    events = read_event_file(Path(path), ctx, fresh)
                    if events is None:
                        raise _Refused  # a Git LFS pointer: the whole read says so
                by_tag = metadata.setdefault(path, {})
                for event in events:
                    first_time = event.wall_time if first_time is None else first_time
                    last_time = event.wall_time
                    _follow_writer(acc, group, writer, event)
                    for value in event.values:
                        if value.metadata is not None:
                            by_tag[value.tag] = value.metadata
                        _take_value(acc, group, value, by_tag.get(value.tag), event.step,
                                    event.wall_time, Path(path), set(), ctx)
            # A run starts at its writers' first events: an existing writer's is stored.
            acc.see_span(first_time if group not in context.writers else None, last_time)
        if acc.params or acc.tags:
            raise _Refused  # params and text tags: only a whole read sets them
        points = _named(acc, context.tags)
    except (_Refused, ImportFailed):
        appendlog.forget(log_dir)
        return None
    run = RunRecord(uid=stable_uid(FORMAT, log_dir), source_format=FORMAT,
                    source_path=str(log_dir), start_time=acc.start_time, end_time=acc.end_time,
                    metrics=points, keeps_repeats=True)
    tags = {group: frozenset(by_tag) for group, by_tag in acc.by_group.items()}
    growth.accept(run, fresh, _Run(writers, tags, metadata))
    return run


def _follow_writer(acc: _RunAccumulator, group: str, writer: _Writer, event) -> None:
    """Keep the writer's purge state as the whole read does; refused where TensorBoard's
    reader would purge points (the stored ones among them)."""
    step_before = writer.most_recent_step
    _maybe_purge(acc, group, writer, event)
    version_2 = writer.file_version is not None and writer.file_version >= 2
    if (event.session_start if version_2 else (event.values and event.step < step_before)):
        raise _Refused


def _named(acc: _RunAccumulator, before: dict[str, frozenset[str]]) -> list[MetricPoint]:
    """The appended points under the names a whole read gives them (``acc.by_group`` was
    seeded with the tags read before, see prefix_colliding_tags); refused when the new points
    make a tag shared by more writers than before (its stored points would be renamed)."""

    def writers_of(tags: dict, tag: str) -> int:
        return sum(tag in names for names in tags.values())

    for by_tag in acc.by_group.values():
        for tag in by_tag:
            shared = writers_of(acc.by_group, tag)
            if shared > 1 and shared != writers_of(before, tag):
                raise _Refused
    acc.prefix_colliding_tags()
    return [p for p in acc.points if p is not None]
