"""A run's scalars that the bulk decoder (:mod:`.bulk`) read as columns, until the run is done.

They take part in everything the point-by-point scalars of :mod:`.runs` do — a restart's purge,
tags prefixed by their writer, the order of the log (``seq``) — and leave as
:class:`MetricColumns` (packed as they are) unless a key mixes them with points read one by
one, which are then merged by ``seq``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...core.records import MetricColumns, MetricPoint
from ..common import metric_columns


@dataclass
class Chunk:
    """Points of one tag of one writer from one file, in log order, with their ``seq``."""

    values: list[float]
    steps: list[int]
    walls: list[float]
    seqs: list[int]

    def purge(self, step: int) -> int:
        """Drop the points at or after ``step``; returns how many were dropped."""
        kept = [i for i, s in enumerate(self.steps) if s < step]
        dropped = len(self.steps) - len(kept)
        if dropped:
            self.values = [self.values[i] for i in kept]
            self.steps = [self.steps[i] for i in kept]
            self.walls = [self.walls[i] for i in kept]
            self.seqs = [self.seqs[i] for i in kept]
        return dropped

    def points(self, key: str) -> list[MetricPoint]:
        """The chunk as MetricPoints (for a key that also has points read one by one)."""
        return [scalar_point(key, value, step, wall, seq)
                for value, step, wall, seq in zip(self.values, self.steps, self.walls, self.seqs)]


def scalar_point(key: str, value: float, step: int, wall: float | None, seq: int) -> MetricPoint:
    """One scalar as stored: a non-finite value is None with its raw text."""
    if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
        return MetricPoint(key, value, step, None, "step", wall, None, seq)
    raw = "nan" if value != value else ("inf" if value > 0 else "-inf")
    return MetricPoint(key, None, step, None, "step", wall, raw, seq)


def as_columns(key: str, chunks: list[Chunk]) -> MetricColumns:
    """One key's chunks (in log order) as one MetricColumns."""
    if len(chunks) == 1:
        chunk = chunks[0]
        return metric_columns(key, list(chunk.values), chunk.steps, chunk.walls)
    return metric_columns(key, [v for chunk in chunks for v in chunk.values],
                          [s for chunk in chunks for s in chunk.steps],
                          [w for chunk in chunks for w in chunk.walls])


def finish(points: list[MetricPoint], chunks: dict[tuple[str, str], list[Chunk]],
           key_of: dict[tuple[str, str], str]) -> tuple[list[MetricPoint], list[MetricColumns]]:
    """The run's metrics: points read one by one, and the chunks as columns when their key
    has nothing else (``key_of`` gives each (writer, tag)'s final key)."""
    by_key: dict[str, list[tuple[str, str]]] = {}
    for source, found in chunks.items():
        if any(chunk.steps for chunk in found):
            by_key.setdefault(key_of[source], []).append(source)
    pointed = {point.key for point in points}
    columns, merged = [], list(points)
    for key, sources in by_key.items():
        if len(sources) == 1 and key not in pointed:
            columns.append(as_columns(key, [c for c in chunks[sources[0]] if c.steps]))
        else:
            merged.extend(p for source in sources for chunk in chunks[source]
                          for p in chunk.points(key))
    if len(merged) != len(points):
        merged.sort(key=lambda point: point.seq)
    return merged, columns
