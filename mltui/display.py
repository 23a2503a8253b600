"""Making user text safe to show, and small formatting helpers shared by the CLI and the app.

User strings (run names, tags, params, docs, log text) are data, never markup and never
terminal control: :func:`safe` makes control characters and bidi overrides visible, and
callers wrap the result in ``rich.text.Text`` (never in a markup string).  No Textual here.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timezone
from typing import Any

# C0 and C1 controls (except tab) and the bidi embedding/override/isolate controls, which can
# reorder or hide the text around them.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\n":
        return "⏎"
    if ch == "\x1b":
        return "␛"
    return f"\\u{ord(ch):04x}" if ord(ch) > 0xff else f"\\x{ord(ch):02x}"


def has_unsafe(text: str) -> bool:
    """True when ``text`` holds a character :func:`safe` would make visible (besides newlines)."""
    return _UNSAFE.search(text.replace("\n", "")) is not None


def safe(value: Any, *, keep_newlines: bool = False) -> str:
    """``value`` as text with control characters shown as visible escapes (``␛``, ``\\x07``).

    ``keep_newlines`` keeps line breaks (for multi-line text such as documentation).
    """
    if value is None:
        return ""
    text = str(value)
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_visible, line) for line in text.split("\n"))
    return _UNSAFE.sub(_visible, text)


def fmt_number(value: Any, digits: int = 4) -> str:
    """A metric value: up to ``digits`` significant decimals, ``nan``/``inf`` spelled out."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):d}"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}" if abs(value) >= 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def fmt_delta(value: float | None, digits: int = 4) -> str:
    """A signed difference (``+0.012``), blank for none."""
    if value is None:
        return ""
    if value == 0:
        return "±0"
    return ("+" if value > 0 else "-") + fmt_number(abs(value), digits)


def fmt_time(timestamp: float | None) -> str:
    """An absolute UTC time, ``2026-11-26 16:29``."""
    if timestamp is None:
        return "—"
    try:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError, TypeError):
        # A stored time beyond the calendar (a huge or hostile log value) is shown as it is.
        return f"@{timestamp}"


def fmt_age(timestamp: float | None, now: float | None = None) -> str:
    """How long ago: ``45s``, ``12m``, ``3h``, ``5d``, ``7w``, ``2y``."""
    if timestamp is None:
        return "—"
    try:
        seconds = max(0.0, float((now if now is not None else time.time()) - timestamp))
    except (OverflowError, TypeError):
        return "—"
    if not math.isfinite(seconds):
        return "—"
    for unit, size in (("y", 31_536_000), ("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def short_hash(value: str | None, length: int = 8) -> str:
    """The first characters of a hash or commit."""
    return (value or "")[:length] or "—"


def comparison_cell(row: dict, index: int) -> str:
    """One compared version's value of a metric row, with its delta to the baseline (column 0):
    ``0.8737 (+0.0695)``.  The CLI table and the Markdown report show the same text."""
    value = row["values"][index]
    text = fmt_number(value if value is not None else row["raw"][index])
    if index and row["deltas"][index] is not None:
        text += f" ({fmt_delta(row['deltas'][index])})"
    return text
