"""The audit trail is tamper-evident: REPLACE is refused, and a row rewritten, removed or
added behind mltui's back breaks the hash chain, which open (cheaply) and verify_history (in
full) report; who and when are the OS user and clock unless a test overrides them."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mltui.core import audit
from mltui.core.catalog import open_catalog
from mltui.core.errors import HistoryBroken
from tests.conftest import snapshot_tables


@pytest.fixture
def promoted(seeded, catalog_path):
    """fraud@1 → @2 → @3 through production, then closed: the raw file is ours to tamper with."""
    for ref in ("fraud@1", "fraud@2"):
        seeded.promote(ref, reason="ok")
    seeded.promote("fraud@3", force=True, reason="forced")
    seeded.set_doc("fraud@1", "first", base_rev=0)
    seeded.close()
    return catalog_path


def raw(path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def tamper(path, trigger: str, sql: str, *params) -> None:
    """What someone with the file can do: drop a guard trigger and edit a row."""
    conn = raw(path)
    conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute(sql, params)
    conn.close()


@pytest.mark.parametrize("sql", [
    "INSERT OR REPLACE INTO stage_history (id, model_id, stage, action, at, prev_hash, hash) "
    "VALUES (2, 1, 'production', 'promote', 0, 'x', 'y')",
    "REPLACE INTO events (id, at, action, prev_hash, hash) VALUES (1, 0, 'forged', 'x', 'y')",
    "INSERT OR REPLACE INTO doc_revisions (target_kind, target_id, rev, text, prev_hash, hash) "
    "VALUES ('version', 1, 1, 'forged', 'x', 'y')",
])
def test_replace_cannot_rewrite_the_audit_trail(promoted, sql) -> None:
    conn = raw(promoted)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)
    conn.close()
    with open_catalog(promoted) as cat:
        assert cat.verify_history()["ok"]


def test_a_row_without_a_chain_hash_is_refused(promoted) -> None:
    conn = raw(promoted)
    with pytest.raises(sqlite3.IntegrityError, match="no chain hash"):
        conn.execute("INSERT INTO events (at, action) VALUES (0, 'forged')")
    conn.close()


def test_a_rewritten_history_row_is_found_in_full_and_on_open(promoted) -> None:
    # Point the first promotion at fraud@3: what a rollback restores would change.
    tamper(promoted, "stage_history_no_update", "UPDATE stage_history SET to_version_id = 3 "
                                                "WHERE id = 1")
    with open_catalog(promoted) as cat:
        assert any("audit trail is broken" in w and "stage_history row 1" in w
                   for w in cat.warnings)
        result = cat.verify_history()
        assert not result["ok"]
        assert result["first"] == {"table": "stage_history", "id": 1,
                                   "reason": result["first"]["reason"]}
        assert "was changed after it was written" in result["first"]["reason"]
        with pytest.raises(HistoryBroken) as info:
            cat.verify_history(strict=True)
        assert info.value.exit_code == 1 and "stage_history row 1" in info.value.one_line()


def test_rollback_refuses_to_replay_an_edited_history(promoted) -> None:
    # Make the history say fraud@1 was never promoted: the rollback would restore fraud@3's
    # predecessor from a forged stack.
    tamper(promoted, "stage_history_no_update", "UPDATE stage_history SET to_version_id = 3 "
                                                "WHERE id = 2")
    before = snapshot_tables(promoted)
    with open_catalog(promoted) as cat:
        with pytest.raises(HistoryBroken) as info:
            cat.rollback("fraud", reason="undo")
    assert "refusing to roll back fraud@production" in info.value.one_line()
    assert "stage_history row 2" in info.value.one_line()
    assert snapshot_tables(promoted) == before


def test_a_removed_row_breaks_the_link_of_the_next(promoted) -> None:
    tamper(promoted, "events_no_delete", "DELETE FROM events WHERE id = 2")
    with open_catalog(promoted) as cat:
        first = cat.verify_history()["first"]
    assert first["table"] == "events" and first["id"] == 3
    assert "removed or inserted" in first["reason"]


def test_rows_cut_off_the_end_are_found_by_the_head_on_open(promoted) -> None:
    conn = raw(promoted)
    last = conn.execute("SELECT max(id) FROM events").fetchone()[0]
    conn.close()
    tamper(promoted, "events_no_delete", "DELETE FROM events WHERE id = ?", last)
    with open_catalog(promoted) as cat:
        assert any(f"events should end at row {last}" in w for w in cat.warnings)
        assert not cat.verify_history()["ok"]


def test_an_intact_trail_verifies_and_counts_its_rows(promoted) -> None:
    with open_catalog(promoted) as cat:
        result = cat.verify_history()
        assert cat.warnings == []
    assert result["ok"] and result["broken"] == [] and result["first"] is None
    assert result["rows"]["stage_history"] == 3 and result["rows"]["doc_revisions"] == 1


def test_who_and_when_come_from_the_os_unless_overridden(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MLTUI_USER")
    path = tmp_path / "c.db"
    with open_catalog(path, create=True) as cat:
        cat.log_run("real", metrics={"f1": 0.5})
        cat.register("fraud", run=cat.run_ids()[0])
        row = cat._conn().execute(
            "SELECT actor, override FROM events ORDER BY id DESC LIMIT 1").fetchone()
    assert row == (audit.os_user(), None)
    with open_catalog(path, clock=lambda: 1000.0, actor="someone-else") as cat:
        cat.promote("fraud@1")
        history = cat._conn().execute(
            "SELECT actor, at, override FROM stage_history ORDER BY id DESC LIMIT 1").fetchone()
        event = cat._conn().execute(
            "SELECT actor, at, override FROM events ORDER BY id DESC LIMIT 1").fetchone()
    for actor, at, override in (history, event):
        note = json.loads(override)
        assert (actor, at) == ("someone-else", 1000.0)
        assert note["os_user"] == audit.os_user() and note["real_at"] > 1_000_000_000


def test_the_chain_hash_is_hashlibs_sha256() -> None:
    # core/digest.py uses CPython's own SHA-256 (no OpenSSL load at start): same digests.
    import hashlib

    from mltui.core.digest import sha256

    for data in (b"", b"abc", "é\u2028".encode("utf-8", "surrogatepass") * 1000):
        assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
