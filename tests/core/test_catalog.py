"""Opening, discovery, migrations, locking, docs, lineage and verification."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from mltui.core import schema
from mltui.core.catalog import find_catalog, init_catalog, open_catalog
from mltui.core.errors import CatalogLocked, Conflict, InvalidInput, NotFound
from tests.conftest import snapshot_tables


def test_discovery_walks_up_like_git(tmp_path, monkeypatch) -> None:
    cat, created = init_catalog(tmp_path / "repo")
    cat.close()
    deep = tmp_path / "repo" / "src" / "models"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_catalog() == tmp_path / "repo" / ".mltui" / "catalog.db"
    with open_catalog() as found:
        assert found.path == tmp_path / "repo" / ".mltui" / "catalog.db"


def test_env_and_argument_override_discovery(tmp_path, monkeypatch) -> None:
    init_catalog(tmp_path / "a")[0].close()
    init_catalog(tmp_path / "b")[0].close()
    monkeypatch.chdir(tmp_path / "a")
    monkeypatch.setenv("MLTUI_CATALOG", str(tmp_path / "b"))
    with open_catalog() as cat:
        assert cat.path.parent.parent.name == "b"
    with open_catalog(tmp_path / "a" / ".mltui" / "catalog.db") as cat:
        assert cat.path.parent.parent.name == "a"


def test_missing_catalog_is_not_found(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound) as info:
        open_catalog()
    assert "mltui init" in info.value.one_line()
    with pytest.raises(NotFound):
        open_catalog(tmp_path / "nope.db")


@pytest.mark.parametrize("start", range(0, schema.SCHEMA_VERSION))
def test_migrates_from_every_earlier_version_with_a_backup(tmp_path, start) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(str(path))
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    for step in schema.MIGRATIONS[:start]:
        step(db)
    conn.execute(f"PRAGMA user_version = {start}")
    conn.commit()
    conn.close()
    with open_catalog(path) as cat:
        assert cat.summary()["schema_version"] == schema.SCHEMA_VERSION
        cat.log_run("after migration", metrics={"f1": 0.5})
    backups = list(tmp_path.glob("old.db.bak-v*"))
    assert bool(backups) == (start > 0)


def test_newer_schema_is_refused(tmp_path) -> None:
    path = tmp_path / "new.db"
    open_catalog(path, create=True).close()
    conn = sqlite3.connect(str(path))
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(schema.SchemaTooNew):
        open_catalog(path)


@pytest.mark.parametrize("content", [b"this is not sqlite at all" * 50, b"\x00\x01\x02" * 1000])
def test_garbage_file_is_invalid_input(tmp_path, content) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match="not an mltui catalog"):
        open_catalog(path)
    assert path.read_bytes() == content


def test_foreign_sqlite_file_is_refused(tmp_path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(InvalidInput, match="not an mltui catalog"):
        open_catalog(path)


def test_locked_catalog_is_a_clear_error_and_changes_nothing(seeded, catalog_path) -> None:
    before = snapshot_tables(catalog_path)
    blocker = sqlite3.connect(str(catalog_path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CatalogLocked) as info:
            seeded.promote("fraud@2", reason="x")
        assert "locked by another process" in info.value.one_line()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert snapshot_tables(catalog_path) == before


def test_a_short_lock_is_waited_out(seeded, catalog_path, monkeypatch) -> None:
    monkeypatch.setenv("MLTUI_BUSY_TIMEOUT", "3")
    blocker = sqlite3.connect(str(catalog_path), isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.3, lambda: blocker.execute("ROLLBACK"))
    timer.start()
    seeded.promote("fraud@2", reason="after the lock")
    timer.join()
    blocker.close()
    assert seeded.ref_of(seeded.stage_holder("fraud", "production")) == "fraud@2"


def test_connections_per_thread(seeded) -> None:
    results = []

    def work() -> None:
        results.append(len(seeded.version_ids()))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [3, 3, 3, 3]


def test_data_version_changes_when_another_process_writes(seeded, catalog_path) -> None:
    before = seeded.data_version()
    other = open_catalog(catalog_path)
    other.promote("fraud@2", reason="elsewhere")
    other.close()
    assert seeded.data_version() != before


# -- documentation ------------------------------------------------------------------------


def test_new_version_doc_starts_from_the_template(seeded) -> None:
    doc = seeded.get_doc("fraud@1")
    assert doc["rev"] == 0 and doc["is_template"]
    for section in ("Rationale", "Changes", "Impact", "Data", "Intended use", "Limitations"):
        assert f"## {section}" in doc["text"]


def test_doc_revisions_and_conflict(seeded) -> None:
    first = seeded.set_doc("fraud@1", "# v1\nfirst", base_rev=0, author="ana")
    assert first == {"target": "fraud@1", "rev": 1, "changed": True}
    seeded.set_doc("fraud@1", "# v1\nsecond", base_rev=1, author="bo")
    with pytest.raises(Conflict) as info:
        seeded.set_doc("fraud@1", "# v1\nmine", base_rev=1, author="cy")
    assert info.value.current_rev == 2 and info.value.current_text == "# v1\nsecond"
    assert seeded.get_doc("fraud@1")["text"] == "# v1\nsecond"
    assert [r["rev"] for r in seeded.doc_revisions("fraud@1")] == [2, 1]
    assert "-first\n+second" in seeded.doc_diff("fraud@1", 1, 2)
    assert seeded.set_doc("fraud@1", "# v1\nsecond", base_rev=2)["changed"] is False
    assert seeded.get_doc("fraud@1", rev=1)["text"] == "# v1\nfirst"


def test_model_docs(seeded) -> None:
    assert "## Purpose" in seeded.get_doc("fraud", kind="model")["text"]
    seeded.set_doc("fraud", "Scores card transactions.", base_rev=0, kind="model")
    assert seeded.get_doc("fraud", kind="model")["rev"] == 1


def test_doc_text_is_searchable(seeded) -> None:
    seeded.set_doc("fraud@2", "Calibrated with isotonic regression.", base_rev=0)
    assert [seeded.ref_of(i) for i in seeded.version_ids(filter="isotonic")] == ["fraud@2"]


# -- lineage and verification ---------------------------------------------------------------


def test_lineage_walks_up_and_down(catalog, tmp_path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,0\n")
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"weights")
    run = catalog.log_run("train", datasets=[data], git_commit="c0ffee1234", artifact=model_file)
    base = catalog.register("fraud", run=run, artifact=str(model_file))
    tuned = catalog.register("fraud", run=catalog.log_run("tune"), base="fraud@1")
    catalog.promote("fraud@1", reason="r")
    graph = catalog.lineage("fraud@1")
    labels = {n["label"] for n in graph["nodes"].values()}
    assert {"fraud@1", "data:train@1", "commit c0ffee1234", "fraud@2", "production (now)"} <= labels
    up = graph["upstream"][0]
    assert graph["nodes"][up["key"]]["kind"] == "run" and up["role"] == "output"
    assert {graph["nodes"][c["key"]]["kind"] for c in up["children"]} == {"dataset", "commit"}
    down_roles = {d["role"] for d in graph["downstream"]}
    assert down_roles == {"base", "deployed"}
    assert tuned["version"] == 2 and base["artifact_hash"]
    run_graph = catalog.lineage(f"run:{run['uid']}")
    assert graph["nodes"][graph["root"]]["kind"] == "version"
    assert run_graph["nodes"][run_graph["root"]]["kind"] == "run"


def test_verify_marks_ok_changed_missing(catalog, tmp_path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "folder"
    a.write_text("1\n")
    b.write_text("2\n")
    c.mkdir()
    (c / "part").write_text("3")
    run = catalog.log_run("r", datasets=[a, b, c])
    catalog.register("m", run=run)
    assert {r["status"] for r in catalog.verify()} == {"ok"}
    a.write_text("changed\n")
    b.unlink()
    (c / "part2").write_text("new")
    status = {r["label"]: r["status"] for r in catalog.verify("m@1")}
    assert status == {"data:a@1": "changed", "data:b@1": "missing", "data:folder@1": "changed",
                      "m@1": "unverifiable"}


def test_lfs_pointer_is_recorded_by_oid(catalog, tmp_path) -> None:
    pointer = tmp_path / "model.safetensors"
    oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
    pointer.write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n")
    run = catalog.log_run("r", artifact=pointer)
    row = catalog.register("m", run=run, artifact=str(pointer))
    assert (row["artifact_hash_algo"], row["artifact_hash"], row["artifact_size"]) == \
        ("sha256-lfs", oid, 12345)


def test_same_bytes_under_another_hash_are_one_dataset_version(catalog, tmp_path) -> None:
    import hashlib

    from mltui.core.records import DatasetRecord, ImportSummary, RunRecord

    data = tmp_path / "transactions.csv"
    data.write_text("a,b\n1,2\n")
    catalog.log_run("sha", datasets=[data])  # recorded as sha256
    md5 = hashlib.md5(data.read_bytes()).hexdigest()
    record = RunRecord(uid="dvc-run", source_format="dvc", source_path=str(tmp_path), datasets=[
        DatasetRecord(name="transactions", hash_algo="md5", hash=md5, path=str(data),
                      size=data.stat().st_size)])
    with catalog._write() as conn:
        catalog._write_run(conn, record, ImportSummary())
    assert [d["version"] for d in catalog.datasets()] == [1]
    assert catalog.datasets()[0]["runs"] == 2


def test_network_filesystem_is_detected(tmp_path) -> None:
    from mltui.core.db import filesystem_type, network_filesystem_warning

    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda1 / ext4 rw 0 0\n"
                      "server:/export /mnt/shared nfs4 rw 0 0\n"
                      "//nas/ml /mnt/nas cifs rw 0 0\n")
    assert filesystem_type(Path("/mnt/shared/team/catalog.db"), str(mounts)) == "nfs4"
    assert filesystem_type(Path("/mnt/sharedother/x.db"), str(mounts)) == "ext4"
    assert "network file system (cifs)" in network_filesystem_warning(
        Path("/mnt/nas/.mltui/catalog.db"), str(mounts))
    assert network_filesystem_warning(Path("/home/me/catalog.db"), str(mounts)) is None


def test_lineage_nodes_carry_an_unambiguous_run_reference(catalog) -> None:
    first = catalog.log_run("a", uid="abcdefabcdef" + "1" * 20)
    catalog.log_run("b", uid="abcdefabcdef" + "2" * 20)  # the same 12-character prefix
    catalog.register("m", run=first)
    node = next(n for n in catalog.lineage("m@1")["nodes"].values() if n["kind"] == "run")
    assert node["label"] == "run:abcdefabcdef"  # short for the screen…
    again = catalog.lineage(node["ref"])            # …but the reference is the full id
    assert again["nodes"][again["root"]]["id"] == first["id"]


def test_a_models_first_page_is_read_from_an_index_not_sorted(tmp_path) -> None:
    """One model's versions, newest first, come in version order straight from the
    (model_id, version) index: no sort of every version of the model (on 1,000,008
    versions a sort of 50,000 rows stood before Browse's first row)."""
    with open_catalog(tmp_path / "catalog.db", create=True) as cat:
        for name in ("a", "b", "a"):
            run = cat.log_run(f"r-{name}", metrics={"f1": [0.5]})
            cat.register(name, run=run["id"])
        statements: list[str] = []
        cat._conn().set_trace_callback(statements.append)
        ids = cat.version_ids(model="a", limit=50)
        assert [cat.ref_of(i) for i in ids] == ["a@2", "a@1"]
        query = next(s for s in statements if "ORDER BY" in s)
        plan = " ".join(row[3] for row in cat._conn().execute("EXPLAIN QUERY PLAN " + query))
        assert "TEMP B-TREE" not in plan, plan


def test_every_models_columns_come_from_the_newest_runs(catalog) -> None:
    # The "all models" listing picks its metric columns from the newest 500 runs (counting
    # every run's keys took 0.7 s on 1,000,000 versions): keys only old runs logged lose.
    with catalog._write() as conn:
        conn.executemany("INSERT INTO runs (id, uid) VALUES (?, ?)",
                         [(i, f"run{i}") for i in range(1, 1101)])
        conn.executemany("INSERT INTO metric_summary (run_id, key, count) VALUES (?, ?, 1)",
                         [(i, "old_loss" if i <= 600 else "f1") for i in range(1, 1101)]
                         + [(i, "acc") for i in range(1050, 1101)])
    assert catalog.metric_keys(limit=3) == ["old_loss", "f1", "acc"]  # every run counted
    assert catalog.recent_metric_keys(limit=3) == ["f1", "acc"]
