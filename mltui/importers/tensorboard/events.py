"""Decoding TensorBoard event files with the standard library (FORMATS.md §6.2).

The TFRecord framing (length, masked CRC32C of the length, data, masked CRC32C of the data) and
the handful of protobuf messages that carry scalars and text: ``Event``, ``Summary``,
``SummaryMetadata``, ``TensorProto``, ``SessionLog`` and the hparams plugin's
``SessionStartInfo``.  Unknown fields are skipped, as protobuf itself does.  Mapping what is
decoded here to runs, params and metrics is :mod:`.runs`' job.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ...core.errors import ImportFailed
from .. import appendlog
from ..common import ImportContext, lfs_pointer, read_bytes
from ..readstate import BYTES_READ
from .crc import crc32c, masked_crc32c, masked_crcs  # noqa: F401 - crc32c: the decoder's API

# ---------------------------------------------------------------------------------------------
# TFRecord framing


class Truncated(Exception):
    """The file ends inside a record: a writer killed mid-write."""


_RECORDS_PER_CHECK = 4096  # records framed, then CRC-checked together (bounded memory)


def iter_records(path: Path, data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(record index, byte offset, payload)`` for each TFRecord in ``data``.

    A CRC mismatch raises ImportFailed naming the record and its offset.  A file that ends
    inside a record raises ``Truncated`` (the caller decides whether that is a warning).
    Records are framed a batch at a time and their CRCs computed together (see :mod:`.crc`);
    the checks then run in file order, so the same record raises the same error as checking
    one record at a time.
    """
    offset = 0
    index = 0
    total = len(data)
    while offset < total:
        frames: list[tuple[int, int, int, int]] = []  # (offset, length CRC, start, end)
        while offset < total and len(frames) < _RECORDS_PER_CHECK:
            if total - offset < 12:
                break
            (length,) = struct.unpack_from("<Q", data, offset)
            (length_crc,) = struct.unpack_from("<I", data, offset + 8)
            start = offset + 12
            frames.append((offset, length_crc, start, start + length))
            if start + length + 4 > total:
                break  # truncated, or a corrupt length: the header's CRC says which
            offset = start + length + 4
        complete = [(start, end) for _, _, start, end in frames if end + 4 <= total]
        crcs = masked_crcs(data, [(at, at + 8) for at, _, _, _ in frames] + complete)
        for number, (at, length_crc, start, end) in enumerate(frames):
            if crcs[number] != length_crc:
                raise ImportFailed(str(path), f"corrupt TFRecord: length CRC mismatch in record "
                                              f"{index} at byte offset {at}",
                                   hint="the file is damaged or is not a TensorBoard event file")
            if end + 4 > total:
                raise Truncated(index, at)
            (data_crc,) = struct.unpack_from("<I", data, end)
            if crcs[len(frames) + number] != data_crc:
                raise ImportFailed(str(path), f"corrupt TFRecord: data CRC mismatch in record "
                                              f"{index} at byte offset {at}",
                                   hint="the file is damaged; restore it or pass --skip-invalid")
            yield index, at, data[start:end]
            index += 1
        if offset < total and total - offset < 12:
            raise Truncated(index, offset)


# ---------------------------------------------------------------------------------------------
# Protobuf wire format


class DecodeError(Exception):
    """Malformed protobuf bytes inside a record whose CRC was fine."""


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    if pos < end and buf[pos] < 0x80:  # one-byte varints are by far the most common
        return buf[pos], pos + 1
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise DecodeError("varint runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def _iter_fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(field number, wire type, value)`` for a message in ``buf[pos:end]``.

    The value is an int for varints, the absolute offset for fixed32/fixed64 (unpack it with
    the right type), and a ``(start, end)`` span for length-delimited fields.
    """
    while pos < end:
        key = buf[pos]
        if key < 0x80:  # field numbers below 16: a one-byte key
            pos += 1
        else:
            key, pos = _read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise DecodeError("field number 0")
        if wire == 0:
            value, pos = _read_varint(buf, pos, end)
            yield number, wire, value
        elif wire == 1:
            if pos + 8 > end:
                raise DecodeError("fixed64 field runs past the end of its message")
            yield number, wire, pos
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos, end)
            if pos + length > end:
                raise DecodeError("length-delimited field runs past the end of its message")
            yield number, wire, (pos, pos + length)
            pos += length
        elif wire == 5:
            if pos + 4 > end:
                raise DecodeError("fixed32 field runs past the end of its message")
            yield number, wire, pos
            pos += 4
        else:
            # Groups (3/4) are not used by any TensorBoard message; 6/7 do not exist.
            raise DecodeError(f"unsupported wire type {wire} for field {number}")


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _signed32(value: int) -> int:
    # int32 negatives are sign-extended to 64 bits on the wire.
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


# TensorFlow DataType enum → struct format of one element in tensor_content.
_DTYPE_STRUCT = {1: "f", 2: "d", 3: "i", 4: "B", 5: "h", 6: "b", 9: "q", 10: "?", 17: "H",
                 19: "e", 22: "I", 23: "Q"}
DT_STRING = 7
DT_BFLOAT16 = 14


@dataclass
class Tensor:
    """The parts of a TensorProto a scalar or a text needs."""

    dtype: int = 0
    dims: list[int] = field(default_factory=list)
    numbers: list[float | int | bool] = field(default_factory=list)
    strings: list[bytes] = field(default_factory=list)


def _unpack_repeated(buf: bytes, wire: int, value: Any, fmt: str, size: int) -> list:
    """Decode a packed (wire 2) or unpacked (wire 1/5) repeated fixed-width field."""
    if wire == 2:
        start, end = value
        if (end - start) % size:
            raise DecodeError("packed field length is not a multiple of its element size")
        return list(struct.unpack_from(f"<{(end - start) // size}{fmt}", buf, start))
    return [struct.unpack_from(f"<{fmt}", buf, value)[0]]


def _varints(buf: bytes, wire: int, value: Any) -> list[int]:
    """Decode a packed (wire 2) or unpacked (wire 0) repeated varint field."""
    if wire == 0:
        return [value]
    start, end = value
    out = []
    while start < end:
        item, start = _read_varint(buf, start, end)
        out.append(item)
    return out


def _parse_tensor(buf: bytes, start: int, end: int) -> Tensor:
    tensor = Tensor()
    content: tuple[int, int] | None = None
    for number, wire, value in _iter_fields(buf, start, end):
        if number == 1 and wire == 0:
            tensor.dtype = value
        elif number == 2 and wire == 2:
            for dim_number, dim_wire, dim_value in _iter_fields(buf, *value):
                if dim_number == 2 and dim_wire == 2:
                    for size_number, size_wire, size in _iter_fields(buf, *dim_value):
                        if size_number == 1 and size_wire == 0:
                            tensor.dims.append(_signed64(size))
                            break
                    else:
                        tensor.dims.append(0)
        elif number == 4 and wire == 2:
            content = value
        elif number == 5 and wire in (2, 5):
            tensor.numbers.extend(_unpack_repeated(buf, wire, value, "f", 4))
        elif number == 6 and wire in (1, 2):
            tensor.numbers.extend(_unpack_repeated(buf, wire, value, "d", 8))
        elif number == 7 and wire in (0, 2):
            tensor.numbers.extend(_signed32(v) for v in _varints(buf, wire, value))
        elif number == 10 and wire in (0, 2):
            tensor.numbers.extend(_signed64(v) for v in _varints(buf, wire, value))
        elif number == 11 and wire in (0, 2):
            tensor.numbers.extend(bool(v) for v in _varints(buf, wire, value))
        elif number == 13 and wire in (0, 2):
            # half_val holds the 16-bit pattern of each float16/bfloat16 in an int32.
            for bits in _varints(buf, wire, value):
                tensor.numbers.append(_half_from_bits(bits & 0xFFFF, tensor.dtype))
        elif number == 8 and wire == 2:
            tensor.strings.append(buf[value[0]:value[1]])
    if content is not None and tensor.dtype != DT_STRING:
        tensor.numbers.extend(_decode_content(buf[content[0]:content[1]], tensor.dtype))
    return tensor


def _half_from_bits(bits: int, dtype: int) -> float:
    if dtype == DT_BFLOAT16:
        return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
    return struct.unpack("<e", struct.pack("<H", bits))[0]


def _decode_content(raw: bytes, dtype: int) -> list:
    """Decode ``tensor_content`` (little-endian packed elements) for numeric dtypes."""
    if dtype == DT_BFLOAT16:
        if len(raw) % 2:
            raise DecodeError("bfloat16 tensor_content has an odd length")
        return [_half_from_bits(bits, dtype) for bits in struct.unpack(f"<{len(raw) // 2}H", raw)]
    fmt = _DTYPE_STRUCT.get(dtype)
    if fmt is None:
        return []  # complex, quantized, resource, variant: nothing a scalar chart can use
    size = struct.calcsize(fmt)
    if len(raw) % size:
        raise DecodeError(f"tensor_content length {len(raw)} is not a multiple of {size}")
    return list(struct.unpack(f"<{len(raw) // size}{fmt}", raw))


@dataclass
class Metadata:
    plugin_name: str | None = None
    content: bytes = b""
    data_class: int = 0  # 1 = scalar (TF >= 2.3 writers set it)


def _parse_metadata(buf: bytes, start: int, end: int) -> Metadata:
    meta = Metadata()
    for number, wire, value in _iter_fields(buf, start, end):
        if number == 1 and wire == 2:
            for plugin_number, plugin_wire, plugin_value in _iter_fields(buf, *value):
                if plugin_number == 1 and plugin_wire == 2:
                    meta.plugin_name = _text(buf, plugin_value)
                elif plugin_number == 2 and plugin_wire == 2:
                    meta.content = buf[plugin_value[0]:plugin_value[1]]
        elif number == 4 and wire == 0:
            meta.data_class = value
    return meta


def _text(buf: bytes, span: tuple[int, int]) -> str:
    return buf[span[0]:span[1]].decode("utf-8", "replace")


@dataclass
class Value:
    """One ``Summary.Value``: its tag and whichever payload we can use."""

    tag: str = ""
    simple_value: float | None = None
    tensor: Tensor | None = None
    metadata: Metadata | None = None


_FLOAT32 = struct.Struct("<f")


def _parse_summary(buf: bytes, start: int, end: int) -> list[Value]:
    values = []
    for number, wire, span in _iter_fields(buf, start, end):
        if number != 1 or wire != 2:
            continue
        first, stop = span
        if stop - first > 6 and buf[first] == 0x0A and buf[first + 1] < 0x80:
            # The usual scalar, exactly ``tag`` then ``simple_value`` and nothing else: decoded
            # in place (the loop below would give the same Value, at several times the cost).
            tag_end = first + 2 + buf[first + 1]
            if tag_end + 5 == stop and buf[tag_end] == 0x15:
                values.append(Value(_text(buf, (first + 2, tag_end)),
                                    _FLOAT32.unpack_from(buf, tag_end + 1)[0]))
                continue
        value = Value()
        node_name = ""
        for v_number, v_wire, v_value in _iter_fields(buf, *span):
            if v_number == 1 and v_wire == 2:
                value.tag = _text(buf, v_value)
            elif v_number == 7 and v_wire == 2:
                node_name = _text(buf, v_value)
            elif v_number == 2 and v_wire == 5:
                (value.simple_value,) = struct.unpack_from("<f", buf, v_value)
            elif v_number == 8 and v_wire == 2:
                value.tensor = _parse_tensor(buf, *v_value)
            elif v_number == 9 and v_wire == 2:
                value.metadata = _parse_metadata(buf, *v_value)
        # TF1 graph-mode summaries could leave the tag empty and name the node instead.
        value.tag = value.tag or node_name
        values.append(value)
    return values


@dataclass(slots=True)
class Event:
    """The parts of one ``Event`` a run needs.

    ``file_version`` is set on a file's first event (``brain.Event:2``); ``session_start`` is
    True for a ``SessionLog`` START, which TensorBoard's own reader treats as a restart that
    discards the earlier points at or after its step.
    """

    wall_time: float | None
    step: int
    values: list[Value]
    file_version: str | None = None
    session_start: bool = False


SESSION_LOG_START = 1


def _parse_event(buf: bytes) -> Event:
    """Decode one serialized ``Event``."""
    wall_time = None
    step = 0  # proto3 leaves a zero step off the wire
    values: list[Value] = []
    file_version = None
    session_start = False
    for number, wire, value in _iter_fields(buf, 0, len(buf)):
        if number == 1 and wire == 1:
            (wall_time,) = struct.unpack_from("<d", buf, value)
        elif number == 2 and wire == 0:
            step = _signed64(value)
        elif number == 3 and wire == 2:
            file_version = _text(buf, value)
        elif number == 5 and wire == 2:
            values.extend(_parse_summary(buf, *value))
        elif number == 7 and wire == 2:
            for log_number, log_wire, log_value in _iter_fields(buf, *value):
                if log_number == 1 and log_wire == 0 and log_value == SESSION_LOG_START:
                    session_start = True
    return Event(wall_time, step, values, file_version, session_start)


def _parse_struct_value(buf: bytes, start: int, end: int, depth: int = 0) -> Any:
    """Decode a ``google.protobuf.Value`` (hparams values) into a Python object."""
    if depth > 32:
        raise DecodeError("hparams value nested too deeply")
    result: Any = None
    for number, wire, value in _iter_fields(buf, start, end):
        if number == 2 and wire == 1:
            (result,) = struct.unpack_from("<d", buf, value)
        elif number == 3 and wire == 2:
            result = _text(buf, value)
        elif number == 4 and wire == 0:
            result = bool(value)
        elif number == 5 and wire == 2:  # Struct {map<string, Value> fields = 1}
            result = dict(_map_entries(buf, *value, depth=depth + 1))
        elif number == 6 and wire == 2:  # ListValue {repeated Value values = 1}
            result = [_parse_struct_value(buf, *item, depth=depth + 1)
                      for item_number, item_wire, item in _iter_fields(buf, *value)
                      if item_number == 1 and item_wire == 2]
    return result


def _map_entries(buf: bytes, start: int, end: int, depth: int = 0) -> Iterator[tuple[str, Any]]:
    for number, wire, entry in _iter_fields(buf, start, end):
        if number != 1 or wire != 2:
            continue
        key, item = "", None
        for e_number, e_wire, e_value in _iter_fields(buf, *entry):
            if e_number == 1 and e_wire == 2:
                key = _text(buf, e_value)
            elif e_number == 2 and e_wire == 2:
                item = _parse_struct_value(buf, *e_value, depth=depth)
        yield key, item


def session_start_hparams(content: bytes) -> dict[str, Any] | None:
    """The hparams map of an ``HParamsPluginData.session_start_info``, else None."""
    for number, wire, value in _iter_fields(content, 0, len(content)):
        if number == 3 and wire == 2:
            return dict(_map_entries(content, *value))
    return None


def record_end(data: bytes) -> int:
    """The byte offset after the last whole TFRecord of ``data`` (by the framing; the CRCs are
    checked when the records are read): where a reader of appended records goes on."""
    offset, total = 0, len(data)
    while total - offset >= 12:
        (length,) = struct.unpack_from("<Q", data, offset)
        end = offset + 12 + length + 4
        if end > total:
            break
        offset = end
    return offset


def read_event_file(file: Path, ctx: ImportContext,
                    reads: list[tuple[str, bytes, int, int | None]] | None = None
                    ) -> Iterator[Event] | None:
    """The events of one file, decoded lazily; None when it is skipped (a Git LFS pointer).

    Events are decoded one at a time as the caller iterates, so a big file never exists as a
    list of decoded events.  With ``reads`` (a watch), the file's bytes, the offset after its
    last whole record and its inode before the read are added there (see appendlog).
    """
    data = read_event_bytes(file, ctx, reads)
    if data is None:
        return None
    return decode_events(file, data, ctx) if data else iter(())


def read_event_bytes(file: Path, ctx: ImportContext,
                     reads: list[tuple[str, bytes, int, int | None]] | None = None
                     ) -> bytes | None:
    """The bytes of one event file (noted in ``reads``, as for :func:`read_event_file`); None
    when it is skipped (a Git LFS pointer), with a warning, as for an empty file."""
    pointer = lfs_pointer(file)
    if pointer is not None:
        ctx.warn(f"{file}: Git LFS pointer (oid sha256:{pointer[0][:12]}…), not the event data; "
                 "run `git lfs pull` to import it")
        return None
    inode = appendlog.inode_of(file) if reads is not None else None
    try:
        data = read_bytes(file)  # inside the imported folder, a regular file, bounded
    except OSError as exc:
        raise ImportFailed(str(file), f"cannot read: {exc.strerror or exc}") from None
    BYTES_READ["bytes"] += len(data)
    if reads is not None:
        reads.append((str(file), data, record_end(data), inode))
    if not data:
        ctx.warn(f"{file}: empty event file (the writer had not flushed yet)")
    return data


def decode_events(file: Path, data: bytes, ctx: ImportContext) -> Iterator[Event]:
    """The events of the records of ``data`` (a file's bytes, or whole records appended to
    it), decoded lazily; a bad record is an ImportFailed, a truncated last one a warning."""
    try:
        for index, offset, payload in iter_records(file, data):
            try:
                event = _parse_event(payload)
            except (DecodeError, struct.error) as exc:
                raise ImportFailed(str(file), f"malformed Event in record {index} at byte offset "
                                              f"{offset}: {exc}") from None
            yield event
    except Truncated as truncated:
        index, offset = truncated.args
        if index == 0:
            raise ImportFailed(str(file), "not a TensorBoard event file: no complete record",
                               hint="the file is too short to hold one TFRecord") from None
        ctx.warn(f"{file}: truncated record {index} at byte offset {offset} (the writer "
                 f"stopped mid-write); read the {index} complete records before it")


