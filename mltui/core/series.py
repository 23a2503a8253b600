"""Metric points stored as packed series: one row per (run, metric key).

A run logs hundreds to millions of points; a row per point made the import spend most of its
time inside SQLite (0.9 s of 2 s for 500,000 points) and the file five times larger than
needed.  Here each (run, key) keeps its points in log order as little-endian arrays — steps
(int64), values, epochs and wall times (float64) — with NaN/None markers and the raw text of
non-finite values on the side.  The logical record is unchanged: every point comes back with
its step, value, raw text, epoch, axis, wall time and position in the log.

Steps that form an arithmetic progression (``start, start+stride, ...``: 0, 1, 2 ... for most
runs; stride 0 or negative too), every step given and at least 3 of them, are stored as 16
bytes ``<qq`` (start, stride) instead of 8 bytes a point.  A full steps blob is always
``8 * count`` bytes, so a 16-byte blob of a row whose count is not 2 can only be a progression:
that is the whole rule (:func:`unpack_steps`), and full blobs written by older catalogs or
other writers (benchmarks/generate.py) stay valid as they are.  Every reader of a steps blob
goes through :func:`unpack_steps`.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from array import array
from functools import lru_cache
from typing import Iterable, NamedTuple, Sequence

from .records import MetricColumns, MetricPoint

NO_STEP = -(2 ** 63)  # int64 marker for a point logged without a step
_NAN = float("nan")
_SWAP = sys.byteorder == "big"  # blobs are little-endian whatever the machine
_INT64_MAX = 2 ** 63 - 1
_PROGRESSION = struct.Struct("<qq")  # (start, stride): the steps blob of a progression
_MIN_PROGRESSION = 3  # 2 steps are a full 16-byte blob already


def progression(steps: Sequence[int | None]) -> tuple[int, int] | None:
    """``(start, stride)`` when ``steps`` (a list or a range) is an arithmetic progression of
    at least 3 int64 steps, every one given and none equal to ``NO_STEP`` (the full blob keeps
    that marker); else None.

    No Python-level loop per step: a range says it itself; a list is tested on its first,
    second and last items, then compared whole with the progression they imply in C.
    """
    count = len(steps)
    if count < _MIN_PROGRESSION:
        return None
    if type(steps) is range:
        start, stride = steps.start, steps.step
        last = steps[-1]
    else:
        start, second, last = steps[0], steps[1], steps[-1]
        if type(start) is not int or type(second) is not int or type(last) is not int:
            return None  # None, bool, float: packed item by item as always
        stride = second - start
        if last != start + stride * (count - 1):
            return None  # the cheap test rejects most series that are not progressions
        if stride == 0:
            if steps.count(start) != count:
                return None
        elif steps != list(range(start, last + stride, stride)):
            return None
    if not (NO_STEP < start <= _INT64_MAX and NO_STEP < last <= _INT64_MAX):
        return None  # past int64 (the full packing raises its usual error), or the marker
    return start, stride


def unpack_steps(blob: bytes | None, count: int) -> Sequence[int | None]:
    """The ``count`` steps of a ``metric_series.steps`` blob (``NO_STEP`` where a point had no
    step; every item None when the blob is None): a range or a list for a progression."""
    if blob is not None and len(blob) == _PROGRESSION.size and count != 2:
        start, stride = _PROGRESSION.unpack(blob)
        if stride == 0:
            return [start] * count
        return range(start, start + stride * count, stride)
    return _unpack("q", blob, count)


def pack_steps(steps: Sequence[int | None]) -> bytes:
    """Steps as the blob of ``metric_series.steps`` (None for no step): 16 bytes for a
    progression, else int64 each."""
    found = progression(steps)
    if found is not None:
        return _PROGRESSION.pack(*found)
    if isinstance(steps, list) and None not in steps:  # the usual case: packed as it is, in C
        return _pack("q", steps)
    return _pack("q", [NO_STEP if s is None else s for s in steps])


def pack_floats(values: Iterable[float | None]) -> bytes:
    """Floats as the float64 blob of ``vals``/``epochs``/``wall_times`` (None → NaN)."""
    if isinstance(values, list) and None not in values:  # the usual case, in C
        return _pack("d", values)
    return _pack("d", [_NAN if v is None else v for v in values])


def _pack(kind: str, items: Iterable) -> bytes:
    packed = array(kind, items)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpack(kind: str, blob: bytes | None, count: int) -> Sequence:
    if blob is None:
        return [None] * count
    unpacked = array(kind)
    unpacked.frombytes(blob)
    if _SWAP:
        unpacked.byteswap()
    return unpacked


class Encoded(NamedTuple):
    """The columns of one ``metric_series`` row (a tuple: made once per key of every run)."""

    count: int
    steps: bytes | None
    vals: bytes
    epochs: bytes | None
    wall_times: bytes | None
    axis: str | None
    axes: str | None
    raws: str | None


def encode(points: Sequence[MetricPoint]) -> Encoded:
    """Pack one key's points (in log order)."""
    steps = [p.step for p in points]
    epochs = [p.epoch for p in points]
    walls = [p.wall_time for p in points]
    axes = {p.axis for p in points}
    raws = {i: p.raw for i, p in enumerate(points) if p.raw is not None}
    has_steps = any(s is not None for s in steps)
    return Encoded(
        count=len(points),
        steps=pack_steps(steps) if has_steps else None,
        vals=pack_floats([p.value for p in points]),
        epochs=pack_floats(epochs) if any(e is not None for e in epochs) else None,
        wall_times=pack_floats(walls) if any(w is not None for w in walls) else None,
        axis=next(iter(axes)) if len(axes) == 1 else None,
        axes=None if len(axes) == 1 else json.dumps([p.axis for p in points]),
        raws=json.dumps({str(i): r for i, r in raws.items()}) if raws else None,
    )


def encode_columns(columns: MetricColumns) -> Encoded:
    """Pack a metric given as columns (no per-point objects on the way)."""
    steps, values = columns.steps, columns.values  # steps: a list, or a range (MLflow's 0..n)
    walls, epochs = columns.wall_times, columns.epochs
    found = progression(steps)
    try:
        # The usual column, every item given: packed in C by struct (array() converts each
        # item through its generic argument parser, 4x the instructions), and a None anywhere
        # is struct's own error (no scan of each column for None first).
        if found is not None:
            packed_steps = _PROGRESSION.pack(*found)
        else:
            packed_steps = _little("q", len(steps)).pack(*steps) if steps else None
        packed_values = _little("d", len(values)).pack(*values)
        packed_walls = _little("d", len(walls)).pack(*walls) if walls is not None else None
    except struct.error:  # a None, a float step ...: the general packing (and its errors)
        if found is None:
            packed_steps = pack_steps(steps) if _any_given(steps) else None
        packed_values = pack_floats(values)
        packed_walls = pack_floats(walls) if walls is not None else None
    return Encoded(
        len(values), packed_steps, packed_values,
        pack_floats(epochs) if epochs is not None and _any_given(epochs) else None,
        packed_walls, columns.axis, None,
        json.dumps({str(i): r for i, r in columns.raws.items()}) if columns.raws else None)


@lru_cache(maxsize=256)
def _little(code: str, count: int) -> struct.Struct:
    """The little-endian packer of ``count`` items of array type ``code`` ("q" or "d")."""
    return struct.Struct(f"<{count}{code}")


def _any_given(items: list) -> bool:
    """Whether any item is not None (a C-level test first: the usual column has no None)."""
    return bool(items) and (None not in items or any(item is not None for item in items))


def decode(key: str, count: int, steps: bytes | None, vals: bytes, epochs: bytes | None,
           wall_times: bytes | None, axis: str | None, axes: str | None,
           raws: str | None) -> list[MetricPoint]:
    """The points of one series, in log order (``seq`` is the position)."""
    step_values = unpack_steps(steps, count)
    values = _unpack("d", vals, count)
    epoch_values = _unpack("d", epochs, count)
    wall_values = _unpack("d", wall_times, count)
    axis_list = json.loads(axes) if axes else [axis] * count
    raw_map = {int(i): r for i, r in json.loads(raws).items()} if raws else {}
    points = []
    for i in range(count):
        step = step_values[i]
        value = values[i]
        epoch = epoch_values[i]
        wall = wall_values[i]
        points.append(MetricPoint(
            key=key,
            value=None if value is None or math.isnan(value) else value,
            step=None if step is None or step == NO_STEP else step,
            epoch=None if epoch is None or math.isnan(epoch) else epoch,
            axis=axis_list[i],
            wall_time=None if wall is None or math.isnan(wall) else wall,
            raw=raw_map.get(i),
            seq=i))
    return points


def curve(steps: bytes | None, vals: bytes, count: int) -> list[tuple[int | None, float | None]]:
    """``(step, value)`` pairs ordered by step (log order among equal steps), for charts."""
    step_values = unpack_steps(steps, count)
    values = [None if value != value else value for value in _unpack("d", vals, count)]  # NaN
    if type(step_values) is range and step_values.step > 0:
        return list(zip(step_values, values))  # a rising progression: in step order
    if steps is not None and NO_STEP not in step_values \
            and all(a <= b for a, b in zip(step_values, step_values[1:])):
        # Logged in step order (the usual run): the sort below would change nothing.
        return list(zip(step_values, values))
    pairs = [(None if step is None or step == NO_STEP else step, value, i)
             for i, (step, value) in enumerate(zip(step_values, values))]
    pairs.sort(key=lambda item: (item[0] is None, item[0] or 0, item[2]))
    return [(step, value) for step, value, _ in pairs]


def step_set(steps: bytes, count: int) -> set[int]:
    """The distinct steps of a packed steps blob (``NO_STEP`` for points without one)."""
    return set(unpack_steps(steps, count))


def append_encoded(old: Encoded, new: Encoded) -> Encoded:
    """The row of ``old``'s points followed by ``new``'s, byte for byte what :func:`encode` of
    all the points gives, without decoding ``old`` (a watch appending a grown log's points)."""

    def joined(before: bytes | None, after: bytes | None, pack) -> bytes | None:
        if before is None and after is None:
            return None
        return ((before if before is not None else pack([None] * old.count))
                + (after if after is not None else pack([None] * new.count)))

    if old.axes is None and new.axes is None and old.axis == new.axis:
        axis, axes = old.axis, None
    else:
        axis, axes = None, json.dumps((json.loads(old.axes) if old.axes else [old.axis] * old.count)
                                      + (json.loads(new.axes) if new.axes else
                                         [new.axis] * new.count))
    raws = json.loads(old.raws) if old.raws else {}
    if new.raws:
        raws.update({str(int(i) + old.count): r for i, r in json.loads(new.raws).items()})
    return Encoded(count=old.count + new.count,
                   steps=_joined_steps(old, new),
                   vals=old.vals + new.vals,
                   epochs=joined(old.epochs, new.epochs, pack_floats),
                   wall_times=joined(old.wall_times, new.wall_times, pack_floats),
                   axis=axis, axes=axes, raws=json.dumps(raws) if raws else None)


def _joined_steps(old: Encoded, new: Encoded) -> bytes | None:
    """The steps blob of ``old``'s points followed by ``new``'s, as :func:`pack_steps` of all
    the steps gives it (a progression stays 16 bytes while the new steps continue it)."""
    if old.steps is None and new.steps is None:
        return None
    before = unpack_steps(old.steps, old.count) if old.steps is not None else [None] * old.count
    after = unpack_steps(new.steps, new.count) if new.steps is not None else [None] * new.count
    if type(before) is range and len(after) and type(after[0]) is int:
        # A watch appending to a 0, 1, 2 ... series: the usual growth continues it.
        stride = before.step
        follows = range(before[-1] + stride, before[-1] + stride * (len(after) + 1), stride)
        if (after if type(after) is range else list(after)) == (
                follows if type(after) is range else list(follows)):
            return old.steps
    # NO_STEP items (points without a step) pack as None does, and no progression holds one.
    return pack_steps([*before, *after])
