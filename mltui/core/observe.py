"""Production observations: what a model in a stage saw, attributed to the version serving.

``mltui observe fraud@production serving.jsonl`` reads (timestamp, metric, value) rows, one
JSON object per line or a CSV with a header, in the long form ``{"ts", "metric", "value"}``
or the wide form ``{"ts", "f1": 0.81, "latency_ms": 12}``.  Each observation belongs to the
version that held the stage at its timestamp, found in the stage history, so a log that spans
a rollback is split between the two versions correctly.  Observations from before anything
held the stage are counted as unattributed and not stored.

Like every import: one transaction, nothing written on a bad row (the error names the line
and field), and ingesting the same log again adds nothing.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections import Counter
from functools import partial
from itertools import compress, repeat
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from . import refs as refs_mod
from .errors import ImportFailed, InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

TS_FIELDS = ("ts", "timestamp", "time")
METRIC_FIELDS = ("metric", "key", "name")
MS_THRESHOLD = 1e11  # an epoch number past this is in milliseconds (year 5138 in seconds)
MAX_METRICS = 1000  # wide rows with more distinct columns than this are not metrics


def parse_ts(value: Any) -> float:
    """Epoch seconds from a number (seconds, or milliseconds when huge) or an ISO 8601 text
    (without a zone: UTC)."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an integer past the float range
            raise ValueError("not a timestamp") from None
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.timestamp()
    if not math.isfinite(number):
        raise ValueError("not a finite timestamp")
    return number / 1000.0 if abs(number) > MS_THRESHOLD else number


def _value(raw: Any) -> float:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise ValueError("not a number")
    try:
        number = float(raw)
    except OverflowError:  # an integer past the float range
        raise ValueError("too large") from None
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _finite_floats(column: list) -> list[float] | None:
    """``column`` as floats when every entry is a finite JSON number (or numeric CSV text),
    checked in C-level passes; None sends the caller to the per-row path, which names a bad row."""
    kinds = set(map(type, column))
    if kinds <= {float}:
        numbers = column
    elif kinds <= {float, int, str}:
        try:
            numbers = list(map(float, column))  # as the per-row path reads them; NaN weeded below
        except (ValueError, OverflowError):
            return None
    else:
        return None  # bool, None, lists: the per-row path decides
    # A NaN or an infinity makes the sum non-finite; so can an overflow of huge finite values,
    # which then only costs the slower path.
    return numbers if math.isfinite(sum(numbers)) else None


def _fast_columns(lines: list[str], fmt: str) -> tuple[list, list, list] | None:
    """``(metrics, timestamps, values)`` of a clean long-form log (every row with a numeric
    epoch timestamp in seconds, a metric name and a finite value) without a Python-level loop
    per row; None for anything else (the wide form, ISO times, a bad row)."""
    if fmt == "jsonl":
        try:
            rows = json.loads("[" + ",".join(lines) + "]")  # one C-level parse of the whole log
        except (ValueError, RecursionError):
            return None  # a blank or bad line: the per-line path skips or names it
        if not rows or len(rows) != len(lines) or type(rows[0]) is not dict:
            return None  # also a line holding two objects, which per line is not JSON
        first = rows[0]
    else:
        import csv  # observation logs only: not with the Catalog class at every start

        rows = list(csv.reader(lines))
        if len(rows) < 2 or not all(rows):
            return None
        header = [h.strip() for h in rows.pop(0)]
        if len(set(header)) != len(header) or set(map(len, rows)) != {len(header)}:
            return None
        first = dict.fromkeys(header)
    ts_field = next((f for f in TS_FIELDS if f in first), None)
    metric_field = next((f for f in METRIC_FIELDS if f in first), None)
    if ts_field is None or metric_field is None or "value" not in first:
        return None
    try:
        if fmt == "jsonl":
            ts, metrics, values = ([row[f] for row in rows] for f in (ts_field, metric_field, "value"))
        else:
            columns = list(zip(*rows))
            ts, metrics, values = (list(columns[header.index(f)])
                                   for f in (ts_field, metric_field, "value"))
    except (KeyError, TypeError):
        return None  # a row without a field (or not an object): the per-row path names it
    ts, values = _finite_floats(ts), _finite_floats(values)
    if ts is None or values is None or not -MS_THRESHOLD < min(ts) <= max(ts) < MS_THRESHOLD:
        return None  # milliseconds, or past the checks above
    names = set(metrics)
    if set(map(type, names)) != {str} or not all(0 < len(name) <= 250 for name in names):
        return None
    return metrics, ts, values


def _rows_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict]]:
    lines = list(lines)
    try:
        # One C-level parse of the whole log is ~3x faster than a json.loads per line; a bad
        # line sends it back to the per-line loop below, which names the line.
        rows = json.loads("[" + ",".join(line for line in lines if line.strip()) + "]")
        numbers = [n for n, line in enumerate(lines, 1) if line.strip()]
        # As many rows as lines: a line holding two objects is no JSON line.
        if len(rows) == len(numbers) and all(type(row) is dict for row in rows):
            yield from zip(numbers, rows)
            return
    except ValueError:
        pass
    loads = json.loads
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = loads(line)
        except ValueError as exc:
            raise _Bad(number, None, f"not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise _Bad(number, None, "expected a JSON object")
        yield number, row


def _rows_csv(text_stream: Iterable[str]) -> Iterator[tuple[int, dict]]:
    import csv

    reader = csv.reader(text_stream)
    header = next(reader, None)
    if not header:
        return
    header = [h.strip() for h in header]
    for number, values in enumerate(reader, 2):
        if not values:
            continue
        if len(values) != len(header):
            raise _Bad(number, None, f"{len(values)} fields, the header has {len(header)}")
        yield number, dict(zip(header, values))


class _Bad(Exception):
    def __init__(self, line: int, field: str | None, message: str):
        super().__init__(message)
        self.line, self.field, self.message = line, field, message


def read_observations(lines: Iterable[str], fmt: str) -> Iterator[tuple[str, float, float]]:
    """``(metric, ts, value)`` for every observation of a JSONL or CSV text (raises _Bad)."""
    rows = _rows_jsonl(lines) if fmt == "jsonl" else _rows_csv(lines)
    ts_field = metric_field = None
    for number, row in rows:
        if ts_field is None or ts_field not in row:
            ts_field = next((f for f in TS_FIELDS if f in row), None)
            if ts_field is None:
                raise _Bad(number, "ts", f"no timestamp field (one of {', '.join(TS_FIELDS)})")
            metric_field = next((f for f in METRIC_FIELDS if f in row), None)
        ts = row[ts_field]
        try:
            if type(ts) is float and ts - ts == 0 and -MS_THRESHOLD < ts < MS_THRESHOLD:
                pass  # the common case, without the general parser's checks
            else:
                ts = parse_ts(ts)
        except (ValueError, TypeError):
            raise _Bad(number, ts_field, f"bad timestamp {str(row[ts_field])[:40]!r}") from None
        if metric_field is not None:
            metric = row.get(metric_field)
            if not isinstance(metric, str) or not metric or len(metric) > 250:
                raise _Bad(number, metric_field, "the metric must be a non-empty name")
            value = row.get("value")
            try:
                yield metric, ts, (value if type(value) is float and value - value == 0
                                   else _value(value))
            except (ValueError, TypeError):
                raise _Bad(number, "value", f"bad value {str(row.get('value'))[:40]!r}") from None
            continue
        for key, raw in row.items():  # the wide form: every numeric field is a metric
            if key == ts_field or (fmt == "jsonl" and isinstance(raw, (str, dict, list))):
                continue  # a text field (request id, host) is not a metric
            try:
                value = _value(raw)
            except (ValueError, TypeError):
                continue
            yield key, ts, value


def detect_format(name: str, head: str) -> str:
    """``jsonl`` or ``csv`` from the file name, else from the first non-blank character."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if lowered.endswith((".csv", ".tsv")):
        return "csv"
    return "jsonl" if head.lstrip().startswith("{") else "csv"


def _positions(metrics: list, stamps: list, values: list) -> Iterable[int]:
    """Each observation's position among identical ones (same metric, time and value) in this
    input: what makes a second ingest of the same log add nothing while real repeats count."""
    if len(set(zip(metrics, stamps, values))) == len(stamps):
        return repeat(0, len(stamps))  # the usual log: no repeats, no counting loop
    seen: dict[tuple, int] = {}
    positions = []
    for key in zip(metrics, stamps, values):
        n = seen.get(key, 0)
        seen[key] = n + 1
        positions.append(n)
    return positions


class ObserveMixin:
    """Ingesting and reading production observations (mixed into Catalog)."""

    def observe(self: "Catalog", model: str, stage: str, text: Iterable[str], *,
                fmt: str, source: str = "-") -> dict[str, Any]:
        """Ingest observations of ``model`` in ``stage`` from lines of JSONL or CSV text.

        Returns ``{"observations", "added", "unattributed", "versions": {ref: n}, "metrics"}``.
        One transaction; a bad row raises ImportFailed naming ``source``, its line and field.
        """
        stage = refs_mod.normalize_stage(stage)
        mid = self.model_id(model)
        if fmt not in ("jsonl", "csv"):
            raise InvalidInput(f"unknown observation format {fmt!r}", hint="use jsonl or csv")
        conn = self._conn()
        history = sorted(conn.execute(
            "SELECT at, id, to_version_id FROM stage_history WHERE model_id = ? AND stage = ?",
            (mid, stage)).fetchall())
        times = [row[0] for row in history]
        holders = [row[2] for row in history]
        try:
            lines = list(text)
            columns = _fast_columns(lines, fmt)
            if columns is None:
                observed = list(read_observations(lines, fmt))
                columns = tuple(map(list, zip(*observed))) if observed else ([], [], [])
        except _Bad as bad:
            raise ImportFailed(source, bad.message, line=bad.line or None, field=bad.field) from None
        except UnicodeDecodeError:
            raise ImportFailed(source, "not UTF-8 text") from None
        metrics, stamps, values = columns
        total = len(stamps)
        # The holder at each timestamp: a C-level bisect over the spans of the stage history,
        # with two leading Nones so "before the first change" needs no test per row.
        spans = [-math.inf] + times
        by_span = [None, None] + holders
        version_of = list(map(by_span.__getitem__, map(partial(bisect_right, spans), stamps)))
        unattributed = version_of.count(None)
        if unattributed:
            kept = [v is not None for v in version_of]
            metrics, stamps, values, version_of = (list(compress(column, kept)) for column in
                                                   (metrics, stamps, values, version_of))
        names = sorted(set(metrics))
        if len(names) > MAX_METRICS:
            raise ImportFailed(source, f"more than {MAX_METRICS} distinct metrics")
        positions = _positions(metrics, stamps, values)
        per_version = Counter(version_of)
        # The foreign-key checks would cost a fifth of the insert: every id written is known to
        # exist (series made in this transaction, versions from the stage history, rows no
        # command deletes).  The pragma only takes effect outside a transaction.
        unchecked = not self._conn().in_transaction
        if unchecked:
            self._conn().execute("PRAGMA foreign_keys = OFF")
        try:
            with self._write() as conn:
                series: dict[str, int] = {}
                for metric in names:
                    conn.execute("INSERT OR IGNORE INTO obs_series (model_id, stage, metric) "
                                 "VALUES (?,?,?)", (mid, stage, metric))
                    series[metric] = conn.execute(
                        "SELECT id FROM obs_series WHERE model_id = ? AND stage = ? AND metric = ?",
                        (mid, stage, metric)).fetchone()[0]
                added = conn.executemany(
                    "INSERT OR IGNORE INTO observations (series_id, ts, value, n, version_id) "
                    "VALUES (?,?,?,?,?)", zip(map(series.__getitem__, metrics), stamps, values,
                                              positions, version_of)).rowcount if metrics else 0
                summary = {"model": model, "stage": stage, "observations": total,
                           "added": added, "unattributed": unattributed,
                           "metrics": names,
                           "versions": {self.ref_of(v): n for v, n in sorted(per_version.items())}}
                if added:
                    self._event(conn, "observe", "model", mid, f"{model}@{stage}",
                                after={k: summary[k] for k in ("observations", "added",
                                                                 "unattributed", "versions")},
                                detail=source)
        finally:
            if unchecked:
                self._conn().execute("PRAGMA foreign_keys = ON")
        return summary

    def observation_metrics(self: "Catalog", model: str, stage: str = "production") -> list[str]:
        """The metrics observed for a model in a stage."""
        return [row["metric"] for row in self._read(
            "SELECT metric FROM obs_series WHERE model_id = ? AND stage = ? ORDER BY metric",
            (self.model_id(model), refs_mod.normalize_stage(stage)))]

    def production_series(self: "Catalog", model: str, metric: str, stage: str = "production",
                          *, since: float | None = None, until: float | None = None,
                          buckets: int = 120) -> dict[str, Any]:
        """A production metric over time, for a chart with the stage changes marked on it.

        Returns ``{"points": [{"t", "mean", "count", "version"}], "changes": [{"at", "action",
        "from", "to", "reason"}], "eval": {version ref: its logged value}}``: points are bucket
        means (at most ``buckets`` per version), changes the stage history in the span.
        """
        stage = refs_mod.normalize_stage(stage)
        mid = self.model_id(model)
        sid = self._scalar("SELECT id FROM obs_series WHERE model_id = ? AND stage = ? AND "
                           "metric = ?", (mid, stage, metric))
        lo, hi = self._conn().execute(
            "SELECT min(ts), max(ts) FROM observations WHERE series_id = ?", (sid,)).fetchone() \
            if sid is not None else (None, None)
        start = since if since is not None else lo
        end = until if until is not None else hi
        points: list[dict[str, Any]] = []
        if start is not None and end is not None:
            width = max((end - start) / max(buckets, 1), 1e-9)
            for row in self._conn().execute(
                    "SELECT CAST((ts - ?) / ? AS INTEGER) AS b, avg(value), count(*), "
                    "version_id, min(ts) FROM observations WHERE series_id = ? AND ts BETWEEN ? "
                    "AND ? GROUP BY b, version_id ORDER BY b", (start, width, sid, start, end)):
                points.append({"t": row[4], "mean": row[1], "count": row[2],
                               "version": self.ref_of(row[3]) if row[3] else None})
        changes = [
            {"at": row["at"], "action": row["action"], "reason": row["reason"],
             "from": f"{model}@{row['from_version']}" if row["from_version"] else None,
             "to": f"{model}@{row['to_version']}" if row["to_version"] else None}
            for row in reversed(self.history(model=model, stage=stage, limit=10_000))
            if start is None or end is None or start <= row["at"] <= end]
        evals: dict[str, float] = {}
        conn = self._conn()
        for ref in {p["version"] for p in points if p["version"]}:
            value = self._metric_value(conn, self.resolve(ref), metric, "last")
            if value is not None:
                evals[ref] = value
        return {"model": model, "stage": stage, "metric": metric, "points": points,
                "changes": changes, "eval": evals}
