"""``checkout``: atomic, verified, with a manifest, and a no-op when already there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mltui.core.checkout import MANIFEST, HashMismatch
from mltui.core.errors import InvalidInput
from tests.deploy.conftest import run_cli


@pytest.fixture
def artifacts(seeded, tmp_path):
    """fraud@4 with a folder artifact of three files, fraud@5 with a single file."""
    folder = tmp_path / "model-dir"
    folder.mkdir()
    for index in range(3):
        (folder / f"part{index}.bin").write_bytes(bytes([index]) * 1000)
    run = seeded.versions([seeded.resolve("fraud@2")])[0]["run_id"]
    seeded.register("fraud", run=run, artifact=str(folder))
    single = tmp_path / "model.pkl"
    single.write_bytes(b"pickled weights")
    seeded.register("fraud", run=run, artifact=str(single))
    return {"folder": folder, "file": single}


def test_checkout_copies_verifies_and_writes_a_manifest(seeded, artifacts, tmp_path):
    target = tmp_path / "serving" / "fraud"
    result = seeded.checkout("fraud@4", target)
    assert result["changed"]
    assert sorted(p.name for p in (target / "model-dir").iterdir()) == \
        ["part0.bin", "part1.bin", "part2.bin"]
    manifest = json.loads((target / MANIFEST).read_text())
    version = seeded.versions([seeded.resolve("fraud@4")])[0]
    assert manifest["ref"] == "fraud@4" and manifest["hash"] == version["artifact_hash"]
    assert manifest["canonical_name"] == version["canonical_name"]
    assert manifest["run"] == version["run_uid"] and manifest["commit"] == "abc1234def"
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_checkout_again_is_a_no_op_and_switching_versions_replaces(seeded, artifacts, tmp_path):
    target = tmp_path / "serving"
    seeded.checkout("fraud@4", target)
    stamp = (target / MANIFEST).stat().st_mtime_ns
    assert not seeded.checkout("fraud@4", target)["changed"]
    assert (target / MANIFEST).stat().st_mtime_ns == stamp
    assert seeded.checkout("fraud@5", target)["changed"]
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "model.pkl"]
    assert json.loads((target / MANIFEST).read_text())["ref"] == "fraud@5"


def test_a_changed_checkout_is_checked_out_again(seeded, artifacts, tmp_path):
    target = tmp_path / "serving"
    seeded.checkout("fraud@5", target)
    (target / "model.pkl").write_bytes(b"tampered")
    assert seeded.checkout("fraud@5", target)["changed"]
    assert (target / "model.pkl").read_bytes() == b"pickled weights"


def test_an_artifact_changed_since_registration_is_refused(seeded, artifacts, tmp_path):
    target = tmp_path / "serving"
    seeded.checkout("fraud@5", target)
    artifacts["folder"].joinpath("part1.bin").write_bytes(b"retrained in place")
    with pytest.raises(HashMismatch):
        seeded.checkout("fraud@4", target)
    assert json.loads((target / MANIFEST).read_text())["ref"] == "fraud@5"
    assert (target / "model.pkl").read_bytes() == b"pickled weights"
    assert not [p for p in tmp_path.iterdir() if ".mltui-tmp-" in p.name]


def test_a_folder_with_foreign_files_is_not_overwritten(seeded, artifacts, tmp_path):
    target = tmp_path / "serving"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput):
        seeded.checkout("fraud@5", target)
    assert (target / "notes.txt").read_text() == "mine"


def test_a_version_without_artifact_is_refused(seeded, tmp_path):
    with pytest.raises(InvalidInput):
        seeded.checkout("fraud@1", tmp_path / "x")


def test_kill_mid_copy_leaves_no_half_artifact(seeded, artifacts, tmp_path, catalog_path):
    target = tmp_path / "serving"
    seeded.checkout("fraud@5", target)
    env = dict(os.environ, MLTUI_FAULT="checkout-mid-copy", PYTHONPATH=os.getcwd())
    proc = subprocess.run([sys.executable, "-m", "mltui", "--catalog", str(catalog_path),
                           "checkout", "fraud@4", "--to", str(target)], env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == -9  # killed after copying the first of three files
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "model.pkl"]
    assert json.loads((target / MANIFEST).read_text())["ref"] == "fraud@5"
    # The next checkout sweeps what the killed one left and completes.
    assert seeded.checkout("fraud@4", target)["changed"]
    assert not [p for p in tmp_path.iterdir() if ".mltui-tmp-" in p.name]


def test_cli_checkout(seeded, artifacts, tmp_path, catalog_path):
    target = tmp_path / "srv"
    for expected in ("checked out fraud@5", "already holds fraud@5"):
        result = run_cli(["checkout", "fraud@5", "--to", str(target)], catalog_path)
        assert result.exit_code == 0 and expected in result.stderr
    artifacts["file"].write_bytes(b"changed")
    target2 = tmp_path / "srv2"
    result = run_cli(["checkout", "fraud@5", "--to", str(target2)], catalog_path)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "hashes to" in result.stderr
    assert not target2.exists()
