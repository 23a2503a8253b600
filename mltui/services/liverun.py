"""What the app's live run view shows for one run and one metric, as plain data.

One call, one trip to the database thread: the run's curve of the metric, the production
version's curve of the same metric on the same axis (epoch when both logged epochs, else step),
the last and best values, the verdict line of :func:`~mltui.services.watch.verdict_against_production`
and the model's gates evaluated on the run's latest values (``Catalog.check_run``, the same
evaluation a promotion runs).  The result is a dict of plain values, so a front end can compare
two results and redraw only when something changed.

Which model's production to compare with: the one the run is registered to, else the model the
caller names (the app's ``--model`` or its watch's model), else none, said in words.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..core.errors import NotFound
from ..core.rows import metric_direction
from .watch import verdict_against_production

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog
    from ..core.records import MetricPoint

MAX_POINTS = 2000  # per curve: the chart thins to its width anyway; bounds the work per redraw


def live_run_view(cat: "Catalog", run_id: int, key: str | None = None, *,
                  model: str | None = None) -> dict[str, Any]:
    """The live view of a run (see module doc); ``key`` defaults to the first gate metric the
    run logged, else its first metric."""
    run = cat.runs([run_id], metric_keys="all")
    if not run:
        raise NotFound(f"no run with id {run_id}")
    row = run[0]
    registered = row["versions"][0].split("@", 1)[0] if row["versions"] else None
    model = registered or model
    known_model = model is not None and _model_exists(cat, model)
    gate_keys = [g["key"] for g in cat.gates(model, stage="production")] if known_model else []
    keys = sorted(row["metrics"], key=lambda k: (k not in gate_keys, k.startswith(("_", "system/")),
                                                 k))
    if key not in keys:
        key = keys[0] if keys else None
    view: dict[str, Any] = {
        "run": {k: row[k] for k in ("id", "uid", "name", "status", "versions", "updated_at",
                                    "created_at")},
        "model": model, "keys": keys, "key": key, "axis": "step", "curve": [],
        "production": None, "production_curve": [], "last": None, "best": None,
        "direction": metric_direction(key) if key else "max", "verdict": "", "gates": None,
    }
    if key is None:
        view["verdict"] = "the run has logged no metric yet"
        return view
    points = cat.metric_points(run_id, key)
    prod_points: list["MetricPoint"] = []
    if known_model:
        holder = cat.stage_holder(model, "production")
        if holder is not None:
            view["production"] = cat.ref_of(holder)
            prod_run = cat.versions([holder])[0].get("run_id")
            prod_points = cat.metric_points(prod_run, key) if prod_run is not None else []
    # The same rule as the verdict: epochs align runs of different batch sizes, when both have them.
    axis = "epoch" if points and all(p.epoch is not None for p in points + prod_points) else "step"
    view["axis"] = axis
    view["curve"] = _xy(points, axis)
    view["production_curve"] = _xy(prod_points, axis)
    if view["curve"]:
        view["last"] = view["curve"][-1]
        pick = max if view["direction"] == "max" else min
        view["best"] = pick(view["curve"], key=lambda xy: xy[1])
    if model is None:
        view["verdict"] = f"{key}: no model to compare with (register the run, or start the " \
                          "app with a model or a watch: model in the project config)"
    elif not known_model:
        view["verdict"] = f"{key}: no model {model} yet, so no production to compare with"
    else:
        found = verdict_against_production(cat, run_id, key, model=model)
        view["verdict"] = found.text if found is not None else f"{key}: no value yet"
        view["gates"] = cat.check_run(model, run_id)
    view["curve"] = _bounded(view["curve"])
    view["production_curve"] = _bounded(view["production_curve"])
    return view


def _model_exists(cat: "Catalog", model: str) -> bool:
    try:
        cat.model_id(model)
    except NotFound:
        return False
    return True


def _xy(points: list["MetricPoint"], axis: str) -> list[tuple[float, float]]:
    """``(x, value)`` in log order; points without a finite value cannot be drawn."""
    out = []
    for index, point in enumerate(points):
        if point.value is None or not math.isfinite(point.value):
            continue
        x = point.epoch if axis == "epoch" else point.step
        out.append((float(index if x is None else x), float(point.value)))
    return out


def _bounded(curve: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most MAX_POINTS, evenly, the last point kept (the latest value must show)."""
    if len(curve) <= MAX_POINTS:
        return curve
    stride = len(curve) / MAX_POINTS
    return [curve[int(i * stride)] for i in range(MAX_POINTS - 1)] + [curve[-1]]
