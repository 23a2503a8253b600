"""Ultralytics / YOLOv5 run dirs, one fixture per writer version (make_handmade.py)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers import ultralytics
from mltui.importers.common import ImportContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ultralytics"
V8_0 = FIXTURES / "v8_0_detect" / "runs" / "detect" / "train"
V8_2 = FIXTURES / "v8_2_segment" / "helmets" / "seg-v2"
V8_3 = FIXTURES / "v8_3_detect" / "runs" / "detect" / "train3"
CLASSIFY = FIXTURES / "v8_3_classify" / "runs" / "classify" / "train"
POSE = FIXTURES / "v8_3_pose" / "runs" / "pose" / "train"
YOLOV5 = FIXTURES / "yolov5" / "runs" / "train" / "exp2"


def read(path: Path, root: Path | None = None):
    ctx = ImportContext(root=root or path)
    batch = ultralytics.read(path, ctx)
    assert len(batch.runs) == 1
    return batch.runs[0], ctx


def series(run, key):
    return [(p.step, p.value, p.raw) for p in sorted(run.metrics, key=lambda p: p.seq) if p.key == key]


@pytest.mark.parametrize("path", [V8_0, V8_2, V8_3, CLASSIFY, POSE, YOLOV5])
def test_every_writer_version_is_detected(path):
    assert ultralytics.detect(path)


def test_v8_0_padded_header_and_values_are_stripped_and_epoch_is_0_based():
    run, _ = read(V8_0)
    assert "train/box_loss" in {p.key for p in run.metrics}
    assert not any(p.key != p.key.strip() for p in run.metrics)
    assert series(run, "train/box_loss")[0] == (0, 2.5, None)
    assert run.tags["epoch_base"] == "0" and run.tags["results_format"] == "padded"
    assert {p.axis for p in run.metrics} == {"epoch"}


def test_v8_0_nan_cell_is_kept_raw():
    run, _ = read(V8_0)
    assert (1, None, "nan") in series(run, "metrics/mAP50(B)")


def test_v8_2_padded_1_based_with_mask_keys_and_resume_rows_kept():
    run, _ = read(V8_2)
    assert run.tags["epoch_base"] == "1" and run.tags["resumed"] == "true"
    keys = {p.key for p in run.metrics}
    assert {"metrics/mAP50(B)", "metrics/mAP50(M)", "train/seg_loss"} <= keys
    epoch_3 = [value for step, value, _ in series(run, "train/box_loss") if step == 3]
    assert len(epoch_3) == 2 and epoch_3[0] != epoch_3[1]  # both kept, seq orders them
    assert run.name == "seg-v2" and run.project == "helmets"


def test_v8_3_plain_with_time_column_that_resets_on_resume():
    run, _ = read(V8_3)
    assert run.tags["results_format"] == "plain" and run.tags["epoch_base"] == "1"
    assert run.tags["resumed"] == "true"
    times = [value for _, value, _ in series(run, "time")]
    assert times[:3] == [31.5, 63.0, 94.5] and times[3] < times[2]


def test_pose_keys_keep_their_suffix():
    run, _ = read(POSE)
    assert {"metrics/mAP50(P)", "metrics/mAP50-95(B)", "train/kobj_loss"} <= {p.key for p in run.metrics}


def test_args_are_params_and_parent_weights_are_the_base_model():
    run, _ = read(V8_0)
    assert run.params["lr0"] == "0.01" and run.params["epochs"] == "3"
    assert run.params["device"] == "None"
    assert {a.base_model for a in run.artifacts} == {"/content/yolov8n.pt"}
    assert run.status == "FINISHED"  # last epoch index 2 of epochs=3, 0-based


def test_architecture_yaml_is_not_a_base_model_and_unfinished_runs_have_no_status():
    run, _ = read(CLASSIFY)
    assert {a.base_model for a in run.artifacts} == {None}
    assert run.status is None
    assert {"metrics/accuracy_top1", "metrics/accuracy_top5", "train/loss"} <= {p.key for p in run.metrics}


def test_weights_are_artifacts_best_kind_and_lfs_pointer():
    run, _ = read(V8_0)
    kinds = {a.name: a for a in run.artifacts}
    assert kinds["weights/best.pt"].kind == "best"
    assert kinds["weights/best.pt"].hash_algo == "sha256-lfs"
    assert kinds["weights/last.pt"].kind == "model"
    last = V8_0 / "weights" / "last.pt"
    assert kinds["weights/last.pt"].hash == hashlib.sha256(last.read_bytes()).hexdigest()


def test_dataset_yaml_inside_the_tree_is_hashed():
    project = FIXTURES / "v8_3_detect"
    run, _ = read(V8_3, root=project)
    [dataset] = run.datasets
    assert dataset.name == "Hard-Hat-1"  # Roboflow's data.yaml: the folder names the dataset
    assert dataset.uri_raw == "/content/datasets/Hard-Hat-1/data.yaml"
    yaml_file = project / "datasets" / "Hard-Hat-1" / "data.yaml"
    assert dataset.hash_algo == "sha256"
    assert dataset.hash == hashlib.sha256(yaml_file.read_bytes()).hexdigest()


def test_dataset_yaml_outside_the_tree_is_named_but_not_hashed():
    run, _ = read(V8_3)  # root = the run dir: the datasets/ folder is outside it
    [dataset] = run.datasets
    assert (dataset.name, dataset.hash, dataset.path) == ("Hard-Hat-1", None, None)


def test_yolov5_opt_and_hyp_yaml():
    run, _ = read(YOLOV5)
    assert run.tags["epoch_base"] == "0"
    assert run.params["hyp.obj"] == "1.0" and run.params["hyp.lr0"] == "0.01"
    assert run.params["batch_size"] == "16"
    assert {"metrics/mAP_0.5", "metrics/mAP_0.5:0.95", "x/lr0"} <= {p.key for p in run.metrics}
    assert {a.base_model for a in run.artifacts} == {"yolov5s.pt"}
    assert run.name == "exp2"  # save_dir, not the requested name "exp"
    assert [d.name for d in run.datasets] == ["coco128"]


def test_detect_rejects_look_alikes(tmp_path):
    keras_like = tmp_path / "keras"
    keras_like.mkdir()
    (keras_like / "results.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n")
    assert not ultralytics.detect(keras_like)
    other = tmp_path / "other"
    other.mkdir()
    (other / "results.csv").write_text("model,accuracy\nresnet,0.9\n")
    (other / "args.yaml").write_text("a: 1\n")
    assert not ultralytics.detect(other)
    assert not ultralytics.detect(tmp_path / "missing")
    assert not ultralytics.detect(V8_0 / "results.csv")


def copy_run(tmp_path: Path) -> Path:
    target = tmp_path / "train"
    shutil.copytree(V8_3, target)
    return target


def test_bad_cell_names_line_and_column(tmp_path):
    path = copy_run(tmp_path)
    lines = (path / "results.csv").read_text().splitlines()
    lines[2] = lines[2].replace("2.08", "oops", 1)
    (path / "results.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 3 and error.value.field == "train/box_loss"


def test_bad_epoch_and_short_row(tmp_path):
    path = copy_run(tmp_path)
    (path / "results.csv").write_text("epoch,time,train/box_loss\nx,1,2\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert (error.value.line, error.value.field) == (2, "epoch")
    (path / "results.csv").write_text("epoch,time,train/box_loss\n1,1\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.line == 2


def test_broken_args_yaml_and_binary_results(tmp_path):
    path = copy_run(tmp_path)
    (path / "args.yaml").write_text("task: detect\nmodel: [unclosed\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.path.endswith("args.yaml") and error.value.line is not None
    (path / "args.yaml").write_text("- a list\n")
    with pytest.raises(ImportFailed):
        read(path)
    (path / "results.csv").write_bytes(b"epoch,x\n\x00\x01\x02")
    with pytest.raises(ImportFailed):
        read(path)


def test_missing_args_and_weights_are_warnings(tmp_path):
    path = copy_run(tmp_path)
    (path / "args.yaml").unlink()
    shutil.rmtree(path / "weights")
    run, ctx = read(path)
    assert run.metrics and not run.artifacts and not run.params
    assert len(ctx.warnings) == 2


def test_reading_twice_gives_identical_records_and_growth_changes_fingerprint(tmp_path):
    path = copy_run(tmp_path)
    first, _ = read(path)
    second, _ = read(path)
    assert first == second
    with open(path / "results.csv", "a") as handle:
        handle.write("6,120,1.2,1.3,1.4,0.6,0.6,0.6,0.6,1.5,1.5,1.5,0.0003,0.0003,0.0003\n")
    grown, _ = read(path)
    assert grown.uid == first.uid and grown.fingerprint != first.fingerprint
    assert max(p.step for p in grown.metrics) == 6
