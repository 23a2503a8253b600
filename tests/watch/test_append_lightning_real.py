"""A watch following real Lightning CSVLogger output, replayed write by write.

Lightning needs torch, which the test environment does not install, so its writer cannot run
here; ``tests/fixtures/lightning/make_growth_fixture.py`` ran real training (lightning 2.6.6)
once and recorded every write it made to the version folder, in order, with its mode.  This
test replays those writes exactly — an ``a`` write appends the new bytes, a ``w`` write
replaces the file (Lightning's rewrite when a new column first appears) — with a watch pass
after each, so what the watch sees is what it sees while Lightning trains.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mltui.importers import appendlog
from mltui.services.watch import WatchState
from tests.watch.follow_helpers import poll_bytes
from tests.watch.test_append_csv import fresh_import, run_state

WRITES = Path(__file__).resolve().parents[1] / "fixtures" / "lightning" / "growth_2_6" / "writes.json"


@pytest.fixture(autouse=True)
def fresh_states():
    """Each test starts with nothing remembered (the states are per process)."""
    appendlog.forget()
    yield
    appendlog.forget()


def replay(root: Path, write: dict) -> int:
    """Apply one recorded write under ``root``; the bytes appended (0 for a rewrite)."""
    path = root / "lightning_logs" / write["file"]
    path.parent.mkdir(parents=True, exist_ok=True)
    content = write["content"].encode()
    if write["mode"] == "a" and path.exists():
        before = path.read_bytes()
        assert content.startswith(before), "an append in the recording must extend the file"
        with open(path, "ab") as handle:
            handle.write(content[len(before):])
        return len(content) - len(before)
    path.write_bytes(content)
    return 0


def test_the_recording_has_appends_and_header_rewrites():
    """The replay below means something only if the recording holds both kinds of write."""
    writes = [w for w in json.loads(WRITES.read_text()) if w["file"].endswith("metrics.csv")]
    modes = [w["mode"] for w in writes]
    assert modes.count("a") >= 10
    rewrites = [w for w in writes[1:] if w["mode"] == "w"]
    assert len(rewrites) >= 2  # val_loss, then train_loss_epoch, each widen the header
    headers = [w["content"].split("\n", 1)[0] for w in rewrites]
    assert all(len(a.split(",")) < len(b.split(",")) for a, b in zip(headers, headers[1:]))


def test_a_watch_following_real_lightning_writes_parses_only_appends_and_ends_exact(
        cat, tmp_path, clock):
    """Each append is parsed alone, each rewrite whole; the run ends equal to a fresh import
    of the final files and to pandas' reading of the final metrics.csv, every point once."""
    root = tmp_path / "runs"
    root.mkdir()
    watch = WatchState(cat, [root], clock=clock)
    appended_passes = 0
    for write in json.loads(WRITES.read_text()):
        appended = replay(root, write)
        parsed = poll_bytes(watch)
        if appended:
            assert parsed == appended, write
            appended_passes += 1
        elif write["file"].endswith("metrics.csv"):
            assert parsed >= len(write["content"].encode())  # a new or rewritten log: whole
        else:
            assert parsed == 0  # hparams.yaml before any metrics.csv: no run yet
    assert appended_passes >= 10
    assert poll_bytes(watch) == 0
    folder = root / "lightning_logs" / "version_0"
    state = run_state(cat, folder)
    assert state == fresh_import(tmp_path, root, folder)
    frame = pd.read_csv(folder / "metrics.csv")
    for key in ("train_loss_step", "val_loss", "train_loss_epoch", "lr"):
        expected = frame[["step", key]].dropna()
        got = [(p[1], p[3]) for p in state["points"] if p[0] == key]
        assert got == [(int(s), float(v)) for s, v in expected.itertuples(index=False)], key
