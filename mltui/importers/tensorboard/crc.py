"""CRC32C (Castagnoli), as TFRecord framing uses it; zlib's crc32 is a different polynomial.

There is no C implementation in the standard library.  One record is checked table-driven in
pure Python (~0.1 µs a byte); a whole file's records are checked at once with numpy when the
bytes are enough to pay numpy's import (~0.1 s, done once per process): a CRC is linear, so
each segment's CRC is the XOR of one table entry per byte (indexed by the byte and its distance
from the segment's end) and that of as many zero bytes, computed for every byte in C.
"""

from __future__ import annotations

from typing import Any, Sequence


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli polynomial) of ``data``, table-driven, pure Python."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    """TFRecord's masked form of a CRC (rotated and offset, per TensorFlow's crc32c.h)."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC32C that TFRecord stores."""
    return mask(crc32c(data))


# numpy pays off once this many bytes were checked in pure Python by this process, or for a
# file holding this many at once: at most about double the pure-Python time in the worst case.
NUMPY_AFTER_BYTES = 1 << 20
_LONGEST_FOR_TABLE = 4096  # longer segments (images, big tensors) stay in pure Python
_pure_bytes = 0
_tables: dict[str, Any] = {}


def masked_crcs(data: bytes, spans: Sequence[tuple[int, int]]) -> list[int]:
    """The masked CRC32C of ``data[start:end]`` for each ``(start, end)`` span, in order."""
    global _pure_bytes
    lengths = [end - start for start, end in spans]
    size = sum(lengths)
    if spans and max(lengths) <= _LONGEST_FOR_TABLE and min(lengths) > 0 and (
            size >= NUMPY_AFTER_BYTES or _pure_bytes >= NUMPY_AFTER_BYTES):
        return _numpy_masked_crcs(data, spans, lengths)
    _pure_bytes += size
    return [mask(crc32c(data[start:end])) for start, end in spans]


def _numpy_tables(longest: int) -> tuple[Any, Any]:
    """``(by_distance, of_zeros)``: the CRC register after byte ``b`` followed by ``k`` zero
    bytes from a zero register (``by_distance[k, b]``), and the CRC of ``n`` zero bytes."""
    import numpy as np

    by_distance = _tables.get("by_distance")
    if by_distance is None or len(by_distance) < longest:
        rows = max(longest, 512)
        t0 = np.array(_TABLE, dtype=np.uint32)
        by_distance = np.empty((rows, 256), dtype=np.uint32)
        by_distance[0] = t0
        for k in range(1, rows):
            previous = by_distance[k - 1]
            by_distance[k] = t0[previous & 0xFF] ^ (previous >> 8)
        of_zeros = [0]
        register = 0xFFFFFFFF
        for _ in range(rows):
            register = _TABLE[register & 0xFF] ^ (register >> 8)
            of_zeros.append(register ^ 0xFFFFFFFF)
        _tables["by_distance"] = by_distance
        _tables["of_zeros"] = np.array(of_zeros, dtype=np.uint32)
    return by_distance, _tables["of_zeros"]


def _numpy_masked_crcs(data: bytes, spans: Sequence[tuple[int, int]],
                       lengths: list[int]) -> list[int]:
    import numpy as np

    starts = np.array([start for start, _ in spans], dtype=np.int64)
    return masked_crcs_of(np.frombuffer(data, dtype=np.uint8), starts,
                          np.array(lengths, dtype=np.int64)).tolist()


def masked_crcs_of(u8: Any, starts: Any, size: Any) -> Any:
    """The masked CRC32C of each segment ``u8[start:start + size]`` (numpy arrays in and out;
    every size between 1 and 4096)."""
    import numpy as np

    by_distance, of_zeros = _numpy_tables(int(size.max()))
    firsts = np.cumsum(size) - size  # where each span begins in the flat byte order
    within = np.arange(int(size.sum()), dtype=np.int64) - np.repeat(firsts, size)
    positions = np.repeat(starts, size) + within
    distances = np.repeat(size, size) - 1 - within
    contributions = by_distance[distances, u8[positions]]
    crcs = (np.bitwise_xor.reduceat(contributions, firsts) ^ of_zeros[size]).astype(np.uint64)
    return ((((crcs >> 15) | (crcs << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
