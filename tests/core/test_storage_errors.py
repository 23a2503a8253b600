"""SQLite failures are named for what happened: a full disk, a read-only catalog, a permission,
a filter too large; only a damaged file is a reason to mention a backup."""

from __future__ import annotations

import os
import sqlite3

import pytest

from mltui.core import db
from mltui.core.catalog import open_catalog
from mltui.core.errors import CatalogUnreadable, QueryTooLarge, StorageError
from tests.conftest import snapshot_tables


def test_a_full_disk_says_so_and_writes_nothing(seeded, catalog_path) -> None:
    before = snapshot_tables(catalog_path)
    conn = seeded._conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
    with pytest.raises(StorageError) as info:
        seeded.set_doc("fraud@1", "x" * 200_000, base_rev=0)
    line = info.value.one_line()
    assert "is full; nothing was written" in line and "backup" not in line
    seeded.close()
    assert snapshot_tables(catalog_path) == before


def test_a_read_only_catalog_says_so(seeded) -> None:
    seeded._conn().execute("PRAGMA query_only = ON")  # writes fail as on a read-only mount
    with pytest.raises(StorageError) as info:
        seeded.set_tag("fraud@1", "k", "v")
    assert "is read-only" in info.value.one_line() and "backup" not in info.value.one_line()


def test_a_filter_too_large_for_sqlite_is_bad_input(seeded) -> None:
    with pytest.raises(QueryTooLarge) as info:
        seeded.version_ids(filter=" and ".join(["metrics.f1 > 0.1"] * 1200))
    assert "filter is too large" in info.value.one_line()
    assert info.value.exit_code == 2 and "backup" not in info.value.one_line()


def test_a_very_long_run_prefix_is_bad_input(seeded) -> None:
    with pytest.raises(QueryTooLarge, match="prefix is too long"):
        seeded.resolve_run("run:" + "a" * 60_000)


def test_an_unreadable_catalog_is_permission_denied_not_a_foreign_file(catalog_path, seeded,
                                                                        monkeypatch) -> None:
    seeded.close()
    catalog_path.chmod(0)
    try:
        if os.access(catalog_path, os.R_OK):  # root reads anything: make open fail as for a user
            monkeypatch.setattr(os, "access", lambda *a, **k: False)
            real = db.sqlite3.connect

            def refuse(target, *args, **kwargs):
                if str(catalog_path) in str(target):
                    raise sqlite3.OperationalError("unable to open database file")
                return real(target, *args, **kwargs)

            monkeypatch.setattr(db.sqlite3, "connect", refuse)
        with pytest.raises(StorageError) as info:
            open_catalog(catalog_path)
    finally:
        catalog_path.chmod(0o644)
    assert "permission denied" in info.value.one_line()
    assert "not an mltui catalog" not in info.value.one_line()


def test_a_damaged_catalog_is_the_one_that_mentions_a_backup(tmp_path) -> None:
    error = sqlite3.DatabaseError("database disk image is malformed")
    error.sqlite_errorcode = 11
    typed = db.translate_error(error, tmp_path / "c.db")
    assert isinstance(typed, CatalogUnreadable) and "is damaged" in typed.one_line()
    assert "backup" in typed.one_line()


@pytest.mark.parametrize("seconds, ms", [("2.5", 2500), ("0", 0)])
def test_each_connection_waits_the_busy_timeout(seeded, catalog_path, monkeypatch, seconds,
                                                ms) -> None:
    # Set once per connection, by sqlite3.connect's timeout (no PRAGMA repeats it).
    monkeypatch.setenv("MLTUI_BUSY_TIMEOUT", seconds)
    conn = db.connect(catalog_path)
    try:
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == ms
    finally:
        conn.close()
