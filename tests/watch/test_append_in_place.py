"""Appending a grown log's points to the packed series in place gives, byte for byte, the row
and summary a decode + re-encode of all the points gives (core/series_append.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.ingest import _summarise
from mltui.core.records import MetricPoint
from mltui.core.series import append_encoded, encode
from mltui.core.series_append import _merged_summary

_value = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64),
                   st.sampled_from([0.0, 1.0, -1.0]))


@st.composite
def _points(draw, start: int) -> list[MetricPoint]:
    count = draw(st.integers(1, 8))
    has_epoch = draw(st.booleans())
    has_wall = draw(st.booleans())
    points = []
    for index in range(count):
        value = draw(_value)
        step = draw(st.one_of(st.none(), st.integers(-2, 20))) if draw(st.booleans()) \
            else start + index
        points.append(MetricPoint(
            "loss", value, step, float(index) if has_epoch else None,
            draw(st.sampled_from(["step", "step", "epoch"])),
            1.7e9 + index if has_wall else None,
            draw(st.sampled_from(["nan", "inf"])) if value is None else None, index))
    return points


@settings(max_examples=300, deadline=None)
@given(old=_points(0), new=_points(100))
def test_append_in_place_equals_a_full_encode(old, new):
    assert append_encoded(encode(old), encode(new)) == encode(old + new)
    assert _merged_summary(_summarise(old), _summarise(new)) == _summarise(old + new)
