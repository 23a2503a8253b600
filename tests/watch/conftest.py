"""Watch suite: synthetic writers grow logs between ``WatchState.poll`` calls."""

from __future__ import annotations

import pytest

from mltui.core.catalog import open_catalog


@pytest.fixture
def cat(tmp_path):
    """A catalog in the test's folder (a real file, so import locks apply)."""
    catalog = open_catalog(tmp_path / ".mltui" / "catalog.db", create=True)
    yield catalog
    catalog.close()


class FakeClock:
    """An injectable clock: stall detection is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    """A clock the test moves by hand."""
    return FakeClock()
