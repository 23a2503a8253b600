"""``series.curve`` orders points by step (log order among equal steps), NaN as None, points
without a step last — whether the steps were logged in order (the fast path) or not."""

from __future__ import annotations

import random
from array import array

import pytest

from mltui.core.series import NO_STEP, curve


def reference(steps: list[int] | None, values: list[float]) -> list[tuple]:
    """The order spelled out: stepped points by step then log order, unstepped ones after."""
    marked = [(None if steps is None or steps[i] == NO_STEP else steps[i],
               None if value != value else value, i) for i, value in enumerate(values)]
    marked.sort(key=lambda p: (p[0] is None, p[0] or 0, p[2]))
    return [(step, value) for step, value, _ in marked]


@pytest.mark.parametrize("kind", ["in order", "repeated steps", "shuffled", "no steps",
                                  "some without a step", "no steps column"])
def test_curve_orders_points_as_specified(kind) -> None:
    rng = random.Random(kind)
    for count in (0, 1, 2, 7, 300):
        steps = list(range(count))
        if kind == "repeated steps":
            steps = sorted(rng.randint(0, count // 2 + 1) for _ in range(count))
        elif kind == "shuffled":
            rng.shuffle(steps)
        elif kind == "no steps":
            steps = [NO_STEP] * count
        elif kind == "some without a step":
            steps = [NO_STEP if rng.random() < 0.3 else s for s in steps]
        values = [rng.choice([rng.random(), float("nan"), -2.0]) for _ in range(count)]
        blob = None if kind == "no steps column" else array("q", steps).tobytes()
        got = curve(blob, array("d", values).tobytes(), count)
        assert got == reference(None if blob is None else steps, values)
