"""The ``mltui`` command line: one module per command group.

``app_start`` is the entry point: ``mltui`` alone (the app) starts without click.  ``base``
holds the click group, the one printer and the error handling; each other module adds its
commands to the group when imported — and is imported only when one of its commands runs
(``base.COMMAND_MODULES``; a test checks it against what the modules register).  Importing
this package loads nothing else: ``cli`` and the other names of ``base`` are imported when
first asked for (``from mltui.cli import cli``).  Rich, pandas and Textual are imported inside
the commands that use them, so ``mltui --help`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from .app_start import main

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "COMMAND_MODULES", "cli", "main"]


def __getattr__(name: str) -> Any:
    """``cli``, ``COMMAND_MODULES``, the exit codes: from ``base``, imported on first use."""
    if name.startswith("__"):
        raise AttributeError(name)
    # Not ``from . import base``: that asks this function for ``base`` again.
    base = importlib.import_module(f"{__name__}.base")
    try:
        return getattr(base, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
