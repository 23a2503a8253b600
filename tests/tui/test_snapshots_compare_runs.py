"""SVG snapshots of compare, runs, the run detail and the register dialog at 80×24 and 120×40.

Seeded catalog, frozen clock, workers awaited (``settle``): the pictures are deterministic.
Update with ``pytest --snapshot-update`` and look at them before accepting.
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app, settle

SIZES = [(80, 24), (120, 40), (60, 20)]

# Keys from browse to each screen (browse lists fraud's versions newest first).
FLOWS = {
    "compare": ("space", "space", "space", "c"),     # fraud@4 (base), fraud@3, fraud@2
    "compare_vision": ("tab", "down", "tab", "space", "space", "c"),  # hostile strings
    "runs": ("R",),
    "run_detail": ("R", "down", "down", "enter"),   # the run named "[/]"
    "register": ("R", "n", *"fra"),                 # the suggestion completes "fraud"
}


def keys_then_settle(keys: tuple[str, ...]):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot, rounds=1)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("flow", list(FLOWS))
def test_snapshot(flow, size, snap_compare, tui_catalog) -> None:
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys_then_settle(FLOWS[flow]))
