"""A watch reads only the bytes a JSONL log appended; truncation and rewrites are read whole.

Every test compares the catalog with a fresh full import of the final file into another
catalog: after any sequence of appends the points must be the same, in the same order.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltui.core.catalog import open_catalog
from mltui.importers import appendlog
from mltui.services.ingest import import_paths
from mltui.services.watch import WatchState
from tests.watch.follow_helpers import import_copy, poll_bytes


@pytest.fixture(autouse=True)
def fresh_states():
    """Each test starts with nothing remembered (the states are per process)."""
    appendlog.forget()
    yield
    appendlog.forget()


def line(step: int, loss: float, **extra) -> bytes:
    return (json.dumps({"step": step, "loss": loss, **extra}) + "\n").encode()


def append(path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def catalog_points(cat) -> tuple[list[tuple], list]:
    """Every point of the catalog's only run, and its summaries and tags."""
    conn = cat._conn()
    (run_id,) = conn.execute("SELECT id FROM runs").fetchone()
    points = [(p.key, p.step, p.epoch, p.value, p.raw, p.wall_time, p.axis, p.seq)
              for p in cat.metric_points(run_id)]
    extra = [conn.execute("SELECT key, last, last_raw, last_step, min, min_step, max, max_step, "
                          "count FROM metric_summary ORDER BY key").fetchall(),
             conn.execute("SELECT key, value FROM run_tags ORDER BY key").fetchall(),
             conn.execute("SELECT start_time, end_time FROM runs").fetchall(),
             sorted(conn.execute("SELECT body FROM search_text WHERE kind = 'run'").fetchone()[0]
                    .split("\n")[3:])]  # the tags (name, project, uid differ by folder)
    return points, extra


def fresh_import(tmp_path, log) -> tuple[list[tuple], list]:
    """The points a full import of ``log``'s bytes gives (read by a process remembering nothing)."""
    return import_copy(tmp_path, log, lambda other, _: catalog_points(other))


def test_a_plain_read_is_always_whole(tmp_path):
    """Outside a watch a read is whole, even of a log a watch remembers."""
    from mltui.importers import generic
    from mltui.importers.common import ImportContext
    log = tmp_path / "train.jsonl"
    log.write_bytes(b"".join(line(s, 0.5) for s in range(6)))
    with appendlog.following():  # a watch remembered the file...
        first = generic.read(log, ImportContext(tmp_path)).runs[0]
    append(log, line(6, 0.4))
    again = generic.read(log, ImportContext(tmp_path)).runs[0]  # ...an import does not use it
    assert len(again.metrics) == len(first.metrics) + 1 and again.appends_to is None


def test_each_pass_reads_only_the_appended_bytes(cat, tmp_path, clock):
    log = tmp_path / "logs" / "train.jsonl"
    log.parent.mkdir()
    first = b"".join(line(s, 1.0 / (s + 1)) for s in range(50))
    log.write_bytes(first)
    watch = WatchState(cat, [log.parent], clock=clock)
    assert poll_bytes(watch) == len(first)  # the first pass reads the file whole
    for start in (50, 80, 130):
        chunk = b"".join(line(s, 1.0 / (s + 1), split="train") for s in range(start, start + 30))
        append(log, chunk)
        assert poll_bytes(watch) == len(chunk)
    assert catalog_points(cat) == fresh_import(tmp_path, log)
    (run_id,) = cat._conn().execute("SELECT id FROM runs").fetchone()
    steps = [p.step for p in cat.metric_points(run_id, "loss")]
    assert steps == list(range(50))  # the split-prefixed keys are the other series
    assert [p.step for p in cat.metric_points(run_id, "train/loss")] == list(range(50, 110)) + list(range(130, 160))


def test_a_partial_last_line_is_read_once_it_is_finished(cat, tmp_path, clock):
    log = tmp_path / "logs" / "train.jsonl"
    log.parent.mkdir()
    # Detection samples the first five lines: a partial line among them is not a metrics log yet.
    log.write_bytes(b"".join(line(s, 0.5) for s in range(6)) + b'{"step": 6, "lo')
    watch = WatchState(cat, [log.parent], clock=clock)
    watch.poll()
    append(log, b'ss": 0.4}\n' + line(7, 0.3))
    assert poll_bytes(watch) == len(b'{"step": 6, "loss": 0.4}\n' + line(7, 0.3))
    assert catalog_points(cat) == fresh_import(tmp_path, log)


def test_repeated_lines_are_deduplicated_as_a_full_read_does(cat, tmp_path, clock):
    log = tmp_path / "logs" / "train.jsonl"
    log.parent.mkdir()
    log.write_bytes(line(0, 0.5, time=1.7e9) + line(1, 0.4, time=1.7e9 + 1))
    watch = WatchState(cat, [log.parent], clock=clock)
    watch.poll()
    # A resumed trainer logs step 1 again: the exact repeat is dropped, a new value is kept.
    append(log, line(1, 0.4, time=1.7e9 + 1) + line(1, 0.35, time=1.7e9 + 2) + line(2, float("nan")))
    watch.poll()
    assert catalog_points(cat) == fresh_import(tmp_path, log)


@pytest.mark.parametrize("change", ["truncate", "rewrite", "replace"])
def test_a_truncated_or_rewritten_log_is_read_whole(cat, tmp_path, clock, change):
    log = tmp_path / "logs" / "train.jsonl"
    log.parent.mkdir()
    log.write_bytes(b"".join(line(s, 0.5) for s in range(20)))
    watch = WatchState(cat, [log.parent], clock=clock)
    watch.poll()
    if change == "truncate":  # a restarted trainer: shorter, then growing again
        data = b"".join(line(s, 0.9) for s in range(3))
        log.write_bytes(data)
    elif change == "rewrite":  # same inode, longer, an earlier value changed in place
        data = log.read_bytes().replace(b'"step": 5, "loss": 0.5', b'"step": 5, "loss": 0.6')
        data += line(20, 0.1)
        with open(log, "r+b") as handle:
            handle.write(data)
    else:  # a new file renamed over the old one, with the same first lines
        data = log.read_bytes() + line(20, 0.1)
        (tmp_path / "new.jsonl").write_bytes(data)
        os.replace(tmp_path / "new.jsonl", log)
    assert poll_bytes(watch) == len(data)  # read whole, not appended to
    assert catalog_points(cat) == fresh_import(tmp_path, log)


def test_another_import_in_between_is_never_merged_into(cat, tmp_path, clock):
    """The catalog's run changed under the remembered state: the append is refused, read whole."""
    log = tmp_path / "logs" / "train.jsonl"
    log.parent.mkdir()
    log.write_bytes(line(0, 0.5))
    watch = WatchState(cat, [log.parent], clock=clock)
    watch.poll()
    append(log, line(1, 0.4))
    state = appendlog._STATES[os.path.abspath(log)]
    import_paths(cat, [log.parent])  # a plain import (not following): read whole, run replaced
    append(log, line(2, 0.3))
    data_size = log.stat().st_size
    # The bytes after the remembered offset are read, refused by the catalog, then read whole.
    assert poll_bytes(watch) == (data_size - state.offset) + data_size
    assert catalog_points(cat) == fresh_import(tmp_path, log)


_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.integers(-5, 5))
_records = st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["loss", "acc"]), _values,
                              st.sampled_from([None, "train", "val"]), st.booleans()),
                    min_size=1, max_size=12)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(_records, min_size=1, max_size=5), cut=st.integers(1, 30))
def test_any_appends_equal_a_full_import(tmp_path_factory, chunks, cut):
    """Chunks of lines (repeats, NaN, splits, tags, a line cut mid-way) appended pass after
    pass: the catalog equals a fresh full import of the final file."""
    appendlog.forget()
    tmp = tmp_path_factory.mktemp("prop")
    log = tmp / "logs" / "train.jsonl"
    log.parent.mkdir()
    # Six complete lines first: detection samples five, and a cut line among them is not a log.
    log.write_bytes(b"".join(line(step, 0.5) for step in range(6)))
    cat = open_catalog(tmp / "catalog.db", create=True)
    try:
        pending = b""
        for chunk in chunks:
            data = pending + b"".join(
                line(step, value, **({"split": split} if split else {}),
                     **({"note": f"n{step}"} if tagged else {})).replace(b'"loss"', f'"{key}"'.encode())
                for step, key, value, split, tagged in chunk)
            pending = b""
            if len(chunks) > 1 and cut < len(data) and data[cut - 1:cut] != b"\n":
                data, pending = data[:cut], data[cut:]  # the writer caught mid-line
            append(log, data)
            with appendlog.following():
                import_paths(cat, [log.parent], skip_invalid=True)
        append(log, pending)
        with appendlog.following():
            import_paths(cat, [log.parent], skip_invalid=True)
        assert catalog_points(cat) == fresh_import(tmp, log)
    finally:
        cat.close()
