"""Tests for the DVC importer (dvc.lock, dvc.yaml, params, metrics, DVCLive, .dvc files).

Fixtures under tests/fixtures/dvc/:

* ``real_pipeline`` and ``real_dvclive_only`` — written by the real DVC 3 / DVCLive 3
  (``make_fixture.sh``: ``dvc init --no-scm``, ``dvc add``, ``dvc stage add``, ``dvc repro``).
* ``legacy_v1`` — hand-made DVC 1.x lock (no ``schema``, no ``hash`` keys: md5-dos2unix).
* ``dvc3_handmade`` — hand-made schema 2.0 lock with a ``cmd`` list, ``.dir`` outs, etag and
  checksum deps, params from a second file, ``${vars}`` in dvc.yaml, a DVCLive custom dir with
  timestamps and nested names, ``dvc import`` / ``import-url`` files, NaN in a YAML metric.
* ``yaml_only`` — dvc.yaml without a lock.  ``dvclive_v2`` — DVCLive 2's ``dvclive/dvc.yaml``.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import mltui.importers as importers
import mltui.services.discovery as discovery
from mltui.core.errors import ImportFailed
from mltui.importers import dvc
from mltui.importers.common import ImportContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dvc"
REAL = FIXTURES / "real_pipeline"
LEGACY = FIXTURES / "legacy_v1"
DVC3 = FIXTURES / "dvc3_handmade"


def read(path: Path, root: Path | None = None):
    """Read a pipeline folder; return (run, warnings, batch)."""
    ctx = ImportContext(root=root or path)
    batch = dvc.read(path, ctx)
    assert batch.source_format == "dvc" and len(batch.runs) == 1
    return batch.runs[0], ctx.warnings, batch


def series(run, key: str) -> list[tuple]:
    return [(p.step, p.value if p.raw is None else p.raw) for p in run.metrics if p.key == key]


def by_name(records, name: str):
    (found,) = [r for r in records if r.name == name]
    return found


def copy_fixture(tmp_path: Path, source: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["real_pipeline", "real_dvclive_only", "legacy_v1",
                                    "dvc3_handmade", "yaml_only", "dvclive_v2/dvclive"])
def test_detect_accepts_pipeline_folders(folder):
    assert dvc.detect(FIXTURES / folder)


def test_detect_rejects_folders_without_lock_or_pipeline(tmp_path):
    (tmp_path / "params.yaml").write_text("lr: 0.1\n")
    (tmp_path / "metrics.json").write_text('{"loss": 0.1}')
    (tmp_path / "results.csv").write_text("epoch,loss\n0,1\n")
    (tmp_path / "data.dvc").write_text("outs:\n- md5: abc\n  path: data\n")
    assert not dvc.detect(tmp_path)
    assert not dvc.detect(REAL / "dvclive")  # DVCLive 3 inside a pipeline: no dvc.yaml there
    assert not dvc.detect(REAL / "dvc.lock")  # a file is not a pipeline folder
    (tmp_path / "dvc.yaml").mkdir()  # a folder with the name is not the file
    assert not dvc.detect(tmp_path)


# --- the real DVC 3 pipeline ------------------------------------------------------------------


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_real_pipeline_run_identity_and_tags():
    run, warnings, _ = read(REAL)
    assert warnings == []
    assert run.name == run.project == "real_pipeline"
    assert run.source_format == "dvc" and run.source_path == str(REAL)
    assert run.status == "FINISHED"
    assert run.git_commit is None  # the walk fills it from the work tree
    assert run.tags["dvc.stages"] == "prepare,train"
    assert run.tags["dvc.lock_schema"] == "2.0"
    assert run.tags["dvc.cmd.train"] == "python src/train.py"
    assert run.tags["artifact.clf.desc"] == "logistic regression on x1, x2"
    assert run.tags["artifact.clf.labels"] == "tabular, baseline"


def test_real_pipeline_params_are_the_locks_resolved_values():
    run, _, _ = read(REAL)
    assert run.params == {
        "prepare.seed": "7", "prepare.split": "0.25",  # dotted keys as the lock has them
        "train.lr": "0.5", "train.epochs": "5", "train.l2": "0.0001",  # a whole section, flattened
        "lr": "0.5", "epochs": "5", "l2": "0.0001",  # DVCLive's params.yaml
    }


def test_real_pipeline_datasets_hashes_and_derivation():
    run, _, _ = read(REAL)
    assert [d.name for d in run.datasets] == ["raw", "prepared"]
    raw, prepared = run.datasets
    assert (raw.hash_algo, raw.size, raw.file_count) == ("md5", 2060, 1)
    assert raw.uri_raw == "data/raw.csv"
    assert raw.hash == md5_of(REAL / "data" / "raw.csv")  # DVC 3 md5 is of the raw bytes
    assert raw.path == str((REAL / "data" / "raw.csv").resolve())
    assert prepared.hash_algo == "md5.dir" and prepared.hash == "ccc782e0218ce6a5510d41b1078c3c18"
    assert (prepared.size, prepared.file_count) == (2072, 2)
    assert prepared.derived_from == [raw] and prepared.derived_from[0] is raw
    assert all(d.role == "input" for d in run.datasets)
    assert run.environment["code_deps"] == {
        "src/prepare.py": "aa5fde5b1a0945749d05039af21c87c4",
        "src/train.py": "1d8c347e15cbb918160b7ab0af2f2395"}


def test_real_pipeline_model_artifact_from_artifacts_section():
    run, _, _ = read(REAL)
    (model,) = run.artifacts
    model_file = REAL / "models" / "model.pkl"
    assert (model.name, model.kind, model.path_raw) == ("clf", "model", "models/model.pkl")
    assert (model.hash_algo, model.hash, model.size) == ("md5", md5_of(model_file), 50)
    assert model.path == str(model_file.resolve())


def test_real_pipeline_metrics_file_and_dvclive():
    run, _, _ = read(REAL)
    assert series(run, "test.accuracy") == [(None, 1.0)]
    assert series(run, "test.roc_auc") == [(None, "nan")]  # json.dump's bare NaN
    assert series(run, "n_train") == [(None, 90.0)]
    assert series(run, "train/loss") == [(0, 0.301995), (1, 0.155217), (2, 0.121662),
                                         (3, 0.104306), (4, 0.093263)]
    assert [s for s, _ in series(run, "test/accuracy")] == [0, 1, 2, 3, 4]
    # metrics.json's latest values repeat the TSVs' last rows: not imported twice.
    assert len(series(run, "train/accuracy")) == 5
    assert [p.seq for p in run.metrics] == list(range(len(run.metrics)))
    assert all(p.axis == "step" for p in run.metrics)


def test_real_pipeline_consumes_what_it_read():
    _, _, batch = read(REAL)
    consumed = set(batch.consumed_paths)
    for rel in ["dvc.lock", "dvc.yaml", "metrics.json", "data/raw.csv.dvc", "dvclive",
                "dvclive/metrics.json", "dvclive/params.yaml",
                "dvclive/plots/metrics/train/loss.tsv"]:
        assert str((REAL / rel).resolve()) in consumed, rel


def test_real_dvclive_only():
    run, warnings, _ = read(FIXTURES / "real_dvclive_only")
    assert warnings == [] and run.status is None
    assert run.params == {"lr": "0.1", "optimizer.name": "sgd", "optimizer.momentum": "0.9"}
    assert series(run, "val/acc") == [(0, 0.5), (1, 0.6), (2, 0.7)]  # nested name from folders
    assert series(run, "loss") == [(0, 1.0), (1, 0.5), (2, 0.333333)]
    assert run.datasets == [] and run.artifacts == []


def test_dvclive_2_standalone_dir_is_named_after_its_parent():
    run, _, batch = read(FIXTURES / "dvclive_v2" / "dvclive")
    assert run.name == "dvclive_v2"
    assert run.params == {"lr": "0.001"}
    assert series(run, "loss") == [(0, 0.5), (1, 0.25)]
    assert str((FIXTURES / "dvclive_v2" / "dvclive").resolve()) not in batch.consumed_paths


def test_lock_params_win_over_an_edited_params_yaml(tmp_path):
    folder = copy_fixture(tmp_path, REAL)
    (folder / "params.yaml").write_text("prepare:\n  split: 0.5\n  seed: 1\n"
                                        "train:\n  lr: 0.9\n  epochs: 1\n  l2: 0.0\n")
    run, _, batch = read(folder)
    assert run.params["train.lr"] == "0.5" and run.params["prepare.split"] == "0.25"
    assert str((folder / "params.yaml").resolve()) not in batch.consumed_paths  # not read


# --- legacy DVC 1.x ---------------------------------------------------------------------------


def test_legacy_lock_without_schema_uses_md5_dos2unix():
    run, warnings, _ = read(LEGACY)
    assert warnings == []
    assert run.tags["dvc.lock_schema"] == "1.x"
    assert run.status == "FINISHED"
    data = by_name(run.datasets, "data")
    assert (data.hash_algo, data.hash) == ("md5-dos2unix", "a304afb96060aad90176268345e10355")
    assert data.path == str((LEGACY / "data" / "data.xml").resolve())
    prepared = by_name(run.datasets, "prepared")
    assert prepared.hash_algo == "md5.dir" and prepared.file_count is None  # 1.x: no nfiles
    assert prepared.path is None  # the dvc-tracked output is not committed
    assert prepared.derived_from == [data]
    (model,) = run.artifacts
    assert (model.path_raw, model.hash_algo, model.hash) == (
        "model.pkl", "md5-dos2unix", "662eb7f64216d9c2c1088d0a5e2c6951")


def test_legacy_params_file_declared_as_dep_is_code_not_data():
    run, _, _ = read(LEGACY)
    assert "params" not in {d.name for d in run.datasets}
    assert run.environment["code_deps"]["params.yaml"] == "8f7c3b1a91b4e7d4f9f0c5b2a1e3d6c7"
    assert run.params == {"prepare.seed": "20170428", "prepare.split": "0.2",
                          "train.min_split": "2", "train.n_est": "50"}


def test_legacy_etag_dep_and_metrics():
    run, _, _ = read(LEGACY)
    extra = by_name(run.datasets, "extra")
    assert (extra.hash_algo, extra.hash, extra.path) == (
        "etag", "5d41402abc4b2a76b9719d911017c592", None)
    assert extra.uri_raw == "s3://dvc-public/remote/get-started/extra.csv"
    assert series(run, "avg_prec") == [(None, 0.5204838673030754)]
    assert "scores" not in {d.name for d in run.datasets}  # a metrics out is not data


# --- hand-made DVC 3 with every quirk ---------------------------------------------------------


def test_cmd_list_is_joined():
    run, _, _ = read(DVC3)
    assert run.tags["dvc.cmd.featurize"] == ("python src/featurize.py data/raw data/features"
                                             " && echo featurized")


def test_params_from_another_file_are_prefixed():
    run, _, _ = read(DVC3)
    assert run.params == {"config/model.yaml:model.depth": "6", "featurize.max_features": "200",
                          "featurize.ngrams": "2", "train.lr": "0.01", "epochs": "3"}


def test_interpolated_metrics_path_and_nan_tokens():
    run, warnings, _ = read(DVC3)
    assert warnings == []
    assert series(run, "train.loss") == [(None, 0.2311)]
    assert series(run, "train.accuracy") == [(None, "nan")]  # YAML .nan
    assert series(run, "test.f1") == [(None, "nan")]  # bare NaN
    assert series(run, "test.support") == [(None, 160.0)]
    keys = {p.key for p in run.metrics}
    assert "notes" not in keys and not any(k.startswith("per_class") for k in keys)
    assert not any(k.startswith("roc") for k in keys)  # plots are not metrics


def test_dvclive_custom_dir_timestamps_nested_names_and_latest_values():
    run, _, batch = read(DVC3)
    loss = [p for p in run.metrics if p.key == "train/loss"]
    assert [(p.step, p.value, p.raw, p.wall_time) for p in loss] == [
        (0, 0.9, None, 1700000000.123), (1, 0.6, None, 1700000060.456),
        (2, None, "nan", 1700000120.789)]
    assert series(run, "train/fold1/loss") == [(0, 0.5), (1, 0.45), (2, 0.41)]
    assert series(run, "val_acc") == [(0, 0.61), (1, 0.7), (2, 0.77)]
    assert series(run, "best_epoch") == [(2, 1.0)]  # no history: metrics.json value at its step
    assert str((DVC3 / "results" / "live").resolve()) in batch.consumed_paths


def test_dir_outs_external_deps_and_derivation():
    run, _, _ = read(DVC3)
    raw = by_name(run.datasets, "raw")
    assert (raw.hash_algo, raw.hash, raw.size, raw.file_count) == (
        "md5.dir", "9a1e0d7c6b5a4f3e2d1c0b9a8f7e6d5c", 30512, 3)
    features = by_name(run.datasets, "features")
    assert {d.name for d in features.derived_from} == {"raw", "external", "stopwords"}
    (hdfs,) = [d for d in features.derived_from if d.name == "stopwords"]
    assert (hdfs.hash_algo, hdfs.hash) == (
        "checksum", "000002000000000000000000a86fe4d846edc1bf4c355cb6112f141e")
    vocab = by_name(run.datasets, "vocab")
    assert (vocab.hash_algo, vocab.hash, vocab.size) == ("etag", "5e2a1c-61a2b3c4d5e6f", 4096)
    assert set(run.environment["code_deps"]) == {"config/features.yaml", "src/featurize.py",
                                                 "src/train.py"}


def test_unconsumed_outs_are_output_datasets_and_reports_are_not():
    run, _, _ = read(DVC3)
    (predictions,) = [d for d in run.datasets if d.role == "output"]
    assert predictions.name == "predictions" and predictions.hash_algo == "md5"
    assert {d.name for d in predictions.derived_from} == {"features", "vocab"}
    names = {d.name for d in run.datasets}
    assert not names & {"metrics", "roc", "models", "live"}


def test_models_dir_out_is_the_artifact_without_artifacts_section():
    run, _, _ = read(DVC3)
    (model,) = run.artifacts
    assert (model.path_raw, model.hash_algo, model.hash, model.size, model.name) == (
        "models", "md5.dir", "d41d8cd98f00b204e9800998ecf8427e", 52344, None)
    assert model.path == str((DVC3 / "models").resolve())


def test_dvc_import_and_import_url_give_upstream_datasets():
    run, _, _ = read(DVC3)
    external = by_name(run.datasets, "external")
    assert (external.hash_algo, external.hash) == ("md5", "22a1a2931c8370d3aeedd7183606fd7f")
    (upstream,) = external.derived_from
    assert upstream.name == "dataset-registry/get-started/data.xml"
    assert (upstream.hash_algo, upstream.hash) == ("md5", external.hash)  # same bytes, DVC checked
    assert upstream.uri_raw == ("https://github.com/iterative/dataset-registry/get-started/data.xml"
                                "@f31f5c4cdae787b4bdeb97a717687d44667d9e62")
    # import-url data that no stage uses is still tracked project data.
    (tracked,) = [d for d in run.datasets if d.uri_raw == "data/stopwords.txt"]
    assert (tracked.hash_algo, tracked.hash) == ("md5", "e1d2c3b4a5968778695a4b3c2d1e0f9a")
    (url,) = tracked.derived_from
    assert (url.uri_raw, url.hash_algo, url.hash) == (
        "https://example.com/data/stopwords.txt", "etag", "0x8DB3A1C2F5E6D7B")


def test_dvc_add_file_of_a_stage_dep_is_not_a_second_dataset():
    run, _, _ = read(DVC3)
    assert len([d for d in run.datasets if d.name == "raw"]) == 1


# --- dvc.yaml without a lock ------------------------------------------------------------------


def test_yaml_only_reads_params_yaml_and_warns():
    folder = FIXTURES / "yaml_only"
    run, warnings, _ = read(folder)
    assert any("no dvc.lock" in w for w in warnings)
    assert any("missing_metrics.json" in w for w in warnings)
    assert run.status is None and run.tags["dvc.lock_schema"] == "none"
    assert run.params == {"train.C": "0.001", "train.penalty": "l2"}  # 1e-3 is a float; no e-mail
    assert series(run, "loss") == [(None, "inf")]
    clean = by_name(run.datasets, "clean")
    assert clean.hash is None and clean.path == str((folder / "data" / "clean.csv").resolve())
    assert [d.name for d in clean.derived_from] == ["raw"]
    (model,) = run.artifacts  # no lock hash: hashed on disk
    assert model.hash_algo == "sha256" and model.path_raw == "models/clf.joblib"


# --- identity ---------------------------------------------------------------------------------


def test_read_twice_gives_identical_records():
    first, _, _ = read(DVC3)
    second, _, _ = read(DVC3)
    assert first.uid == second.uid and first.fingerprint == second.fingerprint
    assert first == second


def test_uid_survives_a_new_lock_but_fingerprint_changes(tmp_path):
    folder = copy_fixture(tmp_path, REAL)
    before, _, _ = read(folder)
    lock = folder / "dvc.lock"
    lock.write_text(lock.read_text().replace("3fa8fd4480ce61d395c16383fed5711e",
                                             "0123456789abcdef0123456789abcdef"))
    after, _, _ = read(folder)
    assert after.uid == before.uid
    assert after.fingerprint != before.fingerprint
    assert after.artifacts[0].hash == "0123456789abcdef0123456789abcdef"


# --- malformed input --------------------------------------------------------------------------


def write_pipeline(folder: Path, lock: str | bytes | None = None, yaml_text: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    if lock is not None:
        (folder / "dvc.lock").write_bytes(lock.encode() if isinstance(lock, str) else lock)
    if yaml_text is not None:
        (folder / "dvc.yaml").write_text(yaml_text)
    return folder


GOOD_LOCK = """schema: '2.0'
stages:
  train:
    cmd: python train.py
    deps:
    - path: data.csv
      hash: md5
      md5: 0123456789abcdef0123456789abcdef
      size: 10
    - size: 12
    outs:
    - path: model.pkl
      hash: md5
      md5: fedcba9876543210fedcba9876543210
"""


def test_dep_without_path_names_line_and_field(tmp_path):
    folder = write_pipeline(tmp_path / "p", GOOD_LOCK)
    with pytest.raises(ImportFailed) as info:
        read(folder)
    assert info.value.path == str(folder / "dvc.lock")
    assert info.value.field == "stages.train.deps[1]"
    assert info.value.line == 10


@pytest.mark.parametrize("lock, field, line", [
    ("schema: '2.0'\nstages:\n  train:\n    cmd: 42\n", "stages.train.cmd", 4),
    ("schema: '2.0'\nstages:\n  train:\n    deps: {path: x}\n", "stages.train.deps", 4),
    ("schema: '2.0'\nstages:\n  train:\n    outs:\n    - path: m\n      md5: [1, 2]\n",
     "stages.train.outs[0].md5", 6),
    ("schema: '2.0'\nstages: [a, b]\n", "stages", 2),
    ("train:\n  params:\n    params.yaml: 3\n", "train.params.params.yaml", 3),
])
def test_wrong_types_name_field_and_line(tmp_path, lock, field, line):
    folder = write_pipeline(tmp_path / "p", lock)
    with pytest.raises(ImportFailed) as info:
        read(folder)
    assert (info.value.field, info.value.line) == (field, line)


@pytest.mark.parametrize("content", [b"stages: [unclosed\n", b"\x00\x01\x02binary\xff",
                                     b"- just\n- a list\n"])
def test_garbage_lock_is_import_failed(tmp_path, content):
    folder = write_pipeline(tmp_path / "p", content)
    with pytest.raises(ImportFailed) as info:
        read(folder)
    assert info.value.path == str(folder / "dvc.lock")


def test_bad_dvclive_rows_name_line_and_field(tmp_path):
    folder = copy_fixture(tmp_path, FIXTURES / "real_dvclive_only")
    tsv = folder / "dvclive" / "plots" / "metrics" / "loss.tsv"
    tsv.write_text("step\tloss\n0\t1.0\nx\t0.5\n")
    with pytest.raises(ImportFailed) as info:
        read(folder)
    assert (info.value.path, info.value.line, info.value.field) == (str(tsv), 3, "step")
    tsv.write_text("step\tloss\n0\t1.0\n1\tlots\n")
    with pytest.raises(ImportFailed) as info:
        read(folder)
    assert (info.value.line, info.value.field) == (3, "loss")


def test_broken_metrics_json_is_import_failed(tmp_path):
    folder = copy_fixture(tmp_path, REAL)
    (folder / "metrics.json").write_text('{\n  "acc": 0.9,\n  "loss": \n}')
    with pytest.raises(ImportFailed) as info:
        read(folder)
    assert info.value.path == str(folder / "metrics.json") and info.value.line == 4


def test_malformed_dvc_file_names_field(tmp_path):
    folder = copy_fixture(tmp_path, REAL)
    (folder / "data" / "raw.csv.dvc").write_text("outs:\n- size: 3\n")
    with pytest.raises(ImportFailed) as info:
        read(folder)
    assert info.value.field == "outs[0]" and info.value.line == 2


# --- more quirks ------------------------------------------------------------------------------


def test_paths_outside_the_imported_tree_are_not_resolved(tmp_path):
    lock = GOOD_LOCK.replace("    - size: 12\n", "    - path: ../../../../etc/passwd\n"
                                                 "      md5: 0123456789abcdef0123456789abcdef\n")
    folder = write_pipeline(tmp_path / "p", lock)
    run, _, _ = read(folder)
    passwd = by_name(run.datasets, "passwd")
    assert passwd.path is None and passwd.uri_raw == "../../../../etc/passwd"


def test_foreach_stages_come_from_the_lock(tmp_path):
    yaml_text = """stages:
  train:
    foreach: [small, big]
    do:
      cmd: python train.py ${item}
      deps:
      - data.csv
      outs:
      - model-${item}.pkl
"""
    lock = """schema: '2.0'
stages:
  train@small:
    cmd: python train.py small
    deps:
    - path: data.csv
      hash: md5
      md5: 0123456789abcdef0123456789abcdef
    outs:
    - path: model-small.pkl
      hash: md5
      md5: 11111111111111111111111111111111
  train@big:
    cmd: python train.py big
    deps:
    - path: data.csv
      hash: md5
      md5: 0123456789abcdef0123456789abcdef
    outs:
    - path: model-big.pkl
      hash: md5
      md5: 22222222222222222222222222222222
"""
    run, warnings, _ = read(write_pipeline(tmp_path / "p", lock, yaml_text))
    assert run.tags["dvc.stages"] == "train@small,train@big"
    assert run.status == "FINISHED" and warnings == []
    assert [d.name for d in run.datasets] == ["data"]
    assert [a.hash for a in run.artifacts] == ["11111111111111111111111111111111",
                                              "22222222222222222222222222222222"]


def test_stage_missing_from_the_lock_is_a_warning(tmp_path):
    yaml_text = "stages:\n  train:\n    cmd: python train.py\n  evaluate:\n    cmd: python ev.py\n"
    lock = "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n"
    run, warnings, _ = read(write_pipeline(tmp_path / "p", lock, yaml_text))
    assert run.status is None
    assert any("evaluate" in w and "not in the lock" in w for w in warnings)


def test_unknown_schema_is_read_with_a_warning(tmp_path):
    run, warnings, _ = read(write_pipeline(tmp_path / "p", GOOD_LOCK.replace(
        "'2.0'", "'3.0'").replace("    - size: 12\n", "")))
    assert any("unknown lock schema" in w for w in warnings)
    assert [d.name for d in run.datasets] == ["data"]


def test_empty_lock_and_yaml_are_not_errors(tmp_path):
    run, warnings, _ = read(write_pipeline(tmp_path / "p", "", ""))
    assert run.metrics == [] and run.datasets == []
    assert any("empty" in w for w in warnings)


def test_nested_pipeline_dvc_files_are_its_own(tmp_path):
    folder = copy_fixture(tmp_path, REAL)
    nested = folder / "sub"
    shutil.copytree(LEGACY, nested)
    run, _, batch = read(folder)
    assert str((nested / "data" / "data.xml.dvc").resolve()) not in batch.consumed_paths
    assert "data" not in {d.name for d in run.datasets}


# --- the directory walk ------------------------------------------------------------------------


def test_walk_claims_each_pipeline_once_and_skips_consumed_dvclive(monkeypatch, tmp_path):
    monkeypatch.setattr(importers, "FORMAT_MODULES", ["dvc"])
    project = copy_fixture(tmp_path, DVC3)
    # DVCLive 2 inside a pipeline wrote its own dvclive/dvc.yaml: not a second run.
    shutil.copytree(FIXTURES / "dvclive_v2" / "dvclive", project / "dvclive")
    found = discovery.discover([project])
    assert [p for _, p in found] == [project, project / "dvclive"]
    result = discovery.read_paths([project])
    assert result.failures == []
    assert len(result.batches) == 1
    (run,) = result.batches[0].runs
    assert series(run, "loss") == [(0, 0.5), (1, 0.25)]
