"""Lightning CSVLogger version dirs: real lightning 2.6.6 output and hand-made 1.x-style logs."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers import lightning
from mltui.importers.common import ImportContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lightning"
REAL = FIXTURES / "real_2_6" / "lightning_logs"
OLD = FIXTURES / "v1_x" / "lightning_logs"
NAMED = FIXTURES / "named" / "my_experiment" / "run-2024-a"


def read(path: Path):
    ctx = ImportContext(root=path)
    batch = lightning.read(path, ctx)
    assert len(batch.runs) == 1
    return batch.runs[0], ctx


def series(run, key):
    return [(p.step, p.epoch, p.value, p.raw) for p in sorted(run.all_points(), key=lambda p: p.seq)
            if p.key == key]


@pytest.mark.parametrize("path", [REAL / "version_0", REAL / "version_1", OLD / "version_0",
                                  OLD / "version_1", NAMED])
def test_version_dirs_are_detected(path):
    assert lightning.detect(path)


def test_real_sparse_rows_give_only_logged_cells():
    path = REAL / "version_0"
    run, _ = read(path)
    with open(path / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    logged = sum(1 for row in rows for key, cell in row.items()
                 if key not in ("step", "epoch") and cell != "")
    assert len(run.all_points()) == logged  # an empty cell is "not logged", never 0
    assert not any(p.value == 0.0 for p in run.all_points())


def test_real_val_rows_share_steps_and_on_step_on_epoch_suffixes():
    run, _ = read(REAL / "version_0")
    keys = {p.key for p in run.all_points()}
    assert {"train_loss_step", "train_loss_epoch", "val_loss", "lr"} == keys
    assert [(s, e) for s, e, _, _ in series(run, "val_loss")] == [(3, 0.0), (7, 1.0), (11, 2.0)]
    assert {p.axis for p in run.all_points()} == {"step"}


def test_real_nested_hparams_are_flattened_and_yaml_floats_parsed():
    run, _ = read(REAL / "version_0")
    assert run.params["optimizer.lr"] == "0.1"
    assert run.params["optimizer.weight_decay"] == "1e-05"
    assert run.params["optimizer.betas"] == "[0.9, 0.999]"
    assert run.params["hidden"] == "1"


def test_real_checkpoints_are_artifacts():
    path = REAL / "version_0"
    run, _ = read(path)
    assert [(a.name, a.kind) for a in run.artifacts] == [
        ("last.ckpt", "model"), ("epoch=1-step=8.ckpt", "checkpoint"),
        ("epoch=2-step=12.ckpt", "checkpoint")]
    last = path / "checkpoints" / "last.ckpt"
    assert run.artifacts[0].hash == hashlib.sha256(last.read_bytes()).hexdigest()


def test_run_identity_from_version_dir_and_project_from_logger_name():
    run, _ = read(REAL / "version_0")
    other, _ = read(REAL / "version_1")
    assert run.name == "version_0" and run.project == "lightning_logs"
    assert run.uid != other.uid
    named, _ = read(NAMED)
    assert (named.name, named.project) == ("run-2024-a", "my_experiment")


def test_missing_hparams_is_a_warning():
    run, ctx = read(REAL / "version_1")
    assert run.params == {} and run.all_points()
    assert any("hparams.yaml" in w for w in ctx.warnings)


def test_insertion_order_header_and_nan_cell():
    run, _ = read(OLD / "version_0")
    assert series(run, "train_loss")[:2] == [(49, 0.0, 0.6931471824645996, None),
                                           (99, 0.0, 0.5512213110923767, None)]
    assert (199, 1.0, None, "nan") in series(run, "train_loss")
    assert series(run, "val_acc") == [(99, 0.0, 0.7421875, None), (199, 1.0, 0.78125, None)]


def test_namespace_tag_and_yaml_1_1_float_trap():
    run, _ = read(OLD / "version_0")
    assert run.params["learning_rate"] == "0.001"  # `1e-3` is a string to PyYAML's 1.1 resolver
    assert run.params["weight_decay"] == "1e-05"
    assert run.params["batch_size"] == "32"


def test_empty_hparams_and_header_repeated_mid_file():
    run, _ = read(OLD / "version_1")
    assert run.params == {}
    assert series(run, "val_loss") == [(99, 0.0, 0.6004, None), (199, 1.0, 0.5127, None)]
    assert [s for s, _, _, _ in series(run, "train_loss")] == [49, 99, 149, 199]


def test_string_version_dir_with_nested_hparams_and_slash_keys():
    run, _ = read(NAMED)
    assert run.params["model.encoder.layers"] == "2"
    assert run.params["model.encoder.dims"] == "[64, 32]"
    assert run.params["optim.lr"] == "0.0005"
    assert run.params["notes"] == "None"
    assert {"lr-Adam", "train/loss_step", "train/loss_epoch", "val/acc"} == {p.key for p in run.all_points()}


def test_detect_rejects_look_alikes(tmp_path):
    plain = tmp_path / "results"
    plain.mkdir()
    (plain / "metrics.csv").write_text("epoch,step,loss\n0,1,0.5\n")
    assert not lightning.detect(plain)  # no hparams.yaml, not a version_N folder
    version = tmp_path / "version_3"
    version.mkdir()
    (version / "metrics.csv").write_text("epoch,loss\n0,0.5\n")
    assert not lightning.detect(version)  # no step column
    (version / "metrics.csv").write_bytes(b"\x00\x01\x02")
    assert not lightning.detect(version)
    assert not lightning.detect(tmp_path / "missing")


def make_version(tmp_path: Path, csv_text: str, hparams: str | None = None) -> Path:
    path = tmp_path / "version_0"
    path.mkdir(exist_ok=True)
    (path / "metrics.csv").write_text(csv_text)
    if hparams is not None:
        (path / "hparams.yaml").write_text(hparams)
    return path


def test_bad_cell_names_line_and_column(tmp_path):
    path = make_version(tmp_path, "epoch,loss,step\n0,0.5,1\n0,high,2\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (3, "loss")


def test_bad_step_and_ragged_row(tmp_path):
    path = make_version(tmp_path, "epoch,loss,step\n0,0.5,1.5\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (2, "step")
    path = make_version(tmp_path, "epoch,loss,step\n0,0.5,1,9\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 2


def test_first_line_without_step_is_an_error(tmp_path):
    path = make_version(tmp_path, "0,0.5,1\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 1


def test_hparams_that_are_not_a_mapping_or_not_yaml(tmp_path):
    path = make_version(tmp_path, "epoch,loss,step\n0,0.5,1\n", "- 1\n- 2\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.path.endswith("hparams.yaml")
    path = make_version(tmp_path, "epoch,loss,step\n0,0.5,1\n", "a: [1, 2\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line is not None


def test_binary_metrics_is_an_import_error(tmp_path):
    path = tmp_path / "version_0"
    path.mkdir()
    (path / "metrics.csv").write_bytes(b"step,loss\n\x00\xff")
    with pytest.raises(ImportFailed):
        read(path)


def test_reading_twice_gives_identical_records_and_growth_changes_fingerprint(tmp_path):
    path = tmp_path / "version_0"
    shutil.copytree(REAL / "version_0", path)
    first, _ = read(path)
    assert read(path)[0] == first
    with open(path / "metrics.csv", "a") as handle:
        handle.write("3,0.1,12,,0.04,\n")
    grown, _ = read(path)
    assert grown.uid == first.uid and grown.fingerprint != first.fingerprint
    assert (12, 3.0, 0.04, None) in series(grown, "train_loss_step")
