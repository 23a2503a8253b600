"""Hugging Face Trainer output dirs: real transformers 5.24 output and hand-made 4.2x / PEFT dirs."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers import hf_trainer
from mltui.importers.common import ImportContext, as_param_text, flatten
from mltui.services.ingest import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def copy_fixture(name: str, tmp_path: Path) -> Path:
    """A private copy, so absolute paths recorded at generation time are foreign here."""
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def read(path: Path):
    ctx = ImportContext(root=path)
    batch = hf_trainer.read(path, ctx)
    assert len(batch.runs) == 1
    return batch.runs[0], ctx


def values(run, key):
    """[(step, epoch, value, raw)] of one key, in source order."""
    return [(p.step, p.epoch, p.value, p.raw) for p in sorted(run.all_points(), key=lambda p: p.seq)
            if p.key == key]


# ---------------------------------------------------------------------------------------------
# Real transformers 5.24 output (tests/fixtures/hf/make_fixture.py)


def test_real_output_dir_is_detected_and_read_as_one_run(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    assert hf_trainer.detect(path)
    run, _ = read(path)
    assert run.source_format == "hf" and run.name == "real_v5"
    assert run.status == "FINISHED"
    state = json.loads((path / "trainer_state.json").read_text())
    train_losses = [(e["step"], e["epoch"], e["loss"]) for e in state["log_history"] if "loss" in e]
    assert [(s, e, v) for s, e, v, _ in values(run, "loss")] == train_losses
    assert {p.axis for p in run.all_points() if not p.key.startswith("final/")} == {"step"}


def test_real_eval_and_summary_entries_share_steps_with_train_entries(tmp_path):
    run, _ = read(copy_fixture("real_v5", tmp_path))
    at_step_8 = {p.key for p in run.all_points() if p.step == 8}
    assert {"loss", "grad_norm", "eval_loss", "train_loss", "train_runtime", "total_flos"} <= at_step_8
    # load_best_model_at_end re-evaluates at step 8: two different eval_loss values, both kept.
    eval_at_8 = [v for s, _, v, _ in values(run, "eval_loss") if s == 8]
    assert len(eval_at_8) == 2 and eval_at_8[0] != eval_at_8[1]


def test_real_final_metrics_use_global_step_and_sample_counts_are_params(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    run, _ = read(path)
    results = json.loads((path / "all_results.json").read_text())
    assert (8, 1.0, results["train_loss"], None) in values(run, "train_loss")
    assert run.params["train_samples"] == "32" and run.params["eval_samples"] == "16"
    assert not values(run, "train_samples")


def test_real_params_from_state_and_model_card(tmp_path):
    run, _ = read(copy_fixture("real_v5", tmp_path))
    assert run.params["max_steps"] == "8"
    assert run.params["logging_steps"] == "2"
    assert run.params["train_batch_size"] == "4"
    assert run.params["learning_rate"] == "0.005"  # from the card's hyperparameter list
    assert run.params["lr_scheduler_type"] == "linear"


def test_real_card_gives_datasets_without_hash_and_base_model(tmp_path):
    run, _ = read(copy_fixture("real_v5", tmp_path))
    assert [(d.name, d.hash) for d in run.datasets] == [("random_tokens", None)]
    assert {a.base_model for a in run.artifacts} == {"prajjwal1/bert-tiny"}


def test_real_best_checkpoint_absolute_path_is_resolved_by_basename(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    run, _ = read(path)
    best = [a for a in run.artifacts if a.kind == "best"]
    assert len(best) == 1
    weights = path / "checkpoint-4" / "model.safetensors"
    assert best[0].path == str(weights.resolve())
    assert best[0].hash == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert best[0].path_raw.startswith(json.loads((path / "trainer_state.json").read_text())
                                       ["best_model_checkpoint"])
    model = [a for a in run.artifacts if a.kind == "model"]
    assert [a.path for a in model] == [str((path / "model.safetensors").resolve())]


def test_only_checkpoints_use_the_latest_state_and_make_one_run(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    for name in ("trainer_state.json", "all_results.json", "train_results.json",
                 "eval_results.json", "model.safetensors", "config.json"):
        (path / name).unlink()
    assert hf_trainer.detect(path)
    run, ctx = read(path)
    assert max(p.step for p in run.all_points()) == 8  # checkpoint-8 holds the full history
    assert any("checkpoint-8" in w for w in ctx.warnings)
    assert [a.kind for a in run.artifacts] == ["best"]


def test_a_checkpoint_dir_alone_is_a_run_too(tmp_path):
    path = copy_fixture("real_v5", tmp_path) / "checkpoint-4"
    assert hf_trainer.detect(path)
    run, _ = read(path)
    assert max(p.step for p in run.all_points()) == 4


# ---------------------------------------------------------------------------------------------
# Hand-made 4.2x output: rounded values, int epoch, NaN, LFS pointers, missing fields


def test_v4_int_epoch_becomes_float_and_rounded_values_are_kept(tmp_path):
    run, _ = read(copy_fixture("v4_rounded", tmp_path))
    first = values(run, "eval_loss")[0]
    assert first == (0, 0.0, 0.6951, None) and isinstance(first[1], float)
    assert (250, 0.5, 0.4821, None) in values(run, "loss")


def test_v4_nan_loss_and_eval_loss_are_kept_as_raw(tmp_path):
    run, _ = read(copy_fixture("v4_rounded", tmp_path))
    assert (500, 1.0, None, "nan") in values(run, "loss")
    assert (1000, 2.0, None, "nan") in values(run, "eval_loss")
    # The results files give the final (finite) eval_loss at global_step, as its own key.
    assert values(run, "final/eval_loss") == [(1000, 2.0, 0.3693925142288208, None)]


def test_v4_missing_optional_state_fields_are_not_invented(tmp_path):
    run, _ = read(copy_fixture("v4_rounded", tmp_path))
    assert "logging_steps" not in run.params and "eval_steps" not in run.params
    assert "best_global_step" not in run.tags
    assert run.params["num_train_epochs"] == "2"
    assert run.params["learning_rate"] == "2e-05"
    assert run.params["mixed_precision_training"] == "Native AMP"


def test_v4_lfs_pointers_give_sha256_lfs_hashes_and_base_model_from_config(tmp_path):
    run, _ = read(copy_fixture("v4_rounded", tmp_path))
    by_kind = {a.kind: a for a in run.artifacts}
    assert by_kind["best"].hash_algo == "sha256-lfs"
    assert by_kind["best"].hash == "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
    assert by_kind["best"].size == 267854321
    assert by_kind["best"].path.endswith("checkpoint-500/pytorch_model.bin")
    assert by_kind["model"].hash_algo == "sha256-lfs"
    assert by_kind["model"].base_model == "distilbert-base-uncased"
    assert [d.name for d in run.datasets] == ["glue"]


def test_v4_start_time_from_tensorboard_file_name_without_the_host(tmp_path):
    run, _ = read(copy_fixture("v4_rounded", tmp_path))
    assert run.start_time == 1704448800.0
    assert run.host is None
    texts = list(run.params.values()) + list(run.tags.values())
    assert not any("gpu-host" in text for text in texts)


def test_training_args_bin_is_never_unpickled(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("training_args.bin must not be unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    path = copy_fixture("real_v5", tmp_path)
    batch = hf_trainer.read(path, ImportContext(root=path))
    assert not any(p.endswith("training_args.bin") for p in batch.consumed_paths)


# ---------------------------------------------------------------------------------------------
# Hand-made PEFT run with checkpoints only


def test_peft_adapter_base_model_and_windows_best_path(tmp_path):
    path = copy_fixture("peft_checkpoints_only", tmp_path)
    assert hf_trainer.detect(path)
    run, _ = read(path)
    assert len(run.artifacts) == 1
    best = run.artifacts[0]
    assert best.kind == "best"
    assert best.base_model == "meta-llama/Llama-2-7b-hf"
    assert best.path == str((path / "checkpoint-20" / "adapter_model.safetensors").resolve())
    assert best.path_raw.startswith("C:\\Users\\bob\\lora-out\\checkpoint-20")


def test_peft_nan_grad_norm_noisy_epoch_and_named_eval_sets(tmp_path):
    run, _ = read(copy_fixture("peft_checkpoints_only", tmp_path))
    assert (10, 0.2, None, "nan") in values(run, "grad_norm")
    assert values(run, "loss")[2][1] == 0.30000000000000004
    assert {"eval_alpaca_loss", "eval_dolly_loss", "num_input_tokens_seen"} <= {p.key for p in run.all_points()}
    assert run.status is None  # no final summary entry: training did not finish


# ---------------------------------------------------------------------------------------------
# Detection


def test_detect_rejects_look_alikes(tmp_path):
    plain = tmp_path / "eval_only"
    plain.mkdir()
    (plain / "eval_results.json").write_text('{"eval_accuracy": 0.9, "epoch": 3.0}')
    assert not hf_trainer.detect(plain)
    other = tmp_path / "other_state"
    other.mkdir()
    (other / "trainer_state.json").write_text('{"step": 3, "weights": "x"}')
    assert not hf_trainer.detect(other)
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "trainer_state.json").write_bytes(b"\x00\x01\x02")
    assert not hf_trainer.detect(binary)
    assert not hf_trainer.detect(tmp_path / "missing")
    assert not hf_trainer.detect(FIXTURES / "real_v5" / "trainer_state.json")


# ---------------------------------------------------------------------------------------------
# Malformed input


def write_state(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    (path / "trainer_state.json").write_text(text)
    return path


def test_truncated_state_names_file_and_line(tmp_path):
    path = write_state(tmp_path, '{\n  "global_step": 4,\n  "log_history": [\n    {"loss": 1.0,')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.path.endswith("trainer_state.json")
    assert error.value.line == 4


def test_binary_state_is_an_import_error(tmp_path):
    path = tmp_path / "out"
    path.mkdir()
    (path / "trainer_state.json").write_bytes(b'{"log_history": [\x00\xff\xfe]}')
    with pytest.raises(ImportFailed):
        read(path)


def test_log_history_of_the_wrong_type_names_the_field(tmp_path):
    path = write_state(tmp_path, '{"log_history": {"loss": 1}}')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.field == "log_history"


def test_bad_step_names_entry_line_and_field(tmp_path):
    text = ('{\n  "log_history": [\n    {\n      "loss": 1.0,\n      "step": 1\n    },\n'
            '    {\n      "loss": 0.5,\n      "step": "two"\n    }\n  ]\n}\n')
    path = write_state(tmp_path, text)
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.field == "log_history[1].step"
    assert error.value.line == 7


def test_bad_epoch_and_non_object_entry(tmp_path):
    path = write_state(tmp_path, '{"log_history": [{"loss": 1.0, "step": 1, "epoch": "one"}]}')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.field == "log_history[0].epoch"
    shutil.rmtree(path)
    path = write_state(tmp_path, '{"log_history": [3]}')
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.field == "log_history[0]"


def test_results_file_that_is_not_an_object_fails(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    (path / "all_results.json").write_text("[1, 2]")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.path.endswith("all_results.json")


def test_broken_card_front_matter_names_readme_and_line(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    (path / "README.md").write_text("---\nbase_model: x\ndatasets: [a, b\n---\n# card\n")
    with pytest.raises(ImportFailed) as error:
        read(path)
    assert error.value.path.endswith("README.md")
    assert error.value.line is not None and error.value.line >= 3


def test_missing_companions_are_warnings_not_errors(tmp_path):
    path = write_state(tmp_path, '{"global_step": 2, "log_history": [{"loss": 1.0, "step": 2}]}')
    run, ctx = read(path)
    assert values(run, "loss") == [(2, None, 1.0, None)]
    assert run.artifacts == [] and any("no model weights" in w for w in ctx.warnings)


# ---------------------------------------------------------------------------------------------
# Identity


def test_reading_twice_gives_identical_records(tmp_path):
    path = copy_fixture("v4_rounded", tmp_path)
    first, _ = read(path)
    second, _ = read(path)
    assert first == second
    assert first.uid == second.uid and first.fingerprint == second.fingerprint


def test_a_grown_log_keeps_its_uid_and_changes_its_fingerprint(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    before, _ = read(path)
    state = json.loads((path / "trainer_state.json").read_text())
    state["log_history"].append({"epoch": 1.25, "loss": 0.5, "step": 10})
    (path / "trainer_state.json").write_text(json.dumps(state, indent=2))
    after, _ = read(path)
    assert after.uid == before.uid
    assert after.fingerprint != before.fingerprint
    assert (10, 1.25, 0.5, None) in values(after, "loss")


# ---------------------------------------------------------------------------------------------
# Real transformers 5.24 run reporting to TensorBoard: TrainingArguments from args/text_summary


def events_file(path: Path) -> Path:
    [file] = list((path / "runs").glob("*/events.out.tfevents.*"))
    return file


def test_training_arguments_come_from_the_tensorboard_text_summary(tmp_path):
    path = copy_fixture("real_v5_tb", tmp_path)
    run, _ = read(path)
    assert run.params["learning_rate"] == "0.003"
    assert run.params["weight_decay"] == "0.01"
    assert run.params["per_device_train_batch_size"] == "4"
    assert run.params["report_to"] == '["tensorboard"]'
    assert run.params["max_steps"] == "4"
    assert len(run.params) > 50
    assert any(p.endswith(events_file(path).name) for p in
               hf_trainer.read(path, ImportContext(root=path)).consumed_paths)


def test_tensorboard_args_drop_host_name_and_credentials(tmp_path):
    path = copy_fixture("real_v5_tb", tmp_path)
    run, _ = read(path)
    host_dir = events_file(path).parent.name
    assert "logging_dir" not in run.params
    assert run.params["hub_token"] == "<HUB_TOKEN>"  # the writer's placeholder, no secret
    assert not any(host_dir in value for value in run.params.values())
    assert run.start_time == float(events_file(path).name.split(".")[3])


def test_truncated_or_garbage_events_file_only_loses_the_arguments(tmp_path):
    path = copy_fixture("real_v5_tb", tmp_path)
    events = events_file(path)
    data = events.read_bytes()
    events.write_bytes(data[:30])  # a writer killed during its first records
    run, ctx = read(path)
    assert "per_device_train_batch_size" not in run.params and run.all_points()
    garbage = (200).to_bytes(8, "little") + b"\0" * 4 + b"\xff" * 200 + b"\0" * 4
    events.write_bytes(garbage)
    run, ctx = read(path)
    assert "per_device_train_batch_size" not in run.params and run.all_points()
    assert any("unreadable TensorBoard data" in w for w in ctx.warnings)


# ---------------------------------------------------------------------------------------------
# Against the writers' own readers (expected.json, made by make_expected.py)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_points_are_log_history_as_the_trainer_wrote_it(name, tmp_path):
    """Every numeric log_history value, in order, repeated steps kept; nothing else on the
    training curve (the save_metrics results are final/<key>)."""
    run, _ = read(copy_fixture(name, tmp_path))
    curve: dict[str, list] = {}
    for p in sorted(run.all_points(), key=lambda p: p.seq):
        if not p.key.startswith("final/"):
            curve.setdefault(p.key, []).append([p.step, p.value if p.raw is None else p.raw])
    assert curve == EXPECTED[name]["log_history"]


def test_post_training_evaluation_is_the_final_evaluation_not_a_curve_point(tmp_path):
    path = copy_fixture("real_v5", tmp_path)
    run, _ = read(path)
    results = json.loads((path / "all_results.json").read_text())
    final = {p.key: (p.step, p.value, p.axis) for p in run.all_points() if p.key.startswith("final/")}
    assert final == {f"final/{k}": (8, float(v), "final") for k, v in results.items()
                     if k not in ("epoch", "train_samples", "eval_samples")}
    assert len(values(run, "eval_accuracy")) == len(EXPECTED["real_v5"]["log_history"]["eval_accuracy"])


def test_params_are_the_training_arguments_and_state_fields_are_state(tmp_path):
    """num_train_epochs is the argument (3.0), not trainer_state's computed epochs (1)."""
    run, _ = read(copy_fixture("real_v5_tb", tmp_path))
    args = EXPECTED["real_v5_tb"]["training_args"]
    state = EXPECTED["real_v5_tb"]["state"]
    assert run.params["num_train_epochs"] == "3.0" == repr(args["num_train_epochs"])
    assert run.tags["trainer_state.num_train_epochs"] == str(state["num_train_epochs"]) == "1"
    for key in ("average_tokens_across_devices", "include_num_input_tokens_seen"):
        assert run.params[key] == as_param_text(args[key])  # not mistaken for credentials
    flat = {k: as_param_text(v) for k, v in flatten(args).items() if k != "logging_dir"}
    assert {k: run.params[k] for k in flat} == flat


def test_import_reports_the_tensorboard_copy_as_merged(catalog):
    summary = import_paths(catalog, [FIXTURES / "real_v5_tb" / "trainer_state.json"])
    assert summary.formats == {"hf": 1}
    (note,) = summary.merged
    assert "TrainingArguments taken as params" in note and "float32 copies" in note
