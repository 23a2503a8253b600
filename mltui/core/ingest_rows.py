"""The rows of the runs an import writes, gathered and written a table at a time.

An import of a thousand small runs spent a third of its write in statements: six per run
(params, tags, artifacts, series, summaries, search text), each an ``executemany`` of a few
rows.  Rows of new runs wait here and go in with one ``executemany`` per table; the import is
one transaction whatever the batching, so nothing is visible, or kept after a failure, any
earlier.  Whatever reads those tables in the same transaction (the registry, an update of a run
read twice, merging leftovers) calls :meth:`PendingRows.flush` first.
"""

from __future__ import annotations

import sqlite3

# Rows wait for at most this many runs: memory stays bounded on imports of huge stores.
RUNS_PER_FLUSH = 2000
ARTIFACT_INSERT = ("INSERT INTO run_artifacts (run_id, seq, kind, name, path_raw, path, "
                   "hash_algo, hash, size, base_model) VALUES (?,?,?,?,?,?,?,?,?,?)")

_STATEMENTS = (
    ("params", "INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?,?,?)"),
    ("tags", "INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?,?,?)"),
    ("artifacts", ARTIFACT_INSERT),
    ("series", ("INSERT INTO metric_series (run_id, key, count, steps, vals, epochs, wall_times, "
                "axis, axes, raws) VALUES (?,?,?,?,?,?,?,?,?,?)")),
    ("summaries", ("INSERT INTO metric_summary (run_id, key, last, last_raw, last_step, min, "
                   "min_step, max, max_step, count) VALUES (?,?,?,?,?,?,?,?,?,?)")),
    ("search", "INSERT OR REPLACE INTO search_text (kind, ref_id, body) VALUES ('run', ?, ?)"),
)


class PendingRows:
    """Rows of written runs not yet inserted, one list per table."""

    def __init__(self) -> None:
        self.params: list[tuple] = []
        self.tags: list[tuple] = []
        self.artifacts: list[tuple] = []
        self.series: list[tuple] = []
        self.summaries: list[tuple] = []
        self.search: list[tuple] = []
        self.runs = 0

    def run_added(self, conn: sqlite3.Connection) -> None:
        """Count one more run's rows; write them all once enough runs wait."""
        self.runs += 1
        if self.runs >= RUNS_PER_FLUSH:
            self.flush(conn)

    def flush(self, conn: sqlite3.Connection) -> None:
        """Insert every waiting row (in the caller's transaction) and start empty."""
        for name, statement in _STATEMENTS:
            rows = getattr(self, name)
            if rows:
                conn.executemany(statement, rows)
                rows.clear()
        self.runs = 0
