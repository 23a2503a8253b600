"""The ``mltui`` command line: one module per command group.

``base`` holds the group, the one printer and the error handling; each other module adds its
commands to the group when imported — and is imported only when one of its commands runs
(``COMMAND_MODULES``; a test checks it against what the modules register), so ``mltui`` alone
(the app) pays for none of them.  Importing this package loads click only: Rich, pandas and
Textual are imported inside the commands that use them, so ``mltui --help`` starts fast.
``completion`` is imported at once: shell completion runs before any command does.
"""

from __future__ import annotations

from .base import (EXIT_FAILED, EXIT_OK, EXIT_USAGE, MltuiGroup, accept_catalog_anywhere, cli,
                   main)
from .completion import attach_completers

# Which module registers each command (the ones in ``completion`` are there already).
COMMAND_MODULES = {
    **dict.fromkeys(("ls", "show", "compare", "export"), "browse"),
    **dict.fromkeys(("checkout", "monitor", "observe"), "deploy"),
    "doc": "docs",
    **dict.fromkeys(("demo", "import", "init"), "imports"),
    "keys": "keys",
    **dict.fromkeys(("lineage", "verify"), "lineage"),
    **dict.fromkeys(("pull", "push", "remote"), "remote"),
    **dict.fromkeys(("archive", "check", "gate", "history", "promote", "rollback", "unarchive"),
                    "stages"),
    **dict.fromkeys(("register", "tag"), "versions"),
    "watch": "watch",
}

assert isinstance(cli, MltuiGroup)
cli.lazy.update({name: f"{__name__}.{module}" for name, module in COMMAND_MODULES.items()})
cli.on_load.extend([accept_catalog_anywhere, attach_completers])
accept_catalog_anywhere(cli)
attach_completers(cli)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "COMMAND_MODULES", "cli", "main"]
