"""Imports read only regular files inside the folder they were given (issue 10 items 4, 9, 10).

Symlinks out of the imported folder are refused (their content never reaches the catalog),
FIFOs and devices are refused without blocking, a file above the per-file limit is a clear
error, unreadable candidates are listed as skipped, and a failed import leaves no new catalog.
FIFO cases run the real entry point in a subprocess with a timeout, so a regression shows as a
failure instead of a hung test run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mltui.core import safefile
from mltui.core.catalog import open_catalog
from mltui.core.errors import ImportFailed
from mltui.services.ingest import import_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "root:x:0:0:SECRET-OUTSIDE-THE-ROOT"


def _mlflow_run(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the MLflow file store and the folder of one of its runs."""
    store = tmp_path / "store"
    shutil.copytree(FIXTURES / "mlflow" / "filestore", store, symlinks=True)
    run = next(p.parent for p in sorted((store / "mlruns").glob("[1-9]*/*/meta.yaml"))
               if (p.parent / "params").is_dir())
    return store, run


def _catalog_text(path: Path) -> str:
    """Every text value in the catalog, to look for leaked content."""
    conn = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(str(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))
    finally:
        conn.close()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET + "\n")
    return outside / "passwd"


def test_symlinked_mlflow_param_outside_the_root_is_refused(tmp_path, secret) -> None:
    store, run = _mlflow_run(tmp_path)
    (run / "params" / "x").symlink_to(secret)
    catalog = tmp_path / "c.db"
    with open_catalog(catalog, create=True) as cat:
        with pytest.raises(ImportFailed, match="outside the imported folder"):
            import_paths(cat, store)
        import_paths(cat, store, skip_invalid=True)
    assert "SECRET-OUTSIDE" not in _catalog_text(catalog)


@pytest.mark.parametrize("name", ["metrics.csv", "trainer_state.json", "log.jsonl"])
def test_symlinked_log_file_outside_the_root_is_listed_not_read(tmp_path, secret, name) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / name).symlink_to(secret)
    catalog = tmp_path / "c.db"
    with open_catalog(catalog, create=True) as cat:
        summary = import_paths(cat, logs, skip_invalid=True)
    assert any("outside the imported folder" in line for line in summary.skipped), summary.skipped
    assert "SECRET-OUTSIDE" not in _catalog_text(catalog)


def test_symlink_that_stays_inside_the_root_is_read(tmp_path) -> None:
    logs = tmp_path / "logs"
    (logs / "real").mkdir(parents=True)
    # .txt is no log suffix: the run can only come from the symlink.
    (logs / "real" / "history.txt").write_text("epoch,loss\n0,1.0\n1,0.5\n")
    (logs / "linked.csv").symlink_to(logs / "real" / "history.txt")
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        summary = import_paths(cat, logs)
    assert not summary.skipped and summary.runs_new == 1 and summary.points == 2


def test_a_named_symlinked_file_is_read(tmp_path, secret) -> None:
    """The user named the file: following it is what they asked for."""
    outside_log = secret.parent / "history.csv"
    outside_log.write_text("epoch,loss\n0,1.0\n")
    (tmp_path / "named.csv").symlink_to(outside_log)
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        assert import_paths(cat, tmp_path / "named.csv").runs_new == 1


def test_symlink_to_dev_zero_is_refused_not_read(tmp_path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "metrics.jsonl").symlink_to("/dev/zero")
    (logs / "ok.jsonl").write_text('{"step": 0, "loss": 1}\n')
    with pytest.raises(safefile.UnsafeFile, match="not a regular file"):
        safefile.read_bytes(logs / "metrics.jsonl")
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        summary = import_paths(cat, logs, skip_invalid=True)
    assert summary.runs_new == 1


def test_file_above_the_limit_is_a_clear_error(tmp_path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "history.csv").write_text("epoch,loss\n" + "".join(f"{i},1.0\n" for i in range(200)))
    monkeypatch.setenv("MLTUI_MAX_FILE_BYTES", "1000")
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        with pytest.raises(ImportFailed, match="larger than 1000 bytes"):
            import_paths(cat, logs)


def _deny_open(monkeypatch, suffix: str) -> None:
    """Files ending in ``suffix`` fail to open as a mode-000 file does for a non-root user."""
    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if os.fspath(path).endswith(suffix):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(safefile.os, "open", deny)


def test_unreadable_candidate_is_listed_as_skipped(tmp_path, monkeypatch) -> None:
    """Item 9 (tests run as root, so the permission error is simulated at the one opener)."""
    out = tmp_path / "hf"
    shutil.copytree(FIXTURES / "hf" / "v4_rounded", out)
    _deny_open(monkeypatch, "trainer_state.json")
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        with pytest.raises(ImportFailed, match="trainer_state.json.*Permission denied"):
            import_paths(cat, out)


def test_unreadable_lightning_metrics_are_named(tmp_path, monkeypatch) -> None:
    logs = tmp_path / "lightning"
    shutil.copytree(FIXTURES / "lightning" / "named", logs)
    _deny_open(monkeypatch, "metrics.csv")
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        summary = import_paths(cat, logs, skip_invalid=True)
    assert summary.skipped and all("Permission denied" in s for s in summary.skipped)


def _mltui(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "NO_COLOR": "1", "MLTUI_BUSY_TIMEOUT": "0.3", **env}
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run([sys.executable, "-m", "mltui", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=30)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("case", ["log", "dataset", "artifact", "doc"])
def test_fifo_is_refused_without_hanging(tmp_path, fifo, case) -> None:
    catalog = tmp_path / "c.db"
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "history.csv").write_text("epoch,loss\n0,1.0\n")
    assert _mltui(["--catalog", str(catalog), "import", str(logs)], tmp_path).returncode == 0
    args = {"log": ["import", str(fifo), "--format", "generic"],
            "dataset": ["import", str(logs), "--dataset", str(fifo)],
            "artifact": ["register", "m", "--artifact", str(fifo)],
            "doc": ["doc", "m@1", "--set", str(fifo)]}[case]
    if case == "doc":
        assert _mltui(["--catalog", str(catalog), "register", "m", "--artifact",
                       str(logs / "history.csv")], tmp_path).returncode == 0
    before = _catalog_text(catalog)
    result = _mltui(["--catalog", str(catalog), *args], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "not a regular file (a FIFO)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "internal error" not in result.stderr
    assert _catalog_text(catalog) == before


def test_failed_import_leaves_no_new_catalog(tmp_path) -> None:
    """Item 10: neither a missing path nor a folder without logs creates a catalog."""
    (tmp_path / "empty").mkdir()
    for args in (["import", "/nonexistent"], ["import", str(tmp_path / "empty")]):
        catalog = tmp_path / "new" / ".mltui" / "catalog.db"
        result = _mltui(args, tmp_path, MLTUI_CATALOG=str(catalog))
        assert result.returncode == 2, result.stderr
        assert not (tmp_path / "new").exists(), args
