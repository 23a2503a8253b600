"""MLflow SQLite store (mlflow.db) written by mlflow-skinny 3.17.2, read-only, plus quirks.

``tests/fixtures/mlflow/make_fixture.py`` wrote the same scenario to ``sqlite/mlflow.db`` and to
``filestore/mlruns``; the two readers must yield the same records.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from mltui.core.errors import ImportFailed
from mltui.importers import mlflow_files, mlflow_sqlite
from mltui.services.discovery import discover, read_paths
from mltui.importers.common import ImportContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow"
DB = FIXTURES / "sqlite" / "mlflow.db"
STORE = FIXTURES / "filestore" / "mlruns"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())["stores"]["sqlite"]
BASELINE = next(rid for rid, r in EXPECTED["runs"].items() if r["name"] == "baseline")
WIDER = next(rid for rid, r in EXPECTED["runs"].items() if r["name"] == "wider")


def read(path: Path = DB, root: Path | None = None):
    ctx = ImportContext(root=root or path.parent)
    return mlflow_sqlite.read(path, ctx), ctx


def by_uid(batch):
    return {run.uid: run for run in batch.runs}


def as_expected(point):
    value = float(point.raw) if point.raw else point.value
    return point.step, repr(value), round(point.wall_time * 1000)


def test_detects_the_mlflow_database_and_rejects_others(tmp_path):
    assert mlflow_sqlite.detect(DB)
    plain = tmp_path / "app.db"
    with sqlite3.connect(plain) as db:
        db.execute("CREATE TABLE runs (id INTEGER)")
        db.execute("CREATE TABLE metrics (id INTEGER)")
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    for path in (plain, text, FIXTURES / "expected.json", STORE / "0" / "meta.yaml", STORE):
        assert not mlflow_sqlite.detect(path), path
    lookalike = tmp_path / "almost.sqlite"
    with sqlite3.connect(lookalike) as db:
        for table in ("runs", "metrics", "experiments"):  # no alembic_version
            db.execute(f"CREATE TABLE {table} (id INTEGER)")
    assert not mlflow_sqlite.detect(lookalike)


def test_runs_match_mlflow_client():
    batch, _ = read()
    runs = by_uid(batch)
    active = {rid for rid, r in EXPECTED["runs"].items()
              if r["lifecycle_stage"] == "active" and r["experiment_lifecycle_stage"] == "active"}
    assert set(runs) == active and len(runs) == EXPECTED["run_count_active"] == 5
    for rid, run in runs.items():
        want = EXPECTED["runs"][rid]
        assert run.source_format == "mlflow-db" and run.source_path == str(DB)
        assert (run.name, run.project, run.status) == (want["name"], want["experiment"],
                                                       want["status"])
        assert run.start_time == want["start_time"] / 1000
        assert run.end_time == want["end_time"] / 1000
        assert run.params == want["params"]
        assert run.tags == {k: v for k, v in want["tags"].items() if "@" not in v}
        for key, history in want["metrics"].items():
            got = [as_expected(p) for p in run.metrics if p.key == key]
            # SQLite keeps one row per identical point: history_len == distinct_len here.
            assert history["history_len"] == history["distinct_len"] == len(got)
            expected = [tuple(p) for p in history["points"]]
            if any(v in ("1.7976931348623157e+308", "-1.7976931348623157e+308")
                   for _, v, _ in expected):
                expected = [(s, "inf" if v == "1.7976931348623157e+308" else v, t)
                            for s, v, t in expected]
            assert got == expected
    assert runs[WIDER].user is None and "mlflow.user" not in runs[WIDER].tags


def test_nan_flag_and_dbl_max_infinity_are_kept_raw():
    runs = by_uid(read()[0])
    acc = [(p.step, p.value, p.raw) for p in runs[BASELINE].metrics if p.key == "acc"]
    assert acc[2] == (2, None, "nan")
    loss = [(p.step, p.value, p.raw) for p in runs[WIDER].metrics if p.key == "loss"]
    assert loss[1] == (1, None, "inf")  # stored as 1.7976931348623157e308


def test_dataset_logged_model_and_registry():
    batch, _ = read()
    runs = by_uid(batch)
    (dataset,) = runs[BASELINE].datasets
    assert (dataset.name, dataset.hash_algo, dataset.hash) == ("mnist-train", "mlflow-digest",
                                                               "3c37c8e3")
    (logged,) = runs[BASELINE].artifacts
    assert logged.path and Path(logged.path).is_relative_to(DB.parent / "mlartifacts")
    (mlmodel,) = runs[WIDER].artifacts
    assert mlmodel.name == "model" and mlmodel.hash_algo == "sha256-dir"
    models = {m.name: m for m in batch.models}
    assert set(models) == set(EXPECTED["registered_models"])
    for name, want in EXPECTED["registered_models"].items():
        model = models[name]
        assert (model.description, model.tags, model.aliases) == (want["description"],
                                                                  want["tags"], want["aliases"])
        for version in model.versions:
            wv = want["versions"][str(version.source_version)]
            assert (version.run_uid, version.description, version.tags) == (
                wv["run_id"], wv["description"], wv["tags"])
            assert version.stage == (None if wv["stage"] == "None" else wv["stage"])
    mnist = models["mnist-classifier"]
    assert [v.source_version for v in mnist.versions] == [1, 2, 3]  # v4 is Deleted_Internal
    assert mnist.versions[0].artifact.hash == logged.hash
    assert mnist.versions[1].artifact.hash == mlmodel.hash


def comparable(record):
    """A record without what legitimately differs between the two stores."""
    data = dataclasses.asdict(record)
    for key in ("source_format", "source_path", "fingerprint", "created_at"):
        data.pop(key, None)
    if hasattr(record, "all_points"):  # points read one by one or as columns are the same points
        data.pop("metric_columns")
        data["metrics"] = sorted((dataclasses.asdict(p) for p in record.all_points()),
                                 key=lambda p: (p["key"], p["seq"]))
    for artifact in data.get("artifacts", []):
        for key in ("path_raw", "path", "hash", "size"):
            artifact.pop(key)  # MLmodel files hold creation times, so hashes differ too
        artifact["local"] = True
    for version in data.get("versions", []):
        version.pop("created_at")
        if version["artifact"]:
            version["artifact"] = version["artifact"]["hash"] is not None
    return data


def test_same_records_as_the_file_store():
    from_db = read()[0]
    from_files = mlflow_files.read(STORE, ImportContext(root=STORE))
    assert [r.uid for r in from_db.runs] == [r.uid for r in from_files.runs]
    for db_run, file_run in zip(from_db.runs, from_files.runs, strict=True):
        assert comparable(db_run) == comparable(file_run), db_run.name
        assert [a.path is None for a in db_run.artifacts] == [a.path is None
                                                             for a in file_run.artifacts]
    assert [comparable(m) for m in from_db.models] == [comparable(m) for m in from_files.models]


def test_read_twice_is_identical_and_the_file_is_untouched():
    before = hashlib.sha256(DB.read_bytes()).hexdigest()
    first, second = read()[0], read()[0]
    assert [dataclasses.asdict(r) for r in first.runs] == [dataclasses.asdict(r)
                                                           for r in second.runs]
    assert hashlib.sha256(DB.read_bytes()).hexdigest() == before
    assert not list(DB.parent.glob("mlflow.db-*"))  # no journal / wal left behind


def test_fingerprint_follows_each_run(tmp_path):
    copy = tmp_path / "mlflow.db"
    shutil.copy2(DB, copy)
    before = by_uid(read(copy)[0])
    with sqlite3.connect(copy) as db:
        db.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                   "VALUES ('loss', 0.3, 1717001900000, ?, 3, 0)", (WIDER,))
    after = by_uid(read(copy)[0])
    assert after[WIDER].fingerprint != before[WIDER].fingerprint
    assert after[BASELINE].fingerprint == before[BASELINE].fingerprint
    assert len(after[WIDER].metrics) == len(before[WIDER].metrics) + 1


def test_walk_and_read_paths():
    found = [(m.FORMAT, p) for m, p in discover([FIXTURES / "sqlite"])]
    assert ("mlflow-db", DB) in found
    result = read_paths([DB])
    assert not result.failures and len(result.batches[0].runs) == 5


@pytest.mark.parametrize("make", ["garbage", "truncated"])
def test_corrupt_database_is_import_failed(tmp_path, make):
    bad = tmp_path / "mlflow.db"
    if make == "garbage":
        bad.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    else:
        bad.write_bytes(DB.read_bytes()[:8192])
    with pytest.raises(ImportFailed) as info:
        read(bad)
    assert info.value.path == str(bad)


def test_not_an_sqlite_file_and_not_an_mlflow_database(tmp_path):
    text = tmp_path / "mlflow.db"
    text.write_text("hello")
    with pytest.raises(ImportFailed, match="not an SQLite database"):
        read(text)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE runs (id INTEGER)")
    with pytest.raises(ImportFailed, match="missing table"):
        read(other)


def test_old_schema_without_newer_tables_and_columns(tmp_path):
    """An MLflow 1.x database: no step/is_nan, no datasets, registry or aliases."""
    old = tmp_path / "mlruns.db"
    with sqlite3.connect(old) as db:
        db.executescript("""
            CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);
            INSERT INTO alembic_version VALUES ('451aebb31d03');
            CREATE TABLE experiments (experiment_id INTEGER, name VARCHAR(256),
                artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32));
            INSERT INTO experiments VALUES (0, 'Default', './mlruns/0', 'active');
            CREATE TABLE runs (run_uuid VARCHAR(32), name VARCHAR(250), source_type VARCHAR(20),
                source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256),
                status VARCHAR(20), start_time BIGINT, end_time BIGINT,
                source_version VARCHAR(50), lifecycle_stage VARCHAR(20),
                artifact_uri VARCHAR(200), experiment_id INTEGER);
            INSERT INTO runs VALUES ('aa', '', 'LOCAL', 'x.py', '', 'frank', 'FINISHED',
                1500000000000, NULL, '', 'active', 'dbfs:/old/aa/artifacts', 0);
            CREATE TABLE metrics (key VARCHAR(250), value FLOAT, timestamp BIGINT,
                run_uuid VARCHAR(32));
            INSERT INTO metrics VALUES ('loss', 0.5, 1500000001000, 'aa');
            INSERT INTO metrics VALUES ('loss', 0.4, 1500000002000, 'aa');
            CREATE TABLE params (key VARCHAR(250), value VARCHAR(250), run_uuid VARCHAR(32));
            INSERT INTO params VALUES ('lr', '0.1', 'aa');
            CREATE TABLE tags (key VARCHAR(250), value VARCHAR(250), run_uuid VARCHAR(32));
            INSERT INTO tags VALUES ('mlflow.runName', 'old-run', 'aa');
        """)
    assert mlflow_sqlite.detect(old)
    batch, _ = read(old)
    (run,) = batch.runs
    assert (run.uid, run.name, run.project, run.user, run.end_time) == (
        "aa", "old-run", "Default", "frank", None)
    assert [(p.step, p.value) for p in run.metrics] == [(0, 0.5), (0, 0.4)]
    assert run.params == {"lr": "0.1"} and run.artifacts == [] and batch.models == []


def test_bad_value_types_name_the_field(tmp_path):
    copy = tmp_path / "mlflow.db"
    shutil.copy2(DB, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE runs SET start_time = 'soon' WHERE run_uuid = ?", (WIDER,))
    with pytest.raises(ImportFailed) as info:
        read(copy)
    assert info.value.field == "runs.start_time" and WIDER in info.value.reason
    shutil.copy2(DB, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE metrics SET value = 'high' WHERE run_uuid = ? AND key = 'loss'",
                   (WIDER,))
    with pytest.raises(ImportFailed) as info:
        read(copy)
    assert info.value.field == "metrics.value"


def test_artifacts_behind_a_tracking_server_and_default_mlruns_root(tmp_path):
    """`mlflow server` proxies artifacts as mlflow-artifacts:/ and keeps them in ./mlartifacts;
    a plain sqlite store keeps them in ./mlruns/<exp>/<run>/artifacts next to mlflow.db."""
    copy = tmp_path / "mlflow.db"
    shutil.copy2(DB, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?",
                   (f"mlflow-artifacts:/1/{WIDER}/artifacts", WIDER))
        db.execute("UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?",
                   (f"C:\\Users\\ann\\proj\\mlruns\\1\\{BASELINE}\\artifacts", BASELINE))
    served = tmp_path / "mlartifacts" / "1" / WIDER / "artifacts" / "clf"
    served.mkdir(parents=True)
    (served / "MLmodel").write_text("flavors: {}\n")
    local = tmp_path / "mlruns" / "1" / BASELINE / "artifacts" / "net"
    local.mkdir(parents=True)
    (local / "MLmodel").write_text("flavors: {}\n")
    runs = by_uid(read(copy)[0])
    (clf,) = runs[WIDER].artifacts
    assert clf.path == str(served.resolve()) and clf.path_raw.startswith("mlflow-artifacts:/")
    net = next(a for a in runs[BASELINE].artifacts if a.name == "net")
    assert net.path == str(local.resolve()) and net.hash_algo == "sha256-dir"
    assert mlflow_sqlite.detect(copy) and not mlflow_files.detect(tmp_path / "mlruns")
