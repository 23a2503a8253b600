"""Generic metrics JSONL / CSV (the walk's last resort), and how the trainer formats share a walk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import mltui.importers as importers
import mltui.services.discovery as discovery
from mltui.core.errors import ImportFailed
from mltui.importers import generic
from mltui.importers.common import ImportContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENERIC = FIXTURES / "generic"


def read(path: Path):
    ctx = ImportContext(root=path.parent)
    batch = generic.read(path, ctx)
    assert len(batch.runs) == 1
    return batch.runs[0], ctx


def series(run, key):
    return [(p.step, p.value, p.raw) for p in sorted(run.metrics, key=lambda p: p.seq) if p.key == key]


@pytest.mark.parametrize("name", ["metrics.jsonl", "history.csv", "trainer_log.jsonl",
                                  "iter_log.jsonl"])
def test_fixtures_are_detected(name):
    assert generic.detect(GENERIC / name)


def test_nested_dicts_are_flattened_with_slash():
    run, _ = read(GENERIC / "metrics.jsonl")
    assert series(run, "train/loss")[:2] == [(0, 2.3026, None), (100, 1.2041, None)]


def test_split_key_prefixes_metric_keys():
    run, _ = read(GENERIC / "metrics.jsonl")
    assert series(run, "val/loss") == [(100, 1.3112, None), (200, 1.1874, None)]
    assert "split" not in run.tags


def test_nan_and_infinity_tokens_are_kept_raw():
    run, _ = read(GENERIC / "metrics.jsonl")
    assert (200, None, "nan") in series(run, "train/loss")
    assert series(run, "grad_norm") == [(200, None, "inf")]


def test_strings_become_tags_first_value_wins_and_lists_are_skipped():
    run, ctx = read(GENERIC / "metrics.jsonl")
    assert run.tags == {"run_name": "baseline-lr3e-4"}
    assert "confusion" not in {p.key for p in run.metrics}
    assert any("confusion" in w for w in ctx.warnings)


def test_unix_time_is_wall_time_and_sets_start_and_end():
    run, _ = read(GENERIC / "metrics.jsonl")
    assert run.metrics[0].wall_time == 1704448800.5
    assert (run.start_time, run.end_time) == (1704448800.5, 1704448926.0)


def test_global_step_iso_timestamp_mode_and_fractional_epoch():
    run, _ = read(GENERIC / "trainer_log.jsonl")
    losses = [(p.step, p.epoch, p.value, p.wall_time) for p in run.metrics if p.key == "train/loss"]
    assert losses[0] == (10, 0.25, 0.91, 1704448810.0)
    assert series(run, "eval/loss") == [(20, 0.8, None)]
    assert series(run, "eval_f1") == [(20, 0.66, None)]  # already carries its split
    assert run.tags == {"optimizer": "adamw"}
    assert len(series(run, "train/loss")) == 3  # the exact repeated line is dropped


def test_iter_key_gives_iteration_axis_and_small_time_is_a_metric():
    run, _ = read(GENERIC / "iter_log.jsonl")
    assert {p.axis for p in run.metrics} == {"iteration"}
    assert series(run, "time") == [(50, 0.35, None), (100, 0.33, None)]
    assert all(p.wall_time is None for p in run.metrics)


def test_step_key_priority(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"epoch": 2, "iteration": 7, "global_step": 300, "loss": 1}\n')
    run, _ = read(path)
    [only] = run.metrics
    assert (only.step, only.epoch, only.axis) == (300, 2.0, "step")


def test_csv_with_epoch_column_and_na_cells():
    run, _ = read(GENERIC / "history.csv")
    assert series(run, "val_loss") == [(1, 0.871, None), (2, 0.701, None), (4, 0.652, None)]
    assert {p.axis for p in run.metrics} == {"epoch"}


def test_detect_is_conservative(tmp_path):
    cases = {
        "events.jsonl": '{"event": "start", "user": "a"}\n{"event": "stop"}\n',
        "no_numbers.jsonl": '{"step": 1, "name": "x"}\n',
        "list.jsonl": "[1, 2]\n",
        "not_json.jsonl": "hello\n",
        "float_step.jsonl": '{"step": 1.5, "loss": 1}\n',
        "table.csv": "name,score\nalice,3\n",
        "text_cells.csv": "step,comment\n1,good\n",
        "header_only.csv": "step,loss\n",
        "metrics.json": '{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4}\n',
        "notes.txt": "step,loss\n1,2\n",
        "loss.tsv": "step\tloss\n0\t0.3\n1\t0.2\n",  # DVCLive's, read by the DVC reader
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        assert not generic.detect(tmp_path / name), name
    (tmp_path / "binary.csv").write_bytes(b"step,loss\n\x00\x01")
    assert not generic.detect(tmp_path / "binary.csv")
    assert not generic.detect(tmp_path)
    assert not generic.detect(tmp_path / "missing.jsonl")


def test_malformed_lines_name_line_and_field(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1, "loss": 1}\n{"step": "two", "loss": 1}\n')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (2, "step")
    path.write_text('{"step": 1, "loss": 1}\n{"step": 2.5, "loss": 1}\n')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (2, "step")
    path.write_text('{"step": 1, "loss": 1}\n{"step": 2, "loss": }\n{"step": 3}\n')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 2
    path.write_text('{"step": 1, "loss": 1}\n"text"\n')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 2
    path.write_text('{"step": 1, "timestamp": "yesterday", "loss": 1}\n')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (1, "timestamp")


def test_malformed_csv_and_binary(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("step,loss\n1,0.5\nx,0.4\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (3, "step")
    path.write_text("step,loss,acc\n1,0.5\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 2
    path.write_bytes(b"step,loss\n\x00\x01")
    with pytest.raises(ImportFailed):
        read(path)


def test_reading_twice_gives_identical_records_and_growth_changes_fingerprint(tmp_path):
    path = tmp_path / "metrics.jsonl"
    shutil.copy(GENERIC / "metrics.jsonl", path)
    first, _ = read(path)
    assert read(path)[0] == first
    with open(path, "a") as handle:
        handle.write('{"step": 300, "train": {"loss": 0.9}}\n')
    grown, _ = read(path)
    assert grown.uid == first.uid and grown.fingerprint != first.fingerprint
    assert (300, 0.9, None) in series(grown, "train/loss")


# ---------------------------------------------------------------------------------------------
# The walk over a tree holding every trainer format: each log is claimed once, by its own reader


MINE = ["hf_trainer", "ultralytics", "lightning", "keras", "detectron2", "generic"]


def test_walk_claims_each_trainer_log_once_with_its_own_reader(tmp_path, monkeypatch):
    # Only this part's readers, in the walk's priority order, so the test does not depend on
    # readers other engineers are writing at the same time.
    monkeypatch.setattr(importers, "FORMAT_MODULES",
                        [name for name in importers.FORMAT_MODULES if name in MINE])
    shutil.copytree(FIXTURES / "hf" / "real_v5", tmp_path / "hf_out")
    shutil.copytree(FIXTURES / "ultralytics" / "v8_3_detect", tmp_path / "yolo")
    shutil.copytree(FIXTURES / "lightning" / "real_2_6", tmp_path / "pl")
    shutil.copytree(FIXTURES / "keras" / "real_k3", tmp_path / "keras")
    shutil.copytree(FIXTURES / "detectron2" / "output", tmp_path / "d2" / "output")
    shutil.copytree(GENERIC, tmp_path / "custom")
    (tmp_path / "notes.csv").write_text("name,value\na,1\n")
    found = discovery.discover([tmp_path])
    claimed = sorted((module.FORMAT, path.relative_to(tmp_path).as_posix()) for module, path in found)
    assert claimed == sorted([
        ("hf", "hf_out"),
        ("ultralytics", "yolo/runs/detect/train3"),
        ("lightning", "pl/lightning_logs/version_0"),
        ("lightning", "pl/lightning_logs/version_1"),
        ("keras", "keras/training.log"),
        ("keras", "keras/history.json"),
        ("keras", "keras/history_pandas.json"),
        ("keras", "keras/history_pandas.csv"),
        ("detectron2", "d2/output"),
        ("generic", "custom/metrics.jsonl"),
        ("generic", "custom/history.csv"),
        ("generic", "custom/trainer_log.jsonl"),
        ("generic", "custom/iter_log.jsonl"),
    ])
    result = discovery.read_paths([tmp_path])
    assert not result.failures
    assert sum(len(batch.runs) for batch in result.batches) == len(claimed)


# ---------------------------------------------------------------------------------------------
# Every trainer reader: corrupted or truncated logs give ImportFailed or a run, never a traceback


CORRUPTIONS = [
    ("hf_trainer", "hf/v4_rounded", "trainer_state.json"),
    ("hf_trainer", "hf/real_v5", "README.md"),
    ("ultralytics", "ultralytics/v8_0_detect/runs/detect/train", "results.csv"),
    ("lightning", "lightning/real_2_6/lightning_logs/version_0", "metrics.csv"),
    ("lightning", "lightning/v1_x/lightning_logs/version_0", "hparams.yaml"),
    ("keras", "keras/real_k3", "training.log"),
    ("keras", "keras/real_k3", "history_pandas.json"),
    ("detectron2", "detectron2/output", "metrics.json"),
    ("generic", "generic", "metrics.jsonl"),
    ("generic", "generic", "history.csv"),
]


@pytest.mark.parametrize("module_name, folder, file_name", CORRUPTIONS)
def test_corrupted_logs_never_raise_a_raw_exception(tmp_path, module_name, folder, file_name):
    import importlib
    import random

    module = importlib.import_module(f"mltui.importers.{module_name}")
    source = FIXTURES / folder
    original = (source / file_name).read_bytes()
    rng = random.Random(file_name)
    for trial in range(30):
        work = tmp_path / f"t{trial}"
        shutil.copytree(source, work)
        data = bytearray(original)
        if trial % 3 == 0:
            data = data[: rng.randrange(len(data) + 1)]
        elif trial % 3 == 1:
            for _ in range(rng.randrange(1, 5)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            at = rng.randrange(len(data))
            data[at:at] = bytes(rng.choice(b'{}[],":\n0123456789aNe-. ') for _ in range(4))
        (work / file_name).write_bytes(bytes(data))
        target = work if module.KIND == "dir" else work / file_name
        module.detect(target)
        try:
            module.read(target, ImportContext(root=work))
        except ImportFailed as error:
            assert error.path.startswith(str(work))
