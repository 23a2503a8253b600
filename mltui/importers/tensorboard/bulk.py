"""Scalar event files decoded a whole file at a time with numpy (the fast path of :mod:`.runs`).

What PyTorch's ``SummaryWriter``, tensorboardX and TF2's scalar writers mostly write is one
``Event`` per step in one regular layout: ``wall_time`` (fixed64), ``step`` (varint, absent when
0), then a ``Summary`` of values that are exactly ``tag`` + ``simple_value`` (float32).  Decoding
each such event in Python costs ~20 µs; here every record of a file is framed, CRC-checked and
decoded in a few numpy passes.  Only files that are clean and regular take this path: records
in any other layout (the file-version event, hparams, text summaries) are decoded one by one by
:mod:`.events` and may appear anywhere, but a file with a damaged or truncated record, an older
file version (whose purge rules follow steps), a restart marker or any value this path does not
decode goes back, whole, to the general decoder, which says what is wrong where.  The result is
what the general path would add, point for point (tests/importers/test_tensorboard_bulk.py).
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .crc import _LONGEST_FOR_TABLE as _LONGEST
from .crc import masked_crcs_of
from .events import DecodeError, Event, _parse_event

# numpy's import (~0.1 s) pays for itself after about this many bytes of event files.
NUMPY_AFTER_BYTES = 1 << 17
_seen = {"bytes": 0}
_LENGTH = struct.Struct("<Q")


@dataclass
class ScalarFile:
    """One file's events, decoded: the scalar points by tag and the other events in order."""

    # tag -> (values, steps, wall times), each in file order (values as logged, NaN included)
    columns: dict[str, tuple[list[float], list[int], list[float]]]
    others: list[tuple[int, Event]]  # (record index, event) of every record not in the scalar
    # layout, in file order
    first_scalar: int  # the record index of the first scalar decoded in bulk
    first_time: float | None  # the first and last event's wall_time
    last_time: float | None


def worth_it(size: int) -> bool:
    """Whether to try numpy on an event file of ``size`` bytes (numpy imported, or it pays)."""
    _seen["bytes"] += size
    return "numpy" in sys.modules or size >= NUMPY_AFTER_BYTES or \
        _seen["bytes"] >= NUMPY_AFTER_BYTES


def _frames(data: bytes) -> list[int] | None:
    """Where each record's payload starts; None unless the records fill the file exactly (a
    truncated tail goes to the general path, which warns about it)."""
    starts = []
    offset, total = 0, len(data)
    unpack = _LENGTH.unpack_from
    while offset + 16 <= total:
        starts.append(offset + 12)
        offset += unpack(data, offset)[0] + 16
    return starts if offset == total else None


def _checked(u8: Any, starts: Any, ends: Any, np: Any) -> bool:
    """Whether every record's length CRC and data CRC match (numpy, all records at once)."""
    if not len(starts) or int((ends - starts).max()) > _LONGEST or int((ends - starts).min()) < 1:
        return False  # empty or long payloads: the general path checks those one by one
    crcs = masked_crcs_of(u8, np.concatenate([starts - 12, starts]),
                          np.concatenate([np.full(len(starts), 8, dtype=np.int64), ends - starts]))
    stored = np.concatenate([_u32(u8, starts - 4, np), _u32(u8, ends, np)])
    return bool(np.array_equal(crcs, stored))


def _u32(u8: Any, at: Any, np: Any) -> Any:
    """The little-endian uint32 at each position."""
    return u8[at[:, None] + np.arange(4)].copy().view("<u4")[:, 0].astype(np.uint64)


def _varints(u8: Any, at: Any, limit: Any, np: Any) -> tuple[Any, Any, Any]:
    """Decode one varint at each position: ``(values as uint64, lengths, ok)``."""
    count = len(at)
    window = at[:, None] + np.arange(10)
    window = np.minimum(window, len(u8) - 1)
    raw = u8[window].astype(np.uint64)
    stops = (raw & 0x80) == 0
    ok = stops.any(axis=1)
    lengths = np.argmax(stops, axis=1) + 1
    ok &= at + lengths <= limit
    # The tenth byte holds only the top bit of a 64-bit value; more is malformed here.
    ok &= ~((lengths == 10) & (raw[:, 9] > 1))
    keep = np.arange(10)[None, :] < lengths[:, None]
    parts = np.where(keep, (raw & 0x7F) << (np.arange(10, dtype=np.uint64) * 7), 0)
    values = np.bitwise_or.reduce(parts, axis=1) if count else np.zeros(0, np.uint64)
    return values, lengths, ok


def decode_scalar_file(data: bytes) -> ScalarFile | None:
    """The file's events when every record is clean and the scalars are regular, else None."""
    import numpy as np

    starts_list = _frames(data)
    if not starts_list:
        return None
    u8 = np.frombuffer(data, dtype=np.uint8)
    starts = np.array(starts_list, dtype=np.int64)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 16
    ends[-1] = len(data) - 4
    if not _checked(u8, starts, ends, np):
        return None  # a damaged record (or an unusual one): the general path names it
    ends_list = ends.tolist()
    regular = (ends - starts >= 16) & (u8[np.minimum(starts, len(u8) - 1)] == 0x09)
    # wall_time: fixed64 right after the first key byte.
    wall_at = starts + 1
    walls = u8[np.minimum(wall_at[:, None] + np.arange(8), len(u8) - 1)].copy().view("<f8")[:, 0]
    key_at = np.minimum(starts + 9, ends - 1)
    has_step = u8[key_at] == 0x10
    step_values, step_lengths, step_ok = _varints(u8, key_at + 1, ends, np)
    steps = np.where(has_step, step_values, 0).view(np.int64)
    regular &= ~has_step | step_ok
    summary_key = np.where(has_step, key_at + 1 + step_lengths, key_at)
    summary_key = np.minimum(summary_key, ends - 1)
    regular &= u8[summary_key] == 0x2A
    sizes, size_lengths, size_ok = _varints(u8, summary_key + 1, ends, np)
    cursor = summary_key + 1 + size_lengths
    regular &= size_ok & (cursor + sizes.astype(np.int64) == ends)
    # The values of each regular summary: ``0A <len> 0A <tag len> tag 15 <float32>``.
    records, tag_starts, tag_lengths, value_at = [], [], [], []
    active = np.flatnonzero(regular)
    position = cursor[active]
    limit = ends[active]
    while len(active):
        inside = position < limit
        active, position, limit = active[inside], position[inside], limit[inside]
        if not len(active):
            break
        head = u8[np.minimum(position[:, None] + np.arange(4), len(u8) - 1)].astype(np.int64)
        value_length, tag_length = head[:, 1], head[:, 3]
        fits = ((head[:, 0] == 0x0A) & (value_length < 0x80) & (head[:, 2] == 0x0A)
                & (tag_length < 0x80) & (value_length == tag_length + 7)
                & (position + 2 + value_length <= limit))
        marker = u8[np.minimum(position + 4 + tag_length, len(u8) - 1)]
        fits &= marker == 0x15
        if not fits.all():
            regular[active[~fits]] = False  # decoded by the general path, below
            active, position, limit = active[fits], position[fits], limit[fits]
            value_length, tag_length = value_length[fits], tag_length[fits]
        records.append(active)
        tag_starts.append(position + 4)
        tag_lengths.append(tag_length)
        value_at.append(position + 5 + tag_length)
        position = position + 2 + value_length
    others = _others(data, starts_list, ends_list, regular)
    if others is None:
        return None
    columns, first_scalar = _columns(data, u8, regular, records, tag_starts, tag_lengths,
                                     value_at, walls, steps, np)
    last = len(starts_list) - 1
    other_walls = {index: event.wall_time for index, event in others}
    # As the general path: the first wall_time any event carries, and the last event's own.
    first_time = next((time for time in (_wall(walls, regular, other_walls, index)
                                         for index in range(last + 1)) if time is not None), None)
    return ScalarFile(columns, others, first_scalar if first_scalar is not None else last + 1,
                      first_time, _wall(walls, regular, other_walls, last))


def _wall(walls: Any, regular: Any, other_walls: dict[int, float | None],
          index: int) -> float | None:
    return float(walls[index]) if regular[index] else other_walls[index]


def _others(data: bytes, starts: list[int], ends: list[int], regular: Any
            ) -> list[tuple[int, Event]] | None:
    """The records outside the scalar layout, decoded by the general decoder; None when one of
    them is malformed (the general path reports it with its offset)."""
    others = []
    for index in (~regular).nonzero()[0].tolist():
        try:
            others.append((index, _parse_event(data[starts[index]:ends[index]])))
        except (DecodeError, struct.error):
            return None
    return others


def _columns(data: bytes, u8: Any, regular: Any, records: list, tag_starts: list,
             tag_lengths: list, value_at: list, walls: Any, steps: Any, np: Any
             ) -> tuple[dict[str, tuple[list[float], list[int], list[float]]], int | None]:
    """Every scalar of the regular records as columns by tag, in file order, and the index
    of the first record holding one."""
    if not records:
        return {}, None
    record = np.concatenate(records)
    keep = regular[record]  # a record found irregular at a later value drops all its values
    order = np.argsort(record[keep], kind="stable")  # file order: record, then value position
    record = record[keep][order]
    if not len(record):
        return {}, None
    tag_start = np.concatenate(tag_starts)[keep][order]
    tag_length = np.concatenate(tag_lengths)[keep][order]
    at = np.concatenate(value_at)[keep][order]
    values = u8[at[:, None] + np.arange(4)].copy().view("<f4")[:, 0].astype(np.float64)
    width = int(tag_length.max()) if len(tag_length) else 0
    # Tags as fixed-width rows (length first, so "a" and "a\0" differ), grouped by np.unique.
    cells = np.zeros((len(record), width + 1), dtype=np.uint8)
    cells[:, 0] = tag_length
    if width:
        offsets = np.arange(width)
        inside = offsets[None, :] < tag_length[:, None]
        cells[:, 1:] = np.where(inside, u8[np.minimum(tag_start[:, None] + offsets,
                                                      len(u8) - 1)], 0)
    rows = np.ascontiguousarray(cells).view(np.dtype((np.void, width + 1)))[:, 0]
    _, first_seen, inverse = np.unique(rows, return_index=True, return_inverse=True)
    columns: dict[str, tuple[list[float], list[int], list[float]]] = {}
    # Tags in order of first appearance; byte tags that decode to the same text share a column.
    by_text: dict[str, list[int]] = {}
    for group in np.argsort(first_seen, kind="stable").tolist():
        start = int(tag_start[first_seen[group]])
        text = data[start:start + int(tag_length[first_seen[group]])].decode("utf-8", "replace")
        by_text.setdefault(text, []).append(group)
    inverse = inverse.reshape(-1)
    for text, groups in by_text.items():
        mask = inverse == groups[0] if len(groups) == 1 else np.isin(inverse, groups)
        chosen = record[mask]
        columns[text] = (values[mask].tolist(), steps[chosen].tolist(),
                         walls[chosen].tolist())
    return columns, int(record[0])


def read_bulk(path: Path, data: bytes) -> ScalarFile | None:
    """:func:`decode_scalar_file` for a file's bytes, when numpy is worth it for them."""
    if not worth_it(len(data)):
        return None
    return decode_scalar_file(data)
