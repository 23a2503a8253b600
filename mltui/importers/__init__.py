"""Run-log importers: one module per format family, and the directory walk that finds them.

Each format module exposes:

``FORMAT``            the name used by ``mltui import --format``
``KIND``              ``"dir"`` when a folder is one run/store (an ``mlruns/``, an HF output dir),
                      ``"file"`` when a single file is one run (a Keras CSV, a tfevents file)
``CONSUMES_SUBTREE``  (dir formats) True when nothing below a claimed folder is another log
``detect(path)``      cheap sniffing: does this folder/file hold this format?
``read(path, ctx)``   read it into an :class:`~mltui.core.records.ImportBatch` of plain records

and optionally:

``EXACT``             False when values are lossy copies (TensorBoard's float32): a folder that an
                      exact text format also claims (detectron2's ``metrics.json``) goes to that one
``owns(file)``        (dir formats) True for a file of the format's folder (``metrics.json``,
                      ``trainer_state.json``): a file named on the command line reads its folder

A reader that merges another source of the same run into it, or leaves one out for a better
one, says so in ``ImportBatch.merged`` (shown by the import summary and ``--json``).

Importers never touch the catalog. Finding logs, choosing the reader and writing what they
read in one transaction is :mod:`mltui.services.ingest`'s job, a floor above both.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..core.errors import InvalidInput

# Priority order (SPEC §4): the first module whose detect() accepts a folder claims it.
FORMAT_MODULES = [
    "mlflow_files",
    "mlflow_sqlite",
    "hf_trainer",
    "ultralytics",
    "dvc",
    "lightning",
    "tensorboard",
    "keras",
    "detectron2",
    "generic",
]

def format_modules() -> list[ModuleType]:
    """The importer modules in priority order (imported on first use)."""
    modules = []
    for name in FORMAT_MODULES:
        try:
            modules.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return modules


def format_names() -> list[str]:
    """The names accepted by ``--format``."""
    return [module.FORMAT for module in format_modules()]


def module_for(format_name: str) -> ModuleType:
    """The importer module for a ``--format`` name."""
    for module in format_modules():
        if module.FORMAT == format_name or format_name in getattr(module, "ALIASES", ()):
            return module
    raise InvalidInput(f"unknown import format {format_name!r}",
                       hint=f"use one of: {', '.join(format_names())}")
