"""Hostile catalog data and arguments shared by the security tests.

``EVIL`` holds every way text can attack a terminal: ESC sequences (OSC window title, CSI clear
screen), BEL, the 8-bit C1 CSI/OSC introducers, a bidi override, and Rich markup that would
fail to parse or restyle the output.
"""

from __future__ import annotations

from pathlib import Path

from mltui.core.catalog import Catalog, open_catalog
from tests.conftest import TickingClock

EVIL = "\x1b]0;PWN\x07\x1b[2J\x9b31m\x9d8;;x\x07\u202e[/x][bold]B"
# Bytes that must never reach a terminal raw: ESC, BEL, C1 CSI, C1 OSC, bidi override.
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e")


def raw_controls(text: str) -> list[str]:
    """The terminal control characters found raw in ``text``."""
    return [repr(ch) for ch in RAW_CONTROLS if ch in text]


def seed_hostile(path: Path, tmp: Path) -> dict[str, str]:
    """A catalog where every user-supplied string carries :data:`EVIL`.

    Returns the references the commands need: a run id, the dataset name, the metric key.
    """
    key = f"f1{EVIL}"
    data_dir = tmp / "data"
    data_dir.mkdir()
    dataset = data_dir / f"train{EVIL.replace('/', '')}.csv"
    dataset.write_text("a,b\n1,2\n")
    cat: Catalog = open_catalog(path, create=True, clock=TickingClock())
    runs = []
    for index, f1 in enumerate((0.8, 0.9)):
        runs.append(cat.log_run(f"run{EVIL}{index}", params={f"lr{EVIL}": f"0.1{EVIL}"},
                                metrics={key: [f1 - 0.1, f1], "f1": f1},
                                tags={f"team{EVIL}": EVIL}, project=f"proj{EVIL}",
                                datasets=[dataset], git_commit="abc1234def"))
    for run in runs:
        cat.register("fraud", run=run)
    cat.add_gate("fraud", f"metrics.`{key}` >= 0.5")
    cat.add_gate("fraud", "metrics.f1 >= 0.5")
    cat.set_tag("fraud@1", "note", EVIL)
    cat.set_doc("fraud@1", f"# Notes {EVIL}\n\nline two {EVIL}\n", base_rev=None)
    cat.set_doc("fraud@1", f"# Notes {EVIL}\n\nline three {EVIL}\n", base_rev=None)
    cat.promote("fraud@1", "production", reason=f"why {EVIL}")
    cat.close()
    dataset.write_text("a,b\n1,3\n")  # verify reports it as changed, with its name
    return {"run": runs[0]["uid"], "key": key, "dataset": dataset.stem}
