"""The command line over the catalog's life: nothing created on error, an empty file refused and
started over only on request, and the audit trail checked by `verify --history` (issue 10)."""

from __future__ import annotations

import json
import sqlite3

from tests.cli.test_cli import run, seeded_path  # noqa: F401 - the fixture


def test_a_failed_first_import_leaves_nothing_behind(tmp_path):
    target = tmp_path / "fresh" / "deeper" / "catalog.db"
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "notes.txt").write_text("no run log here\n")
    for args in (["import", str(tmp_path / "nonexistent")], ["import", str(tmp_path / "logs")]):
        result = run(args, target)
        assert result.exit_code == 2, result.output
        assert not (tmp_path / "fresh").exists(), f"{args} left {list((tmp_path / 'fresh').rglob('*'))}"


def test_an_empty_catalog_file_is_refused_and_init_force_starts_over(tmp_path):
    empty = tmp_path / "catalog.db"
    empty.write_bytes(b"")
    refused = run(["ls"], empty)
    assert refused.exit_code == 2 and "is empty (0 bytes)" in refused.stderr
    assert "init --force" in refused.stderr
    assert empty.stat().st_size == 0  # not silently re-created
    assert run(["init", "--force"], empty).exit_code == 0
    assert run(["ls", "models", "--json"], empty).stdout.strip() == "[]"


def test_verify_history_finds_a_rewritten_row(seeded_path):
    assert run(["promote", "fraud@2", "-r", "first"], seeded_path).exit_code == 0
    intact = run(["verify", "--history", "--json"], seeded_path)
    assert intact.exit_code == 0 and json.loads(intact.stdout)["ok"] is True
    conn = sqlite3.connect(str(seeded_path))
    conn.execute("DROP TRIGGER stage_history_no_update")
    conn.execute("UPDATE stage_history SET reason = 'rewritten' WHERE id = 1")
    conn.commit()
    conn.close()
    broken = run(["verify", "--history"], seeded_path)
    assert broken.exit_code == 1
    assert "stage_history" in broken.stdout and "BROKEN" in broken.stdout
    assert "audit trail broken" in broken.stderr
