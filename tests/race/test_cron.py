"""Good manners under cron: a quiet, one-line "nothing new", a log caught mid-write is not an
error, and two imports of the same folder at once do the work once."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner

from mltui.cli import cli
from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths
from mltui.services.lock import ImportRunning
from tests.race.writers import CsvAppender, HFWriter, catalog_counts, compare


def _mltui(tmp_path, *args):
    result = CliRunner().invoke(cli, ["--catalog", str(tmp_path / ".mltui" / "catalog.db"),
                                      *map(str, args)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _logs(tmp_path, rows: int = 5) -> CsvAppender:
    (tmp_path / "logs").mkdir()
    writer = CsvAppender(tmp_path / "logs" / "metrics.csv", rows=rows, split=False)
    while writer.step():
        pass
    return writer


def test_nothing_new_is_one_line_and_exit_0(tmp_path):
    _logs(tmp_path)
    assert _mltui(tmp_path, "import", tmp_path / "logs")[0] == 0
    code, out, err = _mltui(tmp_path, "import", tmp_path / "logs")
    assert code == 0 and out == ""
    assert err.splitlines() == [err.strip()] and err.startswith("nothing new: 1 run unchanged")


def test_quiet_prints_only_errors(tmp_path):
    _logs(tmp_path)
    assert _mltui(tmp_path, "import", "--quiet", tmp_path / "logs") == (0, "", "")
    assert _mltui(tmp_path, "import", "-q", tmp_path / "logs") == (0, "", "")
    code, out, err = _mltui(tmp_path, "import", "--quiet", tmp_path / "missing")
    assert code == 2 and "no such file" in err and len(err.strip().splitlines()) == 1


def test_half_written_state_is_not_ready_exit_0_one_line(tmp_path):
    writer = HFWriter(tmp_path / "out", steps=4, save_every=2)
    while writer.step():
        pass
    state = tmp_path / "out" / "trainer_state.json"
    text = state.read_text()
    state.write_text(text[: len(text) // 3])
    code, _, err = _mltui(tmp_path, "import", tmp_path / "out")
    assert code == 0
    [line] = [line for line in err.splitlines() if line.startswith("not ready yet:")]
    assert "trainer_state.json" in line
    assert "not ready yet" in err.splitlines()[-1]
    assert _mltui(tmp_path, "import", "--quiet", tmp_path / "out") == (0, "", "")
    state.write_text(text)
    code, _, err = _mltui(tmp_path, "import", tmp_path / "out")
    assert code == 0 and "1 new" in err


def _held_import(cat_path, root, after_read):
    """Start an import of ``root`` that stops inside its read until released."""
    reading, release = threading.Event(), threading.Event()

    def hold(path: str) -> None:
        if threading.current_thread().name == "first" and not reading.is_set():
            reading.set()
            assert release.wait(30)

    after_read(hold)
    results: list = []

    def first() -> None:
        with open_catalog(cat_path) as cat:
            results.append(import_paths(cat, root))

    thread = threading.Thread(target=first, name="first")
    thread.start()
    assert reading.wait(30)
    return thread, release, results


def test_second_import_of_the_same_folder_waits_then_finds_nothing_new(tmp_path, after_read):
    writer = _logs(tmp_path)
    cat_path = tmp_path / ".mltui" / "catalog.db"
    open_catalog(cat_path, create=True).close()
    thread, release, results = _held_import(cat_path, tmp_path / "logs", after_read)
    told = threading.Event()
    messages: list[str] = []

    def on_wait(line: str) -> None:
        messages.append(line)
        told.set()
        release.set()  # the first import goes on once the second is known to wait

    with open_catalog(cat_path) as cat:
        second = import_paths(cat, tmp_path / "logs", wait=30, on_wait=on_wait)
        thread.join()
        assert results[0].runs_new == 1
        assert second.nothing_new() and second.runs_unchanged == 1
        assert len(messages) == 1 and "waiting for another import of" in messages[0]
        got, runs = catalog_counts(cat, tmp_path / "logs")
    assert compare(writer.expected(), got) == (0, 0) and runs == 1


def test_second_import_that_will_not_wait_says_it_is_running(tmp_path, after_read):
    _logs(tmp_path)
    cat_path = tmp_path / ".mltui" / "catalog.db"
    open_catalog(cat_path, create=True).close()
    thread, release, _ = _held_import(cat_path, tmp_path / "logs", after_read)
    try:
        code, _, err = _mltui(tmp_path, "import", "--wait", "0", tmp_path / "logs")
        with open_catalog(cat_path) as cat, pytest.raises(ImportRunning) as error:
            import_paths(cat, tmp_path / "logs", wait=0)
    finally:
        release.set()
        thread.join()
    assert code == 1 and "another import of" in err and "is still running" in err
    assert error.value.exit_code == 1
