"""Randomized trials: writer threads race a thread of repeated imports (two importers in some
trials, so the per-folder lock is in play); after the writers stop, one more import must give
exactly what each writer's own reader sees.  Every trial's lost, duplicated and leftover counts
must be 0.  ``pytest -m slow`` runs the many-trial version.
"""

from __future__ import annotations

import random
import threading

import pytest

from mltui.core.catalog import open_catalog
from mltui.services.ingest import import_paths
from tests.race.writers import CsvAppender, HFWriter, LightningWriter, catalog_counts, compare


def _writers(root, rng):
    seed = rng.randrange(1 << 30)
    (root / "generic").mkdir(parents=True)
    return [
        CsvAppender(root / "generic" / "metrics.csv", rows=rng.randint(20, 60), seed=seed),
        CsvAppender(root / "generic" / "log.jsonl", rows=rng.randint(20, 60), seed=seed + 1),
        LightningWriter(root / "lightning_logs" / "version_0", steps=rng.randint(10, 40),
                        flush_every=rng.choice([1, 2, 5]), val_from=rng.randint(2, 8),
                        seed=seed + 2),
        HFWriter(root / "hf_out", steps=rng.randint(6, 30), save_every=rng.choice([2, 3, 5]),
                 seed=seed + 3),
    ]


def _total(writer) -> int:
    return getattr(writer, "rows", None) or writer.steps


def _folders(root):
    return [root / "generic" / "metrics.csv", root / "generic" / "log.jsonl",
            root / "lightning_logs", root / "hf_out"]


def run_trial(root, seed: int, after_read) -> dict[str, int]:
    """One trial; returns its lost, duplicated and leftover counts (and how many imports ran).

    Each writer thread writes all but its last record; the last one is written by the fault
    hook, between an import's read of that writer's file and the import's record of it (the
    worst moment), so a trial ends the way the issue's lost rows did.
    """
    rng = random.Random(seed)
    catalog = root / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    writers = _writers(root, rng)
    done = threading.Event()
    errors: list[BaseException] = []
    imports = [0]
    last_written = {id(w): threading.Event() for w in writers}
    waiting: list = []
    guard = threading.Lock()

    def last_write(path: str) -> None:
        with guard:
            for writer, folder in zip(writers, _folders(root)):
                if writer in waiting and path.startswith(str(folder)):
                    waiting.remove(writer)
                    writer.step()
                    last_written[id(writer)].set()

    after_read(last_write)

    def write(writer, jitter: float) -> None:
        pace = random.Random(jitter)
        try:
            while writer.done < _total(writer) - 1 and writer.step():
                # Pacing only (nothing is asserted on time): spread the writes over the imports.
                threading.Event().wait(pace.random() / 40)
            with guard:
                waiting.append(writer)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def importer() -> None:
        try:
            with open_catalog(catalog) as cat:
                while not done.is_set():
                    summary = import_paths(cat, root, wait=60)
                    assert not summary.skipped
                    imports[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w, rng.random())) for w in writers]
    importers = [threading.Thread(target=importer) for _ in range(rng.choice([1, 1, 2]))]
    for thread in importers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    for event in last_written.values():
        assert event.wait(60), "no import read the file after the writer's last-but-one write"
    done.set()
    for thread in importers:
        thread.join()
    assert not errors, errors
    counts = {"lost": 0, "duplicated": 0, "leftover": 0, "imports": imports[0]}
    with open_catalog(catalog) as cat:
        import_paths(cat, root)
        assert import_paths(cat, root).nothing_new()
        for writer, folder in zip(writers, _folders(root)):
            got, runs = catalog_counts(cat, folder)
            lost, duplicated = compare(writer.expected(), got)
            counts["lost"] += lost
            counts["duplicated"] += duplicated
            counts["leftover"] += runs - 1
    return counts


def _trials(tmp_path, count: int, first_seed: int, after_read) -> dict[str, int]:
    total = {"trials": 0, "lost": 0, "duplicated": 0, "leftover": 0, "imports": 0}
    for seed in range(first_seed, first_seed + count):
        counts = run_trial(tmp_path / f"trial{seed}", seed, after_read)
        assert (counts["lost"], counts["duplicated"], counts["leftover"]) == (0, 0, 0), \
            (seed, counts)
        total["trials"] += 1
        for key, value in counts.items():
            total[key] += value
    print(f"race trials: {total}")
    return total


def test_randomized_trials_lose_nothing(tmp_path, after_read):
    total = _trials(tmp_path, 4, first_seed=0, after_read=after_read)
    assert total["imports"] >= total["trials"]


@pytest.mark.slow
def test_many_randomized_trials_lose_nothing(tmp_path, after_read):
    _trials(tmp_path, 100, first_seed=1000, after_read=after_read)
