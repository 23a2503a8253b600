"""Lightning's column-at-a-time reader gives exactly the points of the cell-by-cell reader.

``_metric_columns`` takes the usual CSVLogger file; anything else it hands back (None) to
``_metric_points``.  Each case is read both ways and compared point for point, values by their
float64 bytes (so -0.0 and float extremes count); and files that must not take the column path
(NaN cells, repeats, a header again mid-file, a column name twice) are checked to leave it.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from mltui.core.records import MetricColumns, MetricPoint
from mltui.core.series import encode, encode_columns
from mltui.importers import lightning

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lightning"
FIXTURE_FILES = sorted(FIXTURES.rglob("metrics.csv"))


def per_key(points: list[MetricPoint]) -> dict[str, list]:
    out: dict[str, list] = {}
    for p in sorted(points, key=lambda p: p.seq):
        value = None if p.value is None else struct.pack("<d", p.value)
        out.setdefault(p.key, []).append((p.step, p.epoch, value, p.raw, p.axis))
    return out


def both(text: str) -> tuple[list[MetricColumns] | None, dict]:
    read = lightning._metric_columns(Path("metrics.csv"), text)
    points, header = lightning._metric_points(Path("metrics.csv"), text)
    if read is not None:
        assert read[1] == header  # the columns a watch appends rows under
    return None if read is None else read[0], per_key(points)


def from_columns(columns: list[MetricColumns]) -> dict:
    return per_key([p for c in columns for p in c.points()])


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_real_files_read_by_columns_equal_cell_by_cell(path):
    columns, expected = both(path.read_text())
    if columns is not None:
        assert from_columns(columns) == expected


def test_sparse_rows_extreme_values_and_steps_are_kept():
    text = ("epoch,step,train_loss,lr,val_loss\n"
            "0,0,0.5,-0.0,\n"
            "0,1,1e-320,1.7976931348623157e308,\n"
            "0,1,,,0.25\n"
            ",2,-2.5,0.1,\n"
            "1,9223372036854775807,3,,\n"
            "1,-5,1_0,,0.0\n")
    columns, expected = both(text)
    assert columns is not None and from_columns(columns) == expected
    lr = next(c for c in columns if c.key == "lr")
    assert str(lr.values[0]) == "-0.0" and lr.epochs == [0.0, 0.0, None]


@pytest.mark.parametrize("text", [
    "epoch,step,loss\n0,0,nan\n0,1,0.5\n",  # raw text of a non-finite value
    "epoch,step,loss\n0,0,NA\n0,1,0.5\n",  # a missing marker
    "epoch,step,loss\n0,0,0.5\n0,0,0.5\n",  # an exact repeat, dropped
    "epoch,step,loss\n0,0,0.5\nepoch,step,acc\n0,1,0.9\n",  # the columns switch mid-file
    "step,loss,loss\n0,0.5,0.6\n",  # a column name twice
    "epoch,step,loss\n0,0,0.5\n\n0,1,0.4\n",  # a blank line
    'epoch,step,loss\n0,0,"0.5"\n',  # quotes
    "epoch,step,loss\n0,0, 0.5\n",  # spaces
])
def test_other_shapes_are_read_cell_by_cell(text):
    columns, expected = both(text)
    assert columns is None
    assert expected  # the cell-by-cell reader reads them


def test_columns_with_epochs_pack_like_the_same_points():
    columns = MetricColumns("loss", [0.5, None, -0.0], [0, 1, 2], None, {1: "nan"}, "step",
                            [0.0, None, 1.0])
    assert encode_columns(columns) == encode(columns.points())
