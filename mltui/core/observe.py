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

import csv
import json
import math
from bisect import bisect_right
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
        number = float(value)
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
    number = float(raw)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _rows_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict]]:
    lines = list(lines)
    try:
        # One C-level parse of the whole log is ~3x faster than a json.loads per line; a bad
        # line sends it back to the per-line loop below, which names the line.
        rows = json.loads("[" + ",".join(line for line in lines if line.strip()) + "]")
        numbers = (n for n, line in enumerate(lines, 1) if line.strip())
        if all(type(row) is dict for row in rows):
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
        by_metric: dict[str, list[tuple]] = {}
        seen: dict[tuple, int] = {}
        total = unattributed = 0
        per_version: dict[int, int] = {}
        try:
            for metric, ts, value in read_observations(text, fmt):
                total += 1
                index = bisect_right(times, ts) - 1
                holder = holders[index] if index >= 0 else None
                if holder is None:
                    unattributed += 1
                    continue
                key = (metric, ts, value)
                n = seen.get(key, 0)
                seen[key] = n + 1
                rows = by_metric.get(metric)
                if rows is None:
                    if len(by_metric) >= MAX_METRICS:
                        raise _Bad(0, metric, f"more than {MAX_METRICS} distinct metrics")
                    rows = by_metric[metric] = []
                rows.append((ts, value, n, holder))
                per_version[holder] = per_version.get(holder, 0) + 1
        except _Bad as bad:
            raise ImportFailed(source, bad.message, line=bad.line or None, field=bad.field) from None
        except UnicodeDecodeError:
            raise ImportFailed(source, "not UTF-8 text") from None
        with self._write() as conn:
            added = 0
            for metric, rows in by_metric.items():
                conn.execute("INSERT OR IGNORE INTO obs_series (model_id, stage, metric) "
                             "VALUES (?,?,?)", (mid, stage, metric))
                sid = conn.execute("SELECT id FROM obs_series WHERE model_id = ? AND stage = ? "
                                   "AND metric = ?", (mid, stage, metric)).fetchone()[0]
                added += conn.executemany(
                    f"INSERT OR IGNORE INTO observations (series_id, ts, value, n, version_id) "
                    f"VALUES ({int(sid)},?,?,?,?)", rows).rowcount
            summary = {"model": model, "stage": stage, "observations": total,
                       "added": added, "unattributed": unattributed,
                       "metrics": sorted(by_metric),
                       "versions": {self.ref_of(v): n for v, n in sorted(per_version.items())}}
            if added:
                self._event(conn, "observe", "model", mid, f"{model}@{stage}",
                            after={k: summary[k] for k in ("observations", "added",
                                                             "unattributed", "versions")},
                            detail=source)
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
