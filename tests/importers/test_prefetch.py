"""The forked reader of a big file store's small files (importers/prefetch.py, issue 11).

It is only an optimisation: every test here reads the same store with it forced on and forced
off and requires the very same records, warnings, failures and fingerprints, and checks that it
really ran (bytes were taken from it) so that a silently disabled reader cannot pass.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from pathlib import Path

import pytest

from mltui.core.catalog import open_catalog
from mltui.core.errors import ImportFailed
from mltui.importers import prefetch
from mltui.importers.mlflow_files import runs as runs_module
from mltui.services.discovery import read_paths
from mltui.services.ingest import import_paths

FIXTURE_STORE = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow" / "filestore"


def write_store(root: Path, runs: int = 12) -> Path:
    """A file store with the shapes that matter: nested param keys, a torn last metric line,
    non-finite values, a run without meta.yaml, an empty metrics folder, a deleted run."""
    experiment = root / "mlruns" / "1"
    experiment.mkdir(parents=True)
    (experiment / "meta.yaml").write_text(
        f"artifact_location: {experiment.as_uri()}\nexperiment_id: '1'\n"
        "lifecycle_stage: active\nname: prefetch\n")
    for index in range(runs):
        run_id = f"{index:032x}"
        run = experiment / run_id
        for sub in ("params/nested", "tags", "metrics", "artifacts"):
            (run / sub).mkdir(parents=True)
        stage = "deleted" if index == 3 else "active"
        if index != 5:  # run 5: no meta.yaml, a warning and no run
            (run / "meta.yaml").write_text(
                f"artifact_uri: {(run / 'artifacts').as_uri()}\nend_time: {2000 + index}\n"
                f"experiment_id: '1'\nlifecycle_stage: {stage}\nrun_id: {run_id}\n"
                f"run_name: run-{index}\nrun_uuid: {run_id}\nstart_time: {1000 + index}\n"
                "status: 3\ntags: []\nuser_id: me\n")
        (run / "params" / "lr").write_text(str(0.1 * index))
        (run / "params" / "nested" / "depth").write_text(str(index))
        (run / "tags" / "mlflow.runName").write_text(f"run-{index}")
        if index == 7:
            continue  # an empty metrics folder
        lines = "".join(f"{1000 + s} {s / (index + 1)!r} {s}\n" for s in range(20))
        (run / "metrics" / "loss").write_text(lines + ("1050 0.5 s" if index == 2 else ""))
        (run / "metrics" / "acc").write_text("1000 nan 0\n1001 inf 1\n1002 0.5 2\n")
    return root


def records(path: Path) -> tuple:
    """Everything a read yields, comparable: runs as dicts, warnings, failures."""
    result = read_paths([path])
    runs = sorted((dataclasses.asdict(run) for b in result.batches for run in b.runs),
                  key=lambda run: run["uid"])
    return runs, sorted(result.warnings), [str(f.error) for f in result.failures]


@pytest.fixture
def taken(monkeypatch) -> list[bool]:
    """Whether each whole-file read and each folder walk was served by the forked reader."""
    served: list[bool] = []

    def counting(original):
        def served_or_not(path):
            found = original(path)
            served.append(found is not None)
            return found
        return served_or_not

    monkeypatch.setattr(prefetch, "take", counting(prefetch.take))
    monkeypatch.setattr(prefetch, "listed", counting(prefetch.listed))
    return served


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The pids of the processes forked while the test runs."""
    forked: list[int] = []
    fork = os.fork

    def recording() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording)
    return forked


def read_both(path: Path, monkeypatch, taken: list[bool]) -> tuple[tuple, tuple]:
    monkeypatch.setenv(prefetch.ENV, "never")
    direct = records(path)
    assert not any(taken)
    monkeypatch.setenv(prefetch.ENV, "always")
    ahead = records(path)
    assert any(taken), "the forked reader served nothing"
    return direct, ahead


def test_store_read_ahead_gives_the_same_records(tmp_path, monkeypatch, taken) -> None:
    store = write_store(tmp_path / "s")
    direct, ahead = read_both(store, monkeypatch, taken)
    assert ahead == direct
    runs, warnings, failures = direct
    assert len(runs) == 10 and not failures  # run 3 deleted, run 5 without meta.yaml
    assert any("torn last line" in w for w in warnings)


def test_real_mlflow_store_read_ahead_gives_the_same_records(tmp_path, monkeypatch,
                                                              taken) -> None:
    store = tmp_path / "store"
    shutil.copytree(FIXTURE_STORE, store, symlinks=True)
    direct, ahead = read_both(store, monkeypatch, taken)
    assert ahead == direct and direct[0]


def test_big_files_are_left_to_the_parser(tmp_path, monkeypatch, taken) -> None:
    store = write_store(tmp_path / "s", runs=2)
    monkeypatch.setattr(prefetch, "SEND_LIMIT", 40)  # forked after this: the child sees it
    direct, ahead = read_both(store, monkeypatch, taken)
    assert ahead == direct
    assert not all(taken)  # the 20-line loss files were read by the parser itself


def test_symlink_out_of_the_store_is_refused_the_same_way(tmp_path, monkeypatch) -> None:
    store = write_store(tmp_path / "s", runs=3)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "lr").write_text("SECRET")
    params = next((store / "mlruns" / "1").glob("*/params"))
    shutil.rmtree(params)
    params.symlink_to(outside, target_is_directory=True)
    messages = []
    for mode in ("never", "always"):
        monkeypatch.setenv(prefetch.ENV, mode)
        with open_catalog(tmp_path / f"{mode}.db", create=True) as cat:
            with pytest.raises(ImportFailed, match="outside the imported folder") as caught:
                import_paths(cat, store)
            assert cat.summary()["runs"] == 0
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_a_reader_that_dies_half_way_leaves_the_rest_to_the_parser(tmp_path, monkeypatch,
                                                                   taken) -> None:
    store = write_store(tmp_path / "s")
    listed = runs_module._small_files
    calls = []

    def dying(run_dir: str, listings: dict) -> list[str]:
        calls.append(run_dir)  # only the child calls this
        if len(calls) == 4:
            os._exit(3)
        return listed(run_dir, listings)

    monkeypatch.setattr(runs_module, "_small_files", dying)
    direct, ahead = read_both(store, monkeypatch, taken)
    assert ahead == direct
    assert not all(taken)


def test_the_child_is_reaped_and_the_import_is_identical(tmp_path, monkeypatch,
                                                         forks) -> None:
    store = write_store(tmp_path / "s")
    forked = forks
    summaries = {}
    for mode in ("never", "always"):
        monkeypatch.setenv(prefetch.ENV, mode)
        with open_catalog(tmp_path / f"{mode}.db", create=True) as cat:
            summaries[mode] = import_paths(cat, store).points
            fingerprints = cat._conn().execute(
                "SELECT uid, fingerprint FROM runs ORDER BY uid").fetchall()
        summaries[mode + " fingerprints"] = fingerprints
    assert summaries["never"] == summaries["always"] > 0
    assert summaries["never fingerprints"] == summaries["always fingerprints"]
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # reaped: no zombie left behind


def test_only_the_main_thread_forks_and_never_means_never(monkeypatch) -> None:
    monkeypatch.delenv(prefetch.ENV, raising=False)
    assert prefetch.wanted(prefetch.MIN_RUNS)
    assert not prefetch.wanted(prefetch.MIN_RUNS - 1)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(prefetch.wanted(10 ** 6)))
    worker.start()
    worker.join()
    assert answers == [False]  # the app reads logs in worker threads: it never forks
    monkeypatch.setenv(prefetch.ENV, "never")
    assert not prefetch.wanted(10 ** 6)


def test_model_folders_found_from_the_forked_listing_are_the_same(tmp_path, monkeypatch,
                                                                   taken) -> None:
    store = tmp_path / "store"
    shutil.copytree(FIXTURE_STORE, store, symlinks=True)
    for meta in store.glob("mlruns/[1-9]*/*/meta.yaml"):  # URIs naming the runs' own folders
        uri = (meta.parent / "artifacts").as_uri()
        meta.write_text("".join(f"artifact_uri: {uri}\n" if line.startswith("artifact_uri:")
                                else line for line in meta.read_text().splitlines(True)))
    served = []
    listed = prefetch.listed

    def noting(folder):
        found = listed(folder)
        if found is not None and folder.endswith("/artifacts"):
            served.append(folder)
        return found

    monkeypatch.setattr(prefetch, "listed", noting)
    direct, ahead = read_both(store, monkeypatch, taken)
    assert ahead == direct
    assert any(run["artifacts"] for run in direct[0])  # MLmodel folders found
    assert served  # ... from the forked reader's listings of artifacts/


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_no_fork_off_linux(monkeypatch, platform) -> None:
    monkeypatch.setattr(prefetch.sys, "platform", platform)
    monkeypatch.setenv(prefetch.ENV, "always")
    assert not prefetch.wanted(10 ** 6)


def test_a_fork_that_fails_leaves_everything_to_the_parser(tmp_path, monkeypatch, taken) -> None:
    store = write_store(tmp_path / "s")
    monkeypatch.setenv(prefetch.ENV, "never")
    direct = records(store)

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setenv(prefetch.ENV, "always")
    assert records(store) == direct
    assert not any(taken)


def test_a_frame_cut_short_ends_the_read_ahead_quietly() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, prefetch._FRAME.pack(100) + b"0123456789")  # a child killed mid-frame
    os.close(write_fd)
    reader = prefetch._Reader(read_fd, os.getpid())
    assert reader.files_of(0) == ({}, {})
    assert reader.files_of(1) == ({}, {})
    reader._pipe.close()


def write_experiments(root: Path, experiments: int, runs: int) -> Path:
    """A store of several experiments (one deleted, one folder without meta.yaml), each of
    ``runs`` runs written like :func:`write_store`'s."""
    for number in range(1, experiments + 1):
        one = write_store(root / f"part-{number}", runs=runs)
        target = root / "mlruns" / str(number)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(one / "mlruns" / "1", target)
        meta = target / "meta.yaml"
        text = meta.read_text().replace("experiment_id: '1'", f"experiment_id: '{number}'")
        if number == 2:
            text = text.replace("lifecycle_stage: active", "lifecycle_stage: deleted")
        meta.write_text(text)
        for run_meta in target.glob("*/meta.yaml"):
            run_meta.write_text(run_meta.read_text().replace(
                "experiment_id: '1'", f"experiment_id: '{number}'").replace(
                "run_id: 0", f"run_id: {number}").replace("run_uuid: 0", f"run_uuid: {number}"))
        shutil.rmtree(root / f"part-{number}")
    (root / "mlruns" / "99").mkdir()  # no meta.yaml: a warning, no runs
    return root


def test_one_reader_for_a_store_of_many_small_experiments(tmp_path, monkeypatch, taken,
                                                          forks) -> None:
    store = write_experiments(tmp_path / "s", experiments=5, runs=16)  # 80 runs, 16 apiece
    forked = forks
    served = []
    take = prefetch.take
    monkeypatch.setattr(prefetch, "take", lambda path: (
        found := take(path)) is not None and served.append(str(path)) or found)
    monkeypatch.setenv(prefetch.ENV, "never")
    direct = records(store)
    monkeypatch.delenv(prefetch.ENV)  # as a user runs it: no experiment has 64 runs
    ahead = records(store)
    assert ahead == direct
    assert len(forked) == 1
    # Past the deleted experiment's runs (their frames dropped), the last one's still served.
    assert any("/mlruns/5/" in path for path in served)
    runs, warnings, _ = direct
    assert len(runs) == 4 * 14  # experiment 2 deleted; per experiment, runs 3 and 5 are not
    assert any("without meta.yaml" in w for w in warnings)
