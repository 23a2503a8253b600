"""Steps stored as an arithmetic progression (``<qq`` start, stride: core/series.py): every
point comes back exactly, the columns' packer and the points' packer agree, and an append
gives what encoding all the points at once gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.ingest import _summarise, _summarise_columns
from mltui.core.records import MetricColumns, MetricPoint
from mltui.core.series import (append_encoded, curve, decode, encode, encode_columns,
                               progression, step_set, unpack_steps)

_INT64 = st.integers(-(2 ** 63) + 1, 2 ** 63 - 1)
_EDGES = st.sampled_from([0, 1, -1, 2 ** 62, 2 ** 63 - 1, -(2 ** 63) + 1, -(2 ** 62)])


@st.composite
def _progression(draw) -> list[int]:
    """A progression of 0-8 steps that fits int64 (start and stride near the edges too)."""
    count = draw(st.integers(0, 8))
    start = draw(st.one_of(_EDGES, st.integers(-50, 50), _INT64))
    stride = draw(st.one_of(st.sampled_from([0, 1, -1, 2, -3, 10]), _INT64))
    steps = [start + stride * i for i in range(count)]
    if any(not -(2 ** 63) < s < 2 ** 63 for s in steps):  # off the int64 range: shrink it
        steps = [start + i for i in range(count)] if start < 2 ** 63 - count else \
            [start - i for i in range(count)]
    return steps


@st.composite
def _steps(draw) -> list[int | None]:
    """Progressions, near-progressions (one step off, one None) and arbitrary steps."""
    steps = draw(_progression())
    change = draw(st.sampled_from(["none", "none", "off", "missing", "free"]))
    if steps and change == "off":
        index = draw(st.integers(0, len(steps) - 1))
        steps[index] += draw(st.sampled_from([1, -1])) if abs(steps[index]) < 2 ** 62 else 0
    elif steps and change == "missing":
        steps[draw(st.integers(0, len(steps) - 1))] = None
    elif change == "free":
        steps = draw(st.lists(st.one_of(st.none(), st.integers(-5, 5), _EDGES), max_size=8))
    return steps


def _points(steps: list[int | None]) -> list[MetricPoint]:
    return [MetricPoint("loss", float(i) / 3, step, None, "step", 1.7e9 + i, None, i)
            for i, step in enumerate(steps)]


def _decoded_steps(steps: list[int | None]) -> list[int | None]:
    packed = encode(_points(steps))
    return [p.step for p in decode("loss", packed.count, packed.steps, packed.vals,
                                   packed.epochs, packed.wall_times, packed.axis, packed.axes,
                                   packed.raws)]


@settings(max_examples=400, deadline=None)
@given(steps=_steps())
def test_every_step_comes_back_exactly(steps) -> None:
    assert _decoded_steps(steps) == steps
    packed = encode(_points(steps))
    is_progression = len(steps) >= 3 and None not in steps and \
        len({b - a for a, b in zip(steps, steps[1:])}) == 1
    assert (packed.steps is not None and len(packed.steps) == 16 and len(steps) != 2) \
        == is_progression
    if packed.steps is not None:
        assert len(packed.steps) == (16 if is_progression else 8 * len(steps))
        assert list(unpack_steps(packed.steps, packed.count)) == \
            [-(2 ** 63) if s is None else s for s in steps]
        assert step_set(packed.steps, packed.count) == \
            {-(2 ** 63) if s is None else s for s in steps}
        by_step = sorted(((s is None, s or 0, i) for i, s in enumerate(steps)))
        assert [step for step, _ in curve(packed.steps, packed.vals, packed.count)] == \
            [steps[i] for _, _, i in by_step]


@settings(max_examples=300, deadline=None)
@given(steps=_steps())
def test_columns_pack_as_their_points_given_as_a_list_or_a_range(steps) -> None:
    if not steps:
        return  # no reader hands an empty column
    values = [float(i) for i in range(len(steps))]
    columns = MetricColumns("loss", values, list(steps), [1.0] * len(steps))
    assert encode_columns(columns) == encode(columns.points())
    if None not in steps and len(steps) >= 2 and steps[1] != steps[0]:
        stride = steps[1] - steps[0]
        as_range = range(steps[0], steps[0] + stride * len(steps), stride)
        if list(as_range) == steps:  # the MLflow parser hands 0, 1, 2 ... as a range
            ranged = MetricColumns("loss", list(values), as_range, [1.0] * len(steps))
            assert encode_columns(ranged) == encode_columns(columns)
            assert ranged.points() == columns.points()
            assert _summarise_columns(values, as_range, None) == \
                _summarise_columns(values, steps, None)


def test_a_range_is_summarised_and_checked_without_walking_it() -> None:
    """A range reaching the summary or the import's number check is taken by its ends (a
    ``None in range`` would walk every step; ``range == sorted(range)`` is False)."""
    from mltui.services.discovery import _extreme

    steps = range(10 ** 12)  # walking it would never end in a test
    values = [0.5, 0.25, 0.75]
    short = range(3)
    assert _summarise_columns(values, short, None) == _summarise(
        [MetricPoint("k", v, s) for v, s in zip(values, short)])
    assert _extreme(steps) == 10 ** 12 - 1 and _extreme(range(-5, 3)) == -5
    assert _extreme(range(0)) is None
    assert progression(steps) == (0, 1)


def test_the_rule_a_16_byte_blob_of_2_points_is_two_steps() -> None:
    for steps in ([7, 9], [5, 5], [3]):
        packed = encode(_points(steps))
        assert len(packed.steps) == 8 * len(steps)
        assert _decoded_steps(steps) == steps
    assert len(encode(_points([0, 1, 2])).steps) == 16
    assert len(encode(_points(list(range(100)))).steps) == 16
    assert len(encode(_points([4, 4, 4, 4])).steps) == 16  # stride 0
    assert len(encode(_points([9, 6, 3, 0, -3])).steps) == 16  # negative stride
    assert len(encode(_points([0, 1, 2, 4])).steps) == 32  # one step off: the full blob
    marker = -(2 ** 63)  # the no-step marker is never part of a progression
    assert len(encode(_points([marker, marker + 1, marker + 2])).steps) == 24
    assert len(encode(_points([marker + 1, marker + 2, marker + 3])).steps) == 16


@settings(max_examples=400, deadline=None)
@given(old=_steps(), new=_steps(), continues=st.booleans())
def test_an_append_gives_what_encoding_every_point_gives(old, new, continues) -> None:
    if continues and len(old) >= 2 and None not in old[-2:] and new:
        # The usual growth: the new steps carry the stored progression on.
        stride = old[-1] - old[-2]
        new = [old[-1] + stride * (i + 1) for i in range(len(new))]
        if any(not -(2 ** 63) < s < 2 ** 63 for s in new):
            return
    old_points, new_points = _points(old), _points(new)
    if not old_points or not new_points:
        return
    joined = append_encoded(encode(old_points), encode(new_points))
    assert joined == encode(old_points + new_points)


def test_appends_to_a_progression() -> None:
    old = _points(list(range(100)))
    for new, size in (([100, 101, 102], 16), ([100], 16), ([100, 101], 16),
                      ([100, 105], 8 * 102), ([None], 8 * 101), ([50, 51, 52], 8 * 103),
                      ([99], 8 * 101)):
        joined = append_encoded(encode(old), encode(_points(new)))
        assert joined == encode(old + _points(new)), new
        assert len(joined.steps) == size, new
    edge = _points([-(2 ** 63), -(2 ** 63) + 1])  # the marker, then a step: no progression
    assert append_encoded(encode(edge), encode(_points([-(2 ** 63) + 2]))) == \
        encode(edge + _points([-(2 ** 63) + 2]))
    two = _points([0, 1])  # a full 16-byte blob that a third step turns into a progression
    assert append_encoded(encode(two), encode(_points([2]))) == encode(two + _points([2]))
    assert len(encode(two + _points([2])).steps) == 16
    no_steps = [MetricPoint("loss", 1.0), MetricPoint("loss", 2.0), MetricPoint("loss", 3.0)]
    assert append_encoded(encode(no_steps), encode(_points([3, 4, 5]))) == \
        encode(no_steps + _points([3, 4, 5]))


def test_mlflow_counting_steps_reach_the_catalog_as_a_range() -> None:
    """The MLflow parser knows 0, 1, 2 ... without converting a token (``counting``): it hands
    a range, which the packer stores as a progression without comparing each step."""
    from mltui.importers.mlflow_files.metrics import parse_metric_text

    text = "".join(f"{1000 + i} {0.5 + i} {i}\n" for i in range(5))
    columns = parse_metric_text("metrics/loss", text, "loss", [])
    assert type(columns.steps) is range and columns.steps == range(5)
    assert encode_columns(columns).steps == (0).to_bytes(8, "little") + (1).to_bytes(8, "little")
    other = parse_metric_text("metrics/loss", text.replace(" 4\n", " 7\n"), "loss", [])
    assert other.steps == [0, 1, 2, 3, 7] and len(encode_columns(other).steps) == 40
