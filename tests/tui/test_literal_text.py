"""Property: catalog text reaches the screen literally through every rendering path.

Arbitrary strings made of markup brackets, escapes and words go through each helper a screen
uses for catalog text (names, reasons, rules, metric keys, params, tags, doc lines, stages);
the rendered output must hold the string as written (control characters made visible by
``safe``).  A markup-rendering variant fails the same check, so the property can fail.
"""

from __future__ import annotations

from typing import Any, Callable

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from mltui.display import safe
from mltui.tui.screens.liverun import gates_text, value_line
from mltui.tui.screens.promote import gate_lines, metric_diff
from mltui.tui.widgets.detail import render_version_detail
from mltui.tui.widgets.text import key_value_lines, lit, stage_badges, stage_label

PIECES = st.sampled_from(list("[]/=bold red link x #*_`\x1b\x07é")
                        + ["[bold]", "[/x]", "[/]", "\x1b[2J", "[link=http://e]", "[b]x[/b]"])
HOSTILE = st.lists(PIECES, min_size=1, max_size=8).map("".join).filter(lambda s: s.strip())


def rendered(renderable: Any) -> str:
    """What a terminal would show (no colour), as plain text."""
    console = Console(width=400, record=True, color_system=None, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


def shows_literally(path: Callable[[str], Any], value: str) -> bool:
    """Whether ``path(value)`` displays ``value`` as written."""
    return safe(value).strip() in rendered(path(value))


def version_detail(value: str) -> dict[str, Any]:
    """A version's detail with ``value`` in every user-text field."""
    return {
        "ref": "m@1", "canonical_name": value, "stages": [value], "status": "ready",
        "created_at": 0.0, "created_by": value, "run_uid": "ab", "run": {"name": value},
        "git_commit": value, "data": [], "artifact_hash": None, "base_versions": [],
        "base_model": None, "metric_summary": [{"key": value, "last": 1.0, "last_raw": None,
                                                "min": 1.0, "max": 1.0}],
        "params": {value: value}, "run_tags": {}, "tags": {value: value}, "history": [],
        "doc": {"rev": 1, "text": value, "is_template": False, "author": value, "at": 0.0},
    }


PATHS: dict[str, Callable[[str], Any]] = {
    "lit": lit,
    "lit multiline": lambda v: lit(v, multiline=True),
    "stage label": lambda v: stage_label([v]),
    "stage badges": lambda v: stage_badges([v]),
    "key/value lines": lambda v: key_value_lines([("key", v)]),
    "gate rule": lambda v: gate_lines([{"rule": v, "detail": "d", "passed": False}]),
    "gate detail": lambda v: gate_lines([{"rule": "r", "detail": v, "passed": False}]),
    "metric key in the promote diff": lambda v: metric_diff(
        {"ref": "m@2", "metric_summary": [{"key": v, "last": 1.0, "last_raw": None}]}, None),
    "version detail": lambda v: render_version_detail(version_detail(v), [], None),
    "live view metric key": lambda v: value_line({"key": v, "last": (1.0, 0.5),
                                                 "best": (1.0, 0.5), "axis": "step",
                                                 "direction": "max"}),
    "live view failing gate": lambda v: gates_text({"gates": {
        "model": "m", "stage": "production", "results": [
            {"rule": v, "passed": False, "actual": 1.0, "expected": ">= 2"}]}}),
}


@settings(max_examples=60, deadline=None)
@given(value=HOSTILE)
def test_every_path_shows_catalog_text_literally(value: str) -> None:
    for name, path in PATHS.items():
        assert shows_literally(path, value), (name, value)


def test_a_markup_rendering_path_would_fail_the_property() -> None:
    assert not shows_literally(Text.from_markup, "[bold]x[/bold]")
    assert shows_literally(lit, "[bold]x[/bold]")
