"""The bulk (numpy) decoder of scalar event files gives exactly what the general decoder gives.

Each case is read twice: with the bulk path forced on (whatever the file size) and with it
off; runs must agree bit for bit (values compared by their float64 bytes, so -0.0, NaN and
float32 extremes count), and on the real writers' fixtures both must equal what TensorBoard's
own reader returned (expected.json, written by make_fixture.py with EventAccumulator).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers import tensorboard as tb
from mltui.importers.common import ImportContext
from mltui.importers.tensorboard import bulk, runs

from .test_tensorboard import (
    EXPECTED,
    FIXTURES,
    event,
    fld,
    frame,
    series,
    tensor_value,
)

F32 = struct.Struct("<f")


def scalar(tag: bytes | str, value: float) -> bytes:
    """A ``Summary.Value`` with a tag and a float32 ``simple_value``."""
    tag = tag.encode() if isinstance(tag, str) else tag
    return fld(1, 2, tag) + fld(2, 5, F32.pack(value))


def text_value(tag: str, text: str) -> bytes:
    """A text-plugin tensor (a run tag, or HF's ``args/text_summary``)."""
    tensor = fld(1, 0, 7) + fld(8, 2, text.encode())
    return tensor_value(tag, tensor, plugin="text")


def version_event(version: bytes = b"brain.Event:2", wall: float | None = 1_700_000_000.0
                  ) -> bytes:
    """The file's first event; a wall_time of 0 is left off the wire (None here)."""
    return (b"" if wall is None else fld(1, 1, struct.pack("<d", wall))) + fld(3, 2, version)


def session_start(step: int, wall: float = 1_700_000_100.0) -> bytes:
    return fld(1, 1, struct.pack("<d", wall)) + fld(2, 0, step) + fld(7, 2, fld(1, 0, 1))


def write(directory: Path, events: list[bytes], name: str = "events.out.tfevents.1.h",
          version: bytes | None = b"brain.Event:2") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    head = [frame(version_event(version))] if version is not None else []
    path = directory / name
    path.write_bytes(b"".join(head + [frame(e) for e in events]))
    return path


def exact(run) -> dict:
    """Everything of a run a reader decides, floats as their bytes."""
    def bits(number):
        return None if number is None else struct.pack("<d", number)

    points: dict[str, list] = {}
    for p in run.all_points():
        points.setdefault(p.key, []).append((p.step, bits(p.value), p.raw, bits(p.wall_time)))
    return {"name": run.name, "params": run.params, "tags": run.tags, "points": points,
            "times": (run.start_time, run.end_time), "fingerprint": run.fingerprint}


def read_both(path: Path, monkeypatch) -> tuple[list, list, list[bool]]:
    """(runs read in bulk, runs read by the general path, whether each bulk file was taken)."""
    taken: list[bool] = []
    original = runs._take_bulk

    def spy(*args, **kwargs):
        taken.append(original(*args, **kwargs))
        return taken[-1]

    with monkeypatch.context() as patch:
        patch.setattr(bulk, "worth_it", lambda size: True)
        patch.setattr(runs, "_take_bulk", spy)
        fast_ctx = ImportContext(root=path)
        fast = tb.read(path, fast_ctx).runs
    with monkeypatch.context() as patch:
        patch.setattr(runs, "read_bulk", lambda file, data: None)
        slow_ctx = ImportContext(root=path)
        slow = tb.read(path, slow_ctx).runs
    assert fast_ctx.warnings == slow_ctx.warnings
    return fast, slow, taken


def assert_same(path: Path, monkeypatch) -> list[bool]:
    fast, slow, taken = read_both(path, monkeypatch)
    assert [exact(r) for r in fast] == [exact(r) for r in slow]
    return taken


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_real_writers_files_read_in_bulk_equal_tensorboards_reader(rel, monkeypatch):
    expected = EXPECTED[rel]
    fast, slow, _ = read_both(FIXTURES / expected["read_from"], monkeypatch)
    (run,) = [r for r in fast if r.source_path == str(FIXTURES / rel)]
    assert series(run) == expected["metrics"]
    assert (run.params, run.tags) == (expected["params"], expected["tags"])
    assert (run.start_time, run.end_time) == (expected["start_time"], expected["end_time"])
    assert [exact(r) for r in fast] == [exact(r) for r in slow]


def test_every_float32_value_and_step_encoding_is_kept(tmp_path, monkeypatch):
    values = [0.5, -0.0, 0.0, float("nan"), float("inf"), float("-inf"), 1e-45, 3.4028234e38,
              -1.17549435e-38, 0.1]
    steps = [0, 1, 127, 128, 2 ** 31, 2 ** 63 - 1, -1, -(2 ** 63), 300, 5]
    events = [event(step, [scalar("loss", value), scalar("acc", -value)], wall=1.7e9 + i)
              for i, (step, value) in enumerate(zip(steps, values))]
    write(tmp_path / "run", events)
    taken = assert_same(tmp_path / "run", monkeypatch)
    assert taken == [True]
    (run,) = tb.read(tmp_path / "run", ImportContext(root=tmp_path)).runs
    loss = [p for p in run.all_points() if p.key == "loss"]
    assert [p.step for p in loss] == steps
    assert [p.raw for p in loss][3:6] == ["nan", "inf", "-inf"]
    assert str(loss[1].value) == "-0.0" and loss[9].value == F32.unpack(F32.pack(0.1))[0]


def test_text_hparams_and_other_plugins_mixed_in_stay_exact(tmp_path, monkeypatch):
    histogram = tensor_value("weights", fld(1, 0, 1) + fld(5, 2, F32.pack(1.0) * 3),
                             plugin="histograms")
    events = [event(1, [text_value("args/text_summary", '{"lr": 0.1, "seed": 7}')]),
              event(1, [scalar("loss", 1.0)]),
              event(2, [histogram]),
              event(2, [scalar("loss", 0.5)]),
              event(2, [text_value("notes/text_summary", "hello")]),
              event(3, []),
              # step 0 left off the wire, as proto3 writers do
              fld(1, 1, struct.pack("<d", 1.8e9)) + fld(5, 2, fld(1, 2, scalar("loss", 9.0))),
              event(0, [scalar("", 2.0), scalar(b"lo\xffss", 3.0), scalar(b"lo\xfess", 4.0)])]
    write(tmp_path / "run", events)
    assert assert_same(tmp_path / "run", monkeypatch) == [True]


def test_a_tensor_scalar_among_simple_values_goes_to_the_general_path(tmp_path, monkeypatch):
    tensor = tensor_value("loss", fld(1, 0, 1) + fld(5, 2, F32.pack(0.25)))
    write(tmp_path / "run", [event(1, [scalar("loss", 1.0)]), event(2, [tensor]),
                             event(3, [scalar("loss", 0.5)])])
    assert assert_same(tmp_path / "run", monkeypatch) == [False]
    write(tmp_path / "mixed", [event(1, [scalar("loss", 1.0)]),
                               event(2, [scalar("loss", 0.5), text_value("a/text_summary", "x")])])
    assert assert_same(tmp_path / "mixed", monkeypatch) == [False]


def test_a_restart_in_a_later_file_purges_points_read_in_bulk(tmp_path, monkeypatch):
    write(tmp_path / "run", [event(s, [scalar("loss", s / 10)]) for s in range(10)],
          name="events.out.tfevents.1.h")
    write(tmp_path / "run", [session_start(5)] + [event(s, [scalar("loss", -s)])
                                                  for s in range(5, 8)],
          name="events.out.tfevents.2.h")
    assert assert_same(tmp_path / "run", monkeypatch) == [True, False]
    (run,) = tb.read(tmp_path / "run", ImportContext(root=tmp_path)).runs
    assert [p.step for p in run.all_points()] == [0, 1, 2, 3, 4, 5, 6, 7]


def test_old_file_versions_and_files_without_one_use_the_general_path(tmp_path, monkeypatch):
    backwards = [event(s, [scalar("loss", s)]) for s in (1, 2, 3, 2, 3)]
    write(tmp_path / "old", backwards, version=b"brain.Event:1")
    assert assert_same(tmp_path / "old", monkeypatch) == [False]
    write(tmp_path / "none", backwards, version=None)
    assert assert_same(tmp_path / "none", monkeypatch) == [False]


def test_a_first_event_without_a_wall_time_takes_the_next_events(tmp_path, monkeypatch):
    directory = tmp_path / "run"
    directory.mkdir()
    (directory / "events.out.tfevents.1.h").write_bytes(
        frame(version_event(wall=None)) + b"".join(frame(event(s, [scalar("loss", s)],
                                                               wall=1.7e9 + s))
                                                   for s in range(3)))
    assert assert_same(directory, monkeypatch) == [True]
    (run,) = tb.read(directory, ImportContext(root=tmp_path)).runs
    assert (run.start_time, run.end_time) == (1.7e9, 1.7e9 + 2)


def test_split_writers_tags_are_prefixed_as_in_the_general_path(tmp_path, monkeypatch):
    write(tmp_path / "run" / "train", [event(s, [scalar("epoch_loss", s)]) for s in range(3)])
    write(tmp_path / "run" / "validation", [event(s, [scalar("epoch_loss", -s),
                                                      scalar("val_only", s)])
                                            for s in range(3)])
    assert assert_same(tmp_path / "run", monkeypatch) == [True, True]


def test_damaged_files_fail_or_warn_exactly_as_before(tmp_path, monkeypatch):
    path = write(tmp_path / "run", [event(s, [scalar("loss", s)]) for s in range(5)])
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # a writer stopped mid-record: a warning, 4 points
    assert assert_same(tmp_path / "run", monkeypatch) == []  # not decoded in bulk at all
    corrupt = bytearray(data)
    corrupt[60] ^= 0xFF
    path.write_bytes(bytes(corrupt))
    errors = []
    for forced in (True, False):
        with monkeypatch.context() as patch:
            patch.setattr(bulk, "worth_it", lambda size, forced=forced: forced)
            with pytest.raises(ImportFailed) as failed:
                tb.read(tmp_path / "run", ImportContext(root=tmp_path))
            errors.append(failed.value.one_line())
    assert errors[0] == errors[1]
