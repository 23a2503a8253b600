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


def test_an_upgrade_is_said_before_it_starts_once(tmp_path):
    """A migration of a big catalog takes minutes (1,000,000 versions, schema 6 → 7: ~90 s):
    the command says so on stderr before the backup starts, and only the first time."""
    import shutil
    from pathlib import Path

    from mltui.core.schema import SCHEMA_VERSION

    path = tmp_path / "catalog.db"
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "catalogs" / "schema-v6.db", path)
    first = run(["ls", "models", "--json"], path)
    assert first.exit_code == 0, first.output
    assert f"upgrading catalog {path} (" in first.stderr
    assert f"from schema 6 to {SCHEMA_VERSION}: a backup copy first" in first.stderr
    assert [m["name"] for m in json.loads(first.stdout)] == ["churn", "fraud"]
    again = run(["ls", "models", "--json"], path)
    assert again.exit_code == 0 and "upgrading" not in again.stderr
