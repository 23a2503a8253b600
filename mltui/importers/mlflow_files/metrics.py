"""MLflow metric files (``metrics/<key>``): the hot loop of a file store import."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ...core.errors import ImportFailed
from ...core.records import MetricColumns, MetricPoint
from ..common import metric_columns, read_text

_MS = 1000.0  # milliseconds per second

def walk_values(folder: Path | str) -> list[tuple[str, str]]:
    """``(key, file)`` for every file under ``folder``; subfolders are ``/`` in the key."""
    found: list[tuple[str, str]] = []
    stack = [(os.fspath(folder), "")]
    while stack:
        current, prefix = stack.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):  # no symlink loops
                    stack.append((entry.path, prefix + entry.name + "/"))
                else:
                    found.append((prefix + entry.name, entry.path))
    found.sort()
    return found


def read_metric_file(path: Path | str, key: str, warnings: list[str]
                     ) -> list[MetricPoint] | MetricColumns:
    """Parse one ``metrics/<key>`` file (see :func:`parse_metric_text`)."""
    return parse_metric_text(path, read_text(path), key, warnings)


def line_parses(rest: bytes, _context: object = None) -> bool:
    """True when a last line without a newline is a whole metric line: the parser takes it
    (a torn one is skipped), so its bytes, which may still grow, must be read again."""
    parts = rest.split()
    try:
        int(parts[0]), float(parts[1])
        if len(parts) >= 3:
            int(parts[2])
    except (ValueError, IndexError):
        return False
    return True


def parse_metric_text(path: Path | str, text: str, key: str, warnings: list[str]
                      ) -> list[MetricPoint] | MetricColumns:
    """Parse the text of one ``metrics/<key>`` file (identical repeated lines dropped): columns
    when the file has MLflow's usual shape (the fast path), else points.

    Lines are ``<ts_ms> <value> <step>``; legacy 2-field lines have step 0, and MLflow 3 adds
    ``<dataset_name> <dataset_digest>`` (5 fields), where field 3 is still the step (MLflow's own
    reader then reports step 0, a bug we do not copy).  ``nan``/``inf`` values are kept as raw
    text.  A line that cannot be parsed is an ImportFailed naming the line and field, except a
    torn last line without a newline (a writer killed mid-append), which is skipped.
    """
    fast = _parse_canonical_metric_text(text, key)
    if fast is not None:
        return fast
    points: list[MetricPoint] = []
    append = points.append
    seen: set[str] = set()
    lines = text.split("\n")
    last = len(lines) - 1
    seq = 0
    for index, line in enumerate(lines):
        parts = line.split()
        count = len(parts)
        if count == 3:
            signature = line
        elif count == 0:
            continue
        else:
            signature = " ".join(parts[:3])
        if signature in seen:
            continue  # an identical duplicate point (MLflow appends, never rewrites)
        try:
            wall = int(parts[0]) / 1000.0
            value = float(parts[1])
            step = int(parts[2]) if count >= 3 else 0
        except (ValueError, IndexError):
            if index == last:
                warnings.append(f"{path}:{index + 1}: torn last line {line!r} skipped")
                break
            raise _metric_line_error(path, index + 1, parts) from None
        seen.add(signature)
        if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
            append(MetricPoint(key, value, step, None, "step", wall, None, seq))
        else:
            raw = "nan" if value != value else ("inf" if value > 0 else "-inf")
            append(MetricPoint(key, None, step, None, "step", wall, raw, seq))
        seq += 1
    return points


def _parse_canonical_metric_text(text: str, key: str) -> MetricColumns | None:
    """Points of a metric file in MLflow's usual shape, as columns; None otherwise.

    The usual shape: every line ``<int> <float> <int>`` with single spaces, a final newline
    (``\r\n`` too: MLflow on Windows) and no repeated line.  Checking that costs a split and a
    join of the whole text, no Python-level pass per line; converting whole columns with
    ``map`` then avoids a Python-level loop per line, which is most of the import time for big
    stores.  Any other shape (legacy 2-field or 5-field lines, duplicates, a torn last line,
    garbage) returns None and the line-by-line parser handles it, with exact error positions.
    """
    tokens = text.split()
    size = len(tokens)
    count = size // 3
    # The text rebuilt from its tokens, a space after each and a newline after every third,
    # must be the text itself: three whitespace-free tokens a line, single spaces, a final
    # newline (\r\n on every line: MLflow on Windows).  One join, no pass per line.
    rebuilt = [" "] * (2 * size)
    rebuilt[0::2] = tokens
    rebuilt[5::6] = ["\r\n" if "\r" in text else "\n"] * count
    if size != 3 * count or not size or "".join(rebuilt) != text:
        return None
    try:
        # int first: a timestamp must be an integer (float() would take "1.5" or "nan");
        # float.__rtruediv__ is ``stamp / 1000.0`` exactly, without a Python-level loop.
        walls = list(map(_MS.__rtruediv__, map(int, tokens[0::3])))
        values = list(map(float, tokens[1::3]))
        step_tokens = tokens[2::3]
        # Steps 0, 1, 2 ... (the usual run) compare as one string: no int() per line, and
        # distinct steps mean no repeated line.  Tokens hold no space, so equal joins are
        # equal tokens.
        counting = " ".join(step_tokens) == _counting(count)
        # A range, not a list: the catalog stores it as a progression (core/series.py)
        # without comparing each step.
        steps = range(count) if counting else list(map(int, step_tokens))
    except ValueError:
        return None
    # A repeated line repeats its step: only a file with repeated steps needs the line check.
    if not counting and len(set(steps)) != count and len(set(text.splitlines())) != count:
        return None
    return metric_columns(key, values, steps, walls)


@lru_cache(maxsize=64)
def _counting(count: int) -> str:
    """``"0 1 2 ... count-1"``: the step column of a run that logged every step from 0."""
    return " ".join(map(str, range(count)))


def _metric_line_error(path: Path | str, line: int, parts: list[str]) -> ImportFailed:
    if len(parts) < 2:
        return ImportFailed(str(path), f"expected '<timestamp> <value> [<step>]', got {len(parts)}"
                                       f" field(s)", line=line, field="value")
    try:
        int(parts[0])
    except ValueError:
        try:
            float(parts[0])
            # A float timestamp: MLflow never writes one, and int() below would lose it.
            return ImportFailed(str(path), f"timestamp {parts[0]!r} is not integer milliseconds",
                                line=line, field="timestamp")
        except ValueError:
            return ImportFailed(str(path), f"timestamp {parts[0]!r} is not a number", line=line,
                                field="timestamp")
    try:
        float(parts[1])
    except ValueError:
        return ImportFailed(str(path), f"value {parts[1]!r} is not a number", line=line,
                            field="value")
    return ImportFailed(str(path), f"step {parts[2]!r} is not an integer", line=line,
                        field="step")
