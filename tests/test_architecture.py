"""The house rules that keep the code readable: floors that only look down, modules of a size
a reader can hold.  ARCHITECTURE.md describes what these tests enforce."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mltui"
MAX_LINES = 520  # "~500": a module past this is split by what it does

# Modules still waiting for their split (each named with its plan).  The list only shrinks:
# a module that is back under the limit must be removed from it (checked below).  Empty: every
# module of mltui/ is within the limit.
WAITING_FOR_SPLIT: dict[str, str] = {}


def test_import_floors_hold():
    """cli → tui → services → importers → core: no import points up (import-linter)."""
    result = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports; "
                             "raise SystemExit(lint_imports())"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def _sizes() -> dict[str, int]:
    return {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
            for path in PACKAGE.rglob("*.py")}


def test_no_module_past_the_size_limit():
    over = {name: lines for name, lines in _sizes().items()
            if lines > MAX_LINES and name not in WAITING_FOR_SPLIT}
    assert not over, f"split these by what they do (limit {MAX_LINES} lines): {over}"


def test_waiting_list_only_names_big_modules():
    """A module split below the limit leaves the waiting list, so the list cannot go stale."""
    small = [name for name in WAITING_FOR_SPLIT if _sizes().get(name, 0) <= MAX_LINES]
    assert not small, f"small now, remove from WAITING_FOR_SPLIT: {small}"


def test_architecture_md_matches_the_code():
    """Every mixin of Catalog is in ARCHITECTURE.md's table with its module, and every module
    path the document names exists."""
    import re

    from mltui.core.catalog import Catalog

    text = (ROOT / "ARCHITECTURE.md").read_text()
    for base in Catalog.__mro__[1:]:
        if base.__module__.startswith("mltui."):
            module = base.__module__.removeprefix("mltui.").replace(".", "/") + ".py"
            assert f"| `{base.__name__}` | `{module}` |" in text, f"{base.__name__} missing"
    named = set(re.findall(r"`((?:core|services|importers|cli|tui)/[\w/]+\.py)`", text))
    assert named, "ARCHITECTURE.md names no module"
    missing = sorted(name for name in named if not (PACKAGE / name).exists())
    assert not missing, f"ARCHITECTURE.md names modules that do not exist: {missing}"
