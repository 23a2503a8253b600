"""TensorBoard event files (``events.out.tfevents.*``), read without TensorFlow.

See ``shared/FORMATS.md`` §6.  A log dir is one run: the event files directly in it (several
files are restarts of the same run and merge by ``(tag, step)``, the later file winning), plus
the Keras/TF2 layout where the callback writes ``train/`` and ``validation/`` subdirs, plus the
float-named subdirs that ``SummaryWriter.add_hparams`` creates.

Everything is decoded with the standard library: the TFRecord framing (length, masked CRC32C of
the length, data, masked CRC32C of the data) and the handful of protobuf messages that carry
scalars and text (``Event``, ``Summary``, ``SummaryMetadata``, ``TensorProto`` and the hparams
plugin's ``SessionStartInfo``).  Unknown fields are skipped, as protobuf itself does.

What a run yields:

* metrics: ``simple_value`` scalars (PyTorch ``SummaryWriter``, tensorboardX: HF Trainer,
  Lightning, detectron2) and single-value tensors of the ``scalars`` plugin (TF2, Keras), with
  ``step``, ``wall_time`` and axis ``"step"``; float32 values are kept exactly as stored.
* params: HF's ``args/text_summary`` (the TrainingArguments JSON, flattened) and the hparams
  plugin's ``session_start_info``.
* tags: every other ``text`` plugin tensor (``model_config/text_summary`` → tag ``model_config``).

Histograms, images, audio, graphs and other plugins' tensors are skipped.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..core.errors import ImportFailed
from ..core.records import ImportBatch, MetricPoint, RunRecord
from .common import (ImportContext, as_param_text, fingerprint, flatten, lfs_pointer,
                     looks_like_email, read_bytes, scrub_pii, stable_uid)

FORMAT = "tensorboard"
KIND = "dir"
CONSUMES_SUBTREE = True

EVENT_FILE_PREFIX = "events.out.tfevents."
# The Keras TensorBoard callback (TF2) writes one run as two sibling writers.
SPLIT_SUBDIRS = ("train", "validation")
HF_ARGS_TAG = "args/text_summary"
TEXT_SUFFIX = "/text_summary"

# HF Trainer / PyTorch SummaryWriter default log dir: ``runs/May04_21-52-32_<hostname>``.
_DATED_RUN_DIR = re.compile(r"^([^\W\d_]{3,5}\d{2}_\d{2}-\d{2}-\d{2})_(.+)$")
_EVENT_FILE_TIME = re.compile(r"^events\.out\.tfevents\.(\d+)")
_FLOAT_NAME = re.compile(r"^\d+(\.\d+)?$")
_VERSION_DIR = re.compile(r"^version_\d+$")
_SECRET_KEY = re.compile(r"(token|password|secret|api_key)", re.IGNORECASE)
_WALK_SKIP = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".mltui"}


# ---------------------------------------------------------------------------------------------
# Detection


def _event_files(directory: Path) -> list[Path]:
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
    if _event_files(path):
        return True
    return any(_event_files(path / sub) for sub in SPLIT_SUBDIRS if (path / sub).is_dir())


# ---------------------------------------------------------------------------------------------
# CRC32C (Castagnoli), as TFRecord framing uses it.  zlib's crc32 is a different polynomial.


def _make_crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _make_crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli polynomial) of ``data``, table-driven, pure Python."""
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC32C that TFRecord stores (rotated and offset, per TensorFlow's crc32c.h)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------
# TFRecord framing


class _Truncated(Exception):
    """The file ends inside a record: a writer killed mid-write."""


def iter_records(path: Path, data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(record index, byte offset, payload)`` for each TFRecord in ``data``.

    A CRC mismatch raises ImportFailed naming the record and its offset.  A file that ends
    inside a record raises ``_Truncated`` (the caller decides whether that is a warning).
    """
    offset = 0
    index = 0
    total = len(data)
    while offset < total:
        if total - offset < 12:
            raise _Truncated(index, offset)
        header = data[offset:offset + 8]
        (length,) = struct.unpack_from("<Q", data, offset)
        (length_crc,) = struct.unpack_from("<I", data, offset + 8)
        if masked_crc32c(header) != length_crc:
            raise ImportFailed(str(path), f"corrupt TFRecord: length CRC mismatch in record "
                                          f"{index} at byte offset {offset}",
                               hint="the file is damaged or is not a TensorBoard event file")
        start = offset + 12
        end = start + length
        if end + 4 > total:
            raise _Truncated(index, offset)
        payload = data[start:end]
        (data_crc,) = struct.unpack_from("<I", data, end)
        if masked_crc32c(payload) != data_crc:
            raise ImportFailed(str(path), f"corrupt TFRecord: data CRC mismatch in record "
                                          f"{index} at byte offset {offset}",
                               hint="the file is damaged; restore it or pass --skip-invalid")
        yield index, offset, payload
        offset = end + 4
        index += 1


# ---------------------------------------------------------------------------------------------
# Protobuf wire format


class _DecodeError(Exception):
    """Malformed protobuf bytes inside a record whose CRC was fine."""


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    if pos < end and buf[pos] < 0x80:  # one-byte varints are by far the most common
        return buf[pos], pos + 1
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise _DecodeError("varint runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _DecodeError("varint longer than 10 bytes")


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
            raise _DecodeError("field number 0")
        if wire == 0:
            value, pos = _read_varint(buf, pos, end)
            yield number, wire, value
        elif wire == 1:
            if pos + 8 > end:
                raise _DecodeError("fixed64 field runs past the end of its message")
            yield number, wire, pos
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos, end)
            if pos + length > end:
                raise _DecodeError("length-delimited field runs past the end of its message")
            yield number, wire, (pos, pos + length)
            pos += length
        elif wire == 5:
            if pos + 4 > end:
                raise _DecodeError("fixed32 field runs past the end of its message")
            yield number, wire, pos
            pos += 4
        else:
            # Groups (3/4) are not used by any TensorBoard message; 6/7 do not exist.
            raise _DecodeError(f"unsupported wire type {wire} for field {number}")


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
class _Tensor:
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
            raise _DecodeError("packed field length is not a multiple of its element size")
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


def _parse_tensor(buf: bytes, start: int, end: int) -> _Tensor:
    tensor = _Tensor()
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
            raise _DecodeError("bfloat16 tensor_content has an odd length")
        return [_half_from_bits(bits, dtype) for bits in struct.unpack(f"<{len(raw) // 2}H", raw)]
    fmt = _DTYPE_STRUCT.get(dtype)
    if fmt is None:
        return []  # complex, quantized, resource, variant: nothing a scalar chart can use
    size = struct.calcsize(fmt)
    if len(raw) % size:
        raise _DecodeError(f"tensor_content length {len(raw)} is not a multiple of {size}")
    return list(struct.unpack(f"<{len(raw) // size}{fmt}", raw))


@dataclass
class _Metadata:
    plugin_name: str | None = None
    content: bytes = b""
    data_class: int = 0  # 1 = scalar (TF >= 2.3 writers set it)


def _parse_metadata(buf: bytes, start: int, end: int) -> _Metadata:
    meta = _Metadata()
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
class _Value:
    """One ``Summary.Value``: its tag and whichever payload we can use."""

    tag: str = ""
    simple_value: float | None = None
    tensor: _Tensor | None = None
    metadata: _Metadata | None = None


def _parse_summary(buf: bytes, start: int, end: int) -> list[_Value]:
    values = []
    for number, wire, span in _iter_fields(buf, start, end):
        if number != 1 or wire != 2:
            continue
        value = _Value()
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


def _parse_event(buf: bytes) -> tuple[float | None, int, list[_Value]]:
    """``(wall_time, step, summary values)`` of one serialized ``Event``."""
    wall_time = None
    step = 0  # proto3 leaves a zero step off the wire
    values: list[_Value] = []
    for number, wire, value in _iter_fields(buf, 0, len(buf)):
        if number == 1 and wire == 1:
            (wall_time,) = struct.unpack_from("<d", buf, value)
        elif number == 2 and wire == 0:
            step = _signed64(value)
        elif number == 5 and wire == 2:
            values.extend(_parse_summary(buf, *value))
    return wall_time, step, values


def _parse_struct_value(buf: bytes, start: int, end: int, depth: int = 0) -> Any:
    """Decode a ``google.protobuf.Value`` (hparams values) into a Python object."""
    if depth > 32:
        raise _DecodeError("hparams value nested too deeply")
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


def _session_start_hparams(content: bytes) -> dict[str, Any] | None:
    """The hparams map of an ``HParamsPluginData.session_start_info``, else None."""
    for number, wire, value in _iter_fields(content, 0, len(content)):
        if number == 3 and wire == 2:
            return dict(_map_entries(content, *value))
    return None


# ---------------------------------------------------------------------------------------------
# Reading a log dir


@dataclass
class _RunAccumulator:
    """What one run's event files add up to, before keys are finalised."""

    points: list[MetricPoint | None] = field(default_factory=list)
    # group -> tag -> step -> index in ``points`` of the current value
    latest: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    start_time: float | None = None
    end_time: float | None = None
    files_read: int = 0

    def add_point(self, group: str, tag: str, value: float, step: int,
                  wall_time: float | None) -> None:
        """Add a scalar; an earlier point of the same (group, tag, step) is superseded."""
        if math.isfinite(value):
            metric = MetricPoint(key=tag, value=value, step=step, axis="step", wall_time=wall_time,
                                 seq=len(self.points))
        else:
            raw = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
            metric = MetricPoint(key=tag, value=None, step=step, axis="step", wall_time=wall_time,
                                 raw=raw, seq=len(self.points))
        by_step = self.latest.setdefault(group, {}).setdefault(tag, {})
        previous = by_step.get(step)
        if previous is not None:
            self.points[previous] = None  # a restart re-logged this step: the later file wins
        by_step[step] = len(self.points)
        self.points.append(metric)

    def prefix_colliding_tags(self) -> None:
        """Name a tag that several split writers logged by its writer (``train/epoch_loss``).

        A tag only one of them logs keeps its name, as TensorBoard shows it.
        """
        groups_of: dict[str, int] = {}
        for by_tag in self.latest.values():
            for tag in by_tag:
                groups_of[tag] = groups_of.get(tag, 0) + 1
        for group, by_tag in self.latest.items():
            if not group:
                continue
            for tag, by_step in by_tag.items():
                if groups_of[tag] > 1:
                    for index in by_step.values():
                        metric = self.points[index]
                        if metric is not None:
                            metric.key = f"{group}/{tag}"

    def see_time(self, wall_time: float | None) -> None:
        """Widen the run's start/end to include ``wall_time``."""
        if wall_time is None or not math.isfinite(wall_time) or wall_time <= 0:
            return
        if self.start_time is None or wall_time < self.start_time:
            self.start_time = wall_time
        if self.end_time is None or wall_time > self.end_time:
            self.end_time = wall_time


def _file_order(path: Path) -> tuple[int, str]:
    # The writer puts its start time in the name; restarts sort after the original.
    match = _EVENT_FILE_TIME.match(path.name)
    return (int(match.group(1)) if match else 0, path.name)


def _run_groups(log_dir: Path) -> list[tuple[str, list[Path]]]:
    """The event files of one run as ``[(group, files in time order)]``.

    Group ``""`` holds the files directly in the dir and those of ``add_hparams`` subdirs;
    ``train`` / ``validation`` hold the Keras callback's split writers.
    """
    direct = sorted(_event_files(log_dir), key=_file_order)
    hparams_dirs = sorted(p for p in _subdirs(log_dir) if _FLOAT_NAME.match(p.name))
    for sub in hparams_dirs:
        direct.extend(sorted(_event_files(sub), key=_file_order))
    groups = [("", direct)]
    for name in SPLIT_SUBDIRS:
        files = sorted(_event_files(log_dir / name), key=_file_order)
        if files:
            groups.append((name, files))
    return groups


def _subdirs(directory: Path) -> list[Path]:
    try:
        with os.scandir(directory) as entries:
            return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _nested_log_dirs(root: Path) -> list[Path]:
    """Log dirs below ``root`` that are runs of their own (not part of ``root``'s run)."""
    found: list[Path] = []
    for directory, subdirs, _files in os.walk(root):
        here = Path(directory)
        if here != root and detect(here):
            found.append(here)
        # A run's own parts are not runs: train/ and validation/ of a run, add_hparams dirs.
        if here == root or detect(here):
            subdirs[:] = [d for d in subdirs if d not in SPLIT_SUBDIRS and not _FLOAT_NAME.match(d)]
        subdirs[:] = sorted(d for d in subdirs if d not in _WALK_SKIP)
    return found


def read(path: Path, ctx: ImportContext) -> ImportBatch:
    """Read a TensorBoard log dir into one run (plus one per nested log dir below it)."""
    path = Path(path)
    batch = ImportBatch(source_format=FORMAT, source_path=str(path))
    for log_dir in [path, *_nested_log_dirs(path)]:
        run, files = _read_run(log_dir, ctx)
        batch.consumed_paths.extend(str(f.resolve()) for f in files)
        if run is not None:
            batch.runs.append(run)
    return batch


def _read_run(log_dir: Path, ctx: ImportContext) -> tuple[RunRecord | None, list[Path]]:
    groups = _run_groups(log_dir)
    all_files = [f for _, files in groups for f in files]
    acc = _RunAccumulator()
    warned_shapes: set[str] = set()
    for group, files in groups:
        for file in files:
            events = _read_event_file(file, ctx)
            if events is None:
                continue
            acc.files_read += 1
            # TF1 writers send a tag's metadata only with its first value in each file.
            metadata_by_tag: dict[str, _Metadata] = {}
            for wall_time, step, values in events:
                acc.see_time(wall_time)
                for value in values:
                    if value.metadata is not None:
                        metadata_by_tag[value.tag] = value.metadata
                    _take_value(acc, group, value, metadata_by_tag.get(value.tag), step,
                                wall_time, file, warned_shapes, ctx)
    if acc.files_read == 0:
        if all_files:
            ctx.warn(f"{log_dir}: no readable event file (only Git LFS pointers); run skipped")
        return None, all_files
    acc.prefix_colliding_tags()

    name, host = _run_name(log_dir)
    params = _without_host(acc.params, host)
    run = RunRecord(
        uid=stable_uid(FORMAT, log_dir), source_format=FORMAT, source_path=str(log_dir),
        name=name, project=_project_name(log_dir), start_time=acc.start_time,
        end_time=acc.end_time, params=params, tags=acc.tags,
        metrics=[p for p in acc.points if p is not None],
        fingerprint=fingerprint(all_files))
    return run, all_files


def _take_value(acc: _RunAccumulator, group: str, value: _Value, meta: _Metadata | None,
                step: int, wall_time: float | None, file: Path, warned: set[str],
                ctx: ImportContext) -> None:
    """Route one summary value to metrics, params or tags (or skip it)."""
    if value.simple_value is not None:
        acc.add_point(group, value.tag, value.simple_value, step, wall_time)
        return
    plugin = meta.plugin_name if meta else None
    if plugin == "hparams" and meta is not None:
        try:
            hparams = _session_start_hparams(meta.content)
        except _DecodeError as exc:
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
    """Store a param as text, dropping e-mail addresses and credentials (PII/secrets)."""
    if looks_like_email(value) or looks_like_email(key):
        return
    if _SECRET_KEY.search(key) and value not in (None, "", "<HUB_TOKEN>"):
        return
    params[key] = as_param_text(value)


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
        events = _read_event_file(file, ctx)
        for index, (_, _, values) in enumerate(events or ()):
            if index >= max_records:
                break
            for value in values:
                if value.tag == HF_ARGS_TAG and value.tensor is not None:
                    text = "\n".join(s.decode("utf-8", "replace") for s in value.tensor.strings)
                    _add_hf_args(params, text, file, ctx)
                    return _without_host(params, _run_name(file.parent)[1])
    except ImportFailed as exc:
        ctx.warn(f"{file}: unreadable TensorBoard data ({exc.reason}); training arguments "
                 "not taken from it")
    return params


def _read_event_file(file: Path, ctx: ImportContext) -> Iterator[tuple] | None:
    """The events of one file as ``(wall_time, step, values)``; None when it is skipped.

    Events are decoded one at a time as the caller iterates, so a big file never exists as a
    list of decoded events.
    """
    pointer = lfs_pointer(file)
    if pointer is not None:
        ctx.warn(f"{file}: Git LFS pointer (oid sha256:{pointer[0][:12]}…), not the event data; "
                 "run `git lfs pull` to import it")
        return None
    try:
        data = read_bytes(file)  # inside the imported folder, a regular file, bounded
    except OSError as exc:
        raise ImportFailed(str(file), f"cannot read: {exc.strerror or exc}") from None
    if not data:
        ctx.warn(f"{file}: empty event file (the writer had not flushed yet)")
        return iter(())
    return _decode_events(file, data, ctx)


def _decode_events(file: Path, data: bytes, ctx: ImportContext) -> Iterator[tuple]:
    try:
        for index, offset, payload in iter_records(file, data):
            try:
                event = _parse_event(payload)
            except (_DecodeError, struct.error) as exc:
                raise ImportFailed(str(file), f"malformed Event in record {index} at byte offset "
                                              f"{offset}: {exc}") from None
            yield event
    except _Truncated as truncated:
        index, offset = truncated.args
        if index == 0:
            raise ImportFailed(str(file), "not a TensorBoard event file: no complete record",
                               hint="the file is too short to hold one TFRecord") from None
        ctx.warn(f"{file}: truncated record {index} at byte offset {offset} (the writer "
                 f"stopped mid-write); read the {index} complete records before it")


def _run_name(log_dir: Path) -> tuple[str, str | None]:
    """The run's name and, for HF/PyTorch dated dirs, the hostname to keep out of the catalog."""
    name = log_dir.name
    match = _DATED_RUN_DIR.match(name)
    if match:
        return match.group(1), match.group(2)
    return name, None


def _project_name(log_dir: Path) -> str | None:
    """``<output_dir>`` for ``<output_dir>/runs/<run>``, the logger name for Lightning."""
    parent = log_dir.parent
    if parent.name == "runs" and parent.parent.name:
        return parent.parent.name
    if _VERSION_DIR.match(log_dir.name) and parent.name:
        return parent.name
    return None
