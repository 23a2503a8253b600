"""SVG snapshots of the Runs screen with a run still being written and of the live run view
(against fraud's production, gates passing), at 80×24 and 120×40.

Seeded catalog plus one run caught mid-write (``write_live_run``), frozen clock, workers
awaited: the pictures are deterministic.  Update with ``--snapshot-update`` and look at them.
"""

from __future__ import annotations

import pytest

from tests.tui.live_helpers import write_live_run
from tests.tui.conftest import make_app
from tests.tui.test_snapshots_compare_runs import keys_then_settle

SIZES = [(80, 24), (120, 40)]
FLOWS = {
    "runs_live": ("R",),
    "liverun": ("R", "enter"),
    "liverun_loss": ("R", "enter", "m"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("flow", list(FLOWS))
def test_snapshot(flow, size, snap_compare, tui_catalog) -> None:
    write_live_run(tui_catalog, steps=40, max_steps=100)
    assert snap_compare(make_app(tui_catalog, start="fraud"), terminal_size=size,
                        run_before=keys_then_settle(FLOWS[flow]))
