"""The ``mltui`` command line: one module per command group.

``base`` holds the group, the one printer and the error handling; each other module adds its
commands to the group when imported.  Importing this package loads click only: Rich, pandas
and Textual are imported inside the commands that use them, so ``mltui --help`` starts fast.
"""

from __future__ import annotations

from . import (browse, completion, deploy, docs, imports, keys, lineage,  # noqa: F401
               remote, stages, versions, watch)  # importing a command module registers its commands
from .base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, accept_catalog_anywhere, cli, main
from .completion import attach_completers

accept_catalog_anywhere(cli)
attach_completers(cli)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "cli", "main"]
