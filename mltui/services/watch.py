"""Following training runs while their logs grow: ``mltui watch`` and the app's live view.

A watch is a loop of ordinary imports.  Each :meth:`WatchState.poll` calls
:func:`mltui.services.ingest.import_paths` (the one import path: fingerprints of what was
read, logs caught mid-write left for the next pass, one import per folder at a time), then
compares every run it touched with what the previous pass saw:

- a run seen for the first time is ``new``; a changed fingerprint means its log ``grew`` (only
  its appended lines or records were read and their points appended, for JSONL, CSV, Lightning,
  Keras, Ultralytics, MLflow and TensorBoard logs, see importers/appendlog.py) or was truncated
  or rewritten (re-read whole, its points replaced);
- a run whose log did not change for ``stall_after`` seconds (by the injectable ``clock``) is
  ``stalled``; a stalled run that grows again is ``resumed``;
- a run whose writer left its end marker (``runs.status`` FINISHED/FAILED/KILLED, see
  :mod:`mltui.core.progress`) is ``finished``; with ``model`` it is registered once as the
  next version, its gates are checked, and a verdict line compares it with production.

Everything a front end needs is in :class:`WatchState.runs` (one :class:`RunWatch` each) and
the :class:`Change` list each poll returns.  :func:`verdict_against_production` is the line
"val/f1 0.81 at epoch 7; production reached 0.79 by epoch 7" for any run and metric.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..core.catalog import metric_direction
from ..core.errors import InvalidInput, NotFound
from ..core.progress import run_progress
from ..core.refs import MODEL_NAME_RE
from ..display import fmt_number
from ..importers import appendlog
from .ingest import import_paths
from .lock import ImportRunning
from .review import review, verdict

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog
    from ..core.records import MetricPoint

RUNNING, STALLED, FINISHED = "running", "stalled", "finished"
SETTLE_NS = 2_000_000_000  # files changed this recently are read again whatever their stat says


@dataclass
class RunWatch:
    """What a watch knows of one run; ``state`` is running, stalled or finished."""

    run_id: int
    name: str
    source: str
    format: str
    state: str = RUNNING
    status: str | None = None  # the writer's own status text (FINISHED, FAILED, ...)
    last_step: int | None = None
    points: int = 0
    fingerprint: str | None = None
    first_seen: float = 0.0
    first_step: int | None = None
    last_change: float = 0.0
    version: str | None = None  # "model@N" once registered

    def steps_per_second(self) -> float | None:
        """Steps logged per second since the watch first saw the run (None until it grew)."""
        if self.first_step is None or self.last_step is None:
            return None
        seconds = self.last_change - self.first_seen
        return (self.last_step - self.first_step) / seconds if seconds > 0 else None


@dataclass
class Change:
    """One thing that happened in a poll, as one line of text for a log or a status bar."""

    kind: str  # new, grew, stalled, resumed, finished, registered, gates, verdict, skipped, waiting
    text: str
    run_id: int | None = None


@dataclass
class Verdict:
    """A run's latest value of a metric next to production's at the same step or epoch."""

    key: str
    axis: str  # "epoch" or "step"
    at: float
    value: float | None
    production: str | None = None  # "fraud@3"
    production_value: float | None = None
    ahead: bool | None = None  # None: nothing to compare with
    text: str = ""


@dataclass
class WatchState:
    """A watch over ``paths``; call :meth:`poll` once per interval (see module doc)."""

    cat: "Catalog"
    paths: list[Path]
    model: str | None = None
    stall_after: float = 300.0
    clock: Callable[[], float] = time.monotonic
    format: str | None = None
    metrics: list[str] = field(default_factory=list)  # verdict keys; default: the gates' keys
    wait: float = 0.0  # how long one pass waits for another import of the same folder
    runs: dict[int, RunWatch] = field(default_factory=dict)
    _tree: frozenset | None = field(default=None, repr=False)  # see tree_state

    def __post_init__(self) -> None:
        self.paths = [Path(p) for p in self.paths]
        if self.model is not None and not MODEL_NAME_RE.match(self.model):
            raise InvalidInput(f"bad model name {self.model!r}",
                               hint="use letters, digits, '_', '.', '-'")
        missing = [str(p) for p in self.paths if not p.exists()]
        if missing:
            raise InvalidInput(f"no such file or directory: {', '.join(missing)}")

    def poll(self) -> list[Change]:
        """One pass: import what changed, then report new, grown, stalled and finished runs.

        When not one file or folder under the paths changed (name, size, mtime, inode) since a
        pass that imported everything, the import is skipped: an idle watch costs a directory
        walk, not a read of every log."""
        changes: list[Change] = []
        tree = tree_state(self.paths)  # before reading: a write during the import shows next pass
        summary = None
        if tree != self._tree:
            try:
                with appendlog.following():  # grown logs: only their new lines/records
                    summary = import_paths(self.cat, self.paths, format=self.format,
                                           skip_invalid=True, wait=self.wait)
            except ImportRunning as exc:  # another import holds the folder: next pass
                return [Change("waiting", str(exc))]
            except InvalidInput as exc:
                if not str(exc).startswith("no run logs found"):
                    raise
                summary = None  # nothing written yet: the folder fills as training starts
            # A log caught mid-write (not ready) must be read again even if nothing changes; so
            # must a file written in the last seconds (a same-size rewrite within one mtime tick
            # of the filesystem would look unchanged).
            settled = not any(time.time_ns() - mtime < SETTLE_NS for _, _, mtime, _ in tree)
            self._tree = tree if settled and (summary is None or not summary.not_ready) else None
        now = self.clock()
        if summary is not None:
            changes += [Change("skipped", f"skipped: {line}") for line in summary.skipped]
            touched = run_progress(self.cat, summary.run_ids)
        else:
            touched = {}
        for run_id, row in touched.items():
            changes += self._update(run_id, row, now)
        for run in self.runs.values():
            # A run that grew in this pass has last_change == now, so it is never stalled here.
            if run.state == RUNNING and now - run.last_change >= self.stall_after:
                run.state = STALLED
                changes.append(Change("stalled", f"{run.name}: stalled, no new data for "
                                      f"{now - run.last_change:.0f}s", run.run_id))
        return changes

    def _update(self, run_id: int, row: dict, now: float) -> list[Change]:
        run = self.runs.get(run_id)
        changes: list[Change] = []
        if run is None:
            run = self.runs[run_id] = RunWatch(
                run_id, row["name"] or row["uid"], row["source_path"] or "",
                row["source_format"] or "", first_seen=now, first_step=row["last_step"],
                last_change=now, fingerprint=row["fingerprint"])
            if not row["ended"]:  # one that ended already gets only its "finished" line
                changes.append(Change("new", f"{run.name}: new {run.format} run, "
                                      f"{_progress(row)}", run_id))
        elif row["fingerprint"] != run.fingerprint:
            run.fingerprint, run.last_change = row["fingerprint"], now
            kind = "resumed" if run.state == STALLED else "grew"
            run.state = RUNNING if run.state == STALLED else run.state
            changes.append(Change(kind, f"{run.name}: {kind}, {_progress(row)}", run_id))
        run.last_step, run.points, run.status = row["last_step"], row["points"], row["status"]
        # A richer reader can take over a folder (an HF dir's TensorBoard run becomes its
        # trainer_state run, same id): keep what the catalog says now.
        run.name, run.format = row["name"] or row["uid"], row["source_format"] or ""
        run.source = row["source_path"] or ""
        if row["ended"] and run.state != FINISHED:
            run.state = FINISHED
            changes.append(Change("finished", f"{run.name}: finished ({row['status']}), "
                                  f"{_progress(row)}", run_id))
            if self.model is not None and str(row["status"]).upper() == "FINISHED":
                changes += self._register(run)  # a FAILED or KILLED run is no candidate
        elif not row["ended"] and run.state == FINISHED:
            run.state = RUNNING  # a resumed run: its writer started again
        return changes

    def _register(self, run: RunWatch) -> list[Change]:
        """Register a finished run once, check its gates, compare it with production."""
        assert self.model is not None
        vid = self.cat.register_run_once(self.model, run.run_id)
        if vid is None:
            return []  # already a version of the model (an earlier watch or import did it)
        run.version = self.cat.ref_of(vid)
        changes = [Change("registered", f"{run.name}: registered as {run.version}", run.run_id)]
        changes.append(Change("gates", verdict(review(self.cat, run.version)), run.run_id))
        for key in self.metrics or self._gate_keys():
            found = verdict_against_production(self.cat, run.run_id, key, model=self.model)
            if found is not None:
                changes.append(Change("verdict", found.text, run.run_id))
        return changes

    def _gate_keys(self) -> list[str]:
        keys: list[str] = []
        for gate in self.cat.gates(self.model, stage="production"):
            key = gate["key"]
            if key not in keys:
                keys.append(key)
        return keys


def tree_state(paths: list[Path]) -> frozenset:
    """Every file and folder under ``paths`` with its size, mtime and inode: equal between two
    passes only when nothing was written, created, renamed or removed (symlinks not followed,
    as the import's own walk)."""
    entries = set()
    for root in paths:
        for folder, dirs, files in os.walk(root) if root.is_dir() else [("", [], [str(root)])]:
            for name in (*dirs, *files):
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path, follow_symlinks=False)
                except OSError:
                    continue  # removed while walking: the next pass sees the difference
                entries.add((path, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return frozenset(entries)


def _progress(row: dict) -> str:
    step = row["last_step"]
    return f"{row['points']:,} points" + ("" if step is None else f", step {step}")


def verdict_against_production(cat: "Catalog", run_id: int, key: str, *,
                               model: str) -> Verdict | None:
    """The run's latest ``key`` next to the production version's value at the same epoch (when
    both logged epochs) or step: production's last point at or before it.  None when the run
    has not logged ``key``."""
    points = cat.metric_points(run_id, key)
    if not points:
        return None
    try:
        holder = cat.stage_holder(model, "production")
    except NotFound:
        holder = None
    prod_points: list["MetricPoint"] = []
    ref = None
    if holder is not None:
        ref = cat.ref_of(holder)
        prod_run = cat.versions([holder])[0].get("run_id")
        prod_points = cat.metric_points(prod_run, key) if prod_run is not None else []
    by_epoch = all(p.epoch is not None for p in points + prod_points)
    axis = "epoch" if by_epoch else "step"

    def position(point: "MetricPoint") -> float:
        value = point.epoch if by_epoch else point.step
        return float("-inf") if value is None else float(value)

    latest = max(enumerate(points), key=lambda item: (position(item[1]), item[0]))[1]
    at = position(latest)
    found = Verdict(key, axis, at, latest.value, production=ref)
    where = f"{axis} {fmt_number(at)}" if at != float("-inf") else "the last point"
    head = f"{key} {fmt_number(latest.value)} at {where}"
    if holder is None:
        found.text = f"{head}; no version of {model} holds production to compare with"
        return found
    earlier = [(i, p) for i, p in enumerate(prod_points) if position(p) <= at]
    if not earlier:
        found.text = f"{head}; production ({ref}) logged no {key} by {where}"
        return found
    reached = max(earlier, key=lambda item: (position(item[1]), item[0]))[1]
    found.production_value = reached.value
    if latest.value is not None and reached.value is not None:
        better = (latest.value > reached.value if metric_direction(key) == "max"
                  else latest.value < reached.value)
        found.ahead = better
    tail = {True: " (ahead)", False: " (behind)"}.get(found.ahead, "")
    if found.ahead is not None and latest.value == reached.value:
        tail = " (level)"
    found.text = (f"{head}; production ({ref}) reached {fmt_number(reached.value)} "
                  f"by {where}{tail}")
    return found

