"""detectron2 output dirs (hand-made by tests/fixtures/detectron2/make_handmade.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltui.cli import cli
from mltui.services.discovery import read_paths
from mltui.services.ingest import import_paths

from mltui.core.errors import ImportFailed
from mltui.importers import detectron2
from mltui.importers.common import ImportContext

OUTPUT = Path(__file__).resolve().parents[1] / "fixtures" / "detectron2" / "output"


def read(path: Path):
    ctx = ImportContext(root=path)
    batch = detectron2.read(path, ctx)
    assert len(batch.runs) == 1
    return batch.runs[0], ctx


def series(run, key):
    return [(p.step, p.value, p.raw) for p in sorted(run.metrics, key=lambda p: p.seq) if p.key == key]


@pytest.fixture
def output(tmp_path):
    target = tmp_path / "output"
    shutil.copytree(OUTPUT, target)
    return target


def test_output_dir_is_detected():
    assert detectron2.detect(OUTPUT)


def test_iteration_is_the_step_and_eval_keys_keep_class_names():
    run, _ = read(OUTPUT)
    assert {p.axis for p in run.metrics} == {"iteration"}
    assert [s for s, _, _ in series(run, "total_loss")][:5] == [19, 39, 59, 79, 99]
    keys = {p.key for p in run.metrics}
    assert {"bbox/AP-traffic light", "bbox/AP-st. bernard", "bbox/AP50"} <= keys
    assert series(run, "bbox/AP-traffic light") == [(99, 12.5, None)]


def test_nan_token_is_kept_raw():
    run, _ = read(OUTPUT)
    assert series(run, "bbox/APs") == [(99, None, "nan")]


def test_appended_rerun_repeats_iterations_and_keeps_both_values():
    run, ctx = read(OUTPUT)
    at_19 = [v for s, v, _ in series(run, "total_loss") if s == 19]
    assert len(at_19) == 2 and at_19[0] != at_19[1]
    assert run.tags["appended_runs"] == "2"
    assert any("appended" in w for w in ctx.warnings)


def test_config_params_datasets_and_base_model():
    run, _ = read(OUTPUT)
    assert run.params["SOLVER.BASE_LR"] == "0.00025"
    assert run.params["MODEL.ROI_HEADS.NUM_CLASSES"] == "1"
    assert run.params["DATASETS.TEST"] == '["balloon_val"]'
    assert [d.name for d in run.datasets] == ["balloon_train", "balloon_extra"]
    assert all(d.hash is None for d in run.datasets)
    [artifact] = run.artifacts
    assert artifact.base_model.endswith("model_final_f10217.pkl")
    assert run.status == "FINISHED"  # iteration 99 reached with MAX_ITER 100


def test_last_checkpoint_names_the_final_model():
    run, _ = read(OUTPUT)
    [artifact] = run.artifacts
    assert artifact.name == "model_final.pth" and artifact.kind == "model"
    assert artifact.hash == hashlib.sha256((OUTPUT / "model_final.pth").read_bytes()).hexdigest()


def test_last_checkpoint_pointing_at_another_file(output):
    (output / "last_checkpoint").write_text("model_0000049.pth")
    run, _ = read(output)
    assert run.artifacts[0].name == "model_0000049.pth"


def test_last_checkpoint_cannot_escape_the_tree(output, tmp_path):
    (tmp_path / "secret.pth").write_bytes(b"outside")
    (output / "last_checkpoint").write_text("../secret.pth")
    (output / "model_final.pth").unlink()
    run, ctx = read(output)
    assert run.artifacts == []
    assert any("not in the imported folder" in w for w in ctx.warnings)


def test_missing_config_and_checkpoint_are_warnings(output):
    for name in ("config.yaml", "last_checkpoint", "model_final.pth"):
        (output / name).unlink()
    run, ctx = read(output)
    assert run.metrics and not run.params and not run.artifacts
    assert len([w for w in ctx.warnings if "appended" not in w]) == 2


def test_detect_rejects_dvc_metrics_and_other_json(tmp_path):
    cases = {
        "dvc_pretty": '{\n  "acc": 0.9,\n  "loss": 0.2\n}\n',
        "dvc_one_line": '{"acc": 0.9, "iteration": 3}\n',  # one object, no companions
        "float_iteration": '{"iteration": 1.5, "loss": 1}\n{"iteration": 2.5, "loss": 1}\n',
        "bool_iteration": '{"iteration": true, "loss": 1}\n{"iteration": false, "loss": 1}\n',
        "list": '[{"iteration": 1}]\n[{"iteration": 2}]\n',
        "empty": "",
    }
    for name, text in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "metrics.json").write_text(text)
        assert not detectron2.detect(folder), name
    assert not detectron2.detect(tmp_path / "missing")
    assert not detectron2.detect(OUTPUT / "metrics.json")


def test_single_line_with_companion_config_is_detected(tmp_path):
    (tmp_path / "metrics.json").write_text('{"iteration": 19, "total_loss": 1.5}\n')
    (tmp_path / "config.yaml").write_text("SOLVER:\n  MAX_ITER: 20\n")
    assert detectron2.detect(tmp_path)


def test_bad_iteration_names_line_and_field(output):
    with open(output / "metrics.json", "a") as handle:
        handle.write('{"iteration": "59", "total_loss": 1.0}\n')
    with pytest.raises(ImportFailed) as error:
        read(output)
    assert (error.value.line, error.value.field) == (8, "iteration")


def test_broken_line_and_non_object_line(output):
    lines = (output / "metrics.json").read_text().splitlines()
    lines[2] = lines[2][:40]
    (output / "metrics.json").write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFailed) as error:
        read(output)
    assert error.value.line == 3
    (output / "metrics.json").write_text('{"iteration": 1, "a": 1}\n[1, 2]\n')
    with pytest.raises(ImportFailed) as error:
        read(output)
    assert error.value.line == 2


def test_truncated_last_line_of_a_killed_writer_is_skipped(output):
    text = (output / "metrics.json").read_text()
    (output / "metrics.json").write_text(text + '{"iteration": 59, "total_')
    run, _ = read(output)
    assert [s for s, _, _ in series(run, "total_loss")] == [19, 39, 59, 79, 99, 19, 39]


def test_binary_metrics_and_bad_config(output):
    (output / "config.yaml").write_text("SOLVER: [1, 2\n")
    with pytest.raises(ImportFailed) as error:
        read(output)
    assert error.value.path.endswith("config.yaml")
    (output / "metrics.json").write_bytes(b'{"iteration": 1}\n\x00\x00\x00')
    with pytest.raises(ImportFailed):
        read(output)


def test_reading_twice_gives_identical_records_and_growth_changes_fingerprint(output):
    first, _ = read(output)
    assert read(output)[0] == first
    with open(output / "metrics.json", "a") as handle:
        handle.write('{"iteration": 59, "total_loss": 1.0}\n')
    grown, _ = read(output)
    assert grown.uid == first.uid and grown.fingerprint != first.fingerprint


# --- metrics.json next to the events file the default trainer writes (make_fixture.py) -------

WITH_EVENTS = OUTPUT.parent / "with_events"
EXPECTED = json.loads((OUTPUT.parent / "expected.json").read_text())


def _lines_of(run) -> dict[str, list]:
    """Points per key as ``[iteration, value or raw]`` in file order."""
    out: dict[str, list] = {}
    for p in sorted(run.metrics, key=lambda p: p.seq):
        out.setdefault(p.key, []).append([p.step, p.value if p.raw is None else p.raw])
    return out


def test_output_dir_with_events_is_read_from_metrics_json_exactly():
    """Every line as json.loads reads it: float64 values, the killed launch's lines too."""
    result = read_paths([WITH_EVENTS])
    assert [b.source_format for b in result.batches] == ["detectron2"]
    (run,) = result.batches[0].runs
    assert _lines_of(run) == EXPECTED["metrics_json"]
    # As many points as TensorBoard's reader finds in the events copy (whose writer turned the
    # spaces of "bbox/AP-traffic light" into underscores).
    assert (sorted(len(v) for v in _lines_of(run).values())
            == sorted(len(v) for v in EXPECTED["events"].values()))
    assert (run.start_time, run.end_time) == (EXPECTED["start_time"], EXPECTED["end_time"])
    events = sorted(p.name for p in WITH_EVENTS.glob("events.out.tfevents.*"))
    assert len(result.merged) == len(events) == 2
    for name, note in zip(events, sorted(result.merged)):
        assert name in note and "float32 copies of metrics.json" in note


def test_metrics_json_named_on_the_command_line_is_read_as_its_output_dir():
    whole = read_paths([WITH_EVENTS]).batches[0].runs[0]
    result = read_paths([WITH_EVENTS / "metrics.json"])
    assert [b.source_format for b in result.batches] == ["detectron2"]
    assert result.batches[0].runs[0].uid == whole.uid
    assert _lines_of(result.batches[0].runs[0]) == EXPECTED["metrics_json"]


def test_import_summary_and_json_report_the_merged_events_file(catalog):
    summary = import_paths(catalog, [WITH_EVENTS / "metrics.json"])
    assert summary.formats == {"detectron2": 1} and len(summary.merged) == 2
    assert "merged or left out 2" in summary.one_line()
    (uid,) = [r["uid"] for r in catalog.runs(catalog.run_ids())]
    detail = catalog.run_detail(catalog.resolve_run(f"run:{uid}"))
    counts = {m["key"]: m["count"] for m in detail["metrics"]}
    assert counts["total_loss"] == len(EXPECTED["metrics_json"]["total_loss"]) == 8
    result = CliRunner().invoke(cli, ["--catalog", str(catalog.path), "import", "--json",
                                      str(WITH_EVENTS)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["merged"]) == 2
