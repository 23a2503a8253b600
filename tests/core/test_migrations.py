"""Upgrading catalogs: from every released schema (fixture files), with the backup written
first, surviving a kill at any point, and refusing schemas this code does not know.

Opening runs in a subprocess where the old code could hang (the backup used to retry forever),
so a regression fails the test instead of stalling the suite.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mltui.core import schema
from mltui.core.catalog import init_catalog, open_catalog
from mltui.core.errors import CatalogLocked, CatalogUnreadable, NotFound
from tests.conftest import snapshot_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catalogs"
# Every schema a landed mltui wrote (add the new one here, with its fixture, when it ships).
# v2 (audit chain) and v3 (inferred commits) landed together: no catalog of v2 exists.  v5 is
# the schema before stored version counts (v6): its fixture was made by that code; v6 is the
# schema before metric_series became a rowid table (v7), made by that code with long series.
RELEASED = [1, 5, 6]
REPO = Path(__file__).resolve().parents[2]

OPEN_SCRIPT = ("import sys; from mltui.core.catalog import open_catalog; "
               "open_catalog(sys.argv[1]).close()")


def fixture_copy(version: int, tmp_path: Path) -> Path:
    """A private copy of the fixture catalog of a released schema."""
    target = tmp_path / f"v{version}" / "catalog.db"
    target.parent.mkdir()
    shutil.copy(FIXTURES / f"schema-v{version}.db", target)
    return target


def open_in_subprocess(path: Path, **env: str) -> subprocess.CompletedProcess:
    """Open (and so migrate) the catalog in a fresh interpreter, bounded by a timeout."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-c", OPEN_SCRIPT, str(path)], env=full_env,
                          capture_output=True, text=True, timeout=60)


def user_version(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # never creates a missing file
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def audit_rows(path: Path) -> dict[str, list[tuple]]:
    """The audit tables' rows without the columns a migration adds (comparable across versions)."""
    columns = {"stage_history": "id, model_id, stage, from_version_id, to_version_id, action, "
                                "reason, actor, at, gate_results, forced",
               "events": "id, at, actor, action, entity_kind, entity_id, ref, before, after, detail",
               "doc_revisions": "id, target_kind, target_id, rev, text, author, at, message"}
    conn = sqlite3.connect(str(path))
    try:
        return {t: conn.execute(f"SELECT {c} FROM {t} ORDER BY id").fetchall()
                for t, c in columns.items()}
    finally:
        conn.close()


def test_a_fixture_catalog_exists_for_every_released_schema() -> None:
    assert RELEASED == sorted(RELEASED) and RELEASED[-1] < schema.SCHEMA_VERSION
    for version in RELEASED:
        assert user_version(FIXTURES / f"schema-v{version}.db") == version


@pytest.mark.parametrize("version", RELEASED)
def test_upgrades_a_released_catalog_after_a_backup(tmp_path, version) -> None:
    path = fixture_copy(version, tmp_path)
    before = snapshot_tables(path)
    rows_before = audit_rows(path)
    result = open_in_subprocess(path)
    assert result.returncode == 0, result.stderr
    assert user_version(path) == schema.SCHEMA_VERSION
    backups = list(path.parent.glob("catalog.db.bak-v*"))
    assert [b.name.split("-")[1] for b in backups] == [f"v{version}"]
    assert user_version(backups[0]) == version
    assert snapshot_tables(backups[0]) == before  # the backup is the catalog as it was
    assert not list(path.parent.glob("*.partial"))
    assert audit_rows(path) == rows_before  # nothing of the audit trail lost or changed
    with open_catalog(path) as cat:
        assert cat.warnings == []
        assert cat.verify_history()["ok"]
        assert cat.rollback_target("fraud") is not None
        assert cat.stage_holder("fraud", "production") == cat.resolve("fraud@2")
        cat.promote("fraud@1", reason="after the upgrade")  # the chain continues
        assert cat.verify_history()["ok"]


@pytest.mark.parametrize("point", ["before-backup", "after-backup", "mid-migration",
                                   "before-commit"])
def test_a_kill_during_migration_leaves_the_old_or_the_migrated_catalog(tmp_path, point) -> None:
    version = RELEASED[-1]
    path = fixture_copy(version, tmp_path)
    before = snapshot_tables(path)
    rows_before = audit_rows(path)
    result = open_in_subprocess(path, MLTUI_FAULT=point)
    assert result.returncode == -9, (result.returncode, result.stderr)  # it really was killed
    # A reader that knows nothing of mltui sees one consistent state: the old catalog, whole.
    assert user_version(path) == version
    assert snapshot_tables(path) == before
    assert not list(path.parent.glob("*.partial"))
    with open_catalog(path) as cat:  # the next open migrates it properly
        assert cat.verify_history()["ok"]
        conn = cat._conn()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert user_version(path) == schema.SCHEMA_VERSION
    assert audit_rows(path) == rows_before


def test_a_catalog_from_a_newer_mltui_is_refused_in_one_line(tmp_path) -> None:
    path = fixture_copy(RELEASED[-1], tmp_path)
    conn = sqlite3.connect(str(path))
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 3}")
    conn.close()
    content = path.read_bytes()
    with pytest.raises(schema.SchemaTooNew) as info:
        open_catalog(path)
    assert f"made by a newer mltui (schema {schema.SCHEMA_VERSION + 3}, this one knows " \
           f"{schema.SCHEMA_VERSION}): upgrade mltui" in info.value.one_line()
    assert path.read_bytes() == content
    assert not list(path.parent.glob("catalog.db.bak-*"))


def test_a_schema_version_no_mltui_writes_is_refused_without_hanging(tmp_path) -> None:
    path = fixture_copy(RELEASED[-1], tmp_path)
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA user_version = -1")
    conn.close()
    result = open_in_subprocess(path)
    assert result.returncode == 1 and "SchemaUnknown" in result.stderr
    with pytest.raises(schema.SchemaUnknown, match="schema version -1"):
        open_catalog(path)
    assert user_version(path) == -1


def test_a_migration_waits_for_a_writer_for_a_bounded_time(tmp_path) -> None:
    path = fixture_copy(RELEASED[-1], tmp_path)
    blocker = sqlite3.connect(str(path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CatalogLocked) as info:
            open_catalog(path)
        assert info.value.one_line().count("\n") == 0
        assert "locked by another process" in info.value.one_line()
        assert "try again" in info.value.one_line()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert user_version(path) == RELEASED[-1]


def test_an_empty_file_is_refused_not_recreated(tmp_path) -> None:
    path = tmp_path / ".mltui" / "catalog.db"
    path.parent.mkdir()
    path.write_bytes(b"")
    with pytest.raises(CatalogUnreadable) as info:
        open_catalog(path, create=True)
    assert "is empty (0 bytes)" in info.value.one_line()
    assert "init --force" in info.value.one_line()
    assert path.read_bytes() == b""
    with pytest.raises(CatalogUnreadable):
        init_catalog(tmp_path)
    cat, created = init_catalog(tmp_path, force=True)
    with cat:
        assert created and cat.models() == []
    assert user_version(path) == schema.SCHEMA_VERSION


def test_force_never_replaces_a_catalog_with_content(tmp_path) -> None:
    cat, _ = init_catalog(tmp_path)
    with cat:
        cat.log_run("kept", metrics={"f1": 0.5})
    cat, created = init_catalog(tmp_path, force=True)
    with cat:
        assert not created
        assert len(cat.run_ids()) == 1


def test_a_catalog_created_on_write_leaves_nothing_behind_until_a_write_commits(tmp_path) -> None:
    path = tmp_path / "new" / ".mltui" / "catalog.db"
    with open_catalog(path, create="on-write") as cat:
        assert cat.models() == [] and cat.run_ids() == []
    assert not (tmp_path / "new").exists()
    with open_catalog(path, create="on-write") as cat:
        with pytest.raises(RuntimeError):
            with cat._write():
                cat._event(cat._conn(), "probe", None, None, None)
                raise RuntimeError("the first write fails")
        assert not (tmp_path / "new").exists()
        cat.log_run("first", metrics={"f1": 0.5})
        assert path.is_file()
        cat.log_run("second", metrics={"f1": 0.6})
    with pytest.raises(NotFound):
        open_catalog(tmp_path / "other.db")
    with open_catalog(path) as cat:
        assert len(cat.run_ids()) == 2
        assert cat.verify_history()["ok"]


def test_a_backup_longer_than_the_busy_timeout_is_not_cut_off(tmp_path, monkeypatch) -> None:
    """The backup gives up when it is stuck, not when it is long: a big catalog copies for
    longer than the busy timeout while making progress at every step (1 M versions: 4.7 GB)."""
    from mltui.core import db

    path = tmp_path / "catalog.db"
    with open_catalog(path, create=True) as cat:
        cat.log_run("big", params={f"p{i}": "x" * 4000 for i in range(2000)})  # ~8 MB
    conn = sqlite3.connect(str(path))
    monkeypatch.setattr(db, "busy_timeout", lambda: 0.0)  # every step is past the deadline
    copy = db.backup_before_migration(conn, path, schema.SCHEMA_VERSION - 1)
    conn.close()
    assert copy is not None and copy.exists() and copy.stat().st_size > 4 * 1024 * 1024


def series_rows(path: Path) -> list[tuple]:
    """Every metric_series row, every column, in key order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT run_id, key, count, steps, vals, epochs, wall_times, axis, "
                            "axes, raws FROM metric_series ORDER BY run_id, key").fetchall()
    finally:
        conn.close()


def series_table_sql(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return " ".join(conn.execute("SELECT group_concat(sql, ' ') FROM sqlite_master WHERE "
                                     "tbl_name LIKE 'metric_series%'").fetchone()[0].split())
    finally:
        conn.close()


def test_schema_7_makes_metric_series_a_rowid_table_keeping_every_byte(tmp_path) -> None:
    path = fixture_copy(6, tmp_path)
    rows = series_rows(path)
    assert any(len(row[3]) > 1000 for row in rows)  # rows that overflowed their page in v6
    assert "WITHOUT ROWID" in series_table_sql(path)
    result = open_in_subprocess(path)
    assert result.returncode == 0, result.stderr
    assert "WITHOUT ROWID" not in series_table_sql(path)
    assert "metric_series_v7" not in series_table_sql(path)
    assert series_rows(path) == rows  # every row, every byte
    conn = sqlite3.connect(str(path))
    try:
        # Rows copied in key order; the unique (run_id, key) index is the lookups' index.
        assert conn.execute("SELECT run_id, key FROM metric_series ORDER BY rowid").fetchall() \
            == [row[:2] for row in rows]
        unique = [row[1] for row in conn.execute("PRAGMA index_list(metric_series)") if row[2]]
        assert [[c[2] for c in conn.execute(f"PRAGMA index_info('{name}')")]
                for name in unique] == [["run_id", "key"]]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    with open_catalog(path) as cat:
        run = max(cat.run_ids())  # "curves", the last run logged
        assert cat.metric_history(run, "loss")[:2] == [(0, 1.0), (1, 0.5)]
        assert [p.step for p in cat.metric_points(run, "lr")] == [0, 1, 1, 5]
    fresh = tmp_path / "fresh.db"
    open_catalog(fresh, create=True).close()
    assert schema_objects(path) == schema_objects(fresh)  # migrated = created today


def schema_objects(path: Path) -> list[tuple]:
    """Every table, index and trigger with its SQL (whitespace folded)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(kind, name, " ".join((sql or "").split())) for kind, name, sql in conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name")]
    finally:
        conn.close()


def test_a_kill_inside_step_7_leaves_the_without_rowid_table(tmp_path) -> None:
    path = fixture_copy(6, tmp_path)
    rows, sql = series_rows(path), series_table_sql(path)
    result = open_in_subprocess(path, MLTUI_FAULT="mid-migration")
    assert result.returncode == -9, (result.returncode, result.stderr)
    assert user_version(path) == 6
    assert series_table_sql(path) == sql and series_rows(path) == rows
