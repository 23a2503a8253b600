"""The audit trail's hash chain pinned exactly (core/audit.py): the hash of a row is a format
every catalog already written depends on, and each broken link is reported with its table, row
and reason.  Written against the mutants mutmut makes of audit.py (docs/testing.md); the
tamper scenarios on a real catalog are in test_audit_chain.py.  Most tests use bare in-memory
tables (the chained columns, no triggers), so they cost microseconds."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from mltui.core import audit
from mltui.core.audit import GENESIS, append, check_tail, row_hash, seal, verify, verify_table
from mltui.core.catalog import open_catalog
from mltui.core.errors import HistoryBroken

STAGE_ROW = {"id": 1, "model_id": 2, "stage": "production", "from_version_id": None,
             "to_version_id": 3, "action": "promote", "reason": "ünïcode ✓", "actor": "ana",
             "at": 1000, "gate_results": "[]", "forced": 0, "override": None, "prev_hash": GENESIS}
EVENT_ROW = {"id": 7, "at": 12.5, "actor": "bo", "action": "register", "entity_kind": "version",
             "entity_id": 4, "ref": "fraud@4", "before": None, "after": '{"a": 1}', "detail": "d",
             "override": None, "prev_hash": "ab" * 32}
DOC_ROW = {"id": 2, "target_kind": "model", "target_id": 1, "rev": 2, "text": "# Card\n\u2028",
           "author": "cy", "at": 5, "message": "m", "override": '{"os_user": "root"}',
           "prev_hash": "cd" * 32}


def bare() -> sqlite3.Connection:
    """The three chained tables and meta, without mltui's triggers."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    for table, columns in audit.CHAIN_COLUMNS.items():
        names = ", ".join(name for name, _ in columns if name != "id")
        conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {names}, hash TEXT)")
    return conn


def event(n: int) -> dict:
    return {"at": float(n), "actor": "a", "action": f"act{n}", "entity_kind": None,
            "entity_id": None, "ref": None, "before": None, "after": None, "detail": None,
            "override": None}


def head(conn: sqlite3.Connection, table: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"chain_head:{table}",)).fetchone()
    return row[0] if row else None


# -- the hash of a row: a stored format -----------------------------------------------------------


def test_row_hash_is_sha256_of_the_canonical_json_of_its_columns() -> None:
    payload = json.dumps(["stage_history", [1, 2, "production", None, 3, "promote", "ünïcode ✓",
                                            "ana", 1000.0, "[]", 0, None, GENESIS]],
                         ensure_ascii=False, separators=(",", ":"))
    assert row_hash("stage_history", STAGE_ROW) == hashlib.sha256(payload.encode()).hexdigest()


@pytest.mark.parametrize(("table", "row", "digest"), [
    ("stage_history", STAGE_ROW, "88b9fea528eda8168b9908e3a8ac8af806c1d7037272522a0932b360a0a2c4ce"),
    ("events", EVENT_ROW, "6b1984728540c47789635e5bbd16289e317eb88b93a324083ae6750ea01b0841"),
    ("doc_revisions", DOC_ROW, "100737581b1e03b6fa158c8091211ccd71635e1fa05a6efa9f1e74e88cb77256"),
])
def test_row_hash_of_each_table_never_changes(table, row, digest) -> None:
    # Every chain already written was hashed this way: a change here breaks them all.
    assert row_hash(table, row) == digest


def test_row_hash_coerces_stored_types_and_ignores_other_keys() -> None:
    read_back = dict(STAGE_ROW, at=1000.0, model_id="2", hash="x", extra="ignored")
    assert row_hash("stage_history", read_back) == row_hash("stage_history", STAGE_ROW)
    lone_surrogate = dict(DOC_ROW, text="\ud800")  # hashed, not refused
    assert len(row_hash("doc_revisions", lone_surrogate)) == 64


# -- appending and sealing -------------------------------------------------------------------------


def test_append_links_each_row_to_the_one_before_and_moves_the_head() -> None:
    conn = bare()
    assert append(conn, "events", event(1)) == 1
    assert append(conn, "events", event(2)) == 2
    rows = conn.execute("SELECT id, prev_hash, hash, action FROM events ORDER BY id").fetchall()
    first, second = rows
    assert first[1] == GENESIS and second[1] == first[2]
    assert first[2] == row_hash("events", dict(event(1), id=1, prev_hash=GENESIS))
    assert head(conn, "events") == f"2:{second[2]}"
    assert head(conn, "stage_history") is None
    assert verify(conn)["ok"]


def test_seal_chains_rows_already_there() -> None:
    conn = bare()
    for n in (1, 2, 3):
        conn.execute("INSERT INTO events (id, at, actor, action) VALUES (?, ?, 'a', ?)",
                     (n * 10, float(n), f"act{n}"))
    assert seal(conn, "events") == 3
    assert seal(conn, "stage_history") == 0 and head(conn, "stage_history") is None
    rows = conn.execute("SELECT id, prev_hash, hash FROM events ORDER BY id").fetchall()
    assert [r[1] for r in rows] == [GENESIS, rows[0][2], rows[1][2]]
    assert head(conn, "events") == f"30:{rows[2][2]}"
    assert verify(conn) == {"ok": True, "rows": {"stage_history": 0, "events": 3,
                                                 "doc_revisions": 0},
                            "broken": [], "first": None}
    assert append(conn, "events", event(4)) == 31


# -- finding a broken link ---------------------------------------------------------------------------


def chained(n: int) -> sqlite3.Connection:
    conn = bare()
    for i in range(1, n + 1):
        append(conn, "events", event(i))
    return conn


def test_each_broken_link_is_named_with_its_reason() -> None:
    conn = chained(3)
    conn.execute("UPDATE events SET actor = 'forger' WHERE id = 2")
    assert verify_table(conn, "events") == {
        "table": "events", "id": 2,
        "reason": "events row 2 was changed after it was written (its hash does not match its "
                  "content)"}
    conn = chained(3)
    conn.execute("DELETE FROM events WHERE id = 2")
    assert verify_table(conn, "events") == {
        "table": "events", "id": 3,
        "reason": "events row 3 does not follow the row before it (a row was removed or "
                  "inserted)"}
    conn = chained(3)
    conn.execute("UPDATE events SET hash = NULL WHERE id = 1")
    assert verify_table(conn, "events") == {
        "table": "events", "id": 1,
        "reason": "events row 1 has no hash (it was not written by mltui)"}
    conn = chained(3)
    conn.execute("DELETE FROM events WHERE id = 1")  # the first row must follow GENESIS
    assert verify_table(conn, "events") == {
        "table": "events", "id": 2,
        "reason": "events row 2 does not follow the row before it (a row was removed or "
                  "inserted)"}


def test_the_head_finds_rows_cut_off_or_added() -> None:
    conn = chained(3)
    conn.execute("DELETE FROM events WHERE id = 3")
    assert verify_table(conn, "events") == {
        "table": "events", "id": 3,
        "reason": "events should end at row 3 but ends at row 2 (rows were removed or added "
                  "behind mltui's back)"}
    conn.execute("DELETE FROM events")
    assert check_tail(conn) == {
        "table": "events", "id": 3,
        "reason": "events should end at row 3 but is empty (rows were removed or added behind "
                  "mltui's back)"}
    conn = chained(2)
    conn.execute("DELETE FROM meta")
    assert check_tail(conn) == {"table": "events", "id": 2,
                                "reason": "events has rows but no recorded chain head"}
    conn = chained(2)
    conn.execute("UPDATE meta SET value = 'x:' || substr(value, 3)")
    assert check_tail(conn)["id"] is None  # an unreadable head names no row
    conn = chained(2)
    conn.execute("UPDATE meta SET value = '2:' || ?", ("0" * 64,))
    assert check_tail(conn)["id"] == 2  # the right row, the wrong hash
    conn.execute("UPDATE meta SET value = '2:x:y'")
    assert check_tail(conn)["id"] == 2  # the id ends at the first colon


@pytest.mark.parametrize(("forged", "found"), [(12, True), (11, False)])
def test_open_checks_the_head_and_the_last_eight_links(forged, found) -> None:
    # check_tail reads the last TAIL_LINKS + 1 rows: 12..20 of 20.
    conn = chained(20)
    conn.execute("UPDATE events SET actor = 'forger' WHERE id = ?", (forged,))
    assert audit.TAIL_LINKS == 8
    assert (check_tail(conn) is not None) == found
    assert verify_table(conn, "events")["id"] == forged  # the full walk always finds it
    assert check_tail(conn, links=20)["id"] == forged


def test_check_tail_checks_every_table_in_order() -> None:
    conn = chained(2)
    append(conn, "doc_revisions", {"target_kind": "model", "target_id": 1, "rev": 1, "text": "t",
                                   "author": "a", "at": 1.0, "message": None, "override": None})
    conn.execute("UPDATE doc_revisions SET text = 'forged'")
    assert check_tail(conn)["table"] == "doc_revisions"
    conn.execute("UPDATE events SET actor = 'forger' WHERE id = 2")
    assert check_tail(conn)["table"] == "events"
    result = verify(conn)
    assert [b["table"] for b in result["broken"]] == ["events", "doc_revisions"]
    assert result["first"] == result["broken"][0] and result["ok"] is False
    assert result["rows"] == {"stage_history": 0, "events": 2, "doc_revisions": 1}


# -- who and when, and the strict check ----------------------------------------------------------------


def test_strict_verify_names_the_catalog_and_the_first_link(catalog) -> None:
    catalog.register("m", run=catalog.log_run("r"))
    path = catalog.path
    catalog.close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET actor = 'forger' WHERE id = 1")
    conn.close()
    with open_catalog(path) as cat:
        assert cat.verify_history()["ok"] is False
        with pytest.raises(HistoryBroken) as info:
            cat.verify_history(strict=True)
    assert str(info.value) == (f"the audit trail of {path} is broken: events row 1 was changed "
                               "after it was written (its hash does not match its content)")
    assert info.value.hint == "compare with a backup copy (catalog.db.bak-*) to see what changed"


def test_rollback_over_an_edited_history_reads_exactly(seeded) -> None:
    seeded.promote("fraud@1", reason="ok")
    seeded.promote("fraud@2", reason="ok")
    path = seeded.path
    seeded.close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("DROP TRIGGER stage_history_no_update")
    conn.execute("UPDATE stage_history SET reason = 'forged' WHERE id = 1")
    conn.close()
    with open_catalog(path) as cat, pytest.raises(HistoryBroken) as info:
        cat.rollback("fraud")
    assert info.value.one_line() == (
        "refusing to roll back fraud@production: stage_history row 1 was changed after it was "
        "written (its hash does not match its content); promote the version you want "
        "explicitly, and see `mltui verify --history`")


def test_a_stage_move_at_a_given_time_records_it(seeded) -> None:
    # Imports replay stage changes at the time the source recorded them.
    mid = seeded.model_id("fraud")
    with seeded._write() as conn:
        seeded._move_stage(conn, mid, "production", None, seeded.resolve("fraud@1"), "import",
                           None, None, False, None, at=1234.5)
    at, override = seeded._conn().execute(
        "SELECT at, override FROM stage_history ORDER BY id DESC LIMIT 1").fetchone()
    assert at == 1234.5 and "real_at" in json.loads(override)


def test_an_event_records_every_field(catalog) -> None:
    with catalog._write() as conn:
        catalog._event(conn, "act", "version", 4, "m@4", before={"b": 2, "a": 1},
                       after=[Path("/x")],
                       detail="why", actor="someone")
    row = catalog._conn().execute(
        "SELECT at, actor, action, entity_kind, entity_id, ref, before, after, detail, override "
        "FROM events ORDER BY id DESC LIMIT 1").fetchone()
    note = json.loads(row[9])
    assert row[:9] == (row[0], "someone", "act", "version", 4, "m@4", '{"a": 1, "b": 2}', '["/x"]',
                       "why")
    assert set(note) == {"os_user", "real_at"} and note["os_user"] == audit.os_user()
    with catalog._write() as conn:
        catalog._event(conn, "bare", None, None, None)
    row = catalog._conn().execute("SELECT before, after, detail, actor FROM events ORDER BY id DESC "
                                  "LIMIT 1").fetchone()
    assert row == (None, None, None, "tester")


def test_provenance_notes_only_what_was_overridden(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MLTUI_USER")
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        assert cat._provenance()[0] == audit.os_user() and cat._provenance()[2] is None
        who, when, note = cat._provenance(at=5.0)
        assert (who, when, set(json.loads(note))) == (audit.os_user(), 5.0, {"real_at"})
        who, when, note = cat._provenance(actor="bot", at=0.0)
        assert (who, when, set(json.loads(note))) == ("bot", 0.0, {"os_user", "real_at"})


def test_os_user_falls_back_to_the_login_name_then_unknown(monkeypatch) -> None:
    import getpass
    import pwd

    monkeypatch.setattr(pwd, "getpwuid", lambda uid: (_ for _ in ()).throw(KeyError(uid)))
    monkeypatch.setattr(getpass, "getuser", lambda: "login-name")
    assert audit.os_user() == "login-name"
    monkeypatch.setattr(getpass, "getuser", lambda: (_ for _ in ()).throw(OSError("none")))
    assert audit.os_user() == "unknown"
