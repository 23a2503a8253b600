"""The hostile-input suite's big version (``slow``) runs only on request.

``MLTUI_SLOW_TESTS=1 python -m pytest -m slow tests/security`` runs it; the default run keeps
the property tests to a few examples each.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: the big hostile-input run (MLTUI_SLOW_TESTS=1)")


def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("MLTUI_SLOW_TESTS"):
        return
    skip = pytest.mark.skip(reason="the big version: set MLTUI_SLOW_TESTS=1")
    for item in items:
        if "slow" in item.keywords and "security" in str(item.fspath):
            item.add_marker(skip)
