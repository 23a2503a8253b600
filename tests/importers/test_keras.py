"""Keras CSVLogger files and History dumps: real keras 3.15 output and a hand-made tf.keras 2.x log."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers import keras
from mltui.importers.common import ImportContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
REAL = FIXTURES / "real_k3"
TF2 = FIXTURES / "tf2_lr" / "training_log.csv"


def read(path: Path):
    ctx = ImportContext(root=path.parent)
    batch = keras.read(path, ctx)
    assert len(batch.runs) == 1
    return batch.runs[0], ctx


def series(run, key):
    return [(p.step, p.value, p.raw) for p in sorted(run.metrics, key=lambda p: p.seq) if p.key == key]


@pytest.mark.parametrize("name", ["training.log", "history.json", "history_pandas.json",
                                  "history_pandas.csv"])
def test_real_files_are_detected(name):
    assert keras.detect(REAL / name)


def test_hand_made_tf2_log_is_detected():
    assert keras.detect(TF2)


def test_csvlogger_na_cells_are_not_logged_and_epoch_is_0_based():
    run, _ = read(REAL / "training.log")
    assert run.tags["epoch_base"] == "0"
    # validation_freq=2: epochs 0 and 2 of the first fit have "NA"; the appended fit has both.
    assert [step for step, _, _ in series(run, "val_loss")] == [1, 0, 1]
    assert series(run, "loss")[0][0] == 0
    assert {p.axis for p in run.metrics} == {"epoch"}


def test_csvlogger_appended_restart_repeats_epochs_and_keeps_both_values():
    run, _ = read(REAL / "training.log")
    assert run.tags["resumed"] == "true"
    losses = series(run, "loss")
    assert [step for step, _, _ in losses] == [0, 1, 2, 0, 1]
    assert losses[0][1] != losses[3][1]


def test_non_scalar_cells_are_skipped_with_a_warning():
    run, ctx = read(REAL / "training.log")
    assert "f1" not in {p.key for p in run.metrics}
    assert any("'f1'" in w and "non-scalar" in w for w in ctx.warnings)


def test_history_json_lists_index_is_the_epoch():
    path = REAL / "history.json"
    run, _ = read(path)
    data = json.loads(path.read_text())
    assert [(s, v) for s, v, _ in series(run, "val_loss")] == list(enumerate(data["val_loss"]))
    assert series(run, "learning_rate")[0][1] == 0.0010000000474974513  # float32 noise kept
    assert run.tags["layout"] == "history-json"


def test_pandas_dict_of_dicts_and_unnamed_index_csv_match_the_lists():
    lists, _ = read(REAL / "history.json")
    frame_json, _ = read(REAL / "history_pandas.json")
    frame_csv, _ = read(REAL / "history_pandas.csv")
    assert [(p.key, p.step) for p in frame_json.metrics] == [(p.key, p.step) for p in lists.metrics]
    assert [(p.key, p.step, p.value) for p in frame_csv.metrics] == \
        [(p.key, p.step, p.value) for p in lists.metrics]
    assert frame_csv.tags["layout"] == "history-csv"


def test_tf2_lr_column_nan_and_sibling_models():
    run, _ = read(TF2)
    assert series(run, "lr")[0][1] == 0.0010000000474974513
    assert (3, None, "nan") in series(run, "loss")
    kinds = {a.name: a.kind for a in run.artifacts}
    assert kinds == {"best_model.h5": "best", "weights.03-0.44.hdf5": "checkpoint"}
    best = next(a for a in run.artifacts if a.kind == "best")
    assert best.hash == hashlib.sha256((TF2.parent / "best_model.h5").read_bytes()).hexdigest()


def test_real_saved_model_is_an_artifact():
    run, _ = read(REAL / "training.log")
    assert [(a.name, a.kind) for a in run.artifacts] == [("model.keras", "model")]


def test_detect_rejects_look_alikes(tmp_path):
    (tmp_path / "metrics.json").write_text('{"acc": 0.9, "loss": 0.3}')  # DVC metrics
    (tmp_path / "rl.csv").write_text("epoch,reward,steps\n0,1.5,200\n")
    (tmp_path / "lightning.csv").write_text("epoch,loss,step\n0,0.5,1\n")
    (tmp_path / "yolo.csv").write_text("epoch,train/box_loss,loss\n0,1,1\n")
    (tmp_path / "header_only.csv").write_text("epoch,loss,val_loss\n")
    (tmp_path / "columns.json").write_text('{"a": [1, 2], "b": [3, 4]}')
    (tmp_path / "ragged.json").write_text('{"loss": [1, 2], "val_loss": [3]}')
    (tmp_path / "strings.json").write_text('{"loss": ["a", "b"]}')
    (tmp_path / "binary.log").write_bytes(b"epoch,loss\n\x00\x00")
    (tmp_path / "array.json").write_text("[1, 2]")
    (tmp_path / "broken.json").write_text('{"loss": [1,')
    for file in sorted(tmp_path.iterdir()):
        assert not keras.detect(file), file.name
    assert not keras.detect(tmp_path)


def test_bad_cell_names_line_and_column(tmp_path):
    path = tmp_path / "training.log"
    path.write_text("epoch,loss,val_loss\n0,0.5,0.6\n1,oops,0.5\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (3, "loss")


def test_bad_epoch_and_ragged_row(tmp_path):
    path = tmp_path / "training.log"
    path.write_text("epoch,loss,val_loss\nfirst,0.5,0.6\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (2, "epoch")
    path.write_text("epoch,loss,val_loss\n0,0.5\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 2


def test_bad_history_json_names_the_field(tmp_path):
    path = tmp_path / "history.json"
    path.write_text('{"loss": [0.5, "x"], "val_loss": [0.6, 0.5]}')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.field == "loss[1]"
    path.write_text('{"loss": [0.5, 0.4], "val_loss": [0.6]}')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.field == "val_loss"
    path.write_text('{"loss": [0.5,\n 0.4')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 2


def test_reading_twice_gives_identical_records_and_growth_changes_fingerprint(tmp_path):
    shutil.copytree(REAL, tmp_path / "run")
    path = tmp_path / "run" / "training.log"
    first, _ = read(path)
    assert read(path)[0] == first
    with open(path, "a") as handle:
        handle.write("2,0.75,\"\"\"[0.7, 0.7]\"\"\",0.49,0.69,\"\"\"[0.7, 0.5]\"\"\",0.64\n")
    grown, _ = read(path)
    assert grown.uid == first.uid and grown.fingerprint != first.fingerprint
    assert len(series(grown, "loss")) == 6
