"""A big experiment's run folders read in two halves at once: this process and one fork.

Reading a run folder is Python work (twelve small files, ~500 exact ``float()`` parses): on a
2-core machine a second process halves the read of a store of a thousand runs.  One fork per
experiment of at least :data:`MIN_RUNS` runs, never one per run.  The forked child reads the
second half of the folders with the very same code and state (a fork copies the reader, its
caches and the import's containment) and sends back what a sequential read would have made:
the records, the warnings in order, the bytes read.

The result is the sequential read's, whatever the timing:

- the parent's half is read first, so its warnings and records come first, as they would;
- a run can resolve an artifact URI through an *anchor* an earlier run set (``runs:/<id>/…``,
  ``…/<id>/artifacts/…``).  The child records every anchor it looked up; when the parent's
  half set one of them, the child could not have seen it and its half is read again here,
  sequentially.  Otherwise the child's anchors are added after the parent's (``setdefault``, as
  the sequential read would have);
- any failure in the child (an invalid file, a refused symlink, a crash, an interrupt) means its
  half is read again here, so the error raised is the sequential read's own, with its file,
  line and field.

Forking is skipped (a sequential read) inside a watch (appended reads keep state per run),
with other threads running (the app's workers: a fork copies only the calling thread), on one
CPU, and for small experiments, where the fork costs more than it saves.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from array import array
from typing import Callable, Iterable, Sequence, TypeVar

from ..readstate import BYTES_READ
from . import follow

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many run folders a fork (~10-20 ms with the pickling) costs more than it saves.
MIN_RUNS = 64
# The columns of a run's metrics, and the array type each travels as when every item fits.
_COLUMNS = (("values", "d", float), ("wall_times", "d", float), ("epochs", "d", float),
            ("steps", "q", int))


class _RecordingAnchors(dict):
    """The resolver's anchors in the child: every key looked up is remembered."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.looked_up: set[str] = set()

    def __contains__(self, key: object) -> bool:
        self.looked_up.add(key)  # type: ignore[arg-type]
        return super().__contains__(key)

    def __getitem__(self, key: str):
        self.looked_up.add(key)
        return super().__getitem__(key)


def _usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _idle_cpu() -> bool:
    """Whether a CPU is likely free for the child: the last minute's load average leaves at
    least half a CPU besides this process (as ``make -l`` does).  On a busy machine a second
    process only adds the fork's cost (copied pages, the pickled answer: ~20 % more CPU)."""
    cpus = _usable_cpus()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cpus >= 2
    return cpus >= 2 and load <= cpus - 1.5


def may_fork(count: int) -> bool:
    """Whether ``count`` run folders are read in two processes (see the module doc)."""
    return (count >= MIN_RUNS and hasattr(os, "fork") and not follow.active()
            and threading.active_count() == 1 and _idle_cpu())


def read_halves(items: Sequence[Item], read_one: Callable[[Item], Result],
                anchors_of: Callable[[], dict], set_anchors: Callable[[dict], None],
                warnings: list[str]) -> list[Result]:
    """``[read_one(item) for item in items]``, the second half read by a forked child when
    :func:`may_fork` says so.  ``anchors_of`` / ``set_anchors`` get and replace the resolver's
    anchor dict; ``warnings`` is the import's list the reads append to."""
    if not may_fork(len(items)):
        return [read_one(item) for item in items]
    middle = len(items) // 2
    first, second = items[:middle], items[middle:]
    before = set(anchors_of())
    child = _start_child(second, read_one, anchors_of, set_anchors, warnings)
    if child is None:
        return [read_one(item) for item in items]
    pid, pipe = child
    reaped = False
    try:
        results = [read_one(item) for item in first]
        with os.fdopen(pipe, "rb") as stream:
            pipe = -1
            data = stream.read()
        _, status = os.waitpid(pid, 0)
        reaped = True
    finally:
        if pipe >= 0:
            os.close(pipe)
        if not reaped:  # the parent's half failed (or was interrupted): the child is not needed
            _stop(pid)
    answer = _answer(data, status)
    anchors = anchors_of()
    if answer is None or answer["looked_up"] & (set(anchors) - before):
        return results + [read_one(item) for item in second]  # as the sequential read would
    for key, value in answer["anchors"]:
        anchors.setdefault(key, value)
    warnings.extend(answer["warnings"])
    BYTES_READ["bytes"] += answer["bytes"]
    for record in answer["results"]:
        _columns_as_lists(record)
    return results + answer["results"]


def _columns_as_arrays(record: object) -> None:
    """A record's metric columns as packed arrays where every item fits (pickled ~10× faster
    than lists of numbers); :func:`_columns_as_lists` restores exactly the same lists."""
    for column in getattr(record, "metric_columns", None) or ():
        for name, code, kind in _COLUMNS:
            items = getattr(column, name)
            if type(items) is list and items and set(map(type, items)) == {kind}:
                try:
                    setattr(column, name, array(code, items))
                except OverflowError:  # a step beyond int64 stays a list
                    pass


def _columns_as_lists(record: object) -> None:
    """The lists :func:`_columns_as_arrays` packed."""
    for column in getattr(record, "metric_columns", None) or ():
        for name, _, _ in _COLUMNS:
            items = getattr(column, name)
            if type(items) is array:
                setattr(column, name, items.tolist())


def _start_child(items: Iterable[Item], read_one: Callable[[Item], Result],
                 anchors_of: Callable[[], dict], set_anchors: Callable[[dict], None],
                 warnings: list[str]) -> tuple[int, int] | None:
    """Fork a child that reads ``items`` and writes its answer to a pipe; (pid, read end)."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no memory or process slots left: read sequentially
        os.close(read_end)
        os.close(write_end)
        return None
    if pid:
        os.close(write_end)
        return pid, read_end
    status = 1
    try:  # the child: never returns into the caller's code
        os.close(read_end)
        start_anchors = dict(anchors_of())
        recording = _RecordingAnchors(start_anchors)
        set_anchors(recording)
        warned, read_before = len(warnings), BYTES_READ["bytes"]
        results = [read_one(item) for item in items]
        for record in results:
            _columns_as_arrays(record)
        answer = {"results": results, "warnings": warnings[warned:],
                  "bytes": BYTES_READ["bytes"] - read_before,
                  "looked_up": recording.looked_up,
                  "anchors": [(k, v) for k, v in recording.items() if k not in start_anchors]}
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as stream:
            stream.write(data)
        status = 0
    except BaseException:  # noqa: BLE001 - any failure: the parent reads this half itself
        pass
    finally:
        os._exit(status)


def _answer(data: bytes, status: int) -> dict | None:
    """The child's answer, or None when it failed (its half is then read again)."""
    if not data or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - a torn answer: read the half again
        return None


def _stop(pid: int) -> None:
    """End and reap the child."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
