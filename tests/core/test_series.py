"""Packed metric series: every field of every point survives the round trip."""

from __future__ import annotations

from mltui.core.records import MetricPoint
from mltui.core.series import curve, decode, encode


def roundtrip(points):
    packed = encode(points)
    return decode(points[0].key, packed.count, packed.steps, packed.vals, packed.epochs,
                  packed.wall_times, packed.axis, packed.axes, packed.raws)


def test_every_field_survives() -> None:
    points = [
        MetricPoint("loss", 1.5, step=0, epoch=0.0, axis="step", wall_time=1_700_000_000.125),
        MetricPoint("loss", None, step=1, epoch=0.5, axis="step", wall_time=None, raw="nan"),
        MetricPoint("loss", None, step=None, epoch=None, axis="epoch", raw="-inf"),
        MetricPoint("loss", 2 ** -40, step=2 ** 40, epoch=1.0, axis="eval", wall_time=5.0),
        MetricPoint("loss", 0.0, step=-3, axis="iteration"),
    ]
    back = roundtrip(points)
    for i, (before, after) in enumerate(zip(points, back)):
        assert (after.key, after.value, after.step, after.epoch, after.axis, after.wall_time,
                after.raw, after.seq) == (before.key, before.value, before.step, before.epoch,
                                          before.axis, before.wall_time, before.raw, i)


def test_sparse_columns_are_not_stored() -> None:
    packed = encode([MetricPoint("f1", 0.5), MetricPoint("f1", 0.6)])
    assert packed.steps is None and packed.epochs is None and packed.wall_times is None
    assert packed.axis == "step" and packed.axes is None and packed.raws is None
    assert [p.step for p in roundtrip([MetricPoint("f1", 0.5)])] == [None]


def test_curve_orders_by_step_then_log_order() -> None:
    points = [MetricPoint("acc", 0.3, step=2), MetricPoint("acc", 0.1, step=0),
              MetricPoint("acc", 0.35, step=2), MetricPoint("acc", None, step=None, raw="nan"),
              MetricPoint("acc", 0.2, step=1)]
    packed = encode(points)
    assert curve(packed.steps, packed.vals, packed.count) == [
        (0, 0.1), (1, 0.2), (2, 0.3), (2, 0.35), (None, None)]


def test_catalog_gives_back_what_was_logged(catalog) -> None:
    run = catalog.log_run("r", metrics={"loss": [(0, 1.0), (1, float("nan")), (1, 0.5)],
                                        "acc": [0.1, 0.2]})
    points = catalog.metric_points(run["id"])
    assert [(p.key, p.step, p.value, p.raw) for p in points] == [
        ("acc", 0, 0.1, None), ("acc", 1, 0.2, None),
        ("loss", 0, 1.0, None), ("loss", 1, None, "nan"), ("loss", 1, 0.5, None)]
    assert catalog.metric_history(run["id"], "loss") == [(0, 1.0), (1, None), (1, 0.5)]
    assert catalog.summary()["metric_points"] == 5


def test_columns_with_a_missing_item_pack_as_their_points_do() -> None:
    """The column packer tries the whole column in C and falls back when an item is missing:
    every column with a None anywhere packs byte for byte as the same points."""
    from mltui.core.records import MetricColumns
    from mltui.core.series import encode_columns

    full = dict(values=[0.5, 1.5, -2.0], steps=[0, 1, 2], wall_times=[1.0, 2.0, 3.0])
    for name in full:
        for index in range(3):
            given = {key: list(items) for key, items in full.items()}
            given[name][index] = None
            columns = MetricColumns("loss", **given)
            assert encode_columns(columns) == encode(columns.points()), (name, index)
    every_step_missing = MetricColumns("loss", [0.5, 1.0], [None, None], [1.0, 2.0])
    assert encode_columns(every_step_missing).steps is None
    assert encode_columns(MetricColumns("loss", **full)) == encode(
        MetricColumns("loss", **full).points())


def test_columns_the_packer_cannot_take_fail_as_they_always_did() -> None:
    """A float step, a step past int64, a value past float range, text: the same exception
    (type and message) from the struct packing as from the array packing before it."""
    import pytest

    from mltui.core.records import MetricColumns
    from mltui.core.series import encode_columns

    cases = [(MetricColumns("k", [1.0], [1.5], [1.0]), TypeError, "cannot be interpreted"),
             (MetricColumns("k", [1.0], [2 ** 63], [1.0]), OverflowError, "int too big"),
             (MetricColumns("k", [10 ** 400], [1], [1.0]), OverflowError, "too large"),
             (MetricColumns("k", ["x"], [1], [1.0]), TypeError, "must be real number")]
    for columns, error, words in cases:
        with pytest.raises(error, match=words):
            encode_columns(columns)
