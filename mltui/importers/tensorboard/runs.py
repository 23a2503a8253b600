"""Mapping decoded TensorBoard events to runs: which files make one run, its points, params,
tags, name and times (FORMATS.md §6.4).

A log dir is one run: the event files directly in it, plus the Keras/TF2 layout where the
callback writes ``train/`` and ``validation/`` subdirs, plus the float-named subdirs that
``SummaryWriter.add_hparams`` creates.  Every other log dir below it (``add_scalars`` writes
``<main_tag>_<tag>/``) is a run of its own, named by its path as TensorBoard names it.

Points are what TensorBoard's own reader (``EventAccumulator``) returns: every scalar in file
order, repeated steps included (a resumed run's second file re-logging steps keeps both),
except what that reader purges itself: on a ``SessionLog`` START every point at or after the
restart step, and, in files older than ``brain.Event:2``, a tag's points at or after a step that
went backwards.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import ImportFailed
from ...core.records import MetricPoint, RunRecord
from ..common import (ImportContext, as_param_text, fingerprint, flatten, looks_like_email,
                      redact_secret, scrub_pii, stable_uid)
from .bulk import ScalarFile, read_bulk
from .columns import Chunk, finish
from .events import (DT_STRING, DecodeError, Event, Metadata, Value, decode_events,
                     read_event_bytes, read_event_file, session_start_hparams)

FORMAT = "tensorboard"
EVENT_FILE_PREFIX = "events.out.tfevents."
# The Keras TensorBoard callback (TF2) writes one run as two sibling writers.
SPLIT_SUBDIRS = ("train", "validation")
HF_ARGS_TAG = "args/text_summary"
TEXT_SUFFIX = "/text_summary"

# HF Trainer / PyTorch SummaryWriter default log dir: ``runs/May04_21-52-32_<hostname>``.
_DATED_RUN_DIR = re.compile(r"^([^\W\d_]{3,5}\d{2}_\d{2}-\d{2}-\d{2})_(.+)$")
_EVENT_FILE_TIME = re.compile(r"^events\.out\.tfevents\.(\d+)")
_FILE_VERSION = re.compile(r"^brain\.Event:(\d+(?:\.\d+)?)$")
_FLOAT_NAME = re.compile(r"^\d+(\.\d+)?$")
_VERSION_DIR = re.compile(r"^version_\d+$")
_WALK_SKIP = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".mltui"}


def event_files(directory: Path) -> list[Path]:
    """The event files directly inside ``directory`` (not recursive)."""
    try:
        with os.scandir(directory) as entries:
            return [Path(entry.path) for entry in entries
                    if entry.name.startswith(EVENT_FILE_PREFIX) and entry.is_file()]
    except OSError:
        return []


def detect(path: Path) -> bool:
    """True for a log dir holding event files directly or in ``train/`` / ``validation/``."""
    path = Path(path)
    if not path.is_dir():
        return False
    return bool(event_files(path)) or bool(split_dirs(path))


def split_dirs(path: Path) -> list[str]:
    """The Keras callback's split writers of a log dir (``train``, ``validation``).

    Only when no other subdir holds event files: tensorboardX's ``add_scalars("acc", {"train":
    …, "val": …})`` writes ``acc/train/`` and ``acc/val/``, which TensorBoard shows as runs of
    their own (``acc/train``), not as one split run ``acc``.
    """
    splits = [name for name in SPLIT_SUBDIRS if event_files(path / name)]
    if splits and any(event_files(sub) for sub in _subdirs(path)
                      if sub.name not in SPLIT_SUBDIRS and not _FLOAT_NAME.match(sub.name)):
        return []
    return splits


@dataclass
class _Writer:
    """Purge state of one writer's files, as ``EventAccumulator`` keeps it per directory."""

    file_version: float | None = None
    most_recent_step: int = -1


@dataclass
class _RunAccumulator:
    """What one run's event files add up to, before keys are finalised."""

    points: list[MetricPoint | None] = field(default_factory=list)
    # group -> tag -> indices in ``points`` (for naming tags that several writers share)
    by_group: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # (group, tag) -> what the bulk decoder read of it, file by file (columns.py)
    chunks: dict[tuple[str, str], list[Chunk]] = field(default_factory=dict)
    key_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (group, tag) -> key
    seq: int = 0  # points so far, either way
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    start_time: float | None = None
    end_time: float | None = None
    files_read: int = 0

    def add_point(self, group: str, tag: str, value: float, step: int,
                  wall_time: float | None) -> None:
        """Add a scalar as the writer logged it (float32 values kept exactly as stored)."""
        # Once per scalar of every event: positional records, no throwaway {} / [] defaults.
        seq = self.seq
        self.seq += 1
        index = len(self.points)
        if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
            metric = MetricPoint(tag, value, step, None, "step", wall_time, None, seq)
        else:
            raw = "nan" if value != value else ("inf" if value > 0 else "-inf")
            metric = MetricPoint(tag, None, step, None, "step", wall_time, raw, seq)
        by_tag = self.by_group.get(group)
        if by_tag is None:
            by_tag = self.by_group[group] = {}
        indices = by_tag.get(tag)
        if indices is None:
            by_tag[tag] = [index]
        else:
            indices.append(index)
        self.points.append(metric)

    def add_columns(self, group: str, tag: str, values: list[float], steps: list[int],
                    walls: list[float]) -> None:
        """Add one tag's scalars of one file as the bulk decoder read them."""
        seqs = list(range(self.seq, self.seq + len(values)))
        self.seq += len(values)
        self.chunks.setdefault((group, tag), []).append(Chunk(values, steps, walls, seqs))
        self.by_group.setdefault(group, {}).setdefault(tag, [])

    def purge(self, group: str, step: int, tags: set[str] | None = None) -> int:
        """Drop the points of ``group`` at or after ``step`` (of ``tags`` only, when given)."""
        dropped = 0
        for tag, indices in self.by_group.get(group, {}).items():
            if tags is not None and tag not in tags:
                continue
            for index in indices:
                metric = self.points[index]
                if metric is not None and metric.step is not None and metric.step >= step:
                    self.points[index] = None
                    dropped += 1
            dropped += sum(chunk.purge(step) for chunk in self.chunks.get((group, tag), ()))
        return dropped

    def prefix_colliding_tags(self) -> None:
        """Name a tag that several split writers logged by its writer (``train/epoch_loss``).

        A tag only one of them logs keeps its name, as TensorBoard shows it.
        """
        groups_of: dict[str, int] = {}
        for by_tag in self.by_group.values():
            for tag in by_tag:
                groups_of[tag] = groups_of.get(tag, 0) + 1
        for group, by_tag in self.by_group.items():
            for tag, indices in by_tag.items():
                key = f"{group}/{tag}" if group and groups_of[tag] > 1 else tag
                self.key_of[(group, tag)] = key
                if key != tag:
                    for index in indices:
                        metric = self.points[index]
                        if metric is not None:
                            metric.key = key

    def see_span(self, first: float | None, last: float | None) -> None:
        """Widen the run's start/end to one writer's first and last event times."""
        if _valid_time(first) and (self.start_time is None or first < self.start_time):
            self.start_time = first
        if _valid_time(last) and (self.end_time is None or last > self.end_time):
            self.end_time = last


def _valid_time(wall_time: float | None) -> bool:
    return wall_time is not None and math.isfinite(wall_time) and wall_time > 0


def _file_order(path: Path) -> tuple[int, str]:
    # The writer puts its start time in the name; restarts sort after the original.
    match = _EVENT_FILE_TIME.match(path.name)
    return (int(match.group(1)) if match else 0, path.name)


def _run_groups(log_dir: Path) -> list[tuple[str, list[Path]]]:
    """The event files of one run as ``[(group, files in time order)]``.

    Group ``""`` holds the files directly in the dir and those of ``add_hparams`` subdirs;
    ``train`` / ``validation`` hold the Keras callback's split writers.
    """
    direct = sorted(event_files(log_dir), key=_file_order)
    hparams_dirs = sorted(p for p in _subdirs(log_dir) if _FLOAT_NAME.match(p.name))
    for sub in hparams_dirs:
        direct.extend(sorted(event_files(sub), key=_file_order))
    groups = [("", direct)]
    for name in split_dirs(log_dir):
        groups.append((name, sorted(event_files(log_dir / name), key=_file_order)))
    return groups


def _subdirs(directory: Path) -> list[Path]:
    try:
        with os.scandir(directory) as entries:
            return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def nested_log_dirs(root: Path) -> list[Path]:
    """Log dirs below ``root`` that are runs of their own (not part of ``root``'s run)."""
    found: list[Path] = []
    for directory, subdirs, _files in os.walk(root):
        here = Path(directory)
        if here != root and detect(here):
            found.append(here)
        # A run's own parts are not runs: train/ and validation/ of a run, add_hparams dirs.
        if here == root or detect(here):
            parts = set(split_dirs(here))
            subdirs[:] = [d for d in subdirs if d not in parts and not _FLOAT_NAME.match(d)]
        subdirs[:] = sorted(d for d in subdirs if d not in _WALK_SKIP)
    return found


@dataclass
class WholeRead:
    """What a whole read of a run leaves for following it (see follow.py): each file's bytes,
    offset after its last whole record and inode; each writer's purge state; the scalar tags
    each writer logged (for names of tags several writers share)."""

    files: list[tuple[str, bytes, int, int | None]] = field(default_factory=list)
    writers: dict[str, _Writer] = field(default_factory=dict)
    tags: dict[str, frozenset[str]] = field(default_factory=dict)
    metadata: dict[str, dict[str, Metadata]] = field(default_factory=dict)  # by file


def read_run(log_dir: Path, top: Path, ctx: ImportContext, whole: WholeRead | None = None
             ) -> tuple[RunRecord | None, list[Path]]:
    """One log dir as a run; ``top`` is the claimed log dir, whose parent names are relative to.
    With ``whole`` (a watch), what following the run needs is kept there."""
    groups = _run_groups(log_dir)
    all_files = [f for _, files in groups for f in files]
    # Event files are read by our own parser, not read_text: stat them before reading, so an
    # event appended during the read changes the next import's fingerprint.
    files_fingerprint = fingerprint(all_files)
    acc = _RunAccumulator()
    warned_shapes: set[str] = set()
    purged = 0
    for group, files in groups:
        writer = _Writer()
        if whole is not None:
            whole.writers[group] = writer
        first_time = last_time = None
        for file in files:
            data = read_event_bytes(file, ctx, whole.files if whole is not None else None)
            if data is None:
                continue
            acc.files_read += 1
            # A watch keeps each file's tag metadata for its appended records: general path.
            bulk = read_bulk(file, data) if data and whole is None else None
            if bulk is not None and _take_bulk(acc, group, writer, bulk, file, warned_shapes,
                                               ctx):
                first_time = bulk.first_time if first_time is None else first_time
                last_time = bulk.last_time
                continue
            # TF1 writers send a tag's metadata only with its first value in each file.
            metadata_by_tag: dict[str, Metadata] = {}
            if whole is not None:
                whole.metadata[os.path.abspath(file)] = metadata_by_tag
            for event in decode_events(file, data, ctx):
                if first_time is None:
                    first_time = event.wall_time
                last_time = event.wall_time
                purged += _maybe_purge(acc, group, writer, event)
                for value in event.values:
                    if value.metadata is not None:
                        metadata_by_tag[value.tag] = value.metadata
                    _take_value(acc, group, value, metadata_by_tag.get(value.tag), event.step,
                                event.wall_time, file, warned_shapes, ctx)
        acc.see_span(first_time, last_time)
    if acc.files_read == 0:
        if all_files:
            ctx.warn(f"{log_dir}: no readable event file (only Git LFS pointers); run skipped")
        return None, all_files
    if purged:
        ctx.warn(f"{log_dir}: {purged} points discarded by a restart, as TensorBoard discards "
                 "them")
    acc.prefix_colliding_tags()
    if whole is not None:
        whole.tags = {group: frozenset(by_tag) for group, by_tag in acc.by_group.items()}

    name, host = run_name(log_dir, top)
    params = _without_host(acc.params, host)
    metrics, columns = finish([p for p in acc.points if p is not None], acc.chunks, acc.key_of)
    run = RunRecord(
        uid=stable_uid(FORMAT, log_dir), source_format=FORMAT, source_path=str(log_dir),
        name=name, project=_project_name(log_dir), start_time=acc.start_time,
        end_time=acc.end_time, params=params, tags=acc.tags,
        metrics=metrics, metric_columns=columns, fingerprint=files_fingerprint)
    return run, all_files


def _maybe_purge(acc: _RunAccumulator, group: str, writer: _Writer, event: Event) -> int:
    """``EventAccumulator``'s orphaned-data purge, so point counts equal TensorBoard's."""
    if event.file_version is not None:
        match = _FILE_VERSION.match(event.file_version)
        writer.file_version = float(match.group(1)) if match else None
    if writer.file_version is not None and writer.file_version >= 2:
        # Newer files mark a restart explicitly; steps going backwards are kept as logged.
        return acc.purge(group, event.step) if event.session_start else 0
    if event.step < writer.most_recent_step and event.values:
        return acc.purge(group, event.step, {value.tag for value in event.values})
    writer.most_recent_step = event.step
    return 0


def _take_bulk(acc: _RunAccumulator, group: str, writer: _Writer, bulk: ScalarFile,
               file: Path, warned: set[str], ctx: ImportContext) -> bool:
    """Add a file the bulk decoder read; False (nothing added) when only the general path
    gives the right answer: a restart marker, a file version before 2 (whose purge follows
    steps), or a record outside the scalar layout that would add points."""
    version = writer.file_version
    for index, event in bulk.others:
        if event.session_start:
            return False
        if event.file_version is not None:
            match = _FILE_VERSION.match(event.file_version)
            if match is None or float(match.group(1)) < 2:
                return False
            if index < bulk.first_scalar:
                version = float(match.group(1))
    if version is None or version < 2:
        return False
    scratch = _RunAccumulator()  # would any other record add a point? (then: general path)
    metadata_by_tag: dict[str, Metadata] = {}
    for _, event in bulk.others:
        for value in event.values:
            if value.metadata is not None:
                metadata_by_tag[value.tag] = value.metadata
            _take_value(scratch, group, value, metadata_by_tag.get(value.tag), event.step,
                        event.wall_time, file, set(warned), ImportContext(root=file))
            if scratch.points:
                return False
    metadata_by_tag = {}
    for _, event in bulk.others:  # params, tags and warnings, in file order
        if event.file_version is not None:
            writer.file_version = float(_FILE_VERSION.match(event.file_version).group(1))
        for value in event.values:
            if value.metadata is not None:
                metadata_by_tag[value.tag] = value.metadata
            _take_value(acc, group, value, metadata_by_tag.get(value.tag), event.step,
                        event.wall_time, file, warned, ctx)
    for tag, (values, steps, walls) in bulk.columns.items():
        acc.add_columns(group, tag, values, steps, walls)
    return True


def _take_value(acc: _RunAccumulator, group: str, value: Value, meta: Metadata | None,
                step: int, wall_time: float | None, file: Path, warned: set[str],
                ctx: ImportContext) -> None:
    """Route one summary value to metrics, params or tags (or skip it)."""
    if value.simple_value is not None:
        acc.add_point(group, value.tag, value.simple_value, step, wall_time)
        return
    plugin = meta.plugin_name if meta else None
    if plugin == "hparams" and meta is not None:
        try:
            hparams = session_start_hparams(meta.content)
        except DecodeError as exc:
            raise ImportFailed(str(file), f"malformed hparams plugin data: {exc}",
                               field=value.tag) from None
        for name, item in (hparams or {}).items():
            _set_param(acc.params, name, _hparam_value(item))
        return
    tensor = value.tensor
    if tensor is None:
        return
    if plugin == "text" or (plugin is None and tensor.dtype == DT_STRING and
                            value.tag.endswith(TEXT_SUFFIX)):
        text = "\n".join(s.decode("utf-8", "replace") for s in tensor.strings)
        if value.tag == HF_ARGS_TAG:
            _add_hf_args(acc.params, text, file, ctx)
        else:
            tag = value.tag[: -len(TEXT_SUFFIX)] if value.tag.endswith(TEXT_SUFFIX) else value.tag
            acc.tags[tag] = scrub_pii(text) or ""
        return
    is_scalar = plugin == "scalars" or (meta is not None and meta.data_class == 1)
    if not is_scalar or tensor.dtype == DT_STRING:
        return  # histograms, images, graphs, pr curves …: not catalog metrics
    if len(tensor.numbers) != 1:
        if value.tag not in warned:
            warned.add(value.tag)
            ctx.warn(f"{file}: scalar tag {value.tag!r} holds {len(tensor.numbers)} values; "
                     "skipped")
        return
    acc.add_point(group, value.tag, float(tensor.numbers[0]), step, wall_time)


def _hparam_value(item: Any) -> Any:
    # tensorboardX stores every number as a double: 32 comes back as 32.0.
    if isinstance(item, float) and item.is_integer() and abs(item) < 2 ** 53:
        return int(item)
    return item


def _set_param(params: dict[str, str], key: str, value: Any) -> None:
    """Store a param as text: e-mail addresses dropped, credential values redacted."""
    if looks_like_email(value) or looks_like_email(key):
        return
    params[key] = as_param_text(redact_secret(key, value))


def _add_hf_args(params: dict[str, str], text: str, file: Path, ctx: ImportContext) -> None:
    """Flatten HF's TrainingArguments JSON (the ``args`` text summary) into params."""
    try:
        args = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        ctx.warn(f"{file}: {HF_ARGS_TAG} is not JSON; params not imported from it")
        return
    if not isinstance(args, dict):
        ctx.warn(f"{file}: {HF_ARGS_TAG} is not a JSON object; ignored")
        return
    for key, value in flatten(args).items():
        _set_param(params, key, value)


def _without_host(params: dict[str, str], host: str | None) -> dict[str, str]:
    """HF's logging_dir param repeats the hostname the run dir name holds: personal data."""
    if not host or len(host) < 3:
        return params
    return {k: v.replace(host, "<host>") for k, v in params.items()}


def hf_training_args(file: Path, ctx: ImportContext, *, max_records: int = 10_000
                     ) -> dict[str, str]:
    """Params from HF's TrainingArguments text (``args/text_summary``) in one event file.

    For the HF Trainer importer, which reads its scalars from trainer_state.json: only the
    first ``max_records`` records are looked at (the arguments come first), and a damaged file
    gives ``{}`` with a warning — the arguments are a bonus, the run does not depend on them.
    """
    params: dict[str, str] = {}
    try:
        events = read_event_file(file, ctx)
        for index, event in enumerate(events or ()):
            if index >= max_records:
                break
            for value in event.values:
                if value.tag == HF_ARGS_TAG and value.tensor is not None:
                    text = "\n".join(s.decode("utf-8", "replace") for s in value.tensor.strings)
                    _add_hf_args(params, text, file, ctx)
                    return _without_host(params, run_name(file.parent, file.parent)[1])
    except ImportFailed as exc:
        ctx.warn(f"{file}: unreadable TensorBoard data ({exc.reason}); training arguments "
                 "not taken from it")
    return params


def run_name(log_dir: Path, top: Path) -> tuple[str, str | None]:
    """The run's name and, for HF/PyTorch dated dirs, the hostname to keep out of the catalog.

    A run below the claimed dir ``top`` is named by its path from ``top``'s parent, the way
    TensorBoard names runs (``run-a/acc_train`` for an ``add_scalars`` writer of ``run-a``).
    """
    parts = [log_dir.name] if log_dir == top else [top.name, *log_dir.relative_to(top).parts]
    host = None
    for index, part in enumerate(parts):
        match = _DATED_RUN_DIR.match(part)
        if match:
            parts[index], host = match.group(1), match.group(2)
    return "/".join(parts), host


def _project_name(log_dir: Path) -> str | None:
    """``<output_dir>`` for ``<output_dir>/runs/<run>``, the logger name for Lightning."""
    parent = log_dir.parent
    if parent.name == "runs" and parent.parent.name:
        return parent.parent.name
    if _VERSION_DIR.match(log_dir.name) and parent.name:
        return parent.name
    return None
