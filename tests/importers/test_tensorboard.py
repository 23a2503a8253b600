"""Tests for the stdlib TensorBoard event-file importer.

The fixtures under tests/fixtures/tensorboard/ are real tensorboardX output written by
``make_fixture.py``, which also wrote ``expected.json`` from the values it logged.  Damaged
files (truncated, corrupt CRC, garbage, empty, LFS pointers) are derived from them in tmp dirs.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
from pathlib import Path

import pytest

import mltui.importers as importers
import mltui.services.discovery as discovery
from mltui.core.errors import ImportFailed
from mltui.importers import tensorboard as tb
from mltui.importers.common import ImportContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tensorboard"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
HF_RUN = "hf_output/runs/May04_21-52-32_fixture-host"


def read(path: Path) -> tuple[list, list[str]]:
    """Read a log dir; return (runs, warnings)."""
    ctx = ImportContext(root=path)
    batch = tb.read(path, ctx)
    assert batch.source_format == "tensorboard"
    return batch.runs, ctx.warnings


def read_one(path: Path):
    runs, warnings = read(path)
    assert len(runs) == 1
    return runs[0], warnings


def series(run) -> dict[str, list]:
    """Metrics as {key: [[step, value or raw, wall_time], ...]} in source order."""
    out: dict[str, list] = {}
    for p in run.all_points():
        out.setdefault(p.key, []).append([p.step, p.value if p.raw is None else p.raw, p.wall_time])
    return out


def copy_run(tmp_path: Path, rel: str) -> Path:
    target = tmp_path / Path(rel).name
    shutil.copytree(FIXTURES / rel, target)
    return target


def record_offsets(data: bytes) -> list[int]:
    """Byte offsets of each TFRecord in an event file."""
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        (length,) = struct.unpack_from("<Q", data, offset)
        offset += 12 + length + 4
    return offsets


# --- a tiny protobuf/TFRecord encoder for hand-made events ----------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def fld(number: int, wire: int, payload: bytes | int) -> bytes:
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def frame(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", tb.masked_crc32c(header)) + payload
            + struct.pack("<I", tb.masked_crc32c(payload)))


def event(step: int, values: list[bytes], wall: float = 1_700_000_000.0) -> bytes:
    summary = b"".join(fld(1, 2, v) for v in values)
    return fld(1, 1, struct.pack("<d", wall)) + fld(2, 0, step) + fld(5, 2, summary)


def tensor_value(tag: str, tensor: bytes, plugin: str | None = "scalars",
                 data_class: int | None = None) -> bytes:
    meta = b""
    if plugin is not None:
        meta += fld(1, 2, fld(1, 2, plugin.encode()))
    if data_class is not None:
        meta += fld(4, 0, data_class)
    out = fld(1, 2, tag.encode()) + fld(8, 2, tensor)
    return out + (fld(9, 2, meta) if meta else b"")


def write_events(directory: Path, events: list[bytes],
                 name: str = "events.out.tfevents.1.h") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    version = fld(1, 1, struct.pack("<d", 1_700_000_000.0)) + fld(3, 2, b"brain.Event:2")
    path.write_bytes(frame(version) + b"".join(frame(e) for e in events))
    return path


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_detect_accepts_every_real_layout(rel):
    assert tb.detect(FIXTURES / rel)


def test_detect_rejects_look_alikes(tmp_path):
    assert not tb.detect(FIXTURES / "hf_output")  # holds runs/, not event files
    assert not tb.detect(FIXTURES / "hf_output" / "runs")
    (tmp_path / "metrics.json").write_text('{"loss": 1.0}')
    (tmp_path / "results.csv").write_text("epoch,loss\n0,1.0\n")
    (tmp_path / "events.log").write_text("not tensorboard")
    assert not tb.detect(tmp_path)
    (tmp_path / "events.out.tfevents.123.host").mkdir()  # a folder with the name, not a file
    assert not tb.detect(tmp_path)
    assert not tb.detect(tmp_path / "metrics.json")  # a file is not a log dir
    other = tmp_path / "other"
    (other / "test").mkdir(parents=True)
    shutil.copy(next((FIXTURES / "restart").iterdir()), other / "test")
    assert not tb.detect(other)  # only train/ and validation/ are the Keras split


# --- values against what the real writer logged ----------------------------------------------


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_runs_match_what_tensorboards_own_reader_returns(rel):
    """Every point EventAccumulator returns, in its order, repeated steps included; run times
    from the first and last event (expected.json is made by make_fixture.py with tensorboard)."""
    expected = EXPECTED[rel]
    runs, warnings = read(FIXTURES / expected["read_from"])
    (run,) = [r for r in runs if r.source_path == str(FIXTURES / rel)]
    assert [w for w in warnings if "restart" not in w] == []
    assert run.name == expected["name"]
    assert run.params == expected["params"]
    assert run.tags == expected["tags"]
    assert series(run) == expected["metrics"]
    assert (run.start_time, run.end_time) == (expected["start_time"], expected["end_time"])
    assert all(p.axis == "step" for p in run.all_points())
    assert [p.seq for p in run.metrics] == sorted(p.seq for p in run.metrics)
    assert run.source_format == "tensorboard"
    assert run.git_commit is None


def test_float32_values_are_kept_unrounded():
    run, _ = read_one(FIXTURES / HF_RUN)
    eval_loss = [p.value for p in run.all_points() if p.key == "eval/loss"]
    assert eval_loss[0] == 1.896299958229065  # float32 of 1.8963, not rounded back


def test_nan_scalar_is_kept_as_raw():
    run, _ = read_one(FIXTURES / HF_RUN)
    (nan_point,) = [p for p in run.all_points() if p.key == "train/grad_norm" and p.step == 7]
    assert nan_point.value is None and nan_point.raw == "nan"


def test_hf_run_has_no_hostname_email_or_token():
    run, _ = read_one(FIXTURES / HF_RUN)
    assert run.name == "May04_21-52-32"
    assert run.project == "hf_output"
    assert run.host is None
    text = json.dumps([run.name, run.params, run.tags, run.environment])
    assert "fixture-host" not in text
    assert "alice@example.com" not in text
    assert "hf_should_not_be_imported" not in text
    # The last event is the histogram logged after eval/loss, with an earlier wall time.
    assert run.start_time == 1_700_000_000.0 and run.end_time == 1_700_000_040.0


def test_histograms_are_not_metrics():
    run, _ = read_one(FIXTURES / HF_RUN)
    assert not any(p.key.startswith("weights") for p in run.all_points())


def test_restart_keeps_both_files_points_as_tensorboard_does():
    run, _ = read_one(FIXTURES / "restart")
    loss = [(p.step, p.wall_time) for p in run.all_points() if p.key == "loss"]
    assert len(loss) == 20  # 10 from the first file, 10 from the resumed one
    assert [s for s, _ in loss] == list(range(10)) + list(range(5, 15))
    assert [s for s, w in loss if s == 7] == [7, 7]


def test_session_log_start_discards_the_points_it_replaces():
    run, warnings = read_one(FIXTURES / "session_restart")
    loss = [(p.step, p.wall_time) for p in run.all_points() if p.key == "loss"]
    assert [s for s, _ in loss] == list(range(5)) + list(range(5, 12))
    assert all(w >= 1_700_000_700 for s, w in loss if s >= 5)
    assert any("5 points discarded by a restart" in w for w in warnings)


def test_add_scalars_sub_runs_keep_tensorboards_names():
    runs, _ = read(FIXTURES / "scalars" / "run-a")
    assert sorted(r.name for r in runs) == ["run-a", "run-a/acc_train", "run-a/acc_val"]
    runs, _ = read(FIXTURES / "scalars" / "run-b")  # tensorboardX: <main_tag>/<key> dirs
    assert sorted(r.name for r in runs) == ["run-b", "run-b/acc/train", "run-b/acc/val"]


def test_secret_values_are_redacted_and_ordinary_token_params_kept():
    run, _ = read_one(FIXTURES / HF_RUN)
    assert run.params["push_to_hub_token"] == "<redacted>"
    assert run.params["hub_token"] == "<HUB_TOKEN>"  # the writer's own placeholder
    assert run.params["average_tokens_across_devices"] == "True"
    assert run.params["include_num_input_tokens_seen"] == "no"


def test_keras_split_prefixes_only_colliding_tags():
    run, _ = read_one(FIXTURES / "keras_tf2")
    keys = {p.key for p in run.all_points()}
    assert keys == {"train/epoch_loss", "validation/epoch_loss", "train/epoch_accuracy",
                    "validation/epoch_accuracy", "epoch_learning_rate",
                    "evaluation_loss_vs_iterations"}
    # epoch_accuracy carried the scalars plugin metadata only on its first value (TF1 style).
    assert len([p for p in run.all_points() if p.key == "train/epoch_accuracy"]) == 4
    assert "keras" not in run.tags  # a graph_keras_model string tensor is not a text


def test_lightning_hparams_session_start_info_become_params():
    run, _ = read_one(FIXTURES / "lightning_logs" / "version_0")
    assert run.params == {"lr": "0.001", "batch_size": "32", "optimizer": "adam",
                          "pretrained": "True"}
    assert run.project == "lightning_logs"


def test_add_hparams_subdir_belongs_to_the_run():
    runs, _ = read(FIXTURES / "pytorch_hparams")
    assert len(runs) == 1
    assert runs[0].params == {"lr": "0.1", "bsize": "4", "activation": "relu"}


# --- identity and change detection ----------------------------------------------------------


def test_read_twice_gives_identical_records():
    first, _ = read_one(FIXTURES / HF_RUN)
    second, _ = read_one(FIXTURES / HF_RUN)
    assert first.uid == second.uid and first.fingerprint == second.fingerprint
    assert first == second


def test_fingerprint_changes_when_the_log_grows(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    before, _ = read_one(run_dir)
    newest = sorted(run_dir.iterdir())[-1]
    with open(newest, "ab") as handle:
        handle.write(frame(event(99, [fld(1, 2, b"loss") + fld(2, 5, struct.pack("<f", 0.1))])))
    after, _ = read_one(run_dir)
    assert after.uid == before.uid
    assert after.fingerprint != before.fingerprint
    assert len(after.all_points()) == len(before.all_points()) + 1


# --- damaged files ---------------------------------------------------------------------------


def test_truncated_final_record_is_a_warning(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    newest = sorted(run_dir.iterdir())[-1]
    data = newest.read_bytes()
    newest.write_bytes(data[:-5])  # writer killed while writing the last record
    run, warnings = read_one(run_dir)
    assert len(warnings) == 1 and "truncated record" in warnings[0]
    loss = [p for p in run.all_points() if p.key == "loss"]
    assert len(loss) == 19 and max(p.step for p in loss) == 13


def test_truncated_inside_a_record_header_is_a_warning(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    newest = sorted(run_dir.iterdir())[-1]
    data = newest.read_bytes()
    last = record_offsets(data)[-1]
    newest.write_bytes(data[:last + 6])  # only part of the 12-byte length header
    run, warnings = read_one(run_dir)
    assert "truncated record" in warnings[0]
    assert max(p.step for p in run.all_points() if p.key == "loss") == 13


def test_corrupt_data_crc_in_the_middle_fails_with_record_and_offset(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    oldest = sorted(run_dir.iterdir())[0]
    data = bytearray(oldest.read_bytes())
    offsets = record_offsets(bytes(data))
    data[offsets[3] + 14] ^= 0xFF  # a byte inside record 3's payload
    oldest.write_bytes(bytes(data))
    with pytest.raises(ImportFailed) as info:
        read(run_dir)
    assert info.value.path == str(oldest)
    assert f"record 3 at byte offset {offsets[3]}" in info.value.message
    assert "CRC" in info.value.message


def test_corrupt_length_crc_in_the_middle_fails(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    oldest = sorted(run_dir.iterdir())[0]
    data = bytearray(oldest.read_bytes())
    offsets = record_offsets(bytes(data))
    data[offsets[2] + 9] ^= 0x01  # the length's CRC of record 2
    oldest.write_bytes(bytes(data))
    with pytest.raises(ImportFailed, match=f"record 2 at byte offset {offsets[2]}"):
        read(run_dir)


@pytest.mark.parametrize("content", [
    b"this is not an event file at all, just some text that happens to be long enough\n",
    bytes(range(256)) * 4,
    b"short",
])
def test_garbage_event_file_is_import_failed(tmp_path, content):
    (tmp_path / "events.out.tfevents.x").write_bytes(content)
    assert tb.detect(tmp_path)
    with pytest.raises(ImportFailed) as info:
        read(tmp_path)
    assert info.value.path == str(tmp_path / "events.out.tfevents.x")


def test_malformed_protobuf_in_a_valid_record_is_import_failed(tmp_path):
    bad_event = fld(5, 2, fld(1, 2, b"\x0a\xff\xff"))  # a tag whose length runs past the end
    path = write_events(tmp_path, [bad_event])
    with pytest.raises(ImportFailed, match="malformed Event in record 1") as info:
        read(tmp_path)
    assert info.value.path == str(path)


def test_empty_event_file_gives_an_empty_run_and_a_warning(tmp_path):
    (tmp_path / "events.out.tfevents.1700000000.host").write_bytes(b"")
    run, warnings = read_one(tmp_path)
    assert run.all_points() == []
    assert "empty event file" in warnings[0]


def test_empty_file_next_to_a_real_one_is_skipped(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    (run_dir / "events.out.tfevents.1700000300.host").write_bytes(b"")
    run, warnings = read_one(run_dir)
    assert len(run.all_points()) == 30 and len(warnings) == 1


LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               b"size 40960\n")


def test_lfs_pointer_is_skipped_with_a_warning(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    (run_dir / "events.out.tfevents.1600000000.host.1.0").write_bytes(LFS_POINTER)
    run, warnings = read_one(run_dir)
    assert len(run.all_points()) == 30
    assert len(warnings) == 1 and "LFS pointer" in warnings[0]


def test_only_lfs_pointers_give_no_run(tmp_path):
    (tmp_path / "events.out.tfevents.1600000000.host.1.0").write_bytes(LFS_POINTER)
    runs, warnings = read(tmp_path)
    assert runs == []
    assert any("LFS pointer" in w for w in warnings)


# --- decoder paths the real writer did not exercise -------------------------------------------


def test_decoder_handles_other_tensor_encodings(tmp_path):
    shape_scalar = fld(2, 2, b"")
    values = [
        # unpacked float_val (wire type 5)
        tensor_value("unpacked", fld(1, 0, 1) + shape_scalar + fld(5, 5, struct.pack("<f", 0.25))),
        # int64 tensor, negative value, no plugin name but data_class scalar (TF >= 2.3)
        tensor_value("int64", fld(1, 0, 9) + shape_scalar + fld(10, 2, varint(-3)), plugin=None,
                     data_class=1),
        # double in tensor_content
        tensor_value("double", fld(1, 0, 2) + shape_scalar + fld(4, 2, struct.pack("<d", 0.1))),
        # float16 in half_val
        tensor_value("half", fld(1, 0, 19) + shape_scalar
                     + fld(13, 2, varint(struct.unpack("<H", struct.pack("<e", 1.5))[0]))),
        # a shape-[3] tensor is not a scalar: skipped with a warning
        tensor_value("vector", fld(1, 0, 1) + fld(2, 2, fld(2, 2, fld(1, 0, 3)))
                     + fld(5, 2, struct.pack("<3f", 1, 2, 3))),
        # a tensor of another plugin is not a metric
        tensor_value("pr", fld(1, 0, 1) + shape_scalar + fld(5, 2, struct.pack("<f", 9)),
                     plugin="pr_curves"),
    ]
    write_events(tmp_path, [event(-1 & 0xFFFFFFFFFFFFFFFF, values[:1]), event(5, values[1:])])
    run, warnings = read_one(tmp_path)
    got = {p.key: (p.step, p.value) for p in run.all_points()}
    assert got == {"unpacked": (-1, 0.25), "int64": (5, -3.0), "double": (5, 0.1),
                   "half": (5, 1.5)}
    assert any("'vector'" in w for w in warnings)


def test_crc32c_known_vector():
    assert tb.crc32c(b"123456789") == 0xE3069283
    assert tb.crc32c(b"") == 0


# --- the directory walk ------------------------------------------------------------------------


def test_walk_finds_each_run_once(monkeypatch, tmp_path):
    monkeypatch.setattr(importers, "FORMAT_MODULES", ["tensorboard"])
    found = discovery.discover([FIXTURES])
    assert (sorted(str(path.relative_to(FIXTURES)) for _, path in found)
            == sorted({run["read_from"] for run in EXPECTED.values()}))


def test_nested_log_dir_inside_a_run_is_its_own_run(tmp_path):
    run_dir = copy_run(tmp_path, "restart")
    shutil.copytree(FIXTURES / "lightning_logs" / "version_0", run_dir / "eval")
    runs, _ = read(run_dir)
    assert [r.name for r in runs] == ["restart", "restart/eval"]
    assert runs[0].uid != runs[1].uid
    assert len(runs[0].all_points()) == 30
    assert not any(math.isnan(p.value or 0) for p in runs[1].all_points())
