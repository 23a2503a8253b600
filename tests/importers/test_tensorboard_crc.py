"""The batched CRC32C check of TFRecord framing (numpy path) agrees with one record at a time."""

from __future__ import annotations

import random
import struct

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers.tensorboard import crc, events


def _frame(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", crc.masked_crc32c(header)) + payload
            + struct.pack("<I", crc.masked_crc32c(payload)))


def _file(count: int, seed: int = 7) -> tuple[bytes, list[int]]:
    rng = random.Random(seed)
    payloads = [rng.randbytes(rng.randint(1, 300)) for _ in range(count)]
    offsets, data = [], b""
    for payload in payloads:
        offsets.append(len(data))
        data += _frame(payload)
    return data, offsets


@pytest.fixture(params=["pure", "numpy"])
def path_kind(request, monkeypatch):
    """Run a test with the pure-Python CRC, and again with numpy from the first byte, in
    batches of 3 records (so batch boundaries are crossed)."""
    pytest.importorskip("numpy")
    monkeypatch.setattr(crc, "NUMPY_AFTER_BYTES", 1 << 62 if request.param == "pure" else 0)
    monkeypatch.setattr(events, "_RECORDS_PER_CHECK", 3)
    return request.param


def test_numpy_crcs_equal_pure_python_crcs():
    pytest.importorskip("numpy")
    rng = random.Random(3)
    data = rng.randbytes(20_000)
    spans = [(start, start + rng.randint(1, 4096))
             for start in (rng.randrange(0, 15_000) for _ in range(500))]
    expected = [crc.masked_crc32c(data[start:end]) for start, end in spans]
    assert crc._numpy_masked_crcs(data, spans, [end - start for start, end in spans]) == expected
    assert crc.crc32c(b"123456789") == 0xE3069283


def test_batched_records_are_the_file_records(path_kind):
    data, offsets = _file(10)
    records = list(events.iter_records("f", data))
    assert [(index, offset) for index, offset, _ in records] == list(enumerate(offsets))
    assert b"".join(_frame(payload) for _, _, payload in records) == data


@pytest.mark.parametrize("corrupt_at", [0, 12])  # the length's CRC, the data's first byte
def test_a_corrupt_record_fails_at_its_index_after_the_good_ones(path_kind, corrupt_at):
    data, offsets = _file(10)
    broken = bytearray(data)
    broken[offsets[7] + corrupt_at] ^= 0xFF
    seen = []
    with pytest.raises(ImportFailed, match=f"record 7 at byte offset {offsets[7]}"):
        for index, _, _ in events.iter_records("f", bytes(broken)):
            seen.append(index)
    assert seen == list(range(7))


@pytest.mark.parametrize("cut", [5, 20])  # inside the next header, inside the payload
def test_a_truncated_file_yields_every_complete_record_first(path_kind, cut):
    data, offsets = _file(7)
    seen = []
    with pytest.raises(events.Truncated) as raised:
        for index, _, _ in events.iter_records("f", data[:offsets[6] + cut]):
            seen.append(index)
    assert seen == list(range(6))
    assert raised.value.args == (6, offsets[6])
