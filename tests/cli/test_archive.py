"""Archiving is guarded, recorded and reversible (issue 9, item 4)."""

from __future__ import annotations

import json

from tests.cli.test_cli import run, seeded_path  # noqa: F401 - the fixture
from tests.conftest import snapshot_tables


def _events(path, action):
    result = run(["history", "--events", "--json", "-n", "500"], path)
    return [e for e in json.loads(result.stdout) if e["action"] == action]


def test_archive_needs_a_reason_and_is_recorded(seeded_path):
    before = snapshot_tables(seeded_path)
    refused = run(["archive", "fraud@1"], seeded_path)
    assert refused.exit_code == 2 and "needs a reason" in refused.stderr
    assert snapshot_tables(seeded_path) == before
    done = run(["archive", "fraud@1", "-r", "leaked split"], seeded_path)
    assert done.exit_code == 0, done.stderr
    assert "archived fraud@1" in done.stderr
    events = _events(seeded_path, "archive")
    assert events and events[0]["ref"] == "fraud@1" and "leaked split" in json.dumps(events[0])
    listing = run(["ls", "-m", "fraud"], seeded_path)
    line = [ln for ln in listing.stdout.splitlines() if ln.startswith("fraud@1 ")][0]
    assert "(archived)" in line
    shown = json.loads(run(["show", "fraud@1", "--json"], seeded_path).stdout)
    assert shown["status"] == "archived"


def test_archive_is_idempotent(seeded_path):
    assert run(["archive", "fraud@1", "-r", "old"], seeded_path).exit_code == 0
    before = snapshot_tables(seeded_path)
    again = run(["archive", "fraud@1", "-r", "old"], seeded_path)
    assert again.exit_code == 0 and "already archived" in again.stderr
    assert snapshot_tables(seeded_path) == before


def test_archiving_a_stage_holder_is_refused_unless_forced(seeded_path):
    assert run(["promote", "fraud@2", "-s", "staging", "-r", "try", "--force"], seeded_path).exit_code == 0
    before = snapshot_tables(seeded_path)
    refused = run(["archive", "fraud@2", "-r", "x"], seeded_path)
    assert refused.exit_code != 0 and "holds staging" in refused.stderr
    assert snapshot_tables(seeded_path) == before
    forced = run(["archive", "fraud@2", "-r", "x", "--force"], seeded_path)
    assert forced.exit_code == 0 and "still holds staging" in forced.stderr


def test_unarchive_makes_it_promotable_again_and_is_recorded(seeded_path):
    assert run(["archive", "fraud@1", "-r", "old"], seeded_path).exit_code == 0
    blocked = run(["promote", "fraud@1", "-s", "staging", "-r", "x", "--force"], seeded_path)
    assert blocked.exit_code == 2 and "archived" in blocked.stderr
    assert run(["unarchive", "fraud@1"], seeded_path).exit_code == 2  # needs a reason
    back = run(["unarchive", "fraud@1", "-r", "re-checked"], seeded_path)
    assert back.exit_code == 0 and "unarchived fraud@1" in back.stderr
    assert _events(seeded_path, "unarchive")
    again = run(["unarchive", "fraud@1", "-r", "re-checked"], seeded_path)
    assert "is not archived; nothing changed" in again.stderr
    assert run(["promote", "fraud@1", "-s", "staging", "-r", "x", "--force"], seeded_path).exit_code == 0
