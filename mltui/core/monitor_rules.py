"""Monitor rules: their grammar, parsed into a ``MonitorRule`` (``core/monitors.py`` checks).

Apart from the mixin so the regular expressions and the dataclass load when a monitor is added
or checked, not with the Catalog class at every start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidInput

DEFAULT_WINDOW = 3600.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_WINDOW = r"\d+(?:\.\d+)?\s*[smhd]"
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_RULE_RE = re.compile(
    rf"^\s*(?:(?P<func>mean|avg|min|max|sum|count)\s*\(\s*(?:metrics\.(?P<key>[^\s,()]+))?\s*"
    rf"(?:,?\s*(?P<window>{_WINDOW}))?\s*\)|metrics\.(?P<bare>[^\s<>=!]+))\s*"
    rf"(?P<op>>=|<=|!=|=|>|<)\s*(?P<rhs>.+?)\s*$", re.IGNORECASE)
_RHS_RE = re.compile(rf"^(?:(?P<number>[+-]?{_NUMBER})|eval\.(?P<key>[^\s+-]+)\s*"
                     rf"(?:(?P<sign>[+-])\s*(?P<offset>{_NUMBER}))?)$", re.IGNORECASE)
SQL_AGGREGATES = {"mean": "avg", "avg": "avg", "min": "min", "max": "max", "sum": "sum",
                  "count": "count"}


@dataclass(frozen=True)
class MonitorRule:
    """A parsed monitor rule."""

    text: str
    func: str
    key: str | None  # None: every metric (count only)
    window: float
    op: str
    threshold: float | None = None
    eval_key: str | None = None
    offset: float = 0.0


def parse_window(text: str) -> float:
    """Seconds from ``30s``, ``15m``, ``1h``, ``7d``."""
    text = text.strip().lower().replace(" ", "")
    return float(text[:-1]) * _UNITS[text[-1]]


def parse_monitor_rule(text: str) -> MonitorRule:
    """Parse a monitor rule; a bad one raises InvalidInput saying what was expected."""
    source = " ".join((text or "").split())
    match = _RULE_RE.match(source)
    hint = "write e.g. 'mean(metrics.f1, 1h) >= 0.8', 'metrics.f1 >= eval.f1 - 0.05' or " \
           "'count(1h) >= 100'"
    if not match:
        raise InvalidInput(f"bad monitor rule {source!r}", hint=hint)
    func = (match["func"] or "mean").lower()
    key = match["key"] or match["bare"]
    if key is None and func != "count":
        raise InvalidInput(f"bad monitor rule {source!r}: {func}() needs a metric", hint=hint)
    window = parse_window(match["window"]) if match["window"] else DEFAULT_WINDOW
    if window <= 0:
        raise InvalidInput(f"bad monitor rule {source!r}: the window must be longer than 0")
    rhs = _RHS_RE.match(match["rhs"])
    if not rhs:
        raise InvalidInput(f"bad monitor rule {source!r}: expected a number or "
                           f"eval.KEY [- NUMBER] after {match['op']}", hint=hint)
    if rhs["number"] is not None:
        return MonitorRule(source, func, key, window, match["op"], threshold=float(rhs["number"]))
    offset = float(rhs["offset"] or 0) * (-1 if rhs["sign"] == "-" else 1)
    return MonitorRule(source, func, key, window, match["op"], eval_key=rhs["key"], offset=offset)
