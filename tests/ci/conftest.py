"""Fixtures for the CI, card, completion and README tests: one demo catalog per session."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_END = 1_792_000_000.0  # a fixed "now" for the demo build, so times and names are stable


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    """The sample project's demo catalog, built once with a fixed clock (read-only: copy it)."""
    spec = importlib.util.spec_from_file_location("ci_build_demo",
                                                  ROOT / "sample_project" / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("demo")
    return module.build(out, end=DEMO_END, progress=lambda message: None)


@pytest.fixture
def demo_catalog(demo_master: Path, tmp_path: Path) -> Path:
    """A private copy of the demo catalog (tests may write to it)."""
    target = tmp_path / "demo" / ".mltui" / "catalog.db"
    target.parent.mkdir(parents=True)
    shutil.copyfile(demo_master, target)
    return target
