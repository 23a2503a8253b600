"""MLflow file store (mlruns/): a real store written by mlflow-skinny 3.17.2 plus hand-made quirks.

``tests/fixtures/mlflow/make_fixture.py`` wrote ``filestore/mlruns`` and ``expected.json`` (what
MLflow's own client reports); the records must match it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import shutil
from pathlib import Path

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers import mlflow_files
from mltui.services.discovery import discover, read_paths
from mltui.importers.common import ImportContext, fingerprint, load_yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow"
STORE = FIXTURES / "filestore" / "mlruns"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())["stores"]["files"]
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "make_mlruns.py"

BASELINE = next(rid for rid, r in EXPECTED["runs"].items() if r["name"] == "baseline")
WIDER = next(rid for rid, r in EXPECTED["runs"].items() if r["name"] == "wider")
BERT = next(rid for rid, r in EXPECTED["runs"].items() if r["name"] == "bert-small")
# MLflow's file reader reports step 0 for 5-field (dataset-bound) lines; the real step is field 3.
FIVE_FIELD_KEYS = {(BERT, "eval/f1")}


def read(path: Path, root: Path | None = None):
    ctx = ImportContext(root=root or path)
    return mlflow_files.read(path, ctx), ctx


def by_uid(batch):
    return {run.uid: run for run in batch.runs}


def series(run, key):
    return [(p.step, p.value, p.raw, p.wall_time) for p in run.all_points() if p.key == key]


def distinct_expected(points):
    """MLflow client points (step, repr(value), ts) with identical repeats dropped, in order."""
    seen, out = set(), []
    for step, value, stamp in points:
        if (step, value, stamp) not in seen:
            seen.add((step, value, stamp))
            out.append((step, value, stamp))
    return out


def as_expected(point):
    """A MetricPoint in expected.json's terms: (step, repr(value), timestamp ms)."""
    value = float(point.raw) if point.raw else point.value
    return point.step, repr(value), round(point.wall_time * 1000)


# ---------------------------------------------------------------------------------------------
# The real store against MLflow's own client


def test_detects_store_experiment_and_run_folders():
    assert mlflow_files.detect(STORE)
    experiment = STORE / next(p.name for p in STORE.iterdir() if p.name.isdigit() and p.name != "0")
    assert mlflow_files.detect(experiment)
    run_dir = next(p for p in experiment.iterdir() if (p / "meta.yaml").is_file())
    assert mlflow_files.detect(run_dir)


def test_rejects_look_alikes(tmp_path):
    generic = tmp_path / "output"
    generic.mkdir()
    (generic / "metrics.json").write_text('{"loss": 1.0}\n')
    numbered = tmp_path / "frames"
    for index in range(3):
        (numbered / f"{index:04d}").mkdir(parents=True)
        (numbered / f"{index:04d}" / "meta.yaml").write_text("width: 640\nheight: 480\n")
    csv_dir = tmp_path / "logs"
    csv_dir.mkdir()
    (csv_dir / "results.csv").write_text("epoch,loss\n1,0.5\n")
    for folder in (generic, numbered, csv_dir, FIXTURES, FIXTURES / "sqlite"):
        assert not mlflow_files.detect(folder), folder
    logged_model = next(STORE.glob("*/models/m-*"))
    assert not mlflow_files.detect(logged_model)
    assert not mlflow_files.detect(logged_model / "artifacts")  # an MLmodel folder
    assert not mlflow_files.detect(STORE / "models" / "mnist-classifier")
    assert not mlflow_files.detect(STORE / "0" / "meta.yaml")  # a file


def test_active_runs_match_mlflow_client():
    batch, _ = read(STORE)
    runs = by_uid(batch)
    active = {rid for rid, r in EXPECTED["runs"].items()
              if r["lifecycle_stage"] == "active" and r["experiment_lifecycle_stage"] == "active"}
    assert set(runs) == active and len(active) == EXPECTED["run_count_active"] == 5
    for rid, run in runs.items():
        want = EXPECTED["runs"][rid]
        assert run.uid == rid and run.source_format == "mlflow"
        assert run.name == want["name"]
        assert run.project == want["experiment"]
        assert run.status == want["status"]
        assert run.start_time == want["start_time"] / 1000
        assert run.end_time == want["end_time"] / 1000
        assert run.params == want["params"]
        assert run.git_commit == want["tags"]["mlflow.source.git.commit"]
        assert run.git_branch == want["tags"]["mlflow.source.git.branch"]
        expected_tags = {k: v for k, v in want["tags"].items() if "@" not in v}
        assert run.tags == expected_tags
        assert run.fingerprint and run.source_path.endswith(rid)
    statuses = sorted(run.status for run in runs.values())
    assert statuses == ["FAILED", "FINISHED", "FINISHED", "FINISHED", "KILLED"]


def test_deleted_run_and_deleted_experiment_are_skipped():
    batch, _ = read(STORE)
    names = {run.name for run in batch.runs}
    assert "oops" not in names  # lifecycle_stage: deleted
    assert "scratch-run" not in names  # its experiment is in .trash/
    assert {run.project for run in batch.runs} == {"mnist-cnn", "text-clf"}


def test_metric_points_match_client_history_after_dedup():
    batch, _ = read(STORE)
    for rid, run in by_uid(batch).items():
        want = EXPECTED["runs"][rid]["metrics"]
        assert {p.key for p in run.all_points()} == set(want)
        for key, history in want.items():
            got = [as_expected(p) for p in run.all_points() if p.key == key]
            assert len(got) == history["distinct_len"]
            if (rid, key) in FIVE_FIELD_KEYS:
                assert [s for s, _, _ in got] == [0, 1, 2]
                assert [s for s, _, _ in history["points"]] == [0, 0, 0]
                continue
            assert got == distinct_expected([tuple(p) for p in history["points"]])
            assert [p.seq for p in run.all_points() if p.key == key] == list(range(len(got)))


def test_duplicates_nan_inf_and_slash_keys():
    runs = by_uid(read(STORE)[0])
    baseline, wider = runs[BASELINE], runs[WIDER]
    # The client returns 7 loss points: 5 logged + 1 identical re-log + 1 copied by log_model.
    assert EXPECTED["runs"][BASELINE]["metrics"]["loss"]["history_len"] == 7
    assert [s for s, *_ in series(baseline, "loss")] == [0, 1, 2, 3, 4]
    acc = series(baseline, "acc")
    assert acc[2][:3] == (2, None, "nan")
    assert series(wider, "loss")[1][:3] == (1, None, "inf")
    assert [v for _, v, _, _ in series(baseline, "val/loss")] == [2.4, 1.3, 0.9, 0.8, 0.75]


def test_pii_brackets_and_user():
    runs = by_uid(read(STORE)[0])
    baseline, wider = runs[BASELINE], runs[WIDER]
    assert baseline.user == "alice" and baseline.tags["mlflow.user"] == "alice"
    assert wider.user is None and "mlflow.user" not in wider.tags  # carol@example.com
    assert baseline.tags["note"] == "[bold red]x"
    assert baseline.params["layers"] == "[64, 32]"
    assert runs[BERT].git_branch == "feature/[x]"


def test_dataset_input():
    runs = by_uid(read(STORE)[0])
    (dataset,) = runs[BASELINE].datasets
    (want,) = EXPECTED["runs"][BASELINE]["dataset_inputs"]
    assert dataset.name == want["name"] == "mnist-train"
    assert dataset.hash_algo == "mlflow-digest" and dataset.hash == want["digest"]
    assert dataset.uri_raw == json.loads(want["source"])["uri"]
    assert dataset.path is None  # /home/alice/... is not inside the imported tree
    assert dataset.row_count == 4
    assert all(not run.datasets for uid, run in runs.items() if uid != BASELINE)


def test_logged_model_and_mlmodel_artifacts_are_hashed_inside_the_tree():
    runs = by_uid(read(STORE)[0])
    (logged,) = runs[BASELINE].artifacts
    model_id = EXPECTED["runs"][BASELINE]["model_outputs"][0]
    assert logged.name == "model" and model_id in logged.path_raw
    assert logged.path_raw.startswith("file:///tmp/")  # the generating machine's path
    assert Path(logged.path).is_relative_to(STORE) and Path(logged.path, "MLmodel").is_file()
    assert logged.hash_algo == "sha256-dir" and len(logged.hash) == 64
    (mlmodel,) = runs[WIDER].artifacts
    assert mlmodel.name == "model" and mlmodel.path_raw.endswith(f"{WIDER}/artifacts/model")
    assert Path(mlmodel.path) == (next(STORE.glob(f"*/{WIDER}")) / "artifacts" / "model").resolve()
    assert mlmodel.hash_algo == "sha256-dir"


def test_registry_matches_client():
    batch, _ = read(STORE)
    models = {m.name: m for m in batch.models}
    assert set(models) == set(EXPECTED["registered_models"])
    for name, want in EXPECTED["registered_models"].items():
        model = models[name]
        assert model.description == want["description"]
        assert model.tags == want["tags"]
        assert model.aliases == want["aliases"]
        assert model.source == "mlflow" and model.created_at
        assert [v.source_version for v in model.versions] == [int(v) for v in want["versions"]]
        for version in model.versions:
            wv = want["versions"][str(version.source_version)]
            assert version.run_uid == wv["run_id"]
            assert version.description == wv["description"]
            assert version.tags == wv["tags"]
            assert version.stage == (None if wv["stage"] == "None" else wv["stage"])
            assert version.status == "ready"
    mnist = models["mnist-classifier"]
    assert mnist.aliases == {"champion": 2, "challenger": 3}
    assert [v.stage for v in mnist.versions] == ["Archived", "Production", "Staging"]  # v4 deleted
    runs = by_uid(batch)
    logged_hash = runs[BASELINE].artifacts[0].hash
    assert mnist.versions[0].artifact.hash == logged_hash  # source models:/m-... -> storage
    assert mnist.versions[2].artifact.hash == logged_hash
    assert mnist.versions[1].artifact.hash == runs[WIDER].artifacts[0].hash
    text_version = models["text-classifier"].versions[0]
    assert text_version.stage is None
    assert text_version.artifact.path is None and text_version.artifact.path_raw.endswith("/model")


def test_read_twice_gives_identical_records():
    first, _ = read(STORE)
    second, _ = read(STORE)
    assert [dataclasses.asdict(r) for r in first.runs] == [dataclasses.asdict(r)
                                                           for r in second.runs]
    assert [dataclasses.asdict(m) for m in first.models] == [dataclasses.asdict(m)
                                                             for m in second.models]


def test_walk_finds_both_stores_once():
    found = [(module.FORMAT, path) for module, path in discover([FIXTURES])]
    assert ("mlflow", STORE) in found and ("mlflow-db", FIXTURES / "sqlite" / "mlflow.db") in found
    assert not [path for fmt, path in found if fmt == "mlflow" and path != STORE]
    result = read_paths([STORE])
    assert not result.failures and len(result.batches) == 1
    assert len(result.batches[0].runs) == 5


def test_single_experiment_and_single_run_folders():
    experiment = next(STORE.glob(f"*/{BASELINE}")).parent
    batch, _ = read(experiment)
    assert {run.name for run in batch.runs} == {"baseline", "wider", "diverged"}
    assert {run.project for run in batch.runs} == {"mnist-cnn"} and batch.models == []
    (run,) = read(experiment / BASELINE, root=experiment / BASELINE)[0].runs
    assert run.project == "mnist-cnn" and run.name == "baseline"
    assert len(run.all_points()) == 15 and run.datasets[0].name == "mnist-train"


def test_fingerprint_changes_when_a_metric_file_grows(tmp_path):
    store = tmp_path / "mlruns"
    shutil.copytree(STORE, store)
    before = by_uid(read(store)[0])
    loss = next(store.glob(f"*/{WIDER}/metrics/loss"))
    with open(loss, "a") as handle:
        handle.write("1717001300000 0.55 3\n")
    after = by_uid(read(store)[0])
    assert after[WIDER].fingerprint != before[WIDER].fingerprint
    assert after[BASELINE].fingerprint == before[BASELINE].fingerprint
    assert len(after[WIDER].all_points()) == len(before[WIDER].all_points()) + 1


def test_fingerprint_of_path_strings_matches_paths():
    """The reader fingerprints plain strings (no Path per file); the digest is the same."""
    files = sorted(str(p) for p in next(STORE.glob(f"*/{BASELINE}")).rglob("*") if p.is_file())
    assert fingerprint(files) == fingerprint([Path(f) for f in files])
    assert fingerprint(files) == fingerprint(list(reversed(files)))


def test_fast_meta_parser_agrees_with_yaml_loader():
    metas = list(STORE.rglob("meta.yaml"))
    assert len(metas) > 20
    for meta in metas:
        fast = mlflow_files.parse_flat_yaml(meta.read_text())
        full = load_yaml(meta)
        if fast is None:
            continue  # nested YAML (input tags): the caller falls back to the full loader
        assert set(fast) == set(full), meta
        for key, value in full.items():
            if value is None or isinstance(value, (list, dict)):
                assert fast[key] == value or (fast[key] is None and value in ("", None)), key
            else:
                assert fast[key] == str(value), (meta, key)
    assert mlflow_files.parse_flat_yaml("tags:\n- key: a\n  value: b\n") is None
    assert mlflow_files.parse_flat_yaml("name: 'it''s'\nx: ~\n") == {"name": "it's", "x": None}
    assert mlflow_files.parse_flat_yaml("name: >-\n  folded\n") is None
    assert mlflow_files.parse_flat_yaml('name: "quoted"\n') is None


# ---------------------------------------------------------------------------------------------
# Hand-made quirks

RUN_ID = "0123456789abcdef0123456789abcdef"


def run_meta(run_id=RUN_ID, experiment_id="1", artifact_uri=None, **extra):
    fields = {
        "artifact_uri": artifact_uri or f"file:///home/bob/mlruns/{experiment_id}/{run_id}/artifacts",
        "end_time": "1700000100000", "entry_point_name": "''",
        "experiment_id": f"'{experiment_id}'", "lifecycle_stage": "active",
        "run_id": run_id, "run_name": "quirky", "source_name": "''", "source_type": "4",
        "source_version": "''", "start_time": "1700000000000", "status": "3", "tags": "[]",
        "user_id": "bob",
    }
    fields.update(extra)
    return "".join(f"{k}: {v}\n" for k, v in fields.items() if v is not None)


def make_store(root: Path, *, meta: str | None = None, metrics: dict | None = None,
               params: dict | None = None, tags: dict | None = None,
               run_id: str = RUN_ID) -> Path:
    """A minimal mlruns/ with experiment 1 and one run, written the way the file store does."""
    experiment = root / "mlruns" / "1"
    run_dir = experiment / run_id
    for sub in ("metrics", "params", "tags", "artifacts"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    (experiment / "meta.yaml").write_text(
        "artifact_location: file:///home/bob/mlruns/1\ncreation_time: 1700000000000\n"
        "experiment_id: '1'\nlast_update_time: 1700000000000\nlifecycle_stage: active\n"
        "name: quirks\n")
    (run_dir / "meta.yaml").write_text(meta if meta is not None else run_meta(run_id))
    for folder, values in (("metrics", metrics), ("params", params), ("tags", tags)):
        for key, text in (values or {}).items():
            path = run_dir / folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root / "mlruns"


def read_one(store: Path):
    batch, ctx = read(store)
    (run,) = batch.runs
    return run, ctx


def test_legacy_two_field_lines_have_step_zero(tmp_path):
    lines = "1600000000000 0.5\n1600000001000 0.4\n"
    run, _ = read_one(make_store(tmp_path, metrics={"loss": lines}))
    assert series(run, "loss") == [(0, 0.5, None, 1600000000.0), (0, 0.4, None, 1600000001.0)]


def test_five_field_lines_take_the_step_from_field_three(tmp_path):
    lines = "1700000000000 0.61 10 imdb-test a1b2c3d4\n1700000001000 0.72 20 imdb-test a1b2c3d4\n"
    run, _ = read_one(make_store(tmp_path, metrics={"eval/f1": lines}))
    assert [(s, v) for s, v, _, _ in series(run, "eval/f1")] == [(10, 0.61), (20, 0.72)]


def test_nan_and_infinities_are_kept_raw(tmp_path):
    lines = "1 nan 0\n2 inf 1\n3 -inf 2\n4 NaN 3\n5 1e-05 4\n"
    run, _ = read_one(make_store(tmp_path, metrics={"x": lines}))
    assert [(v, raw) for _, v, raw, _ in series(run, "x")] == [
        (None, "nan"), (None, "inf"), (None, "-inf"), (None, "nan"), (1e-05, None)]


def test_identical_duplicates_dropped_but_resumed_values_kept(tmp_path):
    lines = ("1000 0.5 0\n2000 0.4 1\n2000 0.4 1\n"  # an identical re-log
             "3000 0.45 1\n")  # resumed: same step, new value
    run, _ = read_one(make_store(tmp_path, metrics={"loss": lines}))
    points = [p for p in run.all_points() if p.key == "loss"]
    assert [(p.step, p.value, p.seq) for p in points] == [(0, 0.5, 0), (1, 0.4, 1), (1, 0.45, 2)]


def test_non_numeric_metric_value_names_file_line_and_field(tmp_path):
    store = make_store(tmp_path, metrics={"loss": "1000 0.5 0\n2000 oops 1\n3000 0.4 2\n"})
    with pytest.raises(ImportFailed) as info:
        read(store)
    error = info.value
    assert error.path.endswith("metrics/loss") and error.line == 2 and error.field == "value"


@pytest.mark.parametrize("line,field", [("2000 0.4 x", "step"), ("20o0 0.4 1", "timestamp"),
                                        ("2000", "value")])
def test_other_bad_metric_fields(tmp_path, line, field):
    store = make_store(tmp_path, metrics={"loss": f"1000 0.5 0\n{line}\n"})
    with pytest.raises(ImportFailed) as info:
        read(store)
    assert info.value.line == 2 and info.value.field == field


def test_torn_last_line_is_skipped_with_a_warning(tmp_path):
    run, ctx = read_one(make_store(tmp_path, metrics={"loss": "1000 0.5 0\n2000 0.4 1\n30"}))
    assert [p.step for p in run.all_points()] == [0, 1]
    assert any("torn last line" in w for w in ctx.warnings) and run.warnings


def test_windows_artifact_uri_resolves_inside_the_tree(tmp_path):
    uri = f"file:///C:/Users/alice/proj/mlruns/1/{RUN_ID}/artifacts"
    store = make_store(tmp_path, meta=run_meta(artifact_uri=uri))
    model = store / "1" / RUN_ID / "artifacts" / "clf"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "model.pkl").write_bytes(b"weights")
    run, _ = read_one(store)
    (artifact,) = run.artifacts
    assert artifact.path_raw == f"{uri}/clf" and artifact.name == "clf"
    assert artifact.path == str(model.resolve()) and artifact.hash_algo == "sha256-dir"
    assert artifact.size == len(b"weights") + len("flavors: {}\n")


def test_windows_backslash_path_and_remote_uri(tmp_path):
    uri = "C:\\Users\\alice\\mlruns\\1\\" + RUN_ID + "\\artifacts"
    store = make_store(tmp_path, meta=run_meta(artifact_uri=f"'{uri}'"))
    (store / "1" / RUN_ID / "artifacts" / "m").mkdir()
    (store / "1" / RUN_ID / "artifacts" / "m" / "MLmodel").write_text("flavors: {}\n")
    run, _ = read_one(store)
    assert run.artifacts[0].path is not None and run.artifacts[0].name == "m"
    history = json.dumps([{"artifact_path": "model", "run_id": RUN_ID, "flavors": {}}])
    remote = make_store(tmp_path / "s3", meta=run_meta(artifact_uri=f"s3://bucket/{RUN_ID}/artifacts"),
                        tags={"mlflow.log-model.history": history})
    run, _ = read_one(remote)
    (artifact,) = run.artifacts
    assert artifact.path is None and artifact.hash is None
    assert artifact.path_raw == f"s3://bucket/{RUN_ID}/artifacts/model"


def test_artifact_uri_never_resolves_outside_the_tree(tmp_path):
    outside = tmp_path / "elsewhere" / RUN_ID / "artifacts" / "m"
    outside.mkdir(parents=True)
    (outside / "MLmodel").write_text("flavors: {}\n")
    uri = (tmp_path / "elsewhere" / RUN_ID / "artifacts").as_uri()
    store = make_store(tmp_path / "proj", meta=run_meta(artifact_uri=uri))
    run, _ = read_one(store)
    assert run.artifacts == []  # the store's own artifacts/ is empty; elsewhere/ is not read


@pytest.mark.parametrize("content,line", [
    (b"\x00\x01\x02garbage\xff", None),
    (b"artifact_uri: file:///x\nexperiment_id: '1\n", 3),  # unterminated quote at EOF
    (b"run_id: [unclosed\n", None),
])
def test_garbage_or_truncated_meta_yaml_names_the_file(tmp_path, content, line):
    store = make_store(tmp_path)
    meta = store / "1" / RUN_ID / "meta.yaml"
    meta.write_bytes(content)
    with pytest.raises(ImportFailed) as info:
        read(store)
    assert info.value.path == str(meta)
    if line is not None:
        assert info.value.line == line


def test_truncated_meta_without_run_id_and_empty_meta(tmp_path):
    store = make_store(tmp_path, meta="artifact_uri: file:///x/artifacts\nend_time: 17000001\n")
    with pytest.raises(ImportFailed) as info:
        read(store)
    assert info.value.field == "run_id" and info.value.path.endswith("meta.yaml")
    (store / "1" / RUN_ID / "meta.yaml").write_text("")
    with pytest.raises(ImportFailed, match="expected a YAML mapping"):
        read(store)
    (store / "1" / RUN_ID / "meta.yaml").write_text(run_meta(start_time="yesterday"))
    with pytest.raises(ImportFailed) as info:
        read(store)
    assert info.value.field == "start_time"


def test_legacy_meta_with_run_uuid_and_integer_ids(tmp_path):
    meta = run_meta(run_id=None, run_uuid=RUN_ID, experiment_id="1", status="4",
                    tags="\n- key: mlflow.runName\n  value: legacy")
    meta = meta.replace("experiment_id: '1'", "experiment_id: 1")
    run, _ = read_one(make_store(tmp_path, meta=meta))
    assert run.uid == RUN_ID and run.status == "FAILED" and run.start_time == 1700000000.0


def test_pii_in_tags_and_params(tmp_path):
    store = make_store(tmp_path, meta=run_meta(user_id="dave@corp.example"),
                       tags={"mlflow.user": "dave@corp.example",
                             "mlflow.note.content": "ask dave@corp.example"},
                       params={"notify": "dave@corp.example"})
    run, _ = read_one(store)
    assert run.user is None and "mlflow.user" not in run.tags
    assert "@" not in run.tags["mlflow.note.content"] and "@" not in run.params["notify"]


def test_partial_run_warns_but_reads(tmp_path):
    store = make_store(tmp_path, metrics={"loss": "1 0.5 0\n"})
    run_dir = store / "1" / RUN_ID
    shutil.rmtree(run_dir / "params")
    shutil.rmtree(run_dir / "tags")
    (run_dir / "inputs" / "abc").mkdir(parents=True)
    (run_dir / "inputs" / "abc" / "meta.yaml").write_text(
        "destination_id: abc\ndestination_type: RUN\nsource_id: abc\nsource_type: DATASET\n"
        "tags: {}\n")
    (store / "1" / "not-a-run").mkdir()
    batch, ctx = read(store)
    (run,) = batch.runs
    assert run.params == {} and len(run.all_points()) == 1 and run.datasets == []
    assert any("dataset abc" in w for w in run.warnings)
    assert any("not-a-run" in w for w in ctx.warnings)


def test_dataset_schema_columns_and_local_source(tmp_path):
    store = make_store(tmp_path)
    (store / "data").mkdir()
    (store / "data" / "train.csv").write_text("a,b\n1,2\n")
    run_dir = store / "1" / RUN_ID
    (run_dir / "inputs" / "i1").mkdir(parents=True)
    (run_dir / "inputs" / "i1" / "meta.yaml").write_text(
        "destination_id: d1\ndestination_type: RUN\nsource_id: d1\nsource_type: DATASET\n"
        "tags:\n  mlflow.data.context: training\n")
    (store / "1" / "datasets" / "d1").mkdir(parents=True)
    schema = json.dumps({"mlflow_colspec": [{"type": "long", "name": "a", "required": True},
                                            {"type": "long", "name": "b", "required": True}]})
    (store / "1" / "datasets" / "d1" / "meta.yaml").write_text(
        "digest: 9f2a\nname: train\nprofile: '{\"num_rows\": 1}'\n"
        f"schema: '{schema}'\n"
        "source: '{\"uri\": \"C:\\\\Users\\\\bob\\\\mlruns\\\\data\\\\train.csv\"}'\n"
        "source_type: local\n")
    (dataset,) = read_one(store)[0].datasets
    assert (dataset.name, dataset.hash_algo, dataset.hash) == ("train", "mlflow-digest", "9f2a")
    assert dataset.columns == ["a", "b"] and dataset.row_count == 1
    assert dataset.uri_raw == "C:\\Users\\bob\\mlruns\\data\\train.csv"
    assert dataset.path == str((store / "data" / "train.csv").resolve())


def test_registry_alias_to_missing_version_is_dropped(tmp_path):
    store = make_store(tmp_path)
    model = store / "models" / "clf"
    (model / "version-1").mkdir(parents=True)
    (model / "aliases").mkdir()
    (model / "meta.yaml").write_text("creation_timestamp: 1700000000000\ndescription: null\n"
                                     "name: clf\n")
    (model / "version-1" / "meta.yaml").write_text(
        "creation_timestamp: 1700000000000\ncurrent_stage: None\ndescription: ''\nname: clf\n"
        f"run_id: {RUN_ID}\nsource: runs:/{RUN_ID}/model\nstatus: PENDING_REGISTRATION\n"
        "user_id: eve@corp.example\nversion: 1\n")
    (model / "aliases" / "prod").write_text("1")
    (model / "aliases" / "old").write_text("7")
    batch, ctx = read(store)
    (registered,) = batch.models
    assert registered.aliases == {"prod": 1}
    assert any("'old'" in w for w in ctx.warnings)
    (version,) = registered.versions
    assert version.status == "pending" and version.stage is None and version.created_by is None
    assert version.artifact.path_raw == f"runs:/{RUN_ID}/model" and version.artifact.path is None
    assert version.description is None


def test_registry_only_store_is_detected(tmp_path):
    model = tmp_path / "mlruns" / "models" / "clf"
    (model / "version-1").mkdir(parents=True)
    (model / "meta.yaml").write_text("creation_timestamp: 1\nname: clf\n")
    (model / "version-1" / "meta.yaml").write_text("current_stage: Production\nsource: s3://b/m\n"
                                                   "status: READY\nversion: 1\n")
    assert mlflow_files.detect(tmp_path / "mlruns")
    batch, _ = read(tmp_path / "mlruns")
    assert batch.runs == [] and batch.models[0].versions[0].stage == "Production"


def test_forced_read_of_an_unrelated_folder_fails(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(ImportFailed, match="no MLflow experiments"):
        read(tmp_path)


def test_moved_run_with_wrong_experiment_id_is_skipped_like_mlflow(tmp_path):
    store = make_store(tmp_path, meta=run_meta(experiment_id="2"))
    batch, ctx = read(store)
    assert batch.runs == [] and any("sits in experiment 1" in w for w in ctx.warnings)


# ---------------------------------------------------------------------------------------------
# The benchmark generator


def load_generator():
    spec = importlib.util.spec_from_file_location("make_mlruns", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_generator_writes_a_store_the_reader_reads(tmp_path):
    counts = load_generator().make_mlruns(tmp_path / "mlruns", runs=7, steps=12, metrics=5)
    assert counts["runs"] == 7 and counts["points"] == 7 * 5 * 12
    assert mlflow_files.detect(tmp_path / "mlruns")
    batch, _ = read(tmp_path / "mlruns")
    assert len(batch.runs) == 7
    assert sum(len(run.all_points()) for run in batch.runs) == counts["points"]
    run = batch.runs[0]
    assert len(run.params) == 10 and len(run.tags) == 5 and run.status == "FINISHED"
    assert {p.key for p in run.all_points()} == {"loss", "val/loss", "acc", "val/acc", "lr"}
    assert all(math.isfinite(p.value) for p in run.all_points())
    again = load_generator().make_mlruns(tmp_path / "again", runs=7, steps=12, metrics=5)
    assert again["points"] == counts["points"]
    assert [r.uid for r in read(tmp_path / "again")[0].runs] == [r.uid for r in batch.runs]
