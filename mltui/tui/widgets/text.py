"""Small builders of Rich ``Text`` for the app: user text made literal, badges, sparklines.

Everything user-supplied goes through :func:`lit` (control characters made visible, never
parsed as markup).  Styles here are fixed strings of ours, never user text.
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text

from ...display import fmt_age, fmt_number, safe, short_hash

# Named colours from the 16 every terminal has, black text on a colour of its own, so a badge
# reads the same on the cursor row, under any theme and with 16 colours (never "reverse", which
# under a dark theme gave grey 237 on 234); with NO_COLOR each is still bold text.
STAGE_STYLES = {"production": "bold black on green", "staging": "bold black on yellow"}
ALIAS_STYLE = "bold black on cyan"
STAGE_SHORT = {"production": "prod", "staging": "stg"}
STAGE_ORDER = {"production": 0, "staging": 1}
SPARK = "▁▂▃▄▅▆▇█"


def lit(value: Any, style: str = "", *, multiline: bool = False) -> Text:
    """User text as literal Text (markup not parsed, control characters visible).

    The one path catalog text takes to the screen.  ``multiline`` keeps line breaks and lets
    the text wrap (reasons, docs, dialog details); otherwise it is one line, cut by the caller.
    """
    if multiline:
        return Text(safe(value, keep_newlines=True), style=style)
    return Text(safe(value), style=style, no_wrap=True)


def _ordered(stages: Iterable[str]) -> list[str]:
    """production, staging, then aliases by name: the same order everywhere."""
    return sorted(stages, key=lambda s: (STAGE_ORDER.get(s, 2), s))


def stage_badges(stages: Iterable[str], *, short: bool = True) -> Text:
    """Stage and alias badges: production green, staging yellow, aliases cyan."""
    text = Text(no_wrap=True)
    for index, stage in enumerate(_ordered(stages)):
        if index:
            text.append(" ")
        label = STAGE_SHORT.get(stage, stage) if short else stage
        text.append(f" {safe(label)} ", style=STAGE_STYLES.get(stage, ALIAS_STYLE))
    return text


def stage_label(stages: Iterable[str]) -> Text:
    """Every stage of a version in one compact cell: ``prod+champion`` (see stage_width)."""
    text = Text(no_wrap=True)
    for index, stage in enumerate(_ordered(stages)):
        if index:
            text.append("+", style="dim")
        text.append(safe(STAGE_SHORT.get(stage, stage)), style=STAGE_STYLES.get(stage, ALIAS_STYLE))
    return text


def stage_width(stage_sets: Iterable[Iterable[str]]) -> int:
    """The width :func:`stage_label` needs for the widest of these stage sets."""
    return max((len(stage_label(stages)) for stages in stage_sets), default=0)


def number(value: Any) -> Text:
    """A metric value, right-aligned by the caller; NaN/inf spelled out."""
    return Text(fmt_number(value), no_wrap=True)


def age(timestamp: float | None, now: float) -> Text:
    """How long ago, dimmed."""
    return Text(fmt_age(timestamp, now), style="dim", no_wrap=True)


def commit(value: str | None) -> Text:
    """A short commit hash."""
    return Text(short_hash(value, 7), no_wrap=True)


def sparkline(values: list[float | None], highlight: list[bool]) -> Text:
    """A one-line chart of values; highlighted points (held production) in green."""
    present = [v for v in values if v is not None]
    text = Text(no_wrap=True)
    if not present:
        return Text("no values", style="dim")
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    for value, marked in zip(values, highlight):
        if value is None:
            text.append("·", style="dim")
            continue
        block = SPARK[min(len(SPARK) - 1, int((value - low) / span * (len(SPARK) - 1) + 0.5))]
        text.append(block, style="bold green" if marked else "cyan")
    return text


def key_value_lines(pairs: Iterable[tuple[str, Any]], key_width: int = 10) -> Text:
    """``key  value`` lines with the keys dimmed (values literal, cut with … when long)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, (key, value) in enumerate(pairs):
        if index:
            text.append("\n")
        text.append(f"{key:>{key_width}}  ", style="dim")
        text.append_text(value if isinstance(value, Text) else lit("—" if value in (None, "") else value))
    return text
